"""The household card on the person file: members at a glance, a member added from the page, hostile names inert."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from care import services
from care.auth import scope_of
from care.services import households
from db.models import Area, Enrollment, HouseholdMember, User
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref
from tests.fixtures.scope import fixture_id_number

HOSTILE = "{{7*7}}<img src=x onerror=alert(1)>"


def _two_new_persons(db: dict) -> tuple[int, int]:
    """A left-behind child and a 86-year-old of the same village, each in a household of their own."""
    engine = get_engine(str(db["path"]))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        village = session.scalar(
            select(Area.code).where(Area.level == "village", Area.code.startswith(scope.prefix)).order_by(Area.code)
        )
        start = dt.date.today() - dt.timedelta(days=30)
        ids = []
        for serial, (name, birth, group, subtype, facts) in enumerate(
            [
                (
                    "户测儿童",
                    dt.date(2016, 4, 1),
                    "child",
                    "left_behind",
                    {"guardianship": "grandparent", "schooling": "primary"},
                ),
                (
                    HOSTILE,
                    dt.date(1940, 2, 3),
                    "elderly",
                    "empty_nest",
                    {"living_arrangement": "with_relatives", "self_care": "full"},
                ),
            ],
            start=700,
        ):
            pid = services.create_person(
                session,
                scope,
                values={"id_number": fixture_id_number(birth, serial, "F"), "name": name, "village_code": village},
            ).id
            services.enroll(session, scope, person_id=pid, group=group, subtype=subtype, start_date=start, facts=facts)
            ids.append(pid)
    return ids[0], ids[1]


def _open(at_factory, db, pid):
    at = at_factory("township")
    at.query_params["ref"] = person_ref(db["path"], pid)
    at.run()
    at.switch_page("pages/person.py").run()
    assert not at.exception
    return at


def test_a_grandparent_added_from_the_page_shows_on_the_card_and_raises_the_childs_risk(own_app_as, own_demo_db):
    child, elder = _two_new_persons(own_demo_db)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        hid = households.household_of_person(session, child)
    at = _open(own_app_as, own_demo_db, child)
    table = next(d.value for d in at.dataframe if "与户主关系" in d.value.columns)
    assert list(table["姓名"]) == ["户测儿童 ★"]
    at.selectbox(key=f"hh_add_person_{hid}").set_value(elder)
    at.selectbox(key=f"hh_add_relation_{hid}").set_value("grandparent")
    at.button(key=f"hh_add_go_{hid}").click().run()
    assert not at.exception
    assert "家庭户已保存。" in [s.value for s in at.success]
    table = next(d.value for d in at.dataframe if "与户主关系" in d.value.columns)
    assert list(table["姓名"]) == ["户测儿童 ★", HOSTILE]
    assert list(table["与户主关系"]) == ["户主", "祖父母"]
    assert list(table["关爱类别"]) == ["儿童", "老年人"]
    warnings = [w.value for w in at.warning]
    assert any("监护不力" in w for w in warnings) and any("全户成员均在关爱名册" in w for w in warnings)
    # The name is data: never evaluated as a template nor drawn as markup anywhere on the page.
    page = "\n".join(str(e.value) for kind in ("markdown", "caption", "text", "title") for e in getattr(at, kind))
    assert "<img" not in page
    with reading(engine) as session:
        risk = session.scalar(
            select(Enrollment.risk).where(Enrollment.person_id == child, Enrollment.end_date.is_(None))
        )
        members = session.scalars(
            select(HouseholdMember.person_id).where(
                HouseholdMember.household_id == hid, HouseholdMember.end_date.is_(None)
            )
        ).all()
    assert risk == "high"
    assert sorted(members) == sorted([child, elder])


def test_choosing_no_relation_is_refused_in_chinese_and_nothing_moves(own_app_as, own_demo_db):
    child, elder = _two_new_persons_again(own_demo_db)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        hid = households.household_of_person(session, child)
        before = households.household_of_person(session, elder)
    at = _open(own_app_as, own_demo_db, child)
    at.selectbox(key=f"hh_add_person_{hid}").set_value(elder)
    at.button(key=f"hh_add_go_{hid}").click().run()
    assert "请选择人员和与户主关系。" in [e.value for e in at.error]
    with reading(engine) as session:
        assert households.household_of_person(session, elder) == before != hid


def _two_new_persons_again(db: dict) -> tuple[int, int]:
    engine = get_engine(str(db["path"]))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        village = session.scalar(
            select(Area.code)
            .where(Area.level == "village", Area.code.startswith(scope.prefix))
            .order_by(Area.code.desc())
        )
        ids = [
            services.create_person(
                session,
                scope,
                values={
                    "id_number": fixture_id_number(birth, serial, "M"),
                    "name": f"第二组{serial}",
                    "village_code": village,
                },
            ).id
            for serial, birth in ((801, dt.date(2015, 1, 1)), (802, dt.date(1950, 1, 1)))
        ]
    return ids[0], ids[1]


def test_the_reports_page_shows_the_household_figures_of_the_users_area(own_app_as, own_demo_db):
    from care.domain import clock
    from care.queries.reports import household_report

    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == own_demo_db["accounts"]["township"]["username"]))
        figures = household_report(session, scope_of(user), area_code=None, today=clock.today())
    at = own_app_as("township")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["有成员在册的家庭户"] == f"{figures.households_covered:,}"
    assert metrics["两类及以上对象同户"] == f"{figures.multi_group:,}"
    assert figures.households_covered > 0
