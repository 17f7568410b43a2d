"""Several counties in one database: each keeps its own rows, settings, policy and list, and a city's
or a province's official reads its counties' figures added up, each county exactly its own."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from care import audit
from care.domain import areas, clock, ids
from care.domain.enums import GROUPS, RISK_ORDER
from care.domain.errors import NotFound, PermissionDenied, ValidationError
from care.domain.reports import by_area_total
from care.queries.home import home_summary
from care.queries.map import MapFilter, area_shapes, tiles_setting, village_view
from care.queries.policy import phone_counts, policy_intervals
from care.queries.registers import RegisterFilter, area_options, register_page
from care.queries.reports import check_area, month_report, trends
from care.queries.service_list import service_list
from care.queries.settings import counties, setting_value
from care.scope import Scope
from care.services.due import ensure_default_policy
from care.services.enrollments import enroll
from care.services.maps import set_tiles_as_operator
from care.services.persons import create_person
from care.services.service_list import seed_default_services
from care.services.setup import initialise_county
from care.services.users import create_user, create_user_as_operator
from care.services.visit_policy import policy_settings, save_policy
from care.services.visits import record_visit
from db.migrate import upgrade
from db.models import Area, Assignment, AuditEvent, Enrollment, Person, User, Visit, VisitEnrollment, Worker
from db.session import get_engine, reading, transaction
from tests.fixtures.scope import ScopeFixture, fixture_id_number
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
MONTH = f"{TODAY:%Y-%m}"
CITY, PROVINCE, OTHER_CITY = "522600000000", "520000000000", "522700000000"
ROOT = Path(__file__).resolve().parents[2]
COUNTY_B, TOWN_B, VILLAGE_B = "522698000000", "522698101000", "522698101201"


@dataclass(frozen=True)
class Counties:
    """The scope fixture's county (A) and a second county (B) of the same city, with their officials."""

    world: ScopeFixture
    scopes: dict[str, Scope]
    persons_b: list[int]
    enrollments_b: list[int]
    worker_b: int


def _user(session, username: str, role: str, area: str | None, worker_id: int | None = None) -> Scope:
    user = User(
        username=username,
        display_name=username,
        password_hash="!",
        role=role,
        area_code=area,
        worker_id=worker_id,
        created_at=dt.datetime(2025, 1, 1),
        active=True,
        failed_logins=0,
        version=1,
        must_change_password=False,
    )
    session.add(user)
    session.flush()
    return Scope(user.id, username, role, area, worker_id)


@pytest.fixture
def two(engine, world) -> Counties:
    with transaction(engine) as session:
        session.add_all(
            [
                Area(code=PROVINCE, name="演示省", level="province"),
                Area(code=CITY, name="青山州", level="city", parent_code=PROVINCE),
                Area(code=OTHER_CITY, name="红河州", level="city", parent_code=PROVINCE),
            ]
        )
        session.flush()
        session.get(Area, world.county).parent_code = CITY
        session.add_all(
            [
                Area(code=COUNTY_B, name="白水县", level="county", parent_code=CITY, lat=27.0, lon=109.0),
                Area(code=TOWN_B, name="白水镇", level="township", parent_code=COUNTY_B, lat=27.0, lon=109.0),
                Area(code=VILLAGE_B, name="石桥村", level="village", parent_code=TOWN_B, lat=27.01, lon=109.01),
            ]
        )
        session.flush()
        ensure_default_policy(session, county_code=COUNTY_B)
        worker = Worker(name="白儿主", kind="child_director", area_code=VILLAGE_B)
        session.add(worker)
        session.flush()
        scopes = {
            "admin_b": _user(session, "admin_b", "admin", COUNTY_B),
            "county_b": _user(session, "county_b", "county", COUNTY_B),
            "coord_b2": _user(session, "coord_b2", "coordinator", TOWN_B, worker.id),
            "city": _user(session, "city", "city", CITY),
            "other_city": _user(session, "other_city", "city", OTHER_CITY),
            "province": _user(session, "province", "province", PROVINCE),
        }
        persons, enrollments = [], []
        start = TODAY - dt.timedelta(days=200)
        for serial in range(1, 4):
            birth = dt.date(2015, 1, serial)
            body = fixture_id_number(birth, 40 + serial, "F").replace("522699", "522698", 1)[:17]
            saved = create_person(
                session,
                scopes["admin_b"],
                values={
                    "id_number": body + ids.check_digit(body),
                    "name": f"白水{serial}",
                    "village_code": VILLAGE_B,
                    "address": "石桥组",
                    "phone": "",
                    "lat": 27.01,
                    "lon": 109.01,
                },
            )
            enrolled = enroll(
                session,
                scopes["admin_b"],
                person_id=saved.id,
                group="child",
                subtype="left_behind",
                start_date=start,
                facts={"guardianship": "grandparent", "schooling": "primary"},
            )
            session.add(Assignment(enrollment_id=enrolled.id, worker_id=worker.id, start_date=start))
            persons.append(saved.id)
            enrollments.append(enrolled.id)
        seed_default_services(session, valid_from=TODAY - dt.timedelta(days=30), county_code=COUNTY_B)
    return Counties(world, scopes, persons, enrollments, worker.id)


