"""A household's home location shared by its members, a child's guardian linked to a member, and the
household figures by area in the workbook and the PDF: on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from care import services
from care.domain.errors import StaleRecord, ValidationError
from care.files.exports import ExportMeta, workbook_bytes
from care.files.report_pdf import report_html, report_pdf
from care.queries.households import guardian_choices, household_card
from care.queries.person_file import person_file
from care.queries.reports import household_report, household_table, month_report
from care.services import households
from db.models import Area, AuditEvent, ChildDetails, Enrollment, Household, Person
from db.session import reading, transaction
from tests.fixtures.scope import fixture_id_number
from tests.integration.conftest import FIXTURE_TODAY
from tests.integration.test_hostile_text import flat, pdf_text

TODAY = FIXTURE_TODAY
HOSTILE_NAME = "{{7*7}}<img src=x onerror=alert(1)>"
FORMULA_NAME = '=HYPERLINK("x")'


def _household(engine, pid) -> Household:
    with reading(engine) as session:
        hid = households.household_of_person(session, pid)
        household = session.get(Household, hid)
        session.expunge(household)
    return household


def _person(engine, pid) -> Person:
    with reading(engine) as session:
        person = session.get(Person, pid)
        session.expunge(person)
    return person


def _add(engine, world, hid, pid, relation):
    with transaction(engine) as session:
        households.add_member(
            session,
            world.scopes["admin"],
            household_id=hid,
            seen_version=_household(engine, world.persons["a1_child_w1"]).version,
            person_id=pid,
            relation=relation,
        )


def _new_adult(engine, world, birth: dt.date, serial: int, *, name: str = "同户成人", located: bool = True) -> int:
    values = {"id_number": fixture_id_number(birth, serial, "M"), "name": name, "village_code": world.village_a1}
    if located:
        values |= {"lat": 26.47, "lon": 108.12}
    with transaction(engine) as session:
        return services.create_person(session, world.scopes["admin"], values=values).id


def _move_home(engine, world, hid, lat, lon, *, scope="admin", seen=None):
    with transaction(engine) as session:
        return households.update_household(
            session,
            world.scopes[scope],
            household_id=hid,
            seen_version=seen if seen is not None else _household(engine, world.persons["a1_child_w1"]).version,
            values={"lat": lat, "lon": lon},
        )


def _child_enrollment(engine, pid) -> Enrollment:
    with reading(engine) as session:
        enrollment = session.scalars(
            select(Enrollment).where(
                Enrollment.person_id == pid, Enrollment.group == "child", Enrollment.end_date.is_(None)
            )
        ).one()
        session.expunge(enrollment)
    return enrollment


def _set_guardian(engine, world, child, guardian_id, *, scope="admin", **facts):
    enrollment = _child_enrollment(engine, child)
    with reading(engine) as session:
        old = services.enrollments.enrollment_values(session.get(Enrollment, enrollment.id))
    values = {**old["facts"], "guardian_person_id": guardian_id, **facts}
    with transaction(engine) as session:
        return services.update_enrollment(
            session,
            world.scopes[scope],
            enrollment_id=enrollment.id,
            seen_version=enrollment.version,
            subtype=enrollment.subtype,
            facts=values,
        )


# --- the home location ------------------------------------------------------------------------------


def test_a_new_home_location_moves_members_at_the_old_home_or_with_none_and_keeps_their_own(engine, world):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    at_home = _person(engine, child)
    assert (at_home.lat, at_home.lon) == (home.lat, home.lon)
    elsewhere = _new_adult(engine, world, dt.date(1985, 5, 5), 901)
    unplaced = _new_adult(engine, world, dt.date(1986, 6, 6), 902, located=False)
    _add(engine, world, home.id, elsewhere, "parent")
    _add(engine, world, home.id, unplaced, "spouse")
    versions = {pid: _person(engine, pid).version for pid in (child, elsewhere, unplaced)}

    saved = _move_home(engine, world, home.id, 26.4805, 108.1302)

    after = {pid: _person(engine, pid) for pid in (child, elsewhere, unplaced)}
    assert (after[child].lat, after[child].lon) == (26.4805, 108.1302)
    assert (after[unplaced].lat, after[unplaced].lon) == (26.4805, 108.1302)
    assert (after[elsewhere].lat, after[elsewhere].lon) == (26.47, 108.12)
    assert after[child].version == versions[child] + 1
    assert after[unplaced].version == versions[unplaced] + 1
    assert after[elsewhere].version == versions[elsewhere]
    assert saved.version == _household(engine, child).version
    with reading(engine) as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "person.update",
                AuditEvent.entity_id.in_([str(child), str(unplaced), str(elsewhere)]),
            )
        ).all()
        card = household_card(session, world.scopes["admin"], child, TODAY)
    moved = {int(e.entity_id) for e in events if e.detail.get("household_id") == home.id}
    assert moved == {child, unplaced}
    kinds = {m.person_id: m.location for m in card.members}
    assert kinds == {child: "home", unplaced: "home", elsewhere: "own"}


@pytest.mark.parametrize(
    ("lat", "lon", "key"),
    [(40.0, None, "person.coords_incomplete"), (10.0, 10.0, "person.coords_outside_china")],
)
def test_a_bad_home_location_is_refused_with_the_person_forms_message_and_nothing_moves(engine, world, lat, lon, key):
    child = world.persons["a1_child_w1"]
    before_home, before_child = _household(engine, child), _person(engine, child)
    with pytest.raises(ValidationError) as refused:
        _move_home(engine, world, before_home.id, lat, lon)
    assert refused.value.key == key
    assert (_household(engine, child).lat, _household(engine, child).version) == (before_home.lat, before_home.version)
    assert _person(engine, child).lat == before_child.lat


def test_a_home_location_saved_on_an_old_version_is_refused_and_nobody_moves(engine, world):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    _move_home(engine, world, home.id, 26.49, 108.14, seen=home.version)
    with pytest.raises(StaleRecord):
        _move_home(engine, world, home.id, 26.5, 108.15, seen=home.version)
    assert (_person(engine, child).lat, _person(engine, child).lon) == (26.49, 108.14)


def test_a_coordinator_moves_only_the_members_on_their_own_list(engine, world):
    mine, theirs = world.persons["a1_child_w1"], world.persons["a1_child_w2"]
    home = _household(engine, mine)
    _add(engine, world, home.id, theirs, "child")
    # Both at the same spot as the home: the second one is on coord_2's list, not coord_1's.
    with transaction(engine) as session:
        session.get(Person, theirs).lat, session.get(Person, theirs).lon = home.lat, home.lon
    _move_home(engine, world, home.id, 26.49, 108.14, scope="coord_1")
    assert (_person(engine, mine).lat, _person(engine, mine).lon) == (26.49, 108.14)
    assert (_person(engine, theirs).lat, _person(engine, theirs).lon) == (home.lat, home.lon)


# --- the guardian linked to a household member ----------------------------------------------------


def test_a_guardian_chosen_from_the_household_fills_the_name_and_shows_on_the_file(engine, world):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    elder = world.persons["a1_elder_unassigned"]
    _add(engine, world, home.id, elder, "grandparent")
    with reading(engine) as session:
        offered = guardian_choices(session, world.scopes["admin"], child, TODAY)
    assert [g.person_id for g in offered] == [elder]
    _set_guardian(engine, world, child, elder, guardian_name="随便写的名字", guardian_phone="")
    with reading(engine) as session:
        details = session.get(ChildDetails, _child_enrollment(engine, child).id)
        pf = person_file(session, world.scopes["admin"], child, TODAY)
    assert details.guardian_person_id == elder
    assert details.guardian_name == "测试a1_elder_unassigned"
    assert details.guardian_phone == _person(engine, elder).phone
    guardian = pf.enrollments[0].guardian
    assert guardian is not None
    assert (guardian.person_id, guardian.age, guardian.aged, guardian.disabled, guardian.at_home) == (
        elder,
        76,
        True,
        False,
        True,
    )


def test_a_linked_guardian_of_70_makes_the_child_high_risk_even_with_a_younger_adult_at_home(engine, world):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    elder = world.persons["a1_elder_unassigned"]
    younger = _new_adult(engine, world, dt.date(1990, 1, 1), 903)
    _add(engine, world, home.id, elder, "grandparent")
    _add(engine, world, home.id, younger, "parent")
    assert _child_enrollment(engine, child).risk == "low"
    _set_guardian(engine, world, child, elder)
    assert _child_enrollment(engine, child).risk == "high"
    with reading(engine) as session:
        pf = person_file(session, world.scopes["admin"], child, TODAY)
        card = household_card(session, world.scopes["admin"], child, TODAY)
    assert "risk.reason.frail_linked_guardian" in pf.enrollments[0].risk_reasons
    assert "risk.reason.frail_linked_guardian" in card.flags
    _set_guardian(engine, world, child, younger)
    assert _child_enrollment(engine, child).risk == "low"


def test_a_disabled_guardian_counts_as_frail(engine, world):
    child = world.persons["a1_child_w1"]
    disabled_adult = world.persons["a2_disabled_w3"]
    younger = _new_adult(engine, world, dt.date(1990, 1, 1), 904)
    home = _household(engine, child)
    # The disabled adult lives in another village: move him to A1 first, then into the home.
    with transaction(engine) as session:
        services.update_person(
            session,
            world.scopes["admin"],
            person_id=disabled_adult,
            seen_version=_person(engine, disabled_adult).version,
            values={"village_code": world.village_a1},
        )
    _add(engine, world, home.id, disabled_adult, "parent")
    _add(engine, world, home.id, younger, "other")
    _set_guardian(engine, world, child, disabled_adult)
    with reading(engine) as session:
        guardian = person_file(session, world.scopes["admin"], child, TODAY).enrollments[0].guardian
    assert guardian is not None and guardian.disabled and not guardian.aged
    assert _child_enrollment(engine, child).risk == "high"


@pytest.mark.parametrize("who", ["outsider", "child_itself", "minor"])
def test_only_an_adult_current_member_can_be_linked(engine, world, who):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    minor = world.persons["a1_child_w2"]
    _add(engine, world, home.id, minor, "child")
    target = {"outsider": world.persons["a1_elder_unassigned"], "child_itself": child, "minor": minor}[who]
    before = _child_enrollment(engine, child)
    with pytest.raises(ValidationError) as refused:
        _set_guardian(engine, world, child, target)
    assert refused.value.key == ("household.guardian_not_adult" if who == "minor" else "household.guardian_not_member")
    with reading(engine) as session:
        assert session.get(ChildDetails, before.id).guardian_person_id is None
    assert _child_enrollment(engine, child).version == before.version


def test_a_guardian_who_leaves_stays_as_history_and_the_file_says_so(engine, world):
    child = world.persons["a1_child_w1"]
    home = _household(engine, child)
    elder = world.persons["a1_elder_unassigned"]
    _add(engine, world, home.id, elder, "grandparent")
    _set_guardian(engine, world, child, elder)
    assert _child_enrollment(engine, child).risk == "high"
    with transaction(engine) as session:
        households.split_household(
            session,
            world.scopes["admin"],
            household_id=home.id,
            seen_version=_household(engine, child).version,
            person_ids=[elder],
        )
    with reading(engine) as session:
        guardian = person_file(session, world.scopes["admin"], child, TODAY).enrollments[0].guardian
    assert guardian is not None and guardian.person_id == elder and not guardian.at_home
    # The rule is about who is at home: a guardian who left no longer makes the child high risk.
    assert _child_enrollment(engine, child).risk == "low"
    # Other facts still save with the old link kept.
    _set_guardian(engine, world, child, elder, schooling="junior")
    with reading(engine) as session:
        details = session.get(ChildDetails, _child_enrollment(engine, child).id)
    assert (details.guardian_person_id, details.schooling) == (elder, "junior")


def test_a_guardian_outside_the_users_list_is_not_shown_on_the_file(engine, world):
    child, other = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    home = _household(engine, child)
    _add(engine, world, home.id, other, "grandparent")
    _set_guardian(engine, world, child, other)
    with reading(engine) as session:
        mine = person_file(session, world.scopes["coord_1"], child, TODAY)
        offered = guardian_choices(session, world.scopes["coord_1"], child, TODAY)
    assert mine is not None and mine.enrollments[0].guardian is None
    assert offered == []


# --- household figures by area in the files -------------------------------------------------------


def _meta(area_code: str) -> ExportMeta:
    return ExportMeta(area_code, "青山县", "2026-05", "county", dt.datetime(2026, 6, 10, 9, 0))


def test_the_household_figures_by_township_add_up_to_the_areas_figures(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    _add(engine, world, _household(engine, child).id, elder, "grandparent")
    with reading(engine) as session:
        table = household_table(session, world.scopes["county"], area_code=world.county, today=TODAY)
        whole = household_report(session, world.scopes["county"], area_code=world.county, today=TODAY)
        town = household_report(session, world.scopes["county"], area_code=world.township_a, today=TODAY)
    assert list(table["area_code"]) == sorted([world.township_a, world.township_b])
    row = table.set_index("area_code").loc[world.township_a]
    assert (row["households_covered"], row["multi_group"], row["children"]) == (
        town.households_covered,
        town.multi_group,
        town.children,
    )
    assert row["multi_group"] >= 1
    assert table["households_covered"].sum() == whole.households_covered
    assert table["children_guardian_in_care"].sum() == whole.children_guardian_in_care
    assert row["guardian_in_care_rate"] == pytest.approx(town.children_guardian_in_care / town.children)


def test_the_workbook_and_the_pdf_carry_the_household_figures_with_hostile_area_names_inert(engine, world):
    child, elder = world.persons["a1_child_w1"], world.persons["a1_elder_unassigned"]
    _add(engine, world, _household(engine, child).id, elder, "grandparent")
    with transaction(engine) as session:
        session.get(Area, world.township_a).name = FORMULA_NAME
        session.get(Area, world.township_b).name = HOSTILE_NAME
    scope = world.scopes["county"]
    with reading(engine) as session:
        report = month_report(session, scope, month="2026-05", area_code=world.county, today=TODAY)
        table = household_table(session, scope, area_code=world.county, today=TODAY)
    data, _ = workbook_bytes(report, None, _meta(world.county), "zh", households=table)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["家庭户"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0] == [
        "区域",
        "有成员在册的家庭户",
        "两类及以上对象同户",
        "在册儿童",
        "同户成年人也在册的儿童",
        "同户成年人在册儿童占比",
    ]
    by_name = {r[0]: r for r in rows[1:] if r[0]}
    assert by_name[FORMULA_NAME][1] == int(table.set_index("area_code").loc[world.township_a, "households_covered"])
    assert HOSTILE_NAME in by_name
    assert by_name["合计"][1] == int(table["households_covered"].sum())
    for r in sheet.iter_rows():
        for c in r:
            assert c.data_type != "f"
    cell = next(c for r in sheet.iter_rows() for c in r if c.value == FORMULA_NAME)
    assert cell.quotePrefix
    english = openpyxl.load_workbook(
        io.BytesIO(workbook_bytes(report, None, _meta(world.county), "en", households=table)[0])
    )
    assert english["Households"]["A1"].value == "Area"

    text = pdf_text(report_pdf(report, None, _meta(world.county), "zh", households=table))
    assert "家庭户" in text and "同户成年人在册儿童占比" in text
    # Drawn as the text it is (whitespace dropped by the reader): no template ran, no markup was read.
    assert flat(HOSTILE_NAME) in text and flat(FORMULA_NAME) in text
    page = report_html(report, None, _meta(world.county), "zh", households=table)
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
