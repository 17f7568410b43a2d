"""The home page's worklist: each figure is a link to the register filtered to exactly that list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from care import clock
from care.auth import scope_of
from care.queries.registers import WORKLISTS, RegisterFilter, register_count, worklist_counts
from db.models import User
from db.session import get_engine, reading


def _scope(db, role):
    with reading(get_engine(str(db["path"]))) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"][role]["username"]))
        return scope_of(user)


def test_the_supervisors_home_lists_each_worklist_with_its_count(app_as, demo_db):
    at = app_as("township")
    at.run()
    assert not at.exception
    with reading(get_engine(str(demo_db["path"]))) as session:
        counts = worklist_counts(session, _scope(demo_db, "township"), clock.today())
    links = {link.label: link for link in at.get("page_link")}
    for name, label in (("overdue", "巡访已逾期的对象"), ("high_risk_no_plan", "尚无生效服务计划的高风险对象")):
        assert label in links
        assert f"**{counts[name]:,}**" in [m.value for m in at.markdown]
    assert "待办清单" in [s.value for s in at.subheader]


@pytest.mark.parametrize("name", WORKLISTS)
def test_a_worklist_opens_the_register_with_exactly_its_persons(app_as, demo_db, name):
    at = app_as("township")
    at.query_params["list"] = name
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    with reading(get_engine(str(demo_db["path"]))) as session:
        expected = register_count(session, _scope(demo_db, "township"), RegisterFilter(worklist=name), clock.today())
    caption = next(c.value for c in at.caption if c.value.startswith("共 "))
    assert caption.startswith(f"共 {expected:,} 人")
    assert any("正在查看清单" in i.value for i in at.info)


def test_an_unknown_list_in_the_address_is_ignored(app_as, demo_db):
    at = app_as("township")
    at.query_params["list"] = "{{7*7}}<script>"
    at.run()
    at.switch_page("pages/registers.py").run()
    assert not at.exception
    assert not any("正在查看清单" in i.value for i in at.info)
