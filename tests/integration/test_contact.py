"""Tap to call and to navigate: the full number or home location, only for one's own persons, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from care import audit
from care.domain.errors import NotFound, PermissionDenied, ValidationError
from care.services.persons import dialable, open_contact
from db.models import AuditEvent, Person
from db.session import reading, transaction


def _events(engine, action):
    with reading(engine) as session:
        return [
            (e.outcome, e.entity_id, e.detail)
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
        ]


@pytest.mark.parametrize(
    ("cell", "number"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("０８５５－８８８１２３４", "08558881234"),
        ("+86 138-1234-5678 (本人)", "+8613812345678"),
        ("母亲 13900001111，父亲 13700002222", "13900001111"),
        ("无", ""),
        ("", ""),
        (None, ""),
        ("javascript:alert(1)", ""),
    ],
)
def test_the_number_to_dial_is_the_first_number_in_the_cell_digits_only(cell, number):
    assert dialable(cell) == number


def test_a_coordinator_opens_the_number_and_the_home_of_their_own_person_each_audited(engine, world):
    pid = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        person = session.get(Person, pid)
        person.phone, person.lat, person.lon = "138 0013 8000", 26.461234, 108.112345
    with transaction(engine) as session:
        number = open_contact(session, world.scopes["coord_1"], person_id=pid, what="call")
        place = open_contact(session, world.scopes["coord_1"], person_id=pid, what="navigate")
    assert (number, place) == ("13800138000", "26.461234,108.112345")
    assert _events(engine, "person.call") == [("success", str(pid), {"found": True})]
    assert _events(engine, "person.navigate") == [("success", str(pid), {"found": True})]


def test_nothing_to_call_or_no_location_answers_empty_and_is_still_audited(engine, world):
    pid = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        person = session.get(Person, pid)
        person.phone, person.lat, person.lon = "", None, None
    with transaction(engine) as session:
        assert open_contact(session, world.scopes["coord_1"], person_id=pid, what="call") == ""
        assert open_contact(session, world.scopes["coord_1"], person_id=pid, what="navigate") == ""
    assert _events(engine, "person.call") == [("success", str(pid), {"found": False})]


def test_another_coordinators_person_looks_missing_and_the_attempt_is_audited(engine, world):
    pid = world.persons["a1_child_w1"]
    with pytest.raises(NotFound), audit.denials_survive(engine), transaction(engine) as session:
        open_contact(session, world.scopes["coord_2"], person_id=pid, what="call")
    assert [e[0] for e in _events(engine, "person.call")] == ["denied"]


def test_a_county_official_who_records_no_visits_may_not_open_a_number(engine, world):
    with pytest.raises(PermissionDenied), audit.denials_survive(engine), transaction(engine) as session:
        open_contact(session, world.scopes["county"], person_id=world.persons["a1_child_w1"], what="call")
    assert [e[0] for e in _events(engine, "person.call")] == ["denied"]


def test_anything_but_call_or_navigate_is_refused(engine, world):
    with pytest.raises(ValidationError), transaction(engine) as session:
        open_contact(session, world.scopes["coord_1"], person_id=world.persons["a1_child_w1"], what="id_number")
