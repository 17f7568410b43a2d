"""Every role x every page x every action on the scope fixture: each user sees exactly their scope.

The scope fixture (tests/fixtures/scope.py build_scope_fixture): township A with villages A1 and A2,
township B with village B1; child directors w1 and w2 share village A1, w3 is A's rehab
coordinator, w4 is B1's child director. ``VISIBLE`` says, by hand, whom each login must see;
every read (list, search, counts, map, detail, export, report) must return exactly that set, and
every write (edit, delete) must succeed on it and nowhere else. A record outside the scope gets
the same answer as a record that does not exist. Actions built later are one row each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from care import services
from care.domain.errors import CareError, NotFound, PermissionDenied
from care.domain.reports import month_of
from care.queries.assignments import EnrollmentFilter, enrollments
from care.queries.home import home_summary
from care.queries.map import MapFilter, export_data, person_list, person_points, person_summary
from care.queries.person_file import person_file
from care.queries.registers import RegisterFilter, register_count, register_page
from care.queries.reports import check_area, report_inputs
from care.queries.schedule import week_plan
from care.queries.visits import my_week
from care.scope import ROLE_PAGES
from care.services.assignments import assign_worker
from care.services.schedule import generate_week
from db.models import Enrollment, Person
from db.session import reading, transaction
from tests.fixtures.scope import ScopeFixture

TODAY = dt.date(2026, 6, 10)
EVERYONE = {"a1_child_w1", "a1_child_w2", "a1_elder_unassigned", "a2_disabled_w3", "a1_child_disabled", "b1_child_w4"}
TOWNSHIP_A = EVERYONE - {"b1_child_w4"}
# Whom each login of the fixture must see (the deleted person a1_deleted: nobody in the registers).
VISIBLE: dict[str, set[str]] = {
    "admin": EVERYONE,
    "county": EVERYONE,
    "township_a": TOWNSHIP_A,
    "township_b": {"b1_child_w4"},
    "coord_1": {"a1_child_w1", "a1_child_disabled"},
    "coord_2": {"a1_child_w2"},
    "coord_b": {"b1_child_w4"},
    "no_area": set(),
}
USERS = sorted(VISIBLE)
# The deleted person's file stays open to those who may restore it, in their area; nobody else.
RESTORERS = {"admin", "township_a"}
# Pages each role opens (written out here, not read from care/scope.py, so a change shows).
PAGES: dict[str, set[str]] = {
    "county": {"home", "map", "registers", "person", "needs", "services", "diary", "reports"},
    "township": {
        "home",
        "map",
        "registers",
        "person",
        "person_new",
        "assignments",
        "schedule",
        "needs",
        "services",
        "diary",
        "imports",
        "reports",
    },
    "coordinator": {
        "home",
        "my_visits",
        "schedule",
        "map",
        "registers",
        "person",
        "needs",
        "services",
        "diary",
        "imports",
    },
    "admin": {
        "home",
        "map",
        "registers",
        "person",
        "person_new",
        "assignments",
        "schedule",
        "needs",
        "imports",
        "services",
        "diary",
        "reports",
        "policy",
        "admin",
        "audit",
    },
}
ALL_PAGES = set().union(*PAGES.values())
# Who may edit and delete persons (in their scope only).
EDITORS = {"admin", "township", "coordinator"}
DELETERS = {"admin", "township"}
MISSING_ID = 999_999


def _ids(world: ScopeFixture, keys: set[str]) -> set[int]:
    return {world.persons[k] for k in keys}


def _list(s, scope, world):
    return set(register_page(s, scope, RegisterFilter(page_size=1000), TODAY).rows["person_id"])


def _deleted_list(s, scope, world):
    return set(register_page(s, scope, RegisterFilter(deleted=True, page_size=1000), TODAY).rows["person_id"])


def _search_by_name(s, scope, world):
    return set(register_page(s, scope, RegisterFilter(text="测试", page_size=1000), TODAY).rows["person_id"])


def _search_by_full_id(s, scope, world):
    found = set()
    for person_id in world.persons.values():
        number = s.get(Person, person_id).id_number
        found |= set(register_page(s, scope, RegisterFilter(text=number), TODAY).rows["person_id"])
    return found


def _map_points(s, scope, world):
    return {d.person_id for d in person_points(s, scope, MapFilter(), TODAY)}


def _map_list(s, scope, world):
    return set(person_list(s, scope, MapFilter(), TODAY)[0]["person_id"])


def _map_detail(s, scope, world):
    return {p for p in [*world.persons.values(), MISSING_ID] if person_summary(s, scope, p, TODAY) is not None}


def _person_file(s, scope, world):
    return {p for p in [*world.persons.values(), MISSING_ID] if person_file(s, scope, p, TODAY) is not None}


def _assignment_list(s, scope, world):
    if scope.sees_nothing:
        return set()
    return set(enrollments(s, scope, EnrollmentFilter(), TODAY).iloc[:, 1])


def _map_export(s, scope, world):
    """The offline map of the user's own area: persons, or (county) persons counted in village circles."""
    try:
        data = export_data(s, scope, scope.area_code or "", TODAY)
    except NotFound:
        return set()
    if data.persons:
        return {d.person_id for d in data.persons}
    counted = sum(v.persons for v in data.villages)
    return _ids(world, EVERYONE) if counted == len(EVERYONE) else {-counted}


