"""The one catalog: no duplicate keys, both languages filled, every key the code names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from care.domain import enums
from care.i18n import CATALOG, t
from care.scope import ROLE_ACTIONS

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_source_has_no_duplicate_keys():
    tree = ast.parse((ROOT / "care" / "i18n.py").read_text(encoding="utf-8"))
    keys = [
        k.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Dict)
        for k in node.keys
        if isinstance(k, ast.Constant) and isinstance(k.value, str) and "." in k.value
    ]
    duplicates = {k for k in keys if keys.count(k) > 1}
    assert not duplicates


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_entry_has_chinese_and_english(key):
    zh, en = CATALOG[key]
    assert zh.strip() and en.strip()
    assert re.search(r"[\u4e00-\u9fff]", zh) or key.startswith("app.language"), key


# Dotted names in the code that share a catalog prefix but are not labels: settings keys and
# audit actions passed positionally.
NOT_LABELS = {"map.tiles", "policy.version", "risk.refreshed_on", "backup.restore"}
# Audit actions chosen by a condition (care/services/persons.py open_contact); labelled as audit.action.*.
NOT_LABELS |= {"person.call", "person.navigate"}
# A foreign key's target table and column; service-list audit actions passed positionally.
NOT_LABELS |= {"needs.id", "service.save", "service.end"}


def _keys_named_in_code() -> set[str]:
    """Every quoted "<prefix>.<name>" in the code whose prefix is one the catalog uses."""
    prefixes = "|".join(sorted({re.escape(key.split(".")[0]) for key in CATALOG}))
    # ... and, whatever its prefix, the first argument of an error or of a catalog lookup.
    pattern = re.compile(
        rf"""["']((?:{prefixes})\.[a-z0-9_.]+)["']|(?:Error|NotFound|Denied|\bt)\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']"""
    )
    found: set[str] = set()
    for folder in ("care", "pages", "ui", "db"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "i18n.py":
                continue
            found.update(k for pair in pattern.findall(path.read_text(encoding="utf-8")) for k in pair if k)
    found.update(k for pair in pattern.findall((ROOT / "app.py").read_text(encoding="utf-8")) for k in pair if k)
    return found


def _action_names() -> set[str]:
    """Permission and audit action names share the dotted shape but are not catalog keys."""
    names = {a for actions in ROLE_ACTIONS.values() for a in actions}
    for path in (ROOT / "care").rglob("*.py"):
        names.update(re.findall(r"""action\s*=\s*["']([a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    return names


def test_every_catalog_key_named_in_the_code_exists():
    named = _keys_named_in_code() - _action_names() - NOT_LABELS
    missing = sorted(k for k in named if k not in CATALOG and not k.endswith((".", "_", ".py")))
    assert not missing


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("group", enums.GROUPS),
        ("risk", enums.RISKS),
        ("status", enums.PERSON_STATUSES),
        ("guardianship", enums.GUARDIANSHIP),
        ("schooling", enums.SCHOOLING),
        ("living_arrangement", enums.LIVING),
        ("self_care", enums.SELF_CARE),
        ("category", enums.DISABILITY_CATEGORIES),
        ("grade", enums.DISABILITY_GRADES),
        ("visit_status", enums.VISIT_STATUSES),
        ("mode", enums.VISIT_MODES),
        ("need_kind", enums.NEED_KINDS),
        ("need_status", enums.NEED_STATUSES),
        ("role", enums.ROLES),
        ("worker_kind", enums.WORKER_KINDS),
        ("subtype", tuple(v for vs in enums.SUBTYPES.values() for v in vs)),
        ("exit_reason", tuple(v for vs in enums.EXIT_REASONS.values() for v in vs)),
    ],
)
def test_every_enum_value_has_a_label(name, values):
    for value in values:
        assert f"enum.{name}.{value}" in CATALOG


def test_english_is_switchable_and_unknown_keys_show_themselves():
    assert t("nav.registers", "en") == "Registers"
    assert t("nav.registers") == "对象台账"
    assert t("no.such.key") == "no.such.key"
    assert t("error.stale_record", "zh", seen=3, now=4).count("3") == 1


def test_every_field_an_error_can_name_has_a_form_label():
    fields: set[str] = set()
    for path in (ROOT / "care").rglob("*.py"):
        fields.update(re.findall(r"""field\s*=\s*["']([a-z_]+)["']""", path.read_text(encoding="utf-8")))
    from care.services.persons import PERSON_FIELDS

    fields.update(PERSON_FIELDS)
    assert sorted(f for f in fields if f"form.{f}" not in CATALOG) == []


def test_shares_show_as_percentages_with_one_decimal_and_counts_with_separators():
    from care.i18n import NO_VALUE, count, percent

    assert [percent(v) for v in (0.5, 0.12345, 1, 0, None, float("nan"))] == [
        "50.0%",
        "12.3%",
        "100.0%",
        "0.0%",
        NO_VALUE,
        NO_VALUE,
    ]
    assert [count(n) for n in (0, 999, 13056, 1_000_000)] == ["0", "999", "13,056", "1,000,000"]
