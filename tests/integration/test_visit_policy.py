"""Editing the visit policy: the preview says what moves, saving moves exactly that, conflicts are caught."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from care import services
from care.domain import policy
from care.domain.errors import PermissionDenied, StaleRecord, ValidationError
from care.queries.settings import setting_value
from care.services.visit_policy import policy_settings, preview_policy, save_policy
from db.models import Enrollment, Setting, Visit, VisitEnrollment
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _dues(engine):
    with reading(engine) as session:
        return {
            eid: (group, risk, start, due)
            for eid, group, risk, start, due in session.execute(
                select(
                    Enrollment.id, Enrollment.group, Enrollment.risk, Enrollment.start_date, Enrollment.next_due_on
                ).where(Enrollment.end_date.is_(None))
            )
        }


def _with(changes):
    intervals = dict(policy.DEFAULT_INTERVALS)
    intervals.update(changes)
    return intervals


def test_the_preview_counts_the_due_dates_a_shorter_interval_moves_and_saving_moves_them(engine, world):
    admin = world.scopes["admin"]
    before = _dues(engine)
    child_high = {e for e, (g, r, _, _) in before.items() if (g, r) == ("child", "high")}
    assert child_high  # the disabled child without a guardian
    new = _with({("child", "high"): 3})
    with reading(engine) as session:
        preview = preview_policy(session, admin, intervals=new, phone=False, today=TODAY)
    assert (preview.moved, preview.earlier, preview.later) == (len(child_high), len(child_high), 0)
    with transaction(engine) as session:
        save_policy(session, admin, county_code=world.county, intervals=new, phone=False, limit=8, seen_version=1)
    after = _dues(engine)
    for eid, (_group, _risk, start, due) in after.items():
        if eid in child_high:
            assert due == start + dt.timedelta(days=3)
        else:
            assert due == before[eid][3]


def test_counting_phone_visits_moves_the_due_date_of_a_person_called_by_phone(engine, world):
    with reading(engine) as session:
        eid = session.scalar(select(Enrollment.id).where(Enrollment.person_id == world.persons["a2_disabled_w3"]))
    called = dt.datetime.combine(TODAY - dt.timedelta(days=5), dt.time(9))
    with transaction(engine) as session:
        visit = Visit(
            person_id=world.persons["a2_disabled_w3"],
            status="done",
            mode="phone",
            findings={},
            visited_at=called,
            created_at=called,
        )
        session.add(visit)
        session.flush()
        session.add(VisitEnrollment(visit_id=visit.id, enrollment_id=eid))
        session.flush()
        services.refresh_due_dates(session, enrollment_ids=[eid])
    group, risk, start, due = _dues(engine)[eid]
    interval = policy.DEFAULT_INTERVALS[(group, risk)]
    assert due == start + dt.timedelta(days=interval)  # phone visits do not count by default
    admin = world.scopes["admin"]
    with reading(engine) as session:
        preview = preview_policy(session, admin, intervals=_with({}), phone=True, today=TODAY)
    assert (preview.moved, preview.later, preview.no_longer_overdue) == (1, 1, 1)
    with transaction(engine) as session:
        save_policy(session, admin, county_code=world.county, intervals=_with({}), phone=True, limit=8, seen_version=1)
    assert _dues(engine)[eid][3] == called.date() + dt.timedelta(days=interval)


def test_a_policy_saved_from_an_outdated_page_is_refused_and_changes_nothing(engine, world):
    admin = world.scopes["admin"]
    with transaction(engine) as session:
        save_policy(
            session,
            admin,
            county_code=world.county,
            intervals=_with({("elderly", "low"): 60}),
            phone=False,
            limit=6,
            seen_version=1,
        )
    before = _dues(engine)
    with pytest.raises(StaleRecord), transaction(engine) as session:
        save_policy(session, admin, county_code=world.county, intervals=_with({}), phone=True, limit=9, seen_version=1)
    with reading(engine) as session:
        current = policy_settings(session, world.county)
    assert (current.version, current.daily_limit, current.phone_counts) == (2, 6, False)
    assert current.intervals[("elderly", "low")] == 60
    assert _dues(engine) == before


@pytest.mark.parametrize(
    ("changes", "limit"),
    [({("child", "high"): 0}, 8), ({("disabled", "low"): 367}, 8), ({}, 0), ({}, 41)],
)
def test_intervals_and_limits_out_of_range_are_refused(engine, world, changes, limit):
    with pytest.raises(ValidationError), transaction(engine) as session:
        save_policy(
            session,
            world.scopes["admin"],
            county_code=world.county,
            intervals=_with(changes),
            phone=False,
            limit=limit,
            seen_version=1,
        )
    with reading(engine) as session:
        assert setting_value(session, "policy.daily_limit", world.county) is None


@pytest.mark.parametrize("who", ["township_a", "coord_1", "county"])
def test_only_the_admin_edits_the_policy(engine, world, who):
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        save_policy(
            session,
            world.scopes[who],
            county_code=world.county,
            intervals=_with({}),
            phone=True,
            limit=8,
            seen_version=1,
        )


@pytest.mark.parametrize(
    "last_visits",
    [
        [None, None, None],
        [TODAY - dt.timedelta(days=3), None, TODAY - dt.timedelta(days=400)],  # the last one predates the start
        [TODAY, TODAY - dt.timedelta(days=199), TODAY - dt.timedelta(days=200)],
    ],
)
def test_recomputing_every_due_date_in_one_statement_agrees_with_the_rule(engine, world, last_visits):
    with transaction(engine) as session:
        ids = list(session.scalars(select(Enrollment.id).where(Enrollment.end_date.is_(None)).order_by(Enrollment.id)))
        for i, eid in enumerate(ids):
            session.get(Enrollment, eid).last_visit_on = last_visits[i % len(last_visits)]
        session.add(Setting(key="policy.version", value="1"))
    new = _with({("child", "low"): 21, ("disabled", "low"): 45, ("elderly", "medium"): 28})
    with transaction(engine) as session:
        save_policy(
            session,
            world.scopes["admin"],
            county_code=world.county,
            intervals=new,
            phone=False,
            limit=8,
            seen_version=1,
        )
    with reading(engine) as session:
        rows = session.execute(
            select(
                Enrollment.group,
                Enrollment.risk,
                Enrollment.start_date,
                Enrollment.last_visit_on,
                Enrollment.next_due_on,
            ).where(Enrollment.end_date.is_(None))
        ).all()
    assert rows
    for group, risk, start, last, due in rows:
        assert due == policy.next_due(start, last, new[(group, risk)])
