"""The demo city: several demo counties side by side under a city and a province, each with its own
rows, logins, policy and service list; county 0 is the demo county of the same seed and share."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, aliased

from care import auth
from care.bench.reports import naive_inputs
from care.demo.build import build_city, build_demo
from care.demo.city import county_shares
from care.demo.common import (
    CITY_CODE,
    CITY_USERNAME,
    COUNTY_CODE,
    COUNTY_NAME,
    COUNTY_STEPS,
    PROVINCE_CODE,
    DemoRefused,
)
from care.domain import clock, enums, ids, policy
from care.domain.reports import compute
from care.queries.demo import demo_accounts
from care.queries.reports import month_report, trends
from care.queries.scoping import person_conditions
from care.scope import Scope
from care.services.due import refresh_risks
from care.services.service_list import DEFAULT_SERVICES
from db.migrate import upgrade
from db.models import (
    Area,
    CarePlan,
    Enrollment,
    Person,
    Provider,
    ServiceItem,
    User,
    Visit,
    VisitEnrollment,
    VisitPolicy,
)
from db.session import get_engine, reading, transaction

ROOT = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 6, 10)
COUNTIES, RESIDENTS, SEED = 3, 601, 7
CODES = ["522699000000", "522698000000", "522697000000"]


@dataclass(frozen=True)
class City:
    engine: Engine
    summary: dict


def _in_schema(url: str, schema: str) -> str:
    parts = urlsplit(url)
    option = f"options=-csearch_path%3D{schema}"
    return urlunsplit(parts._replace(query=f"{parts.query}&{option}" if parts.query else option))


def _build(engine: Engine) -> City:
    return City(engine, build_city(engine, counties=COUNTIES, residents=RESIDENTS, seed=SEED, today=TODAY))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def city(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """The small demo city, built once per backend (PostgreSQL in a throw-away schema)."""
    if request.param == "sqlite":
        engine = get_engine(str(tmp_path_factory.mktemp("city") / "city.db"))
        yield _build(engine)
        engine.dispose()
        return
    admin: Engine = request.getfixturevalue("postgres_admin")
    schema = f"city_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = get_engine(_in_schema(admin.url.render_as_string(hide_password=False), schema))
    try:
        yield _build(engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(scope="module")
def alone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The single demo county with the city's seed and county 0's share of the residents (SQLite)."""
    engine = get_engine(str(tmp_path_factory.mktemp("alone") / "alone.db"))
    build_demo(engine, residents=county_shares(RESIDENTS, COUNTIES)[0], seed=SEED, today=TODAY)
    yield engine
    engine.dispose()