def _visit(engine, scope: Scope, person: int, enrollment: int, *, mode: str = "home", day: int = 0) -> None:
    with transaction(engine) as session:
        record_visit(
            session,
            scope,
            person_id=person,
            enrollment_ids=[enrollment],
            status="done",
            mode=mode,
            visited_at=dt.datetime.combine(TODAY - dt.timedelta(days=day), dt.time(9)),
        )


def _due_dates(engine, county: str) -> dict[int, dt.date | None]:
    with reading(engine) as session:
        stmt = select(Enrollment.id, Enrollment.next_due_on).where(Enrollment.county_code == county)
        return dict(session.execute(stmt).all())


def _enrollment_of(engine, person: int) -> int:
    with reading(engine) as session:
        return session.scalars(select(Enrollment.id).where(Enrollment.person_id == person)).first()


def test_every_row_carries_the_county_of_its_village(engine, two):
    _visit(engine, two.scopes["admin_b"], two.persons_b[0], two.enrollments_b[0])
    a_person = two.world.persons["a1_child_w1"]
    _visit(engine, two.world.scopes["coord_1"], a_person, _enrollment_of(engine, a_person))
    with reading(engine) as session:
        for village, county in session.execute(select(Person.village_code, Person.county_code)):
            assert county == areas.county_of(village)
        for model in (Enrollment, Visit):
            pairs = session.execute(
                select(model.county_code, Person.county_code).join(Person, Person.id == model.person_id)
            ).all()
            assert pairs and all(a == b for a, b in pairs)
        assert session.scalar(select(func.count()).where(Visit.county_code == COUNTY_B)) == 1
        assert counties(session) == [COUNTY_B, two.world.county]
        assert counties(session, "5226") == [COUNTY_B, two.world.county]


