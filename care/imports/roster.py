"""Roster import (台账导入): new persons and enrollments from a sheet, by the register's own rules.

Every row goes through the same checks as the register forms (care/ids.py, clean_person,
clean_facts) and is written by the same services (create_person, enroll). A person already
registered in that group is not new: re-importing a file writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import clock, enums, ids, rules
from care.errors import CareError, ValidationError
from care.i18n import t
from care.imports.common import (
    Column,
    ImportReport,
    Progress,
    RowError,
    Sheet,
    choice,
    is_empty,
    number,
    risk_choice,
    row_error,
    text,
    when,
)
from care.imports.files import Table
from care.queries.scoping import visible_person
from care.scope import Scope
from care.services.common import require
from care.services.enrollments import enroll
from care.services.facts import clean_facts
from care.services.persons import clean_person, create_person
from db.models import Enrollment, Person

COLUMNS = (
    Column("name", "姓名", required=True, limit=64),
    Column("id_number", "公民身份号码", required=True),
    Column("village_code", "村(社区)代码", required=True),
    Column("address", "现住址", limit=200),
    Column("phone", "联系电话", limit=32),
    Column("lon", "经度"),
    Column("lat", "纬度"),
    Column("care_group", "关爱类别", required=True),
    Column("risk", "风险等级"),
    Column("guardianship", "监护类型"),
    Column("guardian_name", "监护人姓名", limit=64),
    Column("guardian_phone", "监护人电话", limit=32),
    Column("category", "残疾类别"),
    Column("grade", "残疾等级"),
    Column("certificate_no", "残疾人证号"),
    Column("notes", "备注", limit=2000),
    # Facts the register keeps that the paper lists often have; optional columns.
    Column("schooling", "就学情况"),
    Column("living_arrangement", "居住方式"),
    Column("self_care", "生活自理能力"),
    # When the person came onto the register (paper lists kept before the system); default today.
    Column("start_date", "在册日期"),
)
TEMPLATE_HEADERS = [c.header for c in COLUMNS]
COLUMN = {c.key: c for c in COLUMNS}
# Service field names that belong to a column of this sheet.
ALIASES = {
    "sex": "id_number",
    "birth_date": "id_number",
    "group": "care_group",
    "subtype": "care_group",
    "risk_override": "risk",
    "risk_override_reason": "risk",
}
# 关爱类别 as written on the lists: group and sub-type (None: decided by the certificate).
CARE_GROUPS: dict[str, tuple[str, str | None]] = {
    "留守儿童": ("child", "left_behind"),
    "困境儿童": ("child", "distressed"),
    "事实无人抚养儿童": ("child", "unsupported"),
    "空巢老人": ("elderly", "empty_nest"),
    "独居老人": ("elderly", "alone"),
    "留守老人": ("elderly", "left_behind"),
    "失能老人": ("elderly", "disabled_elderly"),
    "重残老人": ("elderly", "severe_disabled"),
    "计生特殊家庭老人": ("elderly", "special_family"),
    "残疾人": ("disabled", None),
    "持证残疾人": ("disabled", "certified"),
    "未持证残疾人": ("disabled", "uncertified"),
}
# Columns that only one group's rows may fill (anything else would be silently dropped).
GROUP_COLUMNS = {
    "child": ("guardianship", "guardian_name", "guardian_phone", "schooling"),
    "elderly": ("living_arrangement", "self_care"),
    "disabled": ("category", "grade", "certificate_no"),
}
# When a list gives no living arrangement or self-care, the sub-type says what it must be.
ELDERLY_DEFAULTS = {
    "alone": ("alone", "full"),
    "empty_nest": ("with_spouse", "full"),
    "left_behind": ("with_spouse", "full"),
    "disabled_elderly": ("with_relatives", "none"),
    "severe_disabled": ("with_relatives", "none"),
    "special_family": ("with_spouse", "full"),
}
# A made-up person in the template's example row; importing it unchanged is refused.
_EXAMPLE_BODY = "52269920100101001"
EXAMPLE_ID = _EXAMPLE_BODY + ids.check_digit(_EXAMPLE_BODY)
EXAMPLE_ROW = {
    "name": "张三（示例，请删除本行）",
    "id_number": EXAMPLE_ID,
    "address": "一组 12 号",
    "phone": "13800000000",
    "lon": 108.2,
    "lat": 26.4,
    "care_group": "留守儿童",
    "risk": "中",
    "guardianship": "祖辈监护",
    "guardian_name": "张大爷",
    "guardian_phone": "13900000000",
    "notes": "父母在浙江务工",
    "schooling": "小学",
}


@dataclass
class _Planned:
    """A checked row: what the write phase does with it."""

    row: int
    id_number: str
    person_values: dict[str, Any]
    group: str
    subtype: str
    facts: dict[str, Any]
    risk: str | None
    person_id: int | None = None  # set when the person is already registered
    warnings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    start_date: dt.date | None = None  # None: the day of the import


def _start_date(values: dict[str, Any], birth_date: dt.date) -> dt.date | None:
    """The 在册日期 cell: not in the future, not before the person was born; empty = today."""
    at = when(values.get("start_date"), COLUMN["start_date"])
    if at is None:
        return None
    if at.date() > clock.today():
        raise ValidationError("enroll.start_in_future", field="start_date")
    if at.date() < birth_date:
        raise ValidationError("enroll.start_before_birth", field="start_date")
    return at.date()


def care_group(value: Any, has_certificate: bool) -> tuple[str, str]:
    """The group and sub-type a 关爱类别 cell names."""
    column = COLUMN["care_group"]
    if is_empty(value):
        raise ValidationError("import.required", field=column.key)
    found = CARE_GROUPS.get("".join(str(value).split()))
    if found is None:
        raise ValidationError(
            "import.bad_choice", field=column.key, value=str(value).strip()[:30], allowed="、".join(CARE_GROUPS)
        )
    group, subtype = found
    return group, subtype or ("certified" if has_certificate else "uncertified")


def _required(values: dict[str, Any], *keys: str) -> None:
    for key in keys:
        if is_empty(values.get(key)):
            raise ValidationError("import.required", field=key)


def _pick(values: dict[str, Any], key: str, allowed: tuple[Any, ...], extra: dict[str, Any] | None = None) -> Any:
    """A coded cell of this sheet (the column's key is also the enum's name)."""
    return choice(values.get(key), COLUMN[key], key, allowed, extra)


def _facts(group: str, subtype: str, values: dict[str, Any]) -> dict[str, Any]:
    if group == "child":
        _required(values, "guardianship")
        return {
            "guardianship": _pick(values, "guardianship", enums.GUARDIANSHIP),
            "guardian_name": text(values.get("guardian_name"), COLUMN["guardian_name"]),
            "guardian_phone": text(values.get("guardian_phone"), COLUMN["guardian_phone"]),
            "schooling": _pick(values, "schooling", enums.SCHOOLING) or "",
        }
    if group == "elderly":
        living, self_care = ELDERLY_DEFAULTS[subtype]
        return {
            "living_arrangement": _pick(values, "living_arrangement", enums.LIVING) or living,
            "self_care": _pick(values, "self_care", enums.SELF_CARE) or self_care,
        }
    _required(values, "category", "grade")
    return {
        "category": _pick(values, "category", enums.DISABILITY_CATEGORIES),
        "grade": _pick(values, "grade", enums.DISABILITY_GRADES, {f"{g}级": g for g in enums.DISABILITY_GRADES}),
        "certificate_no": None if is_empty(values.get("certificate_no")) else values.get("certificate_no"),
    }


def _no_other_group_columns(group: str, values: dict[str, Any]) -> None:
    for other, keys in GROUP_COLUMNS.items():
        for key in keys:
            if other != group and not is_empty(values.get(key)):
                raise ValidationError("import.column_not_for_group", field=key)


def _person_values(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": text(values.get("name"), COLUMN["name"]),
        "id_number": values.get("id_number"),
        "village_code": text(values.get("village_code"), COLUMN["village_code"]),
        "address": text(values.get("address"), COLUMN["address"]),
        "phone": text(values.get("phone"), COLUMN["phone"]),
        "lat": number(values.get("lat"), COLUMN["lat"]),
        "lon": number(values.get("lon"), COLUMN["lon"]),
        "notes": text(values.get("notes"), COLUMN["notes"]),
    }


def _override(group: str, subtype: str, facts: dict[str, Any], birth: dt.date, risk: str | None) -> str | None:
    """The risk level the list asks for, when the rules would give another one."""
    if risk is None:
        return None
    auto = rules.compute_risk(group, subtype, facts, ids.age_on(birth, clock.today())).level
    return None if risk == auto else risk


class _RosterCheck:
    """Checks rows one by one, remembering what earlier rows of the same file said."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session = session
        self.scope = scope
        self.first_row: dict[str, tuple[int, str, str]] = {}  # id -> (row, name, village)
        self.seen: dict[tuple[str, str], int] = {}  # (id, group) -> row

    def row(self, number: int, values: dict[str, Any]) -> _Planned | None:
        """The planned write for a row, None when already registered; raises on the first problem."""
        info = ids.parse_id_number(values.get("id_number"))
        if info.number == EXAMPLE_ID:
            raise ValidationError("import.example_row", field="id_number")
        cert = values.get("certificate_no")
        group, subtype = care_group(values.get("care_group"), not is_empty(cert))
        _no_other_group_columns(group, values)
        person = _person_values(values)
        risk = risk_choice(values.get("risk"), COLUMN["risk"])
        self._against_earlier_rows(number, info.number, group, person)
        start = _start_date(values, info.birth_date)
        existing = self.session.scalar(select(Person).where(Person.id_number == info.number))
        if existing is not None:
            planned = self._existing(number, existing, group, subtype, values, risk)
            if planned is not None:
                planned.start_date = start
            return planned
        _, warnings = clean_person(self.session, self.scope, person)
        facts = clean_facts(
            group,
            subtype,
            _facts(group, subtype, values),
            id_number=info.number,
            birth_date=info.birth_date,
            on=clock.today(),
        )
        return _Planned(
            number,
            info.number,
            person,
            group,
            subtype,
            facts,
            _override(group, subtype, facts, info.birth_date, risk),
            warnings=warnings,
            start_date=start,
        )

    def _against_earlier_rows(self, number: int, id_number: str, group: str, person: dict[str, Any]) -> None:
        earlier = self.seen.get((id_number, group))
        if earlier is not None:
            raise ValidationError("import.duplicate_in_file", field="id_number", other=earlier)
        self.seen[(id_number, group)] = number
        first = self.first_row.setdefault(id_number, (number, person["name"], person["village_code"]))
        if first[0] != number and (first[1], first[2]) != (person["name"], person["village_code"]):
            raise ValidationError("import.conflicting_rows", field="id_number", other=first[0])

    def _existing(
        self, number: int, person: Person, group: str, subtype: str, values: dict[str, Any], risk: str | None
    ) -> _Planned | None:
        if visible_person(self.session, self.scope, person.id, include_deleted=True) is None:
            raise ValidationError("person.duplicate_elsewhere", field="id_number")
        if person.deleted:
            raise ValidationError(
                "person.duplicate_deleted", field="id_number", name=person.name, village=person.village_code
            )
        enrolled = self.session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == person.id, Enrollment.group == group, Enrollment.end_date.is_(None)
            )
        )
        if enrolled is not None:
            return None
        if person.status in ("deceased", "moved"):
            raise ValidationError("enroll.person_not_active", field="care_group")
        facts = clean_facts(
            group,
            subtype,
            _facts(group, subtype, values),
            id_number=person.id_number,
            birth_date=person.birth_date,
            on=clock.today(),
        )
        return _Planned(
            number,
            person.id_number,
            {},
            group,
            subtype,
            facts,
            _override(group, subtype, facts, person.birth_date, risk),
            person_id=person.id,
        )


