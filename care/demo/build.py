"""A deterministic synthetic county (青山县（演示）): areas, residents and their households, workers,
visits and demo logins; or a city (州) of several such counties side by side.

Run as ``python -m care.demo --db URL --residents N --seed S [--counties C]``; each step is reported
on standard error and the last line printed is the summary as JSON. The same residents count, seed,
counties and date always give the same data; county 0 of a city is the single demo county built
with the same seed and county 0's share of the residents.

The builder's parts live beside it: areas.py, persons.py, workers.py, visits.py (the visit history),
accounts.py and city.py, on what common.py holds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Iterable
from typing import Any

from faker import Faker
from sqlalchemy import Engine, Integer, func, select, text
from sqlalchemy.orm import Session

from care.demo.accounts import _AccountsPart, _city_account
from care.demo.areas import _AreasPart
from care.demo.city import _city_areas, demo_counties
from care.demo.common import (
    CITY_CODE,
    CITY_USERNAME,
    DEMO_USERNAMES,
    MAX_COUNTIES,
    PROVINCE_CODE,
    CityProgress,
    DemoCounty,
    DemoRefused,
    Progress,
    _Ids,
)
from care.demo.persons import _PersonsPart
from care.demo.plans import build_plans_and_orders
from care.demo.rows import Writer, row_writer
from care.demo.visits import _risk_history, _VisitsPart
from care.demo.workers import _WorkersPart
from care.domain import clock
from care.i18n import DEFAULT_LANG, LANGS, t
from care.queries.demo import ACCOUNTS_SETTING, DEMO_SETTING
from care.queries.households import LARGE_SELECTION
from care.services.due import SETTING_RISKS_REFRESHED, ensure_default_policy, refresh_due_dates, refresh_risks
from care.services.service_list import seed_default_services
from db.migrate import upgrade
from db.models import (
    Area,
    Assignment,
    Base,
    Enrollment,
    Household,
    HouseholdMember,
    Need,
    Pairing,
    Person,
    Provider,
    Setting,
    User,
    Visit,
    Worker,
)
from db.session import get_engine, transaction


class _Builder(_AreasPart, _WorkersPart, _AccountsPart, _PersonsPart, _VisitsPart):
    """Plans one county in memory and writes it table by table inside the caller's transaction.

    Its ids start after whatever the tables already hold (the counties built before it), and it
    draws no ID number in ``taken`` (those of the counties before it), so that each county's
    random streams are its own and county 0 of a city is the single demo county.
    """

    def __init__(self, session: Session, county: DemoCounty, *, today: dt.date, write: Writer, taken: set[str]) -> None:
        self.session = session
        self.county = county
        self.code = county.code
        self.seed = county.seed
        self.today = today
        self.now = clock.now()
        self.fake = Faker("zh_CN")
        self.fake.seed_instance(county.seed)
        self.visits = 0
        self.write = write
        self.taken = taken
        self.ids = {
            model.__tablename__: _Ids(session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0)
            for model in (Person, Enrollment, Worker, User, Assignment, Visit, Need, Household, HouseholdMember)
        }

    def build(self, progress: Progress) -> dict[str, Any]:
        """Write the county's rows; its summary (persons, townships, villages, visits, accounts and
        the range of its persons' ids)."""
        residents = self.county.residents
        first_person = self.ids["persons"].last + 1
        progress("areas")
        townships = self._areas()
        villages = [v for t in townships for v in t.villages]
        workers = self._workers(townships)
        accounts = self._users(townships, workers)
        progress("persons")
        persons = self._persons(residents, townships)
        self._assign(persons, workers)
        progress("registers")
        self._insert_registers(persons)
        progress("visits")
        self._visits(persons, workers.coordinator)
        return {
            "persons": residents,
            "townships": len(townships),
            "villages": len(villages),
            "visits": self.visits,
            "county_code": self.code,
            "accounts": accounts,
            "person_ids": (first_person, self.ids["persons"].last),
        }


