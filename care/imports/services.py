"""Service record import (服务台账导入): services delivered, as kept on paper or in a provider's
sheet, checked by the order rules and written all or nothing.

Each row is one delivered service for a person the user may see: a service on the county's list
in force on the day, for one of the person's active enrollments of its group (a coordinator's:
their own), delivered by an active provider that offers it and reaches the person's village when
one is named. A row identical in person, service, day and who delivered it to a record already
kept is not new: importing the same file again writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table as SqlTable
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from care.domain import areas, clock, enums, ids
from care.domain.errors import CareError, RowError, ValidationError
from care.domain.service_rules import provider_fits
from care.imports.common import (
    Column,
    ImportReport,
    Problems,
    Progress,
    choice,
    number,
    open_sheet,
    text,
    when,
)
from care.imports.files import Table
from care.imports.roster import is_example_id
from care.queries.scoping import person_conditions
from care.queries.service_list import ServiceRow, service_list
from care.scope import Scope
from db.models import Assignment, CarePlan, Enrollment, Person, PlanService, Provider, ServiceOrder

COLUMNS = (
    Column("id_number", "公民身份号码", required=True),
    Column("service", "服务项目", required=True, limit=64),
    Column("delivered_on", "服务日期", required=True),
    Column("provider", "服务提供方", limit=100),
    Column("delivered_by", "服务人员", required=True, limit=64),
    Column("minutes", "服务时长（分钟）", also=("时长（分钟）", "时长")),
    Column("satisfaction", "满意度", also=("家属满意度",)),
    Column("note", "备注", limit=1000),
)
TEMPLATE_HEADERS = [c.header for c in COLUMNS]
COLUMN = {c.key: c for c in COLUMNS}
ALIASES = {"service_code": "service", "provider_id": "provider"}
_CHUNK = 900


@dataclass
class _Row:
    """A checked record, ready to write."""

    row: int
    person_id: int
    enrollment_id: int
    plan_id: int | None
    service_code: str
    provider_id: int | None
    delivered_on: dt.date
    delivered_by: str
    minutes: int | None
    satisfaction: str | None
    note: str


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


@dataclass
class _Lookups:
    persons: dict[str, tuple[int, str]]  # ID number -> (person, village)
    enrollments: dict[tuple[int, str], int]  # (person, group) -> the active enrollment
    planned: dict[tuple[int, str], int]  # (enrollment, service) -> the plan in force planning it
    providers: dict[str, list[Provider]]
    recorded: set[tuple[int, str, dt.date, str]]


def _lookups(session: Session, scope: Scope, numbers: list[str], earliest: dt.date | None) -> _Lookups:
    persons: dict[str, tuple[int, str]] = {}
    for part in _chunks(numbers):
        people = select(Person.id_number, Person.id, Person.village_code).where(
            Person.id_number.in_(part), Person.status == "active", *person_conditions(scope)
        )
        persons.update({n: (pid, village) for n, pid, village in session.execute(people)})
    person_ids = [pid for pid, _ in persons.values()]
    enrollments: dict[tuple[int, str], int] = {}
    recorded: set[tuple[int, str, dt.date, str]] = set()
    today = clock.today()
    for part in _chunks(person_ids):
        current = select(Enrollment.id, Enrollment.person_id, Enrollment.group).where(
            Enrollment.person_id.in_(part), Enrollment.end_date.is_(None)
        )
        if scope.assigned_only:
            current = current.where(
                Enrollment.id.in_(
                    select(Assignment.enrollment_id).where(
                        Assignment.worker_id == scope.worker_id,
                        Assignment.start_date <= today,
                        Assignment.end_date.is_(None) | (Assignment.end_date >= today),
                    )
                )
            )
        for eid, pid, group in session.execute(current.order_by(Enrollment.id)):
            enrollments.setdefault((pid, group), eid)
        if earliest is not None:
            kept = select(
                ServiceOrder.person_id, ServiceOrder.service_code, ServiceOrder.delivered_on, ServiceOrder.delivered_by
            ).where(
                ServiceOrder.person_id.in_(part),
                ServiceOrder.status == "delivered",
                ServiceOrder.delivered_on >= earliest,
            )
            recorded.update((pid, code, day, who) for pid, code, day, who in session.execute(kept) if day)
    planned: dict[tuple[int, str], int] = {}
    for part in _chunks(list(enrollments.values())):
        in_force = (
            select(CarePlan.enrollment_id, PlanService.service_code, CarePlan.id)
            .join(PlanService, PlanService.plan_id == CarePlan.id)
            .where(CarePlan.enrollment_id.in_(part), CarePlan.status == "approved")
        )
        planned.update({(eid, code): plan for eid, code, plan in session.execute(in_force)})
    providers: dict[str, list[Provider]] = {}
    for provider in session.scalars(select(Provider).where(Provider.active.is_(True))):
        providers.setdefault(provider.name, []).append(provider)
    return _Lookups(persons, enrollments, planned, providers, recorded)


def _service(
    value: str, day: dt.date, county: str, lists: dict[tuple[dt.date, str], list[ServiceRow]], session: Session
) -> ServiceRow:
    if (day, county) not in lists:
        lists[day, county] = service_list(session, day, county)
    wanted = "".join(value.split()).lower()
    found = next((r for r in lists[day, county] if wanted in (r.code.lower(), "".join(r.name.split()).lower())), None)
    if found is None:
        raise ValidationError("import.service_unknown", field="service", name=value[:30], day=day.isoformat())
    return found


def _provider(name: str, row: ServiceRow, village: str, found: _Lookups) -> int | None:
    if not name:
        return None
    fitting = [p for p in found.providers.get(name, []) if provider_fits(p, row.code, row.provider_kinds, village)]
    if len(fitting) != 1:
        key = "import.provider_ambiguous" if len(fitting) > 1 else "import.provider_unknown"
        raise ValidationError(key, field="provider", name=name[:30])
    return fitting[0].id


def check_services(
    session: Session, scope: Scope, table: Table, report: ImportReport, progress: Progress | None = None
) -> list[_Row]:
    """Every row checked (all problems kept in ``report``); the records that are new."""
    sheet = open_sheet(scope, "import.services", table, COLUMNS, report)
    if sheet is None:
        return []
    raws = list(sheet.rows())
    numbers: list[str] = []
    parsed: list[tuple[int, dict[str, Any], Problems]] = []
    today = clock.today()
    for row, values in raws:
        cells, problems = _read(values, today)
        if cells["id_number"]:
            numbers.append(cells["id_number"])
        parsed.append((row, cells, problems))
    days = [c["delivered_on"] for _, c, _ in parsed if c["delivered_on"]]
    found = _lookups(session, scope, sorted(set(numbers)), min(days, default=None))
    lists: dict[tuple[dt.date, str], list[ServiceRow]] = {}
    planned: list[_Row] = []
    first: dict[tuple[int, str, dt.date, str], int] = {}
    for done, (row, cells, problems) in enumerate(parsed, start=1):
        if not problems.errors:
            try:
                checked = _check(session, row, cells, found, lists)
            except CareError as error:
                problems.add(error)
            else:
                same = (checked.person_id, checked.service_code, checked.delivered_on, checked.delivered_by)
                if same in found.recorded:
                    report.unchanged += 1
                elif same in first:
                    report.errors.append(
                        RowError(row, COLUMN["id_number"].header, "import.duplicate_in_file", {"other": first[same]})
                    )
                else:
                    first[same] = row
                    planned.append(checked)
        report.errors.extend(problems.row_errors(COLUMNS, row, ALIASES))
        if progress and (done % 500 == 0 or done == len(parsed)):
            progress(done, 0, len(parsed))
    report.new = len(planned)
    return planned


def _read(values: dict[str, Any], today: dt.date) -> tuple[dict[str, Any], Problems]:
    """One row's cells converted; every problem kept, so the row shows all of them at once."""
    problems = Problems()
    cells: dict[str, Any] = {}
    cells["id_number"] = problems.attempt(
        lambda: ids.parse_id_number(values.get("id_number"), check_region=False).number
    )
    if cells["id_number"] and is_example_id(cells["id_number"]):
        problems.add(ValidationError("import.example_row", field="id_number"))
    cells["service"] = problems.attempt(lambda: text(values.get("service"), COLUMN["service"]))
    at = problems.attempt(lambda: when(values.get("delivered_on"), COLUMN["delivered_on"]))
    cells["delivered_on"] = at.date() if at else None
    if cells["delivered_on"] is not None and cells["delivered_on"] > today:
        problems.add(ValidationError("order.error.delivered_on", field="delivered_on"))
    cells["provider"] = problems.attempt(lambda: text(values.get("provider"), COLUMN["provider"])) or ""
    cells["delivered_by"] = problems.attempt(lambda: text(values.get("delivered_by"), COLUMN["delivered_by"]))
    minutes = problems.attempt(lambda: number(values.get("minutes"), COLUMN["minutes"]))
    if minutes is not None and (not float(minutes).is_integer() or not 1 <= minutes <= 1440):
        problems.add(ValidationError("order.error.minutes", field="minutes"))
    cells["minutes"] = int(minutes) if minutes is not None else None
    cells["satisfaction"] = problems.attempt(
        lambda: choice(values.get("satisfaction"), COLUMN["satisfaction"], "satisfaction", enums.SATISFACTION)
    )
    cells["note"] = problems.attempt(lambda: text(values.get("note"), COLUMN["note"])) or ""
    for key in ("id_number", "service", "delivered_on", "delivered_by"):
        if not cells.get(key) and not problems.at(key):
            problems.add(ValidationError("import.required", field=key))
    return cells, problems