def test_a_county_changes_its_own_policy_and_only_its_own_due_dates_move(engine, two):
    before_a, before_b = _due_dates(engine, two.world.county), _due_dates(engine, COUNTY_B)
    with reading(engine) as session:
        current = policy_settings(session, two.world.county)
    halved = {key: max(1, days // 2) for key, days in current.intervals.items()}
    with transaction(engine) as session:
        save_policy(
            session,
            two.world.scopes["admin"],
            county_code=two.world.county,
            intervals=halved,
            phone=True,
            limit=6,
            seen_version=current.version,
        )
    after_a, after_b = _due_dates(engine, two.world.county), _due_dates(engine, COUNTY_B)
    with reading(engine) as session:
        assert after_b == before_b
        assert any(after_a[e] != before_a[e] for e in before_a)
        assert policy_intervals(session, two.world.county) == halved
        assert policy_intervals(session, COUNTY_B) != halved
        assert phone_counts(session, two.world.county) is True
        assert phone_counts(session, COUNTY_B) is False
        assert setting_value(session, "policy.daily_limit", two.world.county) == "6"
        assert setting_value(session, "policy.daily_limit", COUNTY_B) is None
        assert policy_settings(session, COUNTY_B).version == 1


def test_an_administrator_cannot_save_another_countys_policy(engine, two):
    with reading(engine) as session:
        current = policy_settings(session, COUNTY_B)
    with transaction(engine) as session, pytest.raises(PermissionDenied):
        save_policy(
            session,
            two.world.scopes["admin"],
            county_code=COUNTY_B,
            intervals=current.intervals,
            phone=True,
            limit=5,
            seen_version=current.version,
        )
    with reading(engine) as session:
        assert phone_counts(session, COUNTY_B) is False


def test_phone_visits_count_where_the_county_says_so(engine, two):
    with reading(engine) as session:
        current = policy_settings(session, COUNTY_B)
    with transaction(engine) as session:
        save_policy(
            session,
            two.scopes["admin_b"],
            county_code=COUNTY_B,
            intervals=current.intervals,
            phone=True,
            limit=current.daily_limit,
            seen_version=current.version,
        )
    _visit(engine, two.scopes["admin_b"], two.persons_b[0], two.enrollments_b[0], mode="phone", day=1)
    a_person = two.world.persons["a1_child_w1"]
    a_enrollment = _enrollment_of(engine, a_person)
    _visit(engine, two.world.scopes["coord_1"], a_person, a_enrollment, mode="phone", day=1)
    with reading(engine) as session:
        counted_b = session.get(Enrollment, two.enrollments_b[0]).last_visit_on
        counted_a = session.get(Enrollment, a_enrollment).last_visit_on
    assert counted_b == TODAY - dt.timedelta(days=1)
    assert counted_a is None


def test_each_county_keeps_its_own_basemap_and_service_list(engine, two):
    with transaction(engine) as session:
        set_tiles_as_operator(session, value="osm", tianditu_key=None)
        set_tiles_as_operator(session, value="none", tianditu_key=None, county_code=COUNTY_B)
    with reading(engine) as session:
        assert tiles_setting(session, VILLAGE_B) == "none"
        assert tiles_setting(session, two.world.village_a1) == "osm"
        assert tiles_setting(session, CITY) == "osm"
        assert service_list(session, TODAY, COUNTY_B)
        assert service_list(session, TODAY, two.world.county) == []
    with transaction(engine) as session, pytest.raises(ValidationError):
        set_tiles_as_operator(session, value="none", tianditu_key=None, county_code=TOWN_B)


def test_a_city_official_reads_both_counties_and_writes_nothing(engine, two):
    city = two.scopes["city"]
    with reading(engine) as session:
        page = register_page(session, city, RegisterFilter(), TODAY)
        own_a = register_page(session, two.world.scopes["county"], RegisterFilter(), TODAY)
        own_b = register_page(session, two.scopes["county_b"], RegisterFilter(), TODAY)
        assert page.total == own_a.total + own_b.total == own_a.total + 3
        other = register_page(session, two.scopes["other_city"], RegisterFilter(), TODAY)
        assert other.total == 0
        options = area_options(session, city)
        assert set(options.loc[options["level"] == "county", "code"]) == {COUNTY_B, two.world.county}
    assert city.can("report.view") and city.can("export.masked")
    for action in ("visit.record", "person.edit", "person.view_full_id", "export.unmasked", "policy.edit"):
        assert not city.can(action)
    with transaction(engine) as session, pytest.raises(PermissionDenied):
        record_visit(
            session,
            city,
            person_id=two.persons_b[0],
            enrollment_ids=[two.enrollments_b[0]],
            status="done",
            mode="home",
            visited_at=dt.datetime.combine(TODAY, dt.time(9)),
        )


def _kpis_equal(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, float):
            assert value == pytest.approx(right[key], nan_ok=True), key
        else:
            assert value == right[key], key


def test_the_city_report_is_its_counties_reports_added_up(engine, two):
    _visit(engine, two.scopes["admin_b"], two.persons_b[0], two.enrollments_b[0], day=2)
    a_person = two.world.persons["a1_child_w1"]
    _visit(engine, two.world.scopes["coord_1"], a_person, _enrollment_of(engine, a_person), day=3)
    with reading(engine) as session:
        city = month_report(session, two.scopes["city"], month=MONTH, area_code=None, today=TODAY)
        a = month_report(session, two.world.scopes["county"], month=MONTH, area_code=None, today=TODAY)
        b = month_report(session, two.scopes["county_b"], month=MONTH, area_code=None, today=TODAY)
        # Drilling down from the city gives exactly the county's own figures.
        drilled = month_report(session, two.scopes["city"], month=MONTH, area_code=COUNTY_B, today=TODAY)
        province = month_report(session, two.scopes["province"], month=MONTH, area_code=None, today=TODAY)
    _kpis_equal(drilled.kpis, b.kpis)
    assert list(city.by_area["area_code"]) == [COUNTY_B, two.world.county]
    rows = city.by_area.set_index("area_code")
    for code, own in ((COUNTY_B, b), (two.world.county, a)):
        total = by_area_total(own)
        for column, value in total.items():
            assert rows.at[code, column] == (pytest.approx(value) if isinstance(value, float) else value), column
    for key in ("persons_listed", "enrollments_listed", "overdue_now", "unassigned", "needs_open"):
        assert city.kpis[key] == a.kpis[key] + b.kpis[key], key
    listed = a.visit_rates.set_index("group").at["all", "listed"] + b.visit_rates.set_index("group").at["all", "listed"]
    visited = (
        a.visit_rates.set_index("group").at["all", "visited"] + b.visit_rates.set_index("group").at["all", "visited"]
    )
    assert city.kpis["visit_rate"] == pytest.approx(visited / listed)
    assert city.lists.count("overdue") == a.lists.count("overdue") + b.lists.count("overdue")
    assert len(city.lists["overdue"]) == city.lists.count("overdue")
    assert int(city.registers["count"].sum()) == int(a.registers["count"].sum()) + int(b.registers["count"].sum())
    both = pd.concat([a.registers, b.registers]).groupby(["group", "subtype", "risk"])["count"].sum()
    rows = list(city.registers.itertuples(index=False, name=None))
    assert sorted(rows) == sorted((g, s, r, int(n)) for (g, s, r), n in both.items())
    rank = [(GROUPS.index(g), s, RISK_ORDER[r]) for g, s, r, _ in rows]
    assert rank == sorted(rank)  # a county's register order: group, sub-type, risk
    # The province: one city with persons, the other with none.
    assert list(province.by_area["area_code"]) == [CITY, OTHER_CITY]
    _kpis_equal(province.kpis, city.kpis)


def test_the_city_trends_add_up_its_counties(engine, two):
    _visit(engine, two.scopes["admin_b"], two.persons_b[0], two.enrollments_b[0], day=2)
    with reading(engine) as session:
        city = trends(session, two.scopes["city"], month=MONTH, area_code=None, today=TODAY, count=3)
        a = trends(session, two.world.scopes["county"], month=MONTH, area_code=None, today=TODAY, count=3)
        b = trends(session, two.scopes["county_b"], month=MONTH, area_code=None, today=TODAY, count=3)
    keyed = city.set_index(["month", "group"])
    for (month, group), row in keyed.iterrows():
        parts = [t.set_index(["month", "group"]).loc[(month, group)] for t in (a, b)]
        assert row["listed"] == sum(p["listed"] for p in parts)
        assert row["visited"] == sum(p["visited"] for p in parts)


def test_a_city_official_cannot_read_another_citys_report(engine, two):
    with reading(engine) as session, pytest.raises(NotFound):
        check_area(session, two.scopes["other_city"], COUNTY_B)
    with reading(engine) as session, pytest.raises(NotFound):
        check_area(session, two.scopes["county_b"], two.world.county)


def test_the_city_home_ranks_its_counties_and_its_figures_are_their_sums(engine, two):
    with reading(engine) as session:
        city = home_summary(session, two.scopes["city"], TODAY)
        a = home_summary(session, two.world.scopes["county"], TODAY)
        b = home_summary(session, two.scopes["county_b"], TODAY)
        province = home_summary(session, two.scopes["province"], TODAY)
    assert {r.code for r in city.areas} == {COUNTY_B, two.world.county}
    assert city.persons == a.persons + b.persons
    assert city.overdue == a.overdue + b.overdue
    assert city.unassigned == a.unassigned + b.unassigned
    assert [r.code for r in province.areas] == [CITY]
    assert province.persons == city.persons


def test_the_city_map_draws_counties_and_adds_persons_up_by_township(engine, two):
    city = two.scopes["city"]
    with reading(engine) as session:
        shown, shapes = area_shapes(session, city, None)
        towns = village_view(session, city, MapFilter(), TODAY, size=9)
        villages_a = village_view(session, two.world.scopes["county"], MapFilter(), TODAY)
        province_view = village_view(session, two.scopes["province"], MapFilter(), TODAY, size=6)
    assert shown is not None and shown.code == CITY
    assert {s.code for s in shapes} == {COUNTY_B, two.world.county}
    by_code = {v.code: v for v in towns.villages}
    assert set(by_code) == {TOWN_B, two.world.township_a, two.world.township_b}
    assert by_code[TOWN_B].persons == 3 and by_code[TOWN_B].township == "白水县"
    in_a = sum(v.persons for v in villages_a.villages) + sum(u.persons for u in villages_a.unplaced)
    assert sum(v.persons for v in towns.villages if v.code.startswith("522699")) == in_a
    assert {v.code for v in province_view.villages} == {COUNTY_B, two.world.county}


def test_only_the_operator_makes_a_city_official_and_the_area_must_be_a_city(engine, two):
    with transaction(engine) as session, pytest.raises(ValidationError):
        create_user(
            session,
            two.world.scopes["admin"],
            username="sneaky",
            display_name="",
            role="city",
            area_code=CITY,
            worker_id=None,
            password="Str0ng!Passw0rd-x",
        )
    with transaction(engine) as session, pytest.raises(ValidationError) as error:
        create_user_as_operator(
            session,
            username="wrong_level",
            role="city",
            area_code=COUNTY_B,
            worker_id=None,
            password="Str0ng!Passw0rd-x",
            must_change_password=True,
        )
    assert error.value.key == "user.area_level"
    with transaction(engine) as session, pytest.raises(ValidationError):
        create_user_as_operator(
            session,
            username="township_at_city",
            role="township",
            area_code=CITY,
            worker_id=None,
            password="Str0ng!Passw0rd-x",
            must_change_password=True,
        )
    with transaction(engine) as session:
        create_user_as_operator(
            session,
            username="city_two",
            role="city",
            area_code=CITY,
            worker_id=None,
            password="Str0ng!Passw0rd-x",
            must_change_password=True,
        )
    with reading(engine) as session:
        assert session.scalar(select(User.role).where(User.username == "city_two")) == "city"


def test_audit_events_carry_the_county_and_the_chain_still_holds(engine, two):
    _visit(engine, two.scopes["admin_b"], two.persons_b[0], two.enrollments_b[0])
    with reading(engine) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "visit.record")).one()
        assert event.county_code == COUNTY_B
        assert audit.verify_chain(session) == []
    with transaction(engine) as session:
        event = session.get(AuditEvent, event.id)
        event.county_code = two.world.county  # moved to the other county: the hash no longer matches
    with reading(engine) as session:
        assert audit.verify_chain(session) == [event.id]