def _count(session: Session, model: type, *where: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_the_counties_lie_in_the_city_and_the_city_in_the_province(city: City) -> None:
    with reading(city.engine) as session:
        areas = {a.code: a for a in session.scalars(select(Area).where(Area.level.in_(("province", "city", "county"))))}
        townships = Counter(session.scalars(select(Area.parent_code).where(Area.level == "township")).all())
    assert city.summary["counties"] == CODES and city.summary["city_code"] == CITY_CODE
    assert sorted(areas) == sorted([PROVINCE_CODE, CITY_CODE, *CODES])
    assert areas[PROVINCE_CODE].level == "province" and areas[PROVINCE_CODE].parent_code is None
    assert areas[CITY_CODE].level == "city" and areas[CITY_CODE].parent_code == PROVINCE_CODE
    assert all(areas[code].level == "county" and areas[code].parent_code == CITY_CODE for code in CODES)
    names = [areas[code].name for code in CODES]
    assert names[0] == COUNTY_NAME and len(set(names)) == COUNTIES and all("（演示）" in n for n in names)
    assert townships == dict.fromkeys(CODES, 12)
    assert city.summary["townships"] == 12 * COUNTIES


def test_every_area_has_its_parent_by_its_code_and_the_counties_do_not_overlap_on_the_map(city: City) -> None:
    with reading(city.engine) as session:
        areas = session.execute(select(Area.code, Area.level, Area.parent_code, Area.lat, Area.lon)).all()
    boxes: dict[str, list[float]] = {}
    for code, level, parent, lat, lon in areas:
        if level in ("township", "village"):
            assert parent == (code[:6] + "000000" if level == "township" else code[:9] + "000")
            box = boxes.setdefault(code[:6], [lat, lat, lon, lon])
            box[:] = [min(box[0], lat), max(box[1], lat), min(box[2], lon), max(box[3], lon)]
    assert len(boxes) == COUNTIES
    for a, first in boxes.items():
        for b, second in boxes.items():
            if a < b:
                apart = first[1] < second[0] or second[1] < first[0] or first[3] < second[2] or second[3] < first[2]
                assert apart, (a, b)


def test_every_row_carries_the_county_of_its_village_or_person(city: City) -> None:
    township, county = aliased(Area), aliased(Area)
    with reading(city.engine) as session:
        persons = session.execute(
            select(Person.county_code, county.code)
            .join(Area, Area.code == Person.village_code)
            .join(township, township.code == Area.parent_code)
            .join(county, county.code == township.parent_code)
        ).all()
        enrollments = _count(
            session, Enrollment, Enrollment.person_id == Person.id, Enrollment.county_code != Person.county_code
        )
        visits = _count(session, Visit, Visit.person_id == Person.id, Visit.county_code != Person.county_code)
        links = _count(
            session,
            VisitEnrollment,
            VisitEnrollment.visit_id == Visit.id,
            VisitEnrollment.county_code != Visit.county_code,
        )
        per_county = dict(session.execute(select(Person.county_code, func.count()).group_by(Person.county_code)).all())
        visited = dict(session.execute(select(Visit.county_code, func.count()).group_by(Visit.county_code)).all())
        total_visits = _count(session, Visit)
    assert len(persons) == RESIDENTS and all(own == found for own, found in persons)
    assert enrollments == 0 and visits == 0 and links == 0
    assert per_county == dict(zip(CODES, county_shares(RESIDENTS, COUNTIES), strict=True))
    assert sum(per_county.values()) == RESIDENTS == city.summary["persons"]
    assert set(visited) == set(CODES) and all(visited.values())
    assert total_visits == city.summary["visits"]


def test_id_numbers_are_unique_across_the_city_and_mostly_of_their_own_county(city: City) -> None:
    with reading(city.engine) as session:
        rows = session.execute(select(Person.id_number, Person.county_code, Person.sex, Person.birth_date)).all()
    assert len({number for number, *_ in rows}) == len(rows)
    for code in CODES:
        mine = [number for number, county, *_ in rows if county == code]
        assert sum(number.startswith(code[:6]) for number in mine) >= 0.8 * len(mine)
    for number, _, sex, birth in rows:
        info = ids.parse_id_number(number, local_regions={code[:6] for code in CODES})
        assert (info.sex, info.birth_date) == (sex, birth)


def test_usernames_are_unique_and_the_accounts_list_names_every_login(city: City) -> None:
    accounts = city.summary["accounts"]
    with reading(city.engine) as session:
        users = session.execute(select(User.username, User.role, User.area_code)).all()
        assert demo_accounts(session) == accounts
    usernames = [username for username, _, _ in users]
    assert len(set(usernames)) == len(usernames) == 4 * COUNTIES + 1
    assert sorted(a["username"] for a in accounts) == sorted(usernames)
    # County 0 keeps the single county's logins; the others' carry their county's number.
    assert {"county", "township", "coordinator", "admin", "c1_admin", "c2_county", CITY_USERNAME} <= set(usernames)
    for username, role, area in users:
        if role in enums.COUNTY_ROLES:
            k = int(username[1]) if username.startswith("c") and username[2:3] == "_" else 0
            assert area[:6] == CODES[k][:6], username
    assert Counter(role for _, role, _ in users) == {**dict.fromkeys(enums.COUNTY_ROLES, COUNTIES), "city": 1}


def test_each_county_has_its_own_policy_service_list_providers_and_plans(city: City) -> None:
    with reading(city.engine) as session:
        policies = Counter(session.scalars(select(VisitPolicy.county_code)).all())
        services = Counter(session.scalars(select(ServiceItem.county_code)).all())
        providers = Counter(code[:6] for code in session.scalars(select(Provider.area_code)))
        plans = Counter(
            session.scalars(select(Enrollment.county_code).join(CarePlan, CarePlan.enrollment_id == Enrollment.id))
        )
        drafters = Counter(
            session.execute(
                select(Enrollment.county_code, User.area_code)
                .join(CarePlan, CarePlan.enrollment_id == Enrollment.id)
                .join(User, User.id == CarePlan.drafted_by)
                .distinct()
            ).all()
        )
    assert policies == dict.fromkeys(CODES, len(policy.DEFAULT_INTERVALS))
    assert services == dict.fromkeys(CODES, len(DEFAULT_SERVICES))
    assert set(providers) == {code[:6] for code in CODES}
    assert set(plans) == set(CODES)
    # Each county's plans are drafted by its own coordinator.
    assert all(county[:6] == area[:6] for county, area in drafters)


def test_county_zero_is_the_single_demo_county_of_the_same_seed_and_share(city: City, alone: Engine) -> None:
    def persons(engine: Engine, *where: object) -> list[tuple]:
        with reading(engine) as session:
            stmt = select(Person.id, Person.id_number, Person.name, Person.village_code, Person.birth_date)
            return list(session.execute(stmt.where(*where).order_by(Person.id)).all())

    def visits(engine: Engine, *where: object) -> int:
        with reading(engine) as session:
            return _count(session, Visit, *where)

    first = persons(city.engine, Person.county_code == COUNTY_CODE)
    assert first == persons(alone)
    assert visits(city.engine, Visit.county_code == COUNTY_CODE) == visits(alone)
    second = persons(city.engine, Person.county_code == CODES[1])
    assert {name for _, _, name, _, _ in second} != {name for _, _, name, _, _ in first}


def _scope_of(engine: Engine, role: str, area_prefix: str) -> Scope:
    with reading(engine) as session:
        user = session.scalar(
            select(User).where(User.role == role, User.area_code.startswith(area_prefix)).order_by(User.id)
        )
        assert user is not None
        return auth.scope_of(user)


REPORT_MONTH = "2026-05"


@pytest.mark.parametrize(("role", "county"), [("county", c) for c in CODES] + [("township", CODES[1])])
def test_each_countys_month_report_reads_the_same_figures_as_whole_tables_filtered_in_pandas(
    city: City, role: str, county: str
) -> None:
    """The report reads one county's visits by its index range; loading every table whole and
    filtering by the user's area in pandas gives the same figures, in every county and below."""
    scope = _scope_of(city.engine, role, county[:6])
    with reading(city.engine) as session:
        report = month_report(session, scope, month=REPORT_MONTH, area_code=None, today=clock.today())
    naive = compute(naive_inputs(city.engine, scope, REPORT_MONTH))
    assert report.kpis["enrollments_listed"] > 0 and report.kpis == naive.kpis


def test_county_zero_has_the_same_trends_in_the_city_as_alone(city: City, alone: Engine) -> None:
    def history(engine: Engine) -> pd.DataFrame:
        scope = _scope_of(engine, "county", COUNTY_CODE[:6])
        with reading(engine) as session:
            return trends(session, scope, month=REPORT_MONTH, area_code=None, today=TODAY)

    in_city = history(city.engine)
    assert in_city["visited"].sum() > 0
    pd.testing.assert_frame_equal(in_city, history(alone))


def test_the_stored_risks_of_every_county_already_follow_the_rules(city: City) -> None:
    with transaction(city.engine) as session:
        assert refresh_risks(session, today=TODAY) == []
        session.rollback()


def test_the_city_account_logs_in_and_sees_every_county(city: City) -> None:
    account = next(a for a in city.summary["accounts"] if a["username"] == CITY_USERNAME)
    assert account["role"] == "city"
    with transaction(city.engine) as session:
        user = auth.authenticate(session, username=CITY_USERNAME, password=account["password"])
        assert user is not None and user.role == "city" and user.area_code == CITY_CODE
        scope = auth.scope_of(user)
        seen = set(session.scalars(select(Person.county_code).where(*person_conditions(scope))))
    assert scope.role == "city" and seen == set(CODES)


def test_a_second_city_into_the_same_database_is_refused(city: City) -> None:
    with pytest.raises(DemoRefused, match="already holds"):
        build_city(city.engine, counties=COUNTIES, residents=30, seed=1, today=TODAY)


def test_a_city_is_refused_where_one_of_its_logins_or_areas_exists(tmp_path: Path) -> None:
    engine = get_engine(str(tmp_path / "taken.db"))
    upgrade(engine)
    with transaction(engine) as session:
        auth.create_user(session, username="c2_admin", password="Correct-Horse-9x", role="admin", area_code=None)
    with pytest.raises(DemoRefused, match="c2_admin"):
        build_city(engine, counties=3, residents=30, seed=1, today=TODAY)
    # A county alone does not use that login.
    assert build_demo(engine, residents=20, seed=1, today=TODAY)["persons"] == 20
    engine.dispose()


def test_the_command_line_builds_a_city_and_reports_each_county(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "care.demo", "--db", str(tmp_path / "cli.db"), "--counties", "2", "--residents", "41"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["counties"] == CODES[:2] and summary["city_code"] == CITY_CODE and summary["persons"] == 41
    assert {a["role"] for a in summary["accounts"]} == {*enums.COUNTY_ROLES, "city"}
    # One line a step of each county (areas to services), with the migration and statistics once.
    assert done.stderr.count("（第 1/2 个县）") == done.stderr.count("（第 2/2 个县）") == len(COUNTY_STEPS)
    refused = subprocess.run(
        [sys.executable, "-m", "care.demo", "--db", str(tmp_path / "no.db"), "--counties", "99"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert refused.returncode == 2 and "--counties" in refused.stderr