def _check(
    session: Session,
    row: int,
    cells: dict[str, Any],
    found: _Lookups,
    lists: dict[tuple[dt.date, str], list[ServiceRow]],
) -> _Row:
    person = found.persons.get(cells["id_number"])
    if person is None:
        raise ValidationError("import.person_not_found", field="id_number")
    pid, village = person
    service = _service(cells["service"], cells["delivered_on"], areas.county_of(village), lists, session)
    enrollment = found.enrollments.get((pid, service.group))
    if enrollment is None:
        raise ValidationError("order.error.group", field="service")
    return _Row(
        row=row,
        person_id=pid,
        enrollment_id=enrollment,
        plan_id=found.planned.get((enrollment, service.code)),
        service_code=service.code,
        provider_id=_provider(cells["provider"], service, village, found),
        delivered_on=cells["delivered_on"],
        delivered_by=cells["delivered_by"],
        minutes=cells["minutes"],
        satisfaction=cells["satisfaction"],
        note=cells["note"],
    )


def write_services(
    session: Session, scope: Scope, rows: list[_Row], report: ImportReport, progress: Progress | None = None
) -> None:
    """Insert the checked records as delivered orders (source 台账导入) in one statement."""
    if not rows:
        return
    now = clock.now()
    session.execute(
        insert(cast(SqlTable, ServiceOrder.__table__)),
        [
            {
                "person_id": r.person_id,
                "enrollment_id": r.enrollment_id,
                "service_code": r.service_code,
                "source": "import",
                "visit_id": None,
                "need_id": None,
                "plan_id": r.plan_id,
                "requested_by": "",
                "provider_id": r.provider_id,
                "status": "delivered",
                "requested_on": r.delivered_on,
                "due_on": r.delivered_on,
                "scheduled_on": None,
                "delivered_on": r.delivered_on,
                "delivered_by": r.delivered_by,
                "minutes": r.minutes,
                "note": r.note,
                "decline_reason": "",
                "satisfaction": r.satisfaction,
                "client_token": None,
                "created_by": scope.user_id,
                "updated_by": scope.user_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )
    report.committed = len(rows)
    if progress:
        progress(report.rows, len(rows), report.rows)
