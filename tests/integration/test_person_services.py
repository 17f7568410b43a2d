"""Writing the registers: create, edit with versions, enroll, exit, soft delete and restore."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from care import services
from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_page
from db.models import AuditEvent, Enrollment, Person
from db.session import reading, transaction
from tests.fixtures.scope import fixture_id_number
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY


def _person(engine, pid):
    with reading(engine) as session:
        return session.get(Person, pid)


def _new_values(world, **overrides):
    values = {
        "id_number": fixture_id_number(dt.date(2012, 5, 6), 40, "F"),
        "name": "新登记",
        "village_code": world.village_a2,
        "lat": 26.44,
        "lon": 108.09,
    }
    return values | overrides


def test_a_stale_edit_is_refused_and_the_newer_values_are_returned(engine, world):
    pid = world.persons["a1_child_w1"]
    seen = _person(engine, pid).version
    with transaction(engine) as session:
        services.update_person(
            session, world.scopes["township_a"], person_id=pid, seen_version=seen, values={"address": "第一人的地址"}
        )
    with pytest.raises(StaleRecord) as stale, transaction(engine) as session:
        services.update_person(
            session, world.scopes["coord_1"], person_id=pid, seen_version=seen, values={"address": "第二人的地址"}
        )
    assert stale.value.current["address"] == "第一人的地址"
    assert stale.value.params == {"seen": seen, "now": seen + 1}
    assert _person(engine, pid).address == "第一人的地址"


def test_fields_a_coordinator_may_not_edit_are_dropped(engine, world):
    pid = world.persons["a1_child_w1"]
    person = _person(engine, pid)
    with transaction(engine) as session:
        saved = services.update_person(
            session,
            world.scopes["coord_1"],
            person_id=pid,
            seen_version=person.version,
            values={"name": "改名", "phone": "13912345678"},
        )
    after = _person(engine, pid)
    assert after.name == person.name and after.phone == "13912345678" and saved.version == person.version + 1


def test_a_coordinator_cannot_edit_a_colleagues_person(engine, world):
    pid = world.persons["a1_child_w1"]
    with pytest.raises(NotFound), transaction(engine) as session:
        services.update_person(
            session, world.scopes["coord_2"], person_id=pid, seen_version=1, values={"phone": "13900000000"}
        )


def test_soft_delete_hides_the_person_and_restore_brings_them_back(engine, world):
    pid = world.persons["a1_child_w2"]
    township = world.scopes["township_a"]
    with transaction(engine) as session:
        services.soft_delete_person(session, township, person_id=pid, seen_version=1, reason="误录")
    with reading(engine) as session:
        listed = set(register_page(session, township, RegisterFilter(page_size=200), TODAY).rows["person_id"])
        deleted = set(register_page(session, township, RegisterFilter(deleted=True), TODAY).rows["person_id"])
        hidden_from_coordinator = person_file(session, world.scopes["coord_2"], pid, TODAY)
    assert pid not in listed and pid in deleted and hidden_from_coordinator is None
    assert _person(engine, pid) is not None  # never a hard delete
    with transaction(engine) as session:
        services.restore_person(session, township, person_id=pid, seen_version=2)
    with reading(engine) as session:
        listed = set(register_page(session, township, RegisterFilter(page_size=200), TODAY).rows["person_id"])
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == str(pid))))
    assert pid in listed
    assert actions.count("person.delete") == 1 and actions.count("person.restore") == 1


@pytest.mark.parametrize("user", ["coord_1", "county"])
def test_roles_without_the_right_cannot_delete(engine, world, user):
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        services.soft_delete_person(
            session, world.scopes[user], person_id=world.persons["a1_child_w1"], seen_version=1, reason="x"
        )


def test_a_duplicate_id_in_another_township_is_reported_without_revealing_the_record(engine, world):
    with reading(engine) as session:
        existing = session.get(Person, world.persons["a1_child_w1"])
    values = {"id_number": existing.id_number, "name": "重复", "village_code": world.village_b1}
    with pytest.raises(ValidationError) as hidden, transaction(engine) as session:
        services.create_person(session, world.scopes["township_b"], values=values)
    assert hidden.value.key == "person.duplicate_elsewhere"
    assert existing.name not in hidden.value.message("zh") and world.village_a1 not in hidden.value.message("zh")
    values["village_code"] = world.village_a2
    with pytest.raises(ValidationError) as visible, transaction(engine) as session:
        services.create_person(session, world.scopes["township_a"], values=values)
    assert visible.value.key == "person.duplicate_visible" and existing.name in visible.value.message("zh")


def test_a_duplicate_of_a_deleted_person_points_to_restore(engine, world):
    with reading(engine) as session:
        deleted = session.get(Person, world.persons["a1_deleted"])
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.create_person(
            session,
            world.scopes["township_a"],
            values={"id_number": deleted.id_number, "name": "再登记", "village_code": world.village_a1},
        )
    assert error.value.key == "person.duplicate_deleted"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"id_number": "52269920120506040X"}, "id.bad_check_digit"),
        ({"id_number": 5.22699201205e17}, "id.excel_number"),
        ({"name": "  "}, "person.name_required"),
        ({"village_code": "522699102201"}, "person.village_outside_scope"),
        ({"village_code": "522699101000"}, "person.bad_village"),
        ({"lat": 48.85, "lon": 2.35}, "person.coords_outside_china"),
        ({"lat": 26.4, "lon": None}, "person.coords_incomplete"),
        ({"phone": "12ab"}, "person.bad_phone"),
        ({"sex": "M"}, "id.sex_mismatch"),
        ({"birth_date": dt.date(2012, 5, 7)}, "id.birth_mismatch"),
    ],
)
def test_bad_input_is_refused_with_its_own_message_and_nothing_is_written(engine, world, overrides, key):
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.create_person(session, world.scopes["township_a"], values=_new_values(world, **overrides))
    assert error.value.key == key
    assert error.value.message("zh") != key and error.value.message("en") != key
    with reading(engine) as session:
        assert session.scalar(select(Person.id).where(Person.name == "新登记")) is None


def test_a_point_outside_the_county_is_saved_with_a_warning(engine, world):
    with transaction(engine) as session:
        saved = services.create_person(
            session, world.scopes["township_a"], values=_new_values(world, lat=39.9, lon=116.4)
        )
    assert [key for key, _ in saved.warnings] == ["person.coords_outside_county"]


@pytest.mark.parametrize(
    ("group", "subtype", "facts", "birth", "key"),
    [
        (
            "child",
            "left_behind",
            {"guardianship": "grandparent"},
            dt.date(2010, 1, 1),
            "enrollment.child_too_old.left_behind",
        ),
        (
            "elderly",
            "alone",
            {"living_arrangement": "alone", "self_care": "full"},
            dt.date(1970, 1, 1),
            "enrollment.elderly_too_young",
        ),
        ("disabled", "certified", {"category": 4, "grade": 2}, dt.date(1990, 1, 1), "enrollment.certificate_required"),
        ("child", "left_behind", {"guardianship": "aunt"}, dt.date(2015, 1, 1), "error.bad_choice"),
    ],
)
def test_enrollment_rules_of_each_group(engine, world, group, subtype, facts, birth, key):
    with transaction(engine) as session:
        saved = services.create_person(
            session, world.scopes["township_a"], values=_new_values(world, id_number=fixture_id_number(birth, 41, "M"))
        )
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.enroll(
            session,
            world.scopes["township_a"],
            person_id=saved.id,
            group=group,
            subtype=subtype,
            start_date=TODAY,
            facts=facts,
        )
    assert error.value.key == key


def test_the_certificate_must_be_the_id_plus_category_and_grade(engine, world):
    birth = dt.date(1990, 1, 1)
    id_number = fixture_id_number(birth, 42, "M")
    with transaction(engine) as session:
        saved = services.create_person(
            session, world.scopes["township_a"], values=_new_values(world, id_number=id_number)
        )
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.enroll(
            session,
            world.scopes["township_a"],
            person_id=saved.id,
            group="disabled",
            subtype="certified",
            start_date=TODAY,
            facts={"category": 4, "grade": 2, "certificate_no": id_number + "42"[::-1]},
        )
    assert error.value.key.startswith("certificate.")
    with transaction(engine) as session:
        services.enroll(
            session,
            world.scopes["township_a"],
            person_id=saved.id,
            group="disabled",
            subtype="certified",
            start_date=TODAY,
            facts={"category": 4, "grade": 2, "certificate_no": id_number + "42"},
        )


def test_a_risk_override_needs_a_reason_and_wins_over_the_rules(engine, world):
    pid = world.persons["a1_child_w1"]
    with reading(engine) as session:
        enrollment = session.scalar(select(Enrollment).where(Enrollment.person_id == pid))
    args = {
        "enrollment_id": enrollment.id,
        "subtype": "left_behind",
        "facts": {"guardianship": "grandparent", "schooling": "primary"},
        "risk_override": "high",
    }
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.update_enrollment(session, world.scopes["township_a"], seen_version=enrollment.version, **args)
    assert error.value.key == "enrollment.override_reason_required"
    with transaction(engine) as session:
        services.update_enrollment(
            session,
            world.scopes["township_a"],
            seen_version=enrollment.version,
            risk_override_reason="祖父近期住院",
            **args,
        )
    with reading(engine) as session:
        after = session.get(Enrollment, enrollment.id)
    assert (after.risk_auto, after.risk, after.next_due_on) == (
        "low",
        "high",
        enrollment.start_date + dt.timedelta(days=7),
    )


def test_death_ends_every_enrollment_and_marks_the_person_deceased(engine, world):
    pid = world.persons["a1_child_disabled"]
    with reading(engine) as session:
        child = session.scalar(select(Enrollment).where(Enrollment.person_id == pid, Enrollment.group == "child"))
    with transaction(engine) as session:
        services.exit_enrollment(
            session,
            world.scopes["township_a"],
            enrollment_id=child.id,
            seen_version=child.version,
            reason="died",
            end_date=TODAY,
        )
    with reading(engine) as session:
        ends = list(session.scalars(select(Enrollment.end_date).where(Enrollment.person_id == pid)))
        status = session.get(Person, pid).status
    assert ends == [TODAY, TODAY] and status == "deceased"


def test_an_exit_for_a_parent_returning_ends_only_that_enrollment(engine, world):
    pid = world.persons["a1_child_w2"]
    with reading(engine) as session:
        child = session.scalar(select(Enrollment).where(Enrollment.person_id == pid))
    with transaction(engine) as session:
        services.exit_enrollment(
            session,
            world.scopes["township_a"],
            enrollment_id=child.id,
            seen_version=child.version,
            reason="parent_returned",
            end_date=TODAY,
        )
    with reading(engine) as session:
        after = session.get(Enrollment, child.id)
        person = session.get(Person, pid)
    assert (after.exit_reason, after.next_due_on, person.status) == ("parent_returned", None, "exited")


def test_an_exit_ends_the_assignment_but_keeps_its_history(engine, world):
    from db.models import Assignment

    pid = world.persons["a1_child_w1"]
    with reading(engine) as session:
        child = session.scalar(select(Enrollment).where(Enrollment.person_id == pid))
    with transaction(engine) as session:
        services.exit_enrollment(
            session,
            world.scopes["township_a"],
            enrollment_id=child.id,
            seen_version=child.version,
            reason="aged_out",
            end_date=TODAY,
        )
    with reading(engine) as session:
        rows = session.execute(
            select(Assignment.worker_id, Assignment.end_date).where(Assignment.enrollment_id == child.id)
        ).all()
    assert rows == [(world.workers["w1"], TODAY)]
