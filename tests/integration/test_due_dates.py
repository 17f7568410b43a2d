"""Due dates follow the last counted visit: not-met and (by policy) phone visits do not count."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from care import services
from care.domain import policy
from care.services.due import last_counted_visits
from db.models import Enrollment, Setting, Visit, VisitEnrollment
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _enrollment(engine, world, key):
    with reading(engine) as session:
        return session.scalar(select(Enrollment).where(Enrollment.person_id == world.persons[key]))


def _visit(engine, enrollment, days_ago, status, mode):
    with transaction(engine) as session:
        visit = Visit(
            person_id=enrollment.person_id,
            status=status,
            mode=mode,
            findings={},
            visited_at=dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10)),
            created_at=dt.datetime.combine(TODAY, dt.time(9)),
        )
        session.add(visit)
        session.flush()
        session.add(VisitEnrollment(visit_id=visit.id, enrollment_id=enrollment.id))
        session.flush()
        services.refresh_due_dates(session, enrollment_ids=[enrollment.id])


@pytest.mark.parametrize(
    ("status", "mode", "phone_counts", "resets"),
    [
        ("done", "home", False, True),
        ("not_met", "home", False, False),
        ("cancelled", "home", False, False),
        ("done", "phone", False, False),
        ("done", "phone", True, True),
    ],
)
def test_only_counted_visits_move_the_due_date(engine, world, status, mode, phone_counts, resets):
    if phone_counts:
        with transaction(engine) as session:
            session.add(Setting(key=policy.SETTING_PHONE_COUNTS, value="1"))
    before = _enrollment(engine, world, "a1_child_w1")
    _visit(engine, before, 3, status, mode)
    after = _enrollment(engine, world, "a1_child_w1")
    interval = policy.DEFAULT_INTERVALS[("child", before.risk)]
    expected = TODAY - dt.timedelta(days=3) + dt.timedelta(days=interval) if resets else before.next_due_on
    assert after.next_due_on == expected
    assert (after.last_visit_on is not None) is resets


def test_refreshing_everything_gives_the_same_dates_as_refreshing_one(engine, world):
    enrollment = _enrollment(engine, world, "a2_disabled_w3")
    _visit(engine, enrollment, 10, "done", "home")
    one = _enrollment(engine, world, "a2_disabled_w3").next_due_on
    with transaction(engine) as session:
        services.refresh_due_dates(session)
    assert _enrollment(engine, world, "a2_disabled_w3").next_due_on == one == TODAY + dt.timedelta(days=80)


def test_a_child_turning_six_drops_from_medium_to_low_risk_in_the_daily_upkeep(engine, world, freeze_clock):
    from care.services.due import SETTING_RISKS_REFRESHED
    from tests.fixtures.scope import fixture_id_number

    admin = world.scopes["admin"]
    birth = dt.date(2020, 6, 12)  # six on 2026-06-12
    with transaction(engine) as session:
        saved = services.create_person(
            session,
            admin,
            values={"id_number": fixture_id_number(birth, 60, "M"), "name": "小六", "village_code": world.village_a1},
        )
        enrolled = services.enroll(
            session,
            admin,
            person_id=saved.id,
            group="child",
            subtype="left_behind",
            start_date=TODAY,
            facts={"guardianship": "grandparent", "schooling": "preschool"},
        )
        session.add(Setting(key=SETTING_RISKS_REFRESHED, value=TODAY.isoformat()))
    with reading(engine) as session:
        assert session.get(Enrollment, enrolled.id).risk == "medium"
    freeze_clock(dt.date(2026, 6, 13))
    with transaction(engine) as session:
        changed = services.daily_upkeep(session)
        again = services.daily_upkeep(session)
    with reading(engine) as session:
        after = session.get(Enrollment, enrolled.id)
    assert changed == [enrolled.id] and again == []
    assert (after.risk, after.next_due_on) == ("low", TODAY + dt.timedelta(days=30))


def test_one_enrollments_refresh_reads_its_links_by_enrollment_not_the_countys_range(engine, world):
    """SQLite's plan for one enrollment's last visit: its links by the enrollment index (a county's
    whole range of links, read for every saved visit, made each save grow with the county)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL chooses by its statistics")
    enrollment = _enrollment(engine, world, "a1_child_w1")
    seen: list[tuple[str, object]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        if "visit_enrollments" in statement and "max(visits.visited_at)" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        with reading(engine) as session:
            last_counted_visits(session, [enrollment.id], county_code=enrollment.county_code)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    assert len(seen) == 1
    with engine.connect() as conn:
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + seen[0][0], seen[0][1]))
    assert "ix_visit_enrollments_enrollment" in plan, plan
    assert "ix_visit_enrollments_county_visit" not in plan, plan
