"""Needs and referrals: raised, moved open → in progress → resolved with dates and who, listed by scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.queries.needs import needs_list, person_needs
from care.services.needs import move_need, raise_need
from db.models import AuditEvent, Need
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _raise(engine, world, user="coord_1", person="a1_child_w1", **values):
    args = {
        "person_id": world.persons[person],
        "kind": "medical",
        "department": "乡卫生院",
        "description": "发烧",
        **values,
    }
    with transaction(engine) as session:
        return raise_need(session, world.scopes[user], **args)


def _move(engine, world, need_id, seen, status, user="township_a", **values):
    with transaction(engine) as session:
        return move_need(session, world.scopes[user], need_id=need_id, seen_version=seen, status=status, **values)


def _need(engine, need_id):
    with reading(engine) as session:
        return session.get(Need, need_id)


def test_a_need_moves_from_open_to_in_progress_to_resolved_with_dates_and_who(engine, world, freeze_clock):
    saved = _raise(engine, world)
    opened = _need(engine, saved.id)
    assert (opened.status, opened.opened_on, opened.created_by) == ("open", TODAY, world.scopes["coord_1"].user_id)
    freeze_clock(TODAY + dt.timedelta(days=2))
    moved = _move(engine, world, saved.id, 1, "in_progress", department="县卫健局")
    started = _need(engine, saved.id)
    assert (started.status, started.in_progress_on, started.department, started.version) == (
        "in_progress",
        TODAY + dt.timedelta(days=2),
        "县卫健局",
        moved.version,
    )
    freeze_clock(TODAY + dt.timedelta(days=9))
    _move(engine, world, saved.id, moved.version, "resolved")
    done = _need(engine, saved.id)
    assert (done.status, done.in_progress_on, done.resolved_on, done.resolved_by, done.updated_by) == (
        "resolved",
        TODAY + dt.timedelta(days=2),
        TODAY + dt.timedelta(days=9),
        world.scopes["township_a"].user_id,
        world.scopes["township_a"].user_id,
    )
    with reading(engine) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "need")).all()
    assert actions == ["need.create", "need.update", "need.update"]


def test_a_resolved_need_does_not_move_back(engine, world):
    saved = _raise(engine, world)
    resolved = _move(engine, world, saved.id, 1, "resolved")
    with pytest.raises(ValidationError) as refused:
        _move(engine, world, saved.id, resolved.version, "open")
    assert refused.value.key == "needs.bad_move"
    assert _need(engine, saved.id).status == "resolved"


def test_two_supervisors_moving_one_need_get_one_conflict_and_the_newer_values(engine, world):
    saved = _raise(engine, world)
    _move(engine, world, saved.id, 1, "in_progress", department="县民政局")
    with pytest.raises(StaleRecord) as stale:
        _move(engine, world, saved.id, 1, "resolved", user="admin")
    assert stale.value.current["need_status"] == "in_progress"
    assert stale.value.current["department"] == "县民政局"
    assert _need(engine, saved.id).status == "in_progress"


def test_a_county_official_may_read_needs_but_not_move_them(engine, world):
    saved = _raise(engine, world)
    with pytest.raises(PermissionDenied):
        _move(engine, world, saved.id, 1, "resolved", user="county")
    with reading(engine) as session:
        assert list(needs_list(session, world.scopes["county"], TODAY)["id"]) == [saved.id]


def test_a_coordinator_cannot_raise_or_move_a_need_of_a_colleagues_resident(engine, world):
    with pytest.raises(NotFound):
        _raise(engine, world, person="a1_child_w2")
    other = _raise(engine, world, user="coord_2", person="a1_child_w2")
    with pytest.raises(NotFound):
        _move(engine, world, other.id, 1, "in_progress", user="coord_1")


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"kind": "housing"}, "needs.bad_kind"),
        ({"kind": "other", "description": ""}, "needs.description_required"),
        ({"enrollment_id": 999_999}, "needs.bad_enrollment"),
    ],
)
def test_a_bad_need_is_refused_and_nothing_written(engine, world, values, key):
    with pytest.raises(ValidationError) as refused:
        _raise(engine, world, **values)
    assert refused.value.key == key
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(Need)) == 0


def test_open_needs_are_listed_oldest_first_in_the_users_scope(engine, world, freeze_clock):
    freeze_clock(TODAY - dt.timedelta(days=5))
    newer_first = _raise(engine, world, person="a1_child_disabled", kind="rehab")
    freeze_clock(TODAY - dt.timedelta(days=30))
    oldest = _raise(engine, world, person="a1_child_w1", kind="schooling")
    freeze_clock(TODAY - dt.timedelta(days=10))
    b_need = _raise(engine, world, user="coord_b", person="b1_child_w4", kind="subsidy")
    resolved = _raise(engine, world, user="coord_2", person="a1_child_w2")
    freeze_clock(TODAY)
    _move(engine, world, resolved.id, 1, "resolved")
    with reading(engine) as session:
        township_a = needs_list(session, world.scopes["township_a"], TODAY)
        admin = needs_list(session, world.scopes["admin"], TODAY)
        coord_2 = needs_list(session, world.scopes["coord_2"], TODAY)
        everything = needs_list(session, world.scopes["admin"], TODAY, statuses=("open", "in_progress", "resolved"))
        one = person_needs(session, world.scopes["coord_1"], world.persons["a1_child_w1"], TODAY)
        hidden = person_needs(session, world.scopes["coord_2"], world.persons["a1_child_w1"], TODAY)
    assert list(township_a["id"]) == [oldest.id, newer_first.id]
    assert list(township_a["days_open"]) == [30, 5]
    assert list(admin["id"]) == [oldest.id, b_need.id, newer_first.id]
    assert coord_2.empty
    assert set(everything["id"]) == {oldest.id, newer_first.id, b_need.id, resolved.id}
    assert list(one["id"]) == [oldest.id] and hidden.empty
