"""The audit log in words: every recorded action and record type has a label; details read as text."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from care.domain.audit_text import action_label, detail_text, entity_label, readable_rows
from care.i18n import has
from care.scope import ROLE_ACTIONS

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z_]+(\.[a-z_]+)*")
# Actions built with an f-string: the prefix and where its endings come from.
EXPORT_FORMATS = {"xlsx", "pdf", "csv", "html"}  # the report page's buttons and the list exports


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for folder in ("care", "ui", "pages"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))
    yield ROOT / "app.py", ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))


def _import_kinds() -> set[str]:
    tree = ast.parse((ROOT / "care" / "imports" / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "KINDS" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("care.imports.KINDS not found")


def _call_name(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _takers(param: str) -> dict[str, int]:
    """Functions (and the audit dataclass) with a parameter ``param``: name → its positional index."""
    takers = {"Denial": 1 if param == "action" else 2, "AuditEvent": -1}
    for _, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                if names and names[0] == "self":
                    names = names[1:]
                kwonly = [a.arg for a in node.args.kwonlyargs]
                if param in names:
                    takers[node.name] = names.index(param)
                elif param in kwonly:
                    takers.setdefault(node.name, -1)
    return takers


def _constants(value: ast.expr, assigned: dict[str, list[ast.expr]], found: set[str]) -> None:
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        found.add(value.value)
    elif isinstance(value, ast.IfExp):
        _constants(value.body, assigned, found)
        _constants(value.orelse, assigned, found)
    elif isinstance(value, ast.JoinedStr):
        prefix = value.values[0].value if isinstance(value.values[0], ast.Constant) else ""
        families = {"export.": EXPORT_FORMATS, "import.": _import_kinds()}
        assert prefix in families, f"an action built as f-string with an unknown prefix: {ast.unparse(value)}"
        found.update(f"{prefix}{ending}" for ending in families[prefix])
    elif isinstance(value, ast.Name):
        for source in assigned.get(value.id, []):
            _constants(source, assigned, found)


def recorded(param: str) -> set[str]:
    """Every ``action`` (or ``entity``) value the code can record in the audit log."""
    takers = _takers(param)
    found: set[str] = set()
    for _, tree in _trees():
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _call_name(node) not in takers or _call_name(node) == "add_argument":
                continue
            position = takers[_call_name(node)]
            values = [k.value for k in node.keywords if k.arg == param]
            if not values and 0 <= position < len(node.args):
                values = [node.args[position]]
            for value in values:
                _constants(value, assigned, found)
    return {v for v in found if CODE.fullmatch(v)}


def test_the_scan_finds_the_actions_it_must():
    actions = recorded("action")
    # Keyword, positional (backup's CLI helper), conditional, f-string families and role checks.
    expected = {"backup.create", "backup.restore", "visit.record", "user.deactivate", "export.pdf", "import.visits"}
    assert expected <= actions
    assert {"person.edit", "schedule.print", "page.open", "login"} <= actions
    assert {"database", "report", "visit", "person", "worker"} <= recorded("entity")


def test_every_action_the_code_records_or_a_role_check_denies_has_a_catalog_label():
    actions = recorded("action") | {a for names in ROLE_ACTIONS.values() for a in names}
    missing = sorted(a for a in actions if not has(f"audit.action.{a}"))
    assert not missing, f"add audit.action.<code> catalog entries for: {missing}"


def test_every_record_type_the_code_records_has_a_catalog_label():
    missing = sorted(e for e in recorded("entity") if e and not has(f"audit.entity.{e}"))
    assert not missing, f"add audit.entity.<type> catalog entries for: {missing}"


@pytest.mark.parametrize(
    ("action", "lang", "expected"),
    [
        ("backup.create", "zh", "创建备份"),
        ("visit.record", "en", "Record a visit"),
        ("export.pdf", "zh", "导出报表（PDF）"),
        ("some.retired_action", "zh", "some.retired_action"),  # an old code the catalog lost shows as itself
    ],
)
def test_an_action_reads_as_its_catalog_name(action, lang, expected):
    assert action_label(action, lang) == expected


@pytest.mark.parametrize(
    ("entity", "lang", "expected"),
    [("database", "zh", "数据库"), ("report", "zh", "统计报表"), ("visit", "en", "Visit"), ("", "zh", "")],
)
def test_a_record_type_reads_as_its_catalog_name(entity, lang, expected):
    assert entity_label(entity, lang) == expected


@pytest.mark.parametrize(
    ("detail", "lang", "expected"),
    [
        ({}, "zh", ""),
        ({"rows": 12, "masked": True}, "zh", "行数：12；已脱敏：是"),
        ({"rows": 12, "masked": False}, "en", "rows: 12; masked: no"),
        (
            {"old": {"name": "张三", "phone": "139****5678"}, "new": {"name": "张叁"}},
            "zh",
            "原值：(姓名：张三；联系电话：139****5678)；新值：(姓名：张叁)",
        ),
        ({"groups": ["child", "disabled"], "risk": "high"}, "zh", "类别：儿童、残疾人；风险等级：高"),
        ({"status": "done", "mode": "home"}, "en", "status: Done; mode: Home visit"),
        ({"enrollment_ids": list(range(1, 13))}, "zh", "在册记录编号：1、2、3、4、5、6、7、8、9、10 等共 12 项"),
        ({"week": "2026-06-08", "format": "pdf", "stops": 7}, "zh", "周：2026-06-08；格式：pdf；户数：7"),
        ({"reason": None, "custom_key": "x"}, "zh", "原因：—；custom_key：x"),
        ('{"via": "sso"}', "zh", "方式：sso"),
        ("not json {", "zh", "not json {"),
    ],
)
def test_a_detail_reads_as_label_value_pairs(detail, lang, expected):
    assert detail_text(detail, lang) == expected


def test_user_text_inside_a_detail_stays_the_same_plain_text_on_one_line():
    hostile = '<img src=x onerror=alert(1)> **bold** [link](http://x)\n=HYPERLINK("x")'
    text = detail_text({"reason": hostile}, "zh")
    assert text == "原因：" + hostile.replace("\n", " ")
    assert "\n" not in detail_text({"note": "a\r\nb\tc"}, "zh")


def test_the_rows_keep_the_raw_code_and_json_beside_the_words():
    detail = {"sha256": "ab" * 32, "rows": 3}
    rows = pd.DataFrame(
        [[1, None, "admin", "backup.create", "database", "x.db", "success", json.dumps(detail)]],
        columns=["id", "at", "username", "action", "entity", "entity_id", "outcome", "detail"],
    )
    out = readable_rows(rows, "zh").iloc[0]
    assert (out["action"], out["entity"], out["action_code"]) == ("创建备份", "数据库", "backup.create")
    assert out["detail"] == f"文件校验值（SHA-256）：{'ab' * 32}；行数：3"
    assert json.loads(out["detail_json"]) == detail