def _report_persons(s, scope, world):
    if not scope.can("report.view"):
        return None
    try:
        area = check_area(s, scope, None)
    except CareError:
        return set()
    return set(report_inputs(s, scope, month=month_of(TODAY), area_code=area, today=TODAY).persons.iloc[:, 0])


def _my_visits(s, scope, world):
    """我的巡访: a coordinator's own residents (everyone is overdue in the fixture); others have none."""
    if not scope.may_open("my_visits"):
        return None
    return {item.person_id for item in my_week(s, scope, TODAY).items}


def _week_plans(s, scope, world):
    """巡访排班: the households of every worker's week the user may open (plans made in the test)."""
    if not scope.may_open("schedule"):
        return None
    found: set[int] = set()
    for worker in world.workers.values():
        try:
            plan = week_plan(s, scope, worker_id=worker, week_start=TODAY, today=TODAY)
        except NotFound:
            continue
        found |= {stop.person_id for day in plan.days for stop in day.stops}
    return found


def _assigned(username: str) -> set[str]:
    """In scope and with a worker (the unassigned elder is on nobody's plan)."""
    return VISIBLE[username] - {"a1_elder_unassigned"}


def _in_scope(username: str) -> set[str]:
    return VISIBLE[username]


def _with_deleted(username: str) -> set[str]:
    return VISIBLE[username] | ({"a1_deleted"} if username in RESTORERS else set())


def _deleted_only(username: str) -> set[str]:
    return {"a1_deleted"} if username in RESTORERS else set()


# (action, page it serves, read -> person ids (None: the role has no such action), whom it must show)
READS: list[tuple[str, str, Callable[..., set[int] | None], Callable[[str], set[str]]]] = [
    ("list", "registers", _list, _in_scope),
    ("list of deleted persons", "registers", _deleted_list, _deleted_only),
    ("search by name", "registers", _search_by_name, _in_scope),
    ("search by full ID number", "registers", _search_by_full_id, _in_scope),
    ("detail: person file", "person", _person_file, _with_deleted),
    ("detail: map summary", "map", _map_detail, _in_scope),
    ("map points", "map", _map_points, _in_scope),
    ("map list", "map", _map_list, _in_scope),
    ("export: offline map", "map", _map_export, _in_scope),
    ("assignments list", "assignments", _assignment_list, _in_scope),
    ("report persons", "reports", _report_persons, _in_scope),
    ("my visits", "my_visits", _my_visits, _in_scope),
    ("week plans", "schedule", _week_plans, _assigned),
]
COUNTS: list[tuple[str, Callable[..., int]]] = [
    ("register count", lambda s, scope: register_count(s, scope, RegisterFilter(), TODAY)),
    ("home count", lambda s, scope: home_summary(s, scope, TODAY).persons),
]


def _plan_every_week(engine, world) -> None:
    with transaction(engine) as session:
        for worker in world.workers.values():
            generate_week(session, world.scopes["admin"], worker_id=worker, week_start=TODAY)


@pytest.mark.parametrize("username", USERS)
def test_every_read_shows_exactly_the_users_scope(engine, world, username):
    _plan_every_week(engine, world)
    scope = world.scopes[username]
    expected = _ids(world, VISIBLE[username])
    wrong: dict[str, Any] = {}
    with reading(engine) as session:
        for action, page, read, whom in READS:
            got = read(session, scope, world)
            if got is not None and got != _ids(world, whom(username)):
                wrong[f"{page}: {action}"] = sorted(got)
        for action, count in COUNTS:
            if count(session, scope) != len(expected):
                wrong[action] = count(session, scope)
    assert wrong == {}, f"expected persons {sorted(expected)}"


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_role_opens_exactly_its_pages(role):
    assert set(ROLE_PAGES[role]) == PAGES[role]
    assert set(ROLE_PAGES[role]) <= ALL_PAGES


def _write(engine, act: Callable[[Any], Any]) -> str:
    """Run a write and roll it back; the answer as 'ok' or the error's class and message."""
    with reading(engine) as session:
        try:
            act(session)
        except CareError as error:
            return f"{type(error).__name__}: {error.message('en')}"
        finally:
            session.rollback()
    return "ok"


def _version(engine, person_id: int) -> int:
    with reading(engine) as session:
        person = session.get(Person, person_id)
        return person.version if person else 1