def check_roster(
    session: Session, scope: Scope, table: Table, report: ImportReport, progress: Progress | None = None
) -> list[_Planned]:
    """Every row checked (all problems collected in ``report``); the rows that are new."""
    require(scope, "import.roster")
    sheet = Sheet(table, COLUMNS)
    report.rows = len(table.rows)
    report.errors.extend(sheet.errors)
    if sheet.errors:
        return []
    checker = _RosterCheck(session, scope)
    planned: list[_Planned] = []
    for done, (row, values) in enumerate(sheet.rows(), start=1):
        try:
            item = checker.row(row, values)
        except CareError as error:
            report.errors.append(row_error(COLUMNS, row, error, ALIASES))
        else:
            if item is None:
                report.unchanged += 1
            else:
                planned.append(item)
                report.warnings.extend(RowError(row, COLUMN["lat"].header, key, p) for key, p in item.warnings)
        if progress and (done % 50 == 0 or done == report.rows):
            progress(done, 0, report.rows)
    report.new = len(planned)
    return planned


def write_roster(
    session: Session, scope: Scope, planned: list[_Planned], report: ImportReport, progress: Progress | None = None
) -> None:
    """Create the new persons and enrollments through the register's services (no commit)."""
    today = clock.today()
    reason = t("import.risk_from_list")
    created: dict[str, int] = {}
    for done, item in enumerate(planned, start=1):
        try:
            person_id = item.person_id or created.get(item.id_number)
            if person_id is None:
                person_id = create_person(session, scope, values=item.person_values, audited=False).id
                created[item.id_number] = person_id
                report.created.setdefault("persons", []).append(person_id)
            enrolled = enroll(
                session,
                scope,
                person_id=person_id,
                group=item.group,
                subtype=item.subtype,
                start_date=item.start_date or today,
                facts=item.facts,
                risk_override=item.risk,
                risk_override_reason=reason if item.risk else "",
                audited=False,
            )
            report.created.setdefault("enrollments", []).append(enrolled.id)
        except CareError as error:
            # Someone registered the same person since the check: the whole import is refused.
            report.errors.append(row_error(COLUMNS, item.row, error, ALIASES))
            return
        report.committed = done
        if progress and (done % 50 == 0 or done == len(planned)):
            progress(report.rows, done, report.rows)