def test_eight_threads_saving_visits_in_two_counties_lose_none(engine, two):
    engine = get_engine(engine.url.render_as_string(hide_password=False))
    a_people = ["a1_child_w1", "a1_child_w2", "b1_child_w4"]
    targets = {
        "a": [(two.world.persons[p], _enrollment_of(engine, two.world.persons[p])) for p in a_people],
        "b": list(zip(two.persons_b, two.enrollments_b, strict=True)),
    }
    scopes = {"a": two.world.scopes["admin"], "b": two.scopes["admin_b"]}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        side = "a" if n % 2 else "b"
        try:
            for k in range(50):
                person, enrollment = targets[side][k % len(targets[side])]
                with transaction(engine) as session:
                    record_visit(
                        session,
                        scopes[side],
                        person_id=person,
                        enrollment_ids=[enrollment],
                        status="done",
                        mode="home",
                        visited_at=dt.datetime.combine(TODAY, dt.time(8)) - dt.timedelta(minutes=k),
                        client_token=f"c{n}-{k}",
                    )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [str(e) for e in errors] == []
    with reading(engine) as session:
        by_county = dict(session.execute(select(Visit.county_code, func.count()).group_by(Visit.county_code)).all())
        assert by_county == {COUNTY_B: 200, two.world.county: 200}
        assert session.scalar(select(func.count()).select_from(VisitEnrollment)) == 400
        assert audit.verify_chain(session) == []