def _expected(role: str, allowed: set[str], visible: bool) -> str:
    if role not in allowed:
        return "PermissionDenied"
    return "ok" if visible else "NotFound"


@pytest.mark.parametrize("username", USERS)
def test_edit_and_delete_work_in_scope_and_elsewhere_answer_as_for_a_missing_record(engine, world, username):
    scope = world.scopes[username]
    visible = _ids(world, VISIBLE[username])
    missing_answer = {
        "edit": _write(
            engine,
            lambda s: services.update_person(s, scope, person_id=MISSING_ID, seen_version=1, values={"address": "x"}),
        ),
        "delete": _write(
            engine,
            lambda s: services.soft_delete_person(s, scope, person_id=MISSING_ID, seen_version=1, reason="x"),
        ),
    }
    wrong = {}
    for key, person_id in world.persons.items():
        if key == "a1_deleted":
            continue
        seen = _version(engine, person_id)
        answers = {
            "edit": _write(
                engine,
                lambda s, p=person_id, v=seen: services.update_person(
                    s, scope, person_id=p, seen_version=v, values={"address": "新址"}
                ),
            ),
            "delete": _write(
                engine,
                lambda s, p=person_id, v=seen: services.soft_delete_person(
                    s, scope, person_id=p, seen_version=v, reason="测试"
                ),
            ),
        }
        for action, allowed in (("edit", EDITORS), ("delete", DELETERS)):
            expected = _expected(scope.role, allowed, person_id in visible and not scope.sees_nothing)
            answer = answers[action]
            if not answer.startswith(expected):
                wrong[(key, action)] = answer
            if expected == "NotFound" and answer != missing_answer[action]:
                wrong[(key, action, "differs from a missing record")] = answer
    assert wrong == {}


@pytest.mark.parametrize(
    "tampered",
    [MISSING_ID, "a1_child_w1_as_text", True, -1],
    ids=["missing id", "id as text", "boolean id", "negative id"],
)
def test_a_tampered_person_id_gets_the_answer_of_a_missing_record(engine, world, tampered):
    scope = world.scopes["coord_2"]
    person_id = str(world.persons["a1_child_w1"]) if tampered == "a1_child_w1_as_text" else tampered
    hidden = world.persons["a1_child_w1"]  # w1's child: coord_2 shares the village but not the caseload
    with reading(engine) as session:
        assert person_file(session, scope, person_id, TODAY) is None
        assert person_file(session, scope, hidden, TODAY) is None
        assert person_summary(session, scope, hidden, TODAY) is None

    def view(p):
        return _write(engine, lambda s: services.record_person_view(s, scope, person_id=p))

    assert view(person_id) == view(hidden) == f"NotFound: {NotFound().message('en')}"


def test_selected_ids_outside_the_scope_in_a_bulk_change_refuse_the_whole_change(engine, world):
    scope = world.scopes["township_b"]
    with reading(engine) as session:
        own = session.scalar(select(Enrollment.id).where(Enrollment.person_id == world.persons["b1_child_w4"]))
        other = session.scalar(select(Enrollment.id).where(Enrollment.person_id == world.persons["a1_child_w1"]))

    def assign(seen):
        return _write(engine, lambda s: assign_worker(s, scope, worker_id=world.workers["w4"], seen=seen))

    assert assign({own: world.workers["w4"], other: world.workers["w1"]}) == assign(
        {own: world.workers["w4"], MISSING_ID: None}
    )
    assert assign({own: world.workers["w4"], other: world.workers["w1"]}).startswith("NotFound")


def test_an_export_of_an_area_outside_the_scope_answers_as_for_a_missing_area(engine, world):
    scope = world.scopes["township_b"]
    with reading(engine) as session:
        answers = []
        for area in (world.township_a, world.village_a1, "522699999999", "not-a-code"):
            with pytest.raises(NotFound) as refused:
                export_data(session, scope, area, TODAY)
            answers.append(refused.value.message("en"))
    assert len(set(answers)) == 1


def test_a_role_without_a_right_is_refused_whatever_the_record(engine, world):
    county = world.scopes["county"]
    answer = _write(
        engine,
        lambda s: services.update_person(
            s, county, person_id=world.persons["b1_child_w4"], seen_version=1, values={"address": "x"}
        ),
    )
    assert answer == f"PermissionDenied: {PermissionDenied().message('en')}"


def test_a_user_without_an_area_sees_nothing_anywhere(engine, world):
    scope = world.scopes["no_area"]
    with reading(engine) as session:
        assert register_page(session, scope, RegisterFilter(), TODAY).rows.empty
        assert home_summary(session, scope, TODAY).persons == 0
        assert person_points(session, scope, MapFilter(), TODAY) == []
        assert all(person_file(session, scope, p, TODAY) is None for p in world.persons.values())