def _refuse_unless_empty(session: Session, counties: list[DemoCounty]) -> None:
    what = "city" if len(counties) > 1 else "county"
    persons = session.scalar(select(func.count()).select_from(Person)) or 0
    if persons:
        raise DemoRefused(
            f"The database already holds {persons} persons; the demo {what} is only built into an empty database."
        )
    codes = [c.code for c in counties] + ([CITY_CODE, PROVINCE_CODE] if len(counties) > 1 else [])
    areas_ = session.scalars(select(Area.code).where(Area.code.in_(codes))).all()
    if areas_:
        raise DemoRefused(
            f"The database already has area {', '.join(sorted(areas_))}; the demo {what} needs an empty database."
        )
    usernames = [c.username(name) for c in counties for name in DEMO_USERNAMES]
    usernames += [CITY_USERNAME] if len(counties) > 1 else []
    clash = session.scalars(select(User.username).where(User.username.in_(usernames))).all()
    if clash:
        raise DemoRefused(
            f"The database already has the login(s) {', '.join(sorted(clash))}; "
            f"the demo {what} needs an empty database."
        )


def _reset_sequences(session: Session) -> None:
    # Rows were inserted with explicit ids, so PostgreSQL's sequences must catch up.
    for table in Base.metadata.sorted_tables:
        column = table.columns.get("id")
        # Only integer ids have a sequence (a visit pack's id is a random text).
        if column is None or not column.primary_key or not isinstance(column.type, Integer):
            continue
        session.execute(
            text(  # table names come from our own metadata, never from input
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )


def _no_progress(step: str) -> None:
    """The default progress report: nothing."""


def _no_city_progress(step: str, county: str | None) -> None:
    """The default progress report of a city: nothing."""


def build_demo(
    engine: Engine,
    *,
    residents: int,
    seed: int,
    today: dt.date | None = None,
    progress: Progress = _no_progress,
    counties: int = 1,
) -> dict[str, Any]:
    """Migrate, then fill an empty database with the demo county (or a city of ``counties``
    counties, see ``build_city``); returns the summary.

    ``progress`` is called with each step's name (``BUILD_STEPS``) as the step starts.
    """

    def report(step: str, county: str | None) -> None:
        progress(step)

    return build_city(engine, counties=counties, residents=residents, seed=seed, today=today, progress=report)


def build_city(
    engine: Engine,
    *,
    counties: int,
    residents: int,
    seed: int,
    today: dt.date | None = None,
    progress: CityProgress = _no_city_progress,
) -> dict[str, Any]:
    """Migrate, then fill an empty database with a demo city of ``counties`` counties and
    ``residents`` persons in all (one county: the demo county alone, without city or province).

    The counties are built one after the other, each from its own seed (``demo_counties``), with
    their own areas, workers, persons, visits, logins, visit policy, service list, providers and
    plans, all in one transaction. ``progress`` is called with each step's name and the county it
    is for (None for the steps of the whole database) as the step starts. A city's summary adds
    ``counties`` (their codes) and ``city_code`` to a county's, with its figures added up.
    """
    if not 1 <= counties <= MAX_COUNTIES:
        raise ValueError(f"counties must be between 1 and {MAX_COUNTIES}")
    if residents < counties:
        raise ValueError("residents must be at least 1" if counties == 1 else "residents must be at least 1 a county")
    today = today or clock.today()
    plan = demo_counties(residents, seed, counties)
    progress("migrate", None)
    upgrade(engine)
    with transaction(engine) as session:
        _refuse_unless_empty(session, plan)
        write = row_writer(session)
        if counties > 1:
            write(Area, _city_areas(plan))
        taken: set[str] = set()
        built: list[dict[str, Any]] = []
        for county in plan:
            built.append(_build_county(session, county, today=today, write=write, taken=taken, progress=progress))
        accounts = [account for summary in built for account in summary["accounts"]]
        if counties > 1:
            accounts.insert(0, _city_account(session, write, seed))
        _write_settings(session, write, accounts=accounts, today=today)
        if engine.dialect.name == "postgresql":
            _reset_sequences(session)
    # Fresh statistics, so the planners pick the per-person indexes for correlated lookups.
    progress("statistics", None)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return _summary(built, plan, residents=residents, accounts=accounts)


def _write_settings(session: Session, write: Writer, *, accounts: list[dict[str, str]], today: dt.date) -> None:
    """Mark the database as the demo's, keep its logins to show, and its risks as refreshed today."""
    write(
        Setting,
        [
            {"key": DEMO_SETTING, "value": "1"},
            {"key": ACCOUNTS_SETTING, "value": json.dumps(accounts, ensure_ascii=False)},
        ],
    )
    # The app's daily upkeep may already have marked an empty database.
    session.merge(Setting(key=SETTING_RISKS_REFRESHED, value=today.isoformat()))
    session.flush()


def _summary(
    built: list[dict[str, Any]], plan: list[DemoCounty], *, residents: int, accounts: list[dict[str, str]]
) -> dict[str, Any]:
    """The county's summary with every login, or the city's: its counties' figures added up."""
    if len(plan) == 1:
        return {**built[0], "accounts": accounts}
    return {
        "persons": residents,
        "townships": sum(s["townships"] for s in built),
        "villages": sum(s["villages"] for s in built),
        "visits": sum(s["visits"] for s in built),
        "county_code": plan[0].code,
        "accounts": accounts,
        "counties": [county.code for county in plan],
        "city_code": CITY_CODE,
    }


def _build_county(
    session: Session,
    county: DemoCounty,
    *,
    today: dt.date,
    write: Writer,
    taken: set[str],
    progress: CityProgress,
) -> dict[str, Any]:
    """One county's rows, then the app's county-wide passes over it; its summary."""

    def report(step: str) -> None:
        progress(step, county.code)

    summary = _Builder(session, county, today=today, write=write, taken=taken).build(report)
    first, last = summary.pop("person_ids")
    ensure_default_policy(session, county_code=county.code)
    session.flush()
    report("risks")
    # The stored risks already follow the family rules; this is the app's own pass, so that the
    # demo is exactly what a refresh would leave (and the due dates follow). It runs over the
    # county's persons a few thousand at a time, each batch with its households: memory stays
    # bounded whatever the size of the county or of the counties built before it.
    for start in range(first, last + 1, LARGE_SELECTION):
        refresh_risks(session, today=today, person_ids=list(range(start, min(last + 1, start + LARGE_SELECTION))))
    _risk_history(session, today=today, county_code=county.code)
    report("due_dates")
    refresh_due_dates(session, county_code=county.code)
    report("services")
    _services(session, today=today, county_code=county.code)
    build_plans_and_orders(session, seed=county.seed, today=today, county_code=county.code, write=write)
    return summary


def _services(session: Session, *, today: dt.date, county_code: str) -> None:
    """The county's default service list in force for a year, providers in every township, a few pairings."""
    seed_default_services(session, valid_from=today - dt.timedelta(days=365), county_code=county_code)
    county = session.get(Area, county_code)
    if county is None:
        return
    now = clock.now()
    partners = _providers(session, county, now)
    session.flush()
    _pairings(session, partners, county_code=county.code, today=today, now=now)
    session.flush()


def _providers(session: Session, county: Area, now: dt.datetime) -> list[tuple[Provider, str]]:
    """The county's departments and social organisation, and in every township a mutual-aid team,
    a volunteer team and a cadre; the volunteers and cadres (pairing partners) with their township."""
    short = county.name.split("（")[0]

    def provider(kind: str, name: str, area: str, services: list[str]) -> Provider:
        made = Provider(
            kind=kind, name=name, area_code=area, services=services, version=1, created_at=now, updated_at=now
        )
        session.add(made)
        return made

    provider(
        "department",
        f"{short}民政局",
        county.code,
        ["assistive_fitting", "emergency_referral", "guardianship_guidance"],
    )
    provider("department", f"{short}残联康复中心", county.code, ["rehab_training", "assistive_fitting"])
    provider("social_org", f"{short}阳光社工服务中心", county.code, ["counselling", "tutoring", "bath"])
    townships = session.scalars(
        select(Area).where(Area.level == "township", Area.parent_code == county.code).order_by(Area.code)
    ).all()
    partners: list[tuple[Provider, str]] = []
    for i, township in enumerate(townships):
        provider("mutual_aid", f"{township.name}互助养老队", township.code, ["meal", "medical_escort"])
        partners.append(
            (provider("volunteer", f"{township.name}青年志愿者队", township.code, ["tutoring"]), township.code)
        )
        partners.append(
            (
                provider("cadre", f"{township.name}包村干部（{i + 1}号）", township.code, ["guardianship_guidance"]),
                township.code,
            )
        )
    return partners


def _pairings(
    session: Session, partners: list[tuple[Provider, str]], *, county_code: str, today: dt.date, now: dt.datetime
) -> None:
    """Each partner paired with the township's highest-risk children (two for a volunteer team, one for a cadre)."""
    for partner, code in partners:
        # The two highest-risk children of the township who have a pairing partner there.
        children = session.scalars(
            select(Enrollment.person_id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(
                Enrollment.county_code == county_code,
                Enrollment.group == "child",
                Enrollment.end_date.is_(None),
                Enrollment.risk == "high",
                Person.village_code.startswith(code[:9]),
            )
            .order_by(Enrollment.person_id)
            .limit(2 if partner.kind == "volunteer" else 1)
        ).all()
        for pid in children:
            session.add(
                Pairing(
                    provider_id=partner.id,
                    person_id=pid,
                    start_date=today - dt.timedelta(days=120),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )


def _parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m care.demo", description="Build the synthetic demo county (or city) into an empty database."
    )
    parser.add_argument("--db", required=True, help="SQLite file path, sqlite:/// URL or postgresql:// URL")
    parser.add_argument("--residents", type=int, default=5000, help="number of persons in all (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--counties",
        type=int,
        default=1,
        help=f"counties of a demo city, 1 to {MAX_COUNTIES}, sharing the residents (default 1: the county alone)",
    )
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="build as of this date, YYYY-MM-DD (default: today in county time)",
    )
    parser.add_argument("--lang", choices=LANGS, default=DEFAULT_LANG, help="language of the progress lines")
    return parser


def main(argv: Iterable[str] | None = None) -> int:
    """Command line: build the demo county (or city), report each step on standard error and print
    the summary as the last line."""
    parser = _parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    if not 1 <= args.counties <= MAX_COUNTIES:
        parser.error(t("setup.cli.bad_counties", args.lang, most=MAX_COUNTIES))
    if args.residents < args.counties:
        parser.error(t("setup.cli.too_few_residents", args.lang, counties=args.counties))
    names = {county.code: county.name for county in demo_counties(args.residents, args.seed, args.counties)}
    started = time.monotonic()

    def report(step: str, county: str | None) -> None:
        label = t(f"setup.step.{step}", args.lang)
        seconds = f"{time.monotonic() - started:.1f}"
        if county is None or args.counties == 1:
            line = t("setup.cli.step", args.lang, seconds=seconds, step=label)
        else:
            n = list(names).index(county) + 1
            line = t(
                "setup.cli.county_step",
                args.lang,
                seconds=seconds,
                county=names[county],
                n=n,
                total=args.counties,
                step=label,
            )
        print(line, file=sys.stderr, flush=True)

    try:
        summary = build_city(
            get_engine(args.db),
            counties=args.counties,
            residents=args.residents,
            seed=args.seed,
            today=args.today,
            progress=report,
        )
        print(t("setup.cli.done", args.lang, seconds=f"{time.monotonic() - started:.1f}"), file=sys.stderr)
    except DemoRefused as refused:
        print(f"care.demo: {refused}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False))
    return 0