def _admin(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "care.admin", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_operator_adds_a_second_county_with_its_city_and_its_own_administrator(tmp_path):
    db = tmp_path / "care.db"
    engine = get_engine(str(db))
    upgrade(engine)
    with transaction(engine) as session:
        initialise_county(
            session, county_code="522699000000", county_name="青山县", username="admin_a", password="Long-Secret-42a"
        )
    args = ["add-county", "--db", str(db), "--code", COUNTY_B, "--name", "白水县", "--admin", "admin_b2"]
    refused = _admin("--lang", "en", *args, stdin="Long-Secret-42b\n")
    assert refused.returncode == 2 and "give its name too" in refused.stderr
    with reading(engine) as session:
        assert session.get(Area, COUNTY_B) is None  # nothing half-done
    done = _admin(*args, "--city-name", "青山州", "--province-name", "演示省", stdin="Long-Secret-42b\n")
    assert done.returncode == 0, done.stderr
    assert "admin_b2" in done.stdout
    again = _admin(*args, stdin="Long-Secret-42c\n")
    assert again.returncode == 2 and COUNTY_B in again.stderr
    with reading(engine) as session:
        parents = dict(session.execute(select(Area.code, Area.parent_code).where(Area.level != "village")).all())
        assert parents == {PROVINCE: None, CITY: PROVINCE, "522699000000": CITY, COUNTY_B: CITY}
        admin = session.scalar(select(User).where(User.username == "admin_b2"))
        assert admin.role == "admin" and admin.area_code == COUNTY_B
        assert service_list(session, clock.today(), COUNTY_B)
        assert policy_settings(session, COUNTY_B).intervals == policy_intervals(session, "522699000000")
        assert session.scalar(select(func.count()).where(AuditEvent.action == "setup")) == 2


def test_a_township_without_a_centroid_is_placed_at_its_villages_mean(engine, two):
    with transaction(engine) as session:
        town = session.get(Area, TOWN_B)
        town.lat = town.lon = None
    with reading(engine) as session:
        towns = village_view(session, two.scopes["city"], MapFilter(), TODAY, size=9)
    placed = {v.code: v for v in towns.villages}[TOWN_B]
    assert placed.placed == "villages"
    assert (placed.lat, placed.lon) == pytest.approx((27.01, 109.01))
