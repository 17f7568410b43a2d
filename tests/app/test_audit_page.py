"""审计日志 reads in words: Chinese action and record-type names, details as text, raw JSON on request."""

from __future__ import annotations

import json

import pytest

from care import audit
from db.session import get_engine, transaction

HOSTILE = '<b>粗体</b> **星号** [链接](http://x.example)\n=HYPERLINK("x")'
WHO = "audit_reader_check"
EVENTS = [
    ("login", "", "", {"via": "sso"}),
    ("backup.create", "database", "care.db", {"rows": 12, "sha256": "ab" * 32}),
    ("export.pdf", "report", "522699000000", {"month": "2026-03", "masked": True}),
    ("visit.record", "visit", 7, {"status": "done", "mode": "home"}),
    ("person.delete", "person", 1, {"reason": HOSTILE, "masked": True}),
]


@pytest.fixture(scope="module")
def planted(demo_db) -> str:
    """A few events of known kinds under a username of their own (the demo log holds few)."""
    with transaction(get_engine(str(demo_db["path"]))) as session:
        for action, entity, entity_id, detail in EVENTS:
            audit.record(
                session,
                scope=None,
                username=WHO,
                action=action,
                entity=entity,
                entity_id=entity_id,
                detail=detail,
            )
    return WHO


def _page(app_as, who: str, lang: str = "zh"):
    at = app_as("admin")
    if lang != "zh":
        at.session_state["lang"] = lang
    at.run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="audit_user").set_value(who).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_audit_page_names_actions_and_record_types_in_chinese(app_as, planted):
    at = _page(app_as, planted)
    table = at.dataframe[0].value
    assert set(table["操作"]) == {"登录", "创建备份", "导出报表（PDF）", "记录巡访", "删除对象"}
    assert set(table["对象类型"]) == {"", "数据库", "统计报表", "巡访记录", "对象"}
    details = set(table["详情"])
    assert "巡访方式：上门；状态：已访" in details and "方式：sso" in details
    # The action filter offers the same names, never the codes.
    options = at.selectbox(key="audit_action").options
    assert {"登录", "创建备份"} <= set(options) and not {"login", "backup.create"} & set(options)


def test_a_detail_reads_as_text_with_the_raw_json_on_request(app_as, planted):
    at = _page(app_as, planted)
    at.selectbox(key="audit_action").set_value("person.delete").run()
    row = at.dataframe[0].value.iloc[0]
    assert row["操作"] == "删除对象" and row["对象类型"] == "对象"
    assert row["详情"] == "已脱敏：是；原因：" + HOSTILE.replace("\n", " ")
    assert "操作代码" not in at.dataframe[0].value.columns
    # User text is a table cell, never markdown.
    assert not any("粗体" in str(m.value) for m in at.markdown)
    at.toggle(key="audit_raw").set_value(True).run()
    row = at.dataframe[0].value.iloc[0]
    assert row["操作代码"] == "person.delete"
    assert json.loads(row["详情原文（JSON）"]) == {"masked": True, "reason": HOSTILE}


def test_the_page_speaks_english_when_asked(app_as, planted):
    at = _page(app_as, planted, "en")
    table = at.dataframe[0].value
    assert {"Sign in", "Create a backup", "Record a visit"} <= set(table["Action"])
    assert "Database" in set(table["Record type"])
