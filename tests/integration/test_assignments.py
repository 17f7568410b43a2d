"""Assignments: bulk moves keep history and touch exactly the chosen enrollments, within scope only."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.queries.assignments import EnrollmentFilter, caseloads, enrollments, unassigned_count
from care.services.assignments import assign_worker, move_caseload, set_worker_active
from db.models import Assignment, AuditEvent, Enrollment
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _enrollment_ids(engine, world, key):
    with reading(engine) as session:
        return list(
            session.scalars(
                select(Enrollment.id).where(Enrollment.person_id == world.persons[key]).order_by(Enrollment.group)
            )
        )


def _current_worker(engine, enrollment_id):
    with reading(engine) as session:
        return session.scalar(
            select(Assignment.worker_id).where(
                Assignment.enrollment_id == enrollment_id,
                Assignment.start_date <= TODAY,
                Assignment.end_date.is_(None) | (Assignment.end_date >= TODAY),
            )
        )


def _history(engine, enrollment_id):
    with reading(engine) as session:
        return session.execute(
            select(Assignment.worker_id, Assignment.start_date, Assignment.end_date)
            .where(Assignment.enrollment_id == enrollment_id)
            .order_by(Assignment.start_date, Assignment.id)
        ).all()


def _caseload(engine, scope):
    with reading(engine) as session:
        table = caseloads(session, scope, TODAY)
    return {int(r.worker_id): (int(r.persons), int(r.high_risk_persons), int(r.overdue)) for r in table.itertuples()}


def test_caseloads_count_persons_high_risk_and_overdue_per_worker(engine, world):
    load = _caseload(engine, world.scopes["township_a"])
    w = world.workers
    # w1: the left-behind child and the disabled child without a guardian (high risk); the
    # deleted person's enrollment is not counted. Nobody has been visited: all overdue.
    assert load[w["w1"]] == (2, 1, 2)
    assert load[w["w2"]] == (1, 0, 1)
    # w3: the adult and the disabled child, whose grade-2 intellectual disability is high risk.
    assert load[w["w3"]] == (2, 1, 2)
    assert w["w4"] not in load  # another township's worker is not listed


def test_moving_part_of_a_caseload_moves_exactly_the_chosen_enrollments_and_keeps_history(engine, world, freeze_clock):
    freeze_clock(TODAY)
    chosen = _enrollment_ids(engine, world, "a1_child_w1")
    stays = _enrollment_ids(engine, world, "a1_child_disabled")
    w1, w2 = world.workers["w1"], world.workers["w2"]
    with transaction(engine) as session:
        result = move_caseload(
            session,
            world.scopes["township_a"],
            from_worker_id=w1,
            to_worker_id=w2,
            seen=dict.fromkeys(chosen, w1),
            reason="调岗",
        )
    assert result["moved"] == 1
    assert _current_worker(engine, chosen[0]) == w2
    assert [_current_worker(engine, e) for e in stays] == [w1, world.workers["w3"]]
    history = _history(engine, chosen[0])
    assert history[0] == (w1, TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=1))
    assert history[1] == (w2, TODAY, None)
    assert _caseload(engine, world.scopes["township_a"])[w2][0] == 2


def test_bulk_assignment_of_a_whole_village_and_group_in_one_action(engine, world):
    scope = world.scopes["township_a"]
    with reading(engine) as session:
        rows = enrollments(session, scope, EnrollmentFilter(area_code=world.village_a1, group="child"), TODAY)
    seen = {int(r.enrollment_id): (None if r.worker_id is None else int(r.worker_id)) for r in rows.itertuples()}
    assert len(seen) == 3  # two left-behind children and the disabled child; the deleted one is hidden
    with transaction(engine) as session:
        result = assign_worker(session, scope, worker_id=world.workers["w2"], seen=seen)
    assert result["moved"] == 2 and result["unchanged"] == 1
    assert {_current_worker(engine, e) for e in seen} == {world.workers["w2"]}


def test_the_unassigned_list_and_count_follow_the_scope(engine, world):
    elder = _enrollment_ids(engine, world, "a1_elder_unassigned")
    with reading(engine) as session:
        listed = enrollments(session, world.scopes["township_a"], EnrollmentFilter(unassigned_only=True), TODAY)
        assert list(listed["enrollment_id"]) == elder
        assert unassigned_count(session, world.scopes["township_a"], TODAY) == 1
        assert unassigned_count(session, world.scopes["township_b"], TODAY) == 0
        assert unassigned_count(session, world.scopes["no_area"], TODAY) == 0
    with transaction(engine) as session:
        assign_worker(session, world.scopes["township_a"], worker_id=world.workers["w2"], seen={elder[0]: None})
    with reading(engine) as session:
        assert unassigned_count(session, world.scopes["township_a"], TODAY) == 0


def _assignment_rows(engine):
    with reading(engine) as session:
        return session.execute(select(Assignment.id, Assignment.worker_id, Assignment.end_date)).all()


@pytest.mark.parametrize(
    ("worker", "person", "error"),
    [
        ("w4", "a1_child_w1", NotFound),  # a worker of another township
        ("w1", "b1_child_w4", NotFound),  # a person of another township
        ("w1", "a1_deleted", NotFound),  # a deleted person is not there
    ],
)
def test_a_supervisor_cannot_assign_outside_their_township(engine, world, worker, person, error):
    before = _assignment_rows(engine)
    eid = _enrollment_ids(engine, world, person)[0]
    with pytest.raises(error), transaction(engine) as session:
        assign_worker(
            session,
            world.scopes["township_a"],
            worker_id=world.workers[worker],
            seen={eid: _current_worker(engine, eid)},
        )
    assert _assignment_rows(engine) == before


def test_coordinators_and_county_officials_may_not_assign(engine, world):
    eid = _enrollment_ids(engine, world, "a1_child_w1")[0]
    for who in ("coord_1", "county"):
        with pytest.raises(PermissionDenied), transaction(engine) as session:
            assign_worker(session, world.scopes[who], worker_id=world.workers["w2"], seen={eid: world.workers["w1"]})


def test_a_move_based_on_an_outdated_list_is_refused_and_writes_nothing(engine, world):
    eid = _enrollment_ids(engine, world, "a1_child_w1")[0]
    scope = world.scopes["township_a"]
    with transaction(engine) as session:
        assign_worker(session, scope, worker_id=world.workers["w2"], seen={eid: world.workers["w1"]})
    before = _assignment_rows(engine)
    # A second supervisor still sees w1 as responsible and moves the same enrollment.
    with pytest.raises(StaleRecord), transaction(engine) as session:
        assign_worker(session, scope, worker_id=world.workers["w3"], seen={eid: world.workers["w1"]})
    assert _assignment_rows(engine) == before
    assert _current_worker(engine, eid) == world.workers["w2"]


def test_a_worker_marked_away_takes_no_new_assignments(engine, world):
    scope = world.scopes["township_a"]
    eid = _enrollment_ids(engine, world, "a1_elder_unassigned")[0]
    with transaction(engine) as session:
        set_worker_active(session, scope, worker_id=world.workers["w2"], active=False)
    with pytest.raises(ValidationError), transaction(engine) as session:
        assign_worker(session, scope, worker_id=world.workers["w2"], seen={eid: None})


def test_a_same_day_correction_replaces_the_assignment_made_today(engine, world):
    scope = world.scopes["township_a"]
    eid = _enrollment_ids(engine, world, "a1_elder_unassigned")[0]
    for worker in ("w1", "w2"):
        with transaction(engine) as session:
            previous = None if worker == "w1" else world.workers["w1"]
            assign_worker(session, scope, worker_id=world.workers[worker], seen={eid: previous})
    assert _history(engine, eid) == [(world.workers["w2"], TODAY, None)]


def test_every_assignment_change_is_audited_once(engine, world):
    scope = world.scopes["township_a"]
    eid = _enrollment_ids(engine, world, "a1_elder_unassigned")[0]
    with transaction(engine) as session:
        assign_worker(session, scope, worker_id=world.workers["w1"], seen={eid: None})
    with reading(engine) as session:
        events = session.scalar(select(func.count()).where(AuditEvent.action == "assignment.change"))
    assert events == 1


def test_a_rehab_coordinator_given_child_enrollments_is_flagged_not_refused(engine, world):
    eid = _enrollment_ids(engine, world, "a1_child_w1")[0]
    with transaction(engine) as session:
        result = assign_worker(
            session, world.scopes["township_a"], worker_id=world.workers["w3"], seen={eid: world.workers["w1"]}
        )
    assert result["warnings"] == [("assignment.outside_kind", {"name": "李康复", "groups": ["child"]})]
