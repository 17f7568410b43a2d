"""The demo county: valid and consistent data, working logins, the same data for the same seed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from care import auth
from care.demo.build import build_demo
from care.demo.common import COUNTY_CODE, DemoRefused
from care.domain import enums, ids, rules
from care.domain.facts import facts_of
from care.queries.demo import demo_accounts, is_demo
from care.queries.households import family_of
from care.queries.scoping import person_conditions
from care.services.due import refresh_risks
from db.migrate import upgrade
from db.models import (
    Area,
    Assignment,
    DisabledDetails,
    Enrollment,
    Household,
    HouseholdMember,
    Need,
    Person,
    User,
    Visit,
    VisitEnrollment,
    Worker,
)
from db.session import get_engine, reading, transaction

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 6, 10)
RESIDENTS, SEED = 400, 7


@dataclass(frozen=True)
class Demo:
    engine: Engine
    summary: dict


def _in_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    option = f"options=-csearch_path%3D{schema}"
    return urlunsplit(parts._replace(query=f"{parts.query}&{option}" if parts.query else option))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The small demo county, built once per backend (PostgreSQL in a throw-away schema)."""
    if request.param == "sqlite":
        engine = get_engine(str(tmp_path_factory.mktemp("demo") / "demo.db"))
        yield Demo(engine, build_demo(engine, residents=RESIDENTS, seed=SEED, today=TODAY))
        engine.dispose()
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"demo_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = get_engine(_in_schema(admin.url.render_as_string(hide_password=False), schema))
    try:
        yield Demo(engine, build_demo(engine, residents=RESIDENTS, seed=SEED, today=TODAY))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _persons_digest(engine: Engine) -> str:
    with reading(engine) as session:
        rows = session.execute(select(Person.id_number, Person.name, Person.village_code).order_by(Person.id)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def test_the_summary_matches_what_was_built(demo: Demo) -> None:
    with reading(demo.engine) as session:
        persons = _count(session, Person)
        townships = _count(session, Area, Area.level == "township")
        villages = _count(session, Area, Area.level == "village")
        visits = _count(session, Visit)
        county = session.get(Area, COUNTY_CODE)
    assert persons == RESIDENTS == demo.summary["persons"]
    assert townships == 12 == demo.summary["townships"]
    assert 280 <= villages <= 320 and villages == demo.summary["villages"]
    assert visits == demo.summary["visits"] > 0
    assert county is not None and county.level == "county" and demo.summary["county_code"] == COUNTY_CODE


def test_every_area_lies_in_the_county_and_its_parent(demo: Demo) -> None:
    with reading(demo.engine) as session:
        areas = session.scalars(select(Area)).all()
    for area in areas:
        assert area.code.startswith(COUNTY_CODE[:6])
        # Townships and villages carry a demo boundary polygon (the map draws them); the county none.
        assert (area.boundary is None) == (area.level == "county")
        assert 26.15 <= area.lat <= 26.65 and 107.95 <= area.lon <= 108.45
        if area.level == "village":
            assert area.parent_code == area.code[:9] + "000"
            assert area.code[9:] < "100" or area.code[9:] >= "201"


def test_every_id_number_is_valid_unique_and_agrees_with_sex_and_birth(demo: Demo) -> None:
    with reading(demo.engine) as session:
        rows = session.execute(select(Person.id_number, Person.sex, Person.birth_date)).all()
    assert len({number for number, _, _ in rows}) == len(rows)
    for number, sex, birth in rows:
        # The demo county's own code 522699 is known from its area list, not from GB/T 2260.
        info = ids.parse_id_number(number, local_regions={COUNTY_CODE[:6]})
        assert (info.sex, info.birth_date) == (sex, birth)


def test_certified_disabled_hold_a_certificate_built_on_their_id(demo: Demo) -> None:
    with reading(demo.engine) as session:
        rows = session.execute(
            select(Enrollment.subtype, DisabledDetails, Person.id_number)
            .join(DisabledDetails, DisabledDetails.enrollment_id == Enrollment.id)
            .join(Person, Person.id == Enrollment.person_id)
        ).all()
    certified = [(d, number) for subtype, d, number in rows if subtype == "certified"]
    assert certified and len(certified) < len(rows)
    for details, number in certified:
        assert details.certificate_no.startswith(number)
        assert ids.parse_certificate(
            details.certificate_no, id_number=number, category=details.category, grade=details.grade
        )
    assert all(d.certificate_no is None for subtype, d, _ in rows if subtype == "uncertified")


def test_children_are_under_their_sub_types_limit_and_elders_at_least_60_on_their_registers(demo: Demo) -> None:
    with reading(demo.engine) as session:
        rows = session.execute(
            select(Enrollment.group, Enrollment.subtype, Person.birth_date)
            .join(Person, Person.id == Enrollment.person_id)
            .where(Enrollment.end_date.is_(None))
        ).all()
    ages = {group: [ids.age_on(birth, TODAY) for g, _, birth in rows if g == group] for group in enums.GROUPS}
    assert all(ages[group] for group in enums.GROUPS)
    children = [(subtype, ids.age_on(birth, TODAY)) for g, subtype, birth in rows if g == "child"]
    assert all(age < enums.CHILD_AGE_LIMITS[subtype] for subtype, age in children)
    # 困境 and 事实无人抚养 children stay until 18, so some are 16 or 17; no 留守 child is.
    assert any(age >= 16 for subtype, age in children if subtype != "left_behind")
    assert min(ages["elderly"]) >= enums.ELDERLY_MIN_AGE


def test_every_active_enrollment_is_due_some_time_and_some_are_overdue(demo: Demo) -> None:
    with reading(demo.engine) as session:
        dues = session.scalars(select(Enrollment.next_due_on).where(Enrollment.end_date.is_(None))).all()
    assert dues and all(due is not None for due in dues)
    overdue = sum(due < TODAY for due in dues)
    assert 0.05 * len(dues) <= overdue <= 0.3 * len(dues)


def test_exited_enrollments_have_a_reason_of_their_group(demo: Demo) -> None:
    with reading(demo.engine) as session:
        exited = session.execute(
            select(
                Enrollment.group,
                Enrollment.exit_reason,
                Enrollment.start_date,
                Enrollment.end_date,
                Enrollment.next_due_on,
            ).where(Enrollment.end_date.is_not(None))
        ).all()
    assert exited
    for group, reason, start, end, due in exited:
        assert reason in enums.EXIT_REASONS[group] and start < end < TODAY and due is None


def test_some_active_enrollments_have_nobody_assigned(demo: Demo) -> None:
    current = (Assignment.start_date <= TODAY) & (Assignment.end_date.is_(None) | (Assignment.end_date >= TODAY))
    with reading(demo.engine) as session:
        active = _count(session, Enrollment, Enrollment.end_date.is_(None))
        assigned = session.scalar(
            select(func.count(func.distinct(Assignment.enrollment_id)))
            .join(Enrollment, Enrollment.id == Assignment.enrollment_id)
            .where(Enrollment.end_date.is_(None), current)
        )
    assert 0 < active - assigned < 0.1 * active


def test_visits_are_in_the_past_year_by_a_worker_and_one_can_cover_two_registers(demo: Demo) -> None:
    with reading(demo.engine) as session:
        rows = session.execute(select(Visit.status, Visit.mode, Visit.visited_at, Visit.worker_id)).all()
        covers = session.execute(
            select(VisitEnrollment.visit_id, func.count())
            .join(Visit, Visit.id == VisitEnrollment.visit_id)
            .join(Enrollment, Enrollment.id == VisitEnrollment.enrollment_id)
            .where(Enrollment.person_id == Visit.person_id)
            .group_by(VisitEnrollment.visit_id)
        ).all()
        needs = session.scalars(select(Need.status)).all()
    assert {status for status, *_ in rows} == {"done", "not_met", "cancelled"}
    assert {mode for _, mode, *_ in rows} - {None} == set(enums.VISIT_MODES)
    year_ago = dt.datetime.combine(TODAY - dt.timedelta(days=366), dt.time())
    for status, _, visited_at, worker in rows:
        assert worker is not None
        assert (visited_at is None) == (status == "cancelled")
        if visited_at is not None:
            assert year_ago <= visited_at < dt.datetime.combine(TODAY, dt.time())
            assert dt.time(8, 30) <= visited_at.time() <= dt.time(17, 30)
    assert len(covers) == len(rows) and max(n for _, n in covers) == 2
    assert needs and set(needs) <= set(enums.NEED_STATUSES)


@dataclass(frozen=True)
class Member:
    household_id: int
    person_id: int
    relation: str
    birth: dt.date
    sex: str
    village: str
    kind: str  # the groups of the person's open enrollments, sorted and joined with "+"


def _households(engine: Engine) -> dict[int, list[Member]]:
    """Current members of every demo household, by household id."""
    with reading(engine) as session:
        groups: dict[int, list[str]] = {}
        for pid, group in session.execute(
            select(Enrollment.person_id, Enrollment.group)
            .where(Enrollment.end_date.is_(None))
            .order_by(Enrollment.person_id, Enrollment.group)
        ):
            groups.setdefault(pid, []).append(group)
        rows = session.execute(
            select(
                HouseholdMember.household_id,
                Person.id,
                HouseholdMember.relation,
                Person.birth_date,
                Person.sex,
                Person.village_code,
            )
            .join(Person, Person.id == HouseholdMember.person_id)
            .where(HouseholdMember.end_date.is_(None))
        ).all()
    found: dict[int, list[Member]] = {}
    for hid, pid, relation, birth, sex, village in rows:
        found.setdefault(hid, []).append(Member(hid, pid, relation, birth, sex, village, "+".join(groups.get(pid, []))))
    return found


def _years_apart(a: dt.date, b: dt.date) -> int:
    return abs(ids.age_on(a, TODAY) - ids.age_on(b, TODAY))


def test_every_demo_person_is_in_exactly_one_current_household(demo: Demo) -> None:
    with reading(demo.engine) as session:
        persons = set(session.scalars(select(Person.id).where(Person.deleted.is_(False))))
        current = session.scalars(select(HouseholdMember.person_id).where(HouseholdMember.end_date.is_(None))).all()
        households = _count(session, Household)
        ended = _count(session, Household, Household.ended_on.is_not(None))
    assert len(current) == len(set(current)) and set(current) == persons
    # Every household has somebody in it, and fewer households than persons: some are shared.
    assert ended == 0 and households == len(_households(demo.engine)) < len(persons)


def test_each_household_has_one_head_lives_in_one_village_at_its_heads_address(demo: Demo) -> None:
    households = _households(demo.engine)
    with reading(demo.engine) as session:
        homes = {h.id: h for h in session.scalars(select(Household))}
        places = {
            pid: (village, address, lat, lon)
            for pid, village, address, lat, lon in session.execute(
                select(Person.id, Person.village_code, Person.address, Person.lat, Person.lon)
            )
        }
    for hid, members in households.items():
        heads = [m for m in members if m.relation == "head"]
        assert len(heads) == 1, members
        home = homes[hid]
        assert {m.village for m in members} == {home.village_code}
        assert places[heads[0].person_id] == (home.village_code, home.address, home.lat, home.lon)
        assert all(places[m.person_id] == places[heads[0].person_id] for m in members)
        assert all(relation in enums.HOUSEHOLD_RELATIONS for relation in {m.relation for m in members})
    numbers = [h.hukou_no for h in homes.values() if h.hukou_no]
    # Some households have their 户号 recorded (9 digits, unique), most do not.
    assert 0 < len(numbers) < len(homes) / 2 and len(set(numbers)) == len(numbers)
    assert all(len(n) == 9 and n.isdigit() for n in numbers)


def test_households_come_in_the_compositions_of_a_rural_county(demo: Demo) -> None:
    households = list(_households(demo.engine).values())
    with_grandchildren = couples = disabled_with_parents = alone = 0
    for members in households:
        head = next(m for m in members if m.relation == "head")
        spouses = [m for m in members if m.relation == "spouse"]
        grandchildren = [m for m in members if m.relation == "grandchild"]
        children = [m for m in members if m.relation == "child"]
        assert len(spouses) <= 1
        for spouse in spouses:
            assert spouse.sex != head.sex and _years_apart(spouse.birth, head.birth) <= 8
        for grandchild in grandchildren:
            # Grandparents are the elders of the register, raising a left-behind grandchild.
            assert "child" in grandchild.kind.split("+")
            for grandparent in [head, *spouses]:
                assert "elderly" in grandparent.kind.split("+")
                assert ids.age_on(grandparent.birth, TODAY) - ids.age_on(grandchild.birth, TODAY) >= 45
        for child in children:
            assert "disabled" in child.kind.split("+") and ids.age_on(child.birth, TODAY) >= enums.ADULT_AGE
            assert "elderly" in head.kind.split("+") and head.birth < child.birth
        if len(members) == 1:
            alone += 1
        elif grandchildren:
            with_grandchildren += 1
        elif children:
            disabled_with_parents += 1
        elif len(members) == 2 and spouses and {head.kind, spouses[0].kind} <= {"elderly", "disabled+elderly"}:
            couples += 1
    assert with_grandchildren >= 1 and couples >= 1 and disabled_with_parents >= 1
    assert alone > with_grandchildren + couples + disabled_with_parents


def test_the_stored_risks_already_follow_the_family_rules(demo: Demo) -> None:
    with transaction(demo.engine) as session:
        family = family_of(session, None, TODAY)
        frail = {pid for pid, f in family.items() if f.frail_guardians}
        assert refresh_risks(session, today=TODAY) == []
        session.rollback()
    with reading(demo.engine) as session:
        children = session.scalars(
            select(Enrollment).where(
                Enrollment.group == "child", Enrollment.end_date.is_(None), Enrollment.person_id.in_(frail)
            )
        ).all()
        # A child raised by grandparents who are all 70 or older, or disabled, is at high risk for it.
        assert children and all(e.risk_auto == "high" for e in children)
        for e in children:
            age = ids.age_on(e.person.birth_date, TODAY)
            reasons = rules.compute_risk(e.group, e.subtype, facts_of(e), age, family[e.person_id]).reasons
            assert "risk.reason.frail_guardians" in reasons
        shared = [pid for pid, f in family.items() if f.all_in_care]
        assert shared and all(f == rules.NO_FAMILY for pid, f in family.items() if pid not in set(shared) | frail)


def test_the_four_demo_accounts_log_in(demo: Demo) -> None:
    accounts = demo.summary["accounts"]
    assert sorted(a["role"] for a in accounts) == sorted(enums.COUNTY_ROLES)
    with reading(demo.engine) as session:
        assert is_demo(session) and demo_accounts(session) == accounts
        for account in accounts:
            user = session.scalar(select(User).where(User.username == account["username"]))
            password = account["password"]
            assert user is not None and user.role == account["role"]
            assert auth.verify_password(user.password_hash, password)
            assert len(password) >= 12 and account["username"] not in password.lower()
            assert any(c.isupper() for c in password) and any(c.islower() for c in password)
            assert any(c.isdigit() for c in password) and any(not c.isalnum() for c in password)


def test_the_coordinator_sees_their_caseload_but_not_a_colleagues_child_in_the_same_village(demo: Demo) -> None:
    with reading(demo.engine) as session:
        user = session.scalar(select(User).where(User.username == "coordinator"))
        worker = session.get(Worker, user.worker_id)
        scope = auth.scope_of(user)
        visible = set(session.scalars(select(Person.id).where(*person_conditions(scope))))
        colleagues = set(
            session.scalars(
                select(Person.id)
                .join(Enrollment, Enrollment.person_id == Person.id)
                .join(Assignment, Assignment.enrollment_id == Enrollment.id)
                .join(Worker, Worker.id == Assignment.worker_id)
                .where(
                    Person.village_code == worker.area_code,
                    Worker.kind == "child_director",
                    Worker.id != worker.id,
                    Assignment.end_date.is_(None),
                    Enrollment.end_date.is_(None),
                )
            )
        )
        villages = set(session.scalars(select(Person.village_code).where(Person.id.in_(visible))))
    assert worker.kind == "child_director" and user.area_code == worker.area_code[:9] + "000"
    assert len(visible) >= 4 and len(villages) == 2
    assert colleagues and not colleagues & visible


def test_a_second_build_into_the_same_database_is_refused(demo: Demo) -> None:
    with pytest.raises(DemoRefused, match="already holds"):
        build_demo(demo.engine, residents=10, seed=1, today=TODAY)
    with reading(demo.engine) as session:
        assert _count(session, Person) == RESIDENTS


def test_later_inserts_get_fresh_ids(demo: Demo) -> None:
    with transaction(demo.engine) as session:
        before = session.scalar(select(func.max(Worker.id)))
        worker = Worker(name="新同事", kind="volunteer", area_code=COUNTY_CODE, phone="", active=True)
        session.add(worker)
        session.flush()
        assert worker.id > before
        session.delete(worker)


def test_the_same_seed_gives_the_same_persons_and_another_seed_does_not(demo: Demo, tmp_path: Path) -> None:
    if demo.engine.dialect.name != "sqlite":
        pytest.skip("compared once, on SQLite")
    again = get_engine(str(tmp_path / "again.db"))
    other = get_engine(str(tmp_path / "other.db"))
    build_demo(again, residents=RESIDENTS, seed=SEED, today=TODAY)
    build_demo(other, residents=RESIDENTS, seed=SEED + 1, today=TODAY)
    assert _persons_digest(again) == _persons_digest(demo.engine) != _persons_digest(other)
    again.dispose()
    other.dispose()


def test_the_command_line_prints_the_summary_as_its_last_line(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    done = subprocess.run(
        [sys.executable, "-m", "care.demo", "--db", str(db), "--residents", "200", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(summary) == {"persons", "townships", "villages", "visits", "county_code", "accounts"}
    assert summary["persons"] == 200 and summary["county_code"] == COUNTY_CODE
    assert {a["role"] for a in summary["accounts"]} == set(enums.COUNTY_ROLES)
    again = subprocess.run(
        [sys.executable, "-m", "care.demo", "--db", str(db), "--residents", "200", "--seed", "3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode != 0 and "already holds 200 persons" in again.stderr


def test_the_demo_builds_on_a_database_the_app_has_already_opened(tmp_path):
    from care.services import daily_upkeep

    engine = get_engine(str(tmp_path / "opened.db"))
    upgrade(engine)
    with transaction(engine) as session:
        daily_upkeep(session)
    assert build_demo(engine, residents=30, seed=1)["persons"] == 30


def test_building_the_demo_reports_each_step_in_order_and_each_step_has_a_label(tmp_path):
    from care.demo.common import BUILD_STEPS
    from care.i18n import CATALOG

    steps: list[str] = []
    build_demo(get_engine(str(tmp_path / "steps.db")), residents=40, seed=3, progress=steps.append)
    assert steps == list(BUILD_STEPS)
    for step in BUILD_STEPS:
        zh, en = CATALOG[f"setup.step.{step}"]
        assert zh and en and zh != en
