"""Roster import (台账导入): new persons and enrollments from a sheet, by the register's own rules.

Every row goes through the same checks as the register forms (care/domain/ids.py, clean_person,
clean_facts) and is written by the same services (create_person, enroll). A person already
registered in that group is not new: re-importing a file writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.domain import clock, enums, ids, rules
from care.domain.errors import CareError, RowError, ValidationError
from care.domain.facts import clean_facts
from care.i18n import t
from care.imports.common import (
    Column,
    ImportReport,
    Problems,
    Progress,
    choice,
    is_empty,
    number,
    open_sheet,
    risk_choice,
    row_error,
    text,
    when,
)
from care.imports.files import Table
from care.imports.villages import VillageLookup, shown, village_lookup
from care.queries.policy import child_age_limits
from care.queries.scoping import visible_person
from care.queries.settings import scope_county
from care.scope import Scope
from care.services import households, membership
from care.services.enrollments import enroll
from care.services.persons import clean_person, create_person
from db.models import Enrollment, Person

COLUMNS = (
    Column("name", "姓名", required=True, limit=64),
    Column("id_number", "公民身份号码", required=True),
    # The village's 12-digit code or its name (full or short); the township tells same-named villages apart.
    Column("village_code", "村(社区)代码", required=True, also=("村(社区)", "村(社区)名称")),
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
    # Names the township of a village given by name, where two villages share one (optional).
    Column("township", "乡镇(街道)", also=("乡镇", "乡镇名称")),
    # Optional: rows with the same 户号, or the same 户主身份证号, are one household (户).
    Column("hukou_no", "户号", limit=32, also=("户口簿户号",)),
    Column("head_id_number", "户主身份证号", also=("户主公民身份号码",)),
    Column("relation", "与户主关系"),
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
# 与户主关系 as the 户口簿 writes it, beyond the catalog's own labels.
RELATION_SPELLINGS = {
    "本人": "head",
    "妻": "spouse",
    "夫": "spouse",
    "妻子": "spouse",
    "丈夫": "spouse",
    "子": "child",
    "女": "child",
    "儿子": "child",
    "女儿": "child",
    "长子": "child",
    "次子": "child",
    "长女": "child",
    "次女": "child",
    "孙子": "grandchild",
    "孙女": "grandchild",
    "外孙子": "grandchild",
    "外孙女": "grandchild",
    "外孙子女": "grandchild",
    "父亲": "parent",
    "母亲": "parent",
    "祖父": "grandparent",
    "祖母": "grandparent",
    "外祖父": "grandparent",
    "外祖母": "grandparent",
    "外祖父母": "grandparent",
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
# The template's made-up person: refused if imported. Its ID is in the county's own region, born
# on 1 January eight years before the template was made, sequence 999: GB 11643 keeps 996-999 for
# people over a hundred, so no child has such a number.
EXAMPLE_NAME = "张三（示例，请删除本行）"
EXAMPLE_AGE = 8
_EXAMPLE_DAY_AND_SEQUENCE = "0101999"
# The example of templates made before the example followed the county.
_LEGACY_BODY = "52269920100101001"
LEGACY_EXAMPLE_ID = _LEGACY_BODY + ids.check_digit(_LEGACY_BODY)
EXAMPLE_ROW = {
    "name": EXAMPLE_NAME,
    "address": "一组 12 号",
    "phone": "13800000000",
    "care_group": "留守儿童",
    "risk": "中",
    "guardianship": "祖辈监护",
    "guardian_name": "张大爷",
    "guardian_phone": "13900000000",
    "notes": "父母在浙江务工",
    "schooling": "小学",
}


def example_id(region: str, today: dt.date) -> str:
    """The template's example ID number for a county whose codes start with ``region`` (6 digits)."""
    body = f"{region}{today.year - EXAMPLE_AGE:04d}{_EXAMPLE_DAY_AND_SEQUENCE}"
    return body + ids.check_digit(body)


def is_example_id(number: str) -> bool:
    """Whether a (normalised) ID number is a template's example, of any county."""
    if number == LEGACY_EXAMPLE_ID:
        return True
    if len(number) != 18 or number[10:17] != _EXAMPLE_DAY_AND_SEQUENCE or not number[6:10].isdigit():
        return False
    return clock.today().year - int(number[6:10]) < 100 and number == example_id(
        number[:6], dt.date(int(number[6:10]) + EXAMPLE_AGE, 1, 1)
    )


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
    household: _HouseholdCells | None = None
    village_code: str = ""


@dataclass(frozen=True)
class _HouseholdCells:
    """A row's 户号, 户主身份证号 and 与户主关系 (all optional; either number names the household)."""

    hukou_no: str
    head_id: str
    relation: str | None

    @property
    def key(self) -> str:
        return f"hukou:{self.hukou_no}" if self.hukou_no else f"head:{self.head_id}"


def _start_date(values: dict[str, Any], birth_date: dt.date | None) -> dt.date | None:
    """The 在册日期 cell: not in the future, not before the person was born; empty = today."""
    at = when(values.get("start_date"), COLUMN["start_date"])
    if at is None:
        return None
    if at.date() > clock.today():
        raise ValidationError("enrollment.start_in_future", field="start_date")
    if birth_date is not None and at.date() < birth_date:
        raise ValidationError("enrollment.start_before_birth", field="start_date")
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


def _pick(values: dict[str, Any], key: str, allowed: tuple[Any, ...], extra: dict[str, Any] | None = None) -> Any:
    """A coded cell of this sheet (the column's key is also the enum's name)."""
    return choice(values.get(key), COLUMN[key], key, allowed, extra)


def _required_pick(
    values: dict[str, Any], key: str, allowed: tuple[Any, ...], extra: dict[str, Any] | None = None
) -> Any:
    if is_empty(values.get(key)):
        raise ValidationError("import.required", field=key)
    return _pick(values, key, allowed, extra)


def _facts(group: str, subtype: str, values: dict[str, Any], problems: Problems) -> dict[str, Any] | None:
    """The group's fact cells, each checked (None when any is bad)."""
    before = len(problems.errors)
    cell = problems.attempt
    facts: dict[str, Any]
    if group == "child":
        facts = {
            "guardianship": cell(lambda: _required_pick(values, "guardianship", enums.GUARDIANSHIP)),
            "guardian_name": cell(lambda: text(values.get("guardian_name"), COLUMN["guardian_name"])),
            "guardian_phone": cell(lambda: text(values.get("guardian_phone"), COLUMN["guardian_phone"])),
            "schooling": cell(lambda: _pick(values, "schooling", enums.SCHOOLING) or ""),
        }
    elif group == "elderly":
        living, self_care = ELDERLY_DEFAULTS[subtype]
        facts = {
            "living_arrangement": cell(lambda: _pick(values, "living_arrangement", enums.LIVING) or living),
            "self_care": cell(lambda: _pick(values, "self_care", enums.SELF_CARE) or self_care),
        }
    else:
        grades = {f"{g}级": g for g in enums.DISABILITY_GRADES}
        facts = {
            "category": cell(lambda: _required_pick(values, "category", enums.DISABILITY_CATEGORIES)),
            "grade": cell(lambda: _required_pick(values, "grade", enums.DISABILITY_GRADES, grades)),
            "certificate_no": None if is_empty(values.get("certificate_no")) else values.get("certificate_no"),
        }
    return facts if len(problems.errors) == before else None


def _other_group_columns(group: str, values: dict[str, Any], problems: Problems) -> None:
    """Each filled cell of a column another group uses (it would be silently dropped)."""
    for other, keys in GROUP_COLUMNS.items():
        for key in keys:
            if other != group and not is_empty(values.get(key)):
                problems.add(ValidationError("import.column_not_for_group", field=key))


def _name(value: Any) -> str:
    name = " ".join(text(value, COLUMN["name"]).split())
    if not name:
        raise ValidationError("import.required", field="name")
    return name


def _person_values(values: dict[str, Any], villages: VillageLookup, problems: Problems) -> dict[str, Any]:
    """The person cells, each checked; a bad one is kept as empty."""
    cell = problems.attempt
    return {
        "name": cell(lambda: _name(values.get("name"))) or "",
        "id_number": values.get("id_number"),
        "village_code": cell(lambda: villages.village(values.get("village_code"), township=values.get("township")))
        or "",
        "address": cell(lambda: text(values.get("address"), COLUMN["address"])) or "",
        "phone": cell(lambda: text(values.get("phone"), COLUMN["phone"])) or "",
        "lat": cell(lambda: number(values.get("lat"), COLUMN["lat"])),
        "lon": cell(lambda: number(values.get("lon"), COLUMN["lon"])),
        "notes": cell(lambda: text(values.get("notes"), COLUMN["notes"])) or "",
    }


def _override(group: str, subtype: str, facts: dict[str, Any], birth: dt.date, risk: str | None) -> str | None:
    """The risk level the list asks for, when the rules would give another one."""
    if risk is None:
        return None
    auto = rules.compute_risk(group, subtype, facts, ids.age_on(birth, clock.today())).level
    return None if risk == auto else risk


# A register check that fails on one of these optional cells runs again without it, so that the
# cells after it are checked too.
_OPTIONAL_PERSON_CELLS = {"phone": ("phone",), "lat": ("lat", "lon"), "lon": ("lat", "lon"), "address": ("address",)}


def _phone(value: Any) -> str:
    return "".join(str(value or "").split()).replace("-", "")


def _coordinate(value: Any) -> float | None:
    return None if value is None else round(float(value), 6)


# What a registered person's row is compared on: the column, how to read both sides alike.
_COMPARED: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("name", lambda v: " ".join(str(v or "").split())),
    ("village_code", str),
    ("address", lambda v: str(v or "").strip()),
    ("phone", _phone),
    ("lat", _coordinate),
    ("lon", _coordinate),
)


@dataclass
class _Row:
    """One row's cells as read and checked, before the register is consulted."""

    number: int
    problems: Problems
    info: ids.IdInfo | None
    grouping: tuple[str, str] | None
    person: dict[str, Any]
    risk: str | None
    start: dt.date | None
    facts: dict[str, Any] | None
    household: _HouseholdCells | None = None


def _household_cells(values: dict[str, Any], problems: Problems) -> _HouseholdCells | None:
    hukou = problems.attempt(lambda: "".join(text(values.get("hukou_no"), COLUMN["hukou_no"]).split()))
    if hukou and (len(hukou) > 32 or not hukou.isalnum()):
        problems.add(ValidationError("household.bad_hukou_no", field="hukou_no"))
    head = None
    if not is_empty(values.get("head_id_number")):
        try:
            head = ids.parse_id_number(values.get("head_id_number"), check_region=False).number
        except ValidationError as error:
            # Reported under the 户主身份证号 column, not the person's own.
            problems.add(ValidationError(error.key, field="head_id_number", **error.params))
    relation = problems.attempt(
        lambda: choice(
            values.get("relation"), COLUMN["relation"], "relation", enums.HOUSEHOLD_RELATIONS, RELATION_SPELLINGS
        )
    )
    if not hukou and head is None:
        if relation is not None:
            problems.add(ValidationError("import.relation_without_household", field="relation"))
        return None
    return _HouseholdCells(hukou or "", head or "", relation)


class _RosterCheck:
    """Checks rows one by one, remembering what earlier rows of the same file said."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session = session
        self.scope = scope
        self.villages = village_lookup(session, scope)
        self.age_limits = child_age_limits(session, scope_county(scope))
        self.first_row: dict[str, tuple[int, str, str]] = {}  # id -> (row, name, village)
        self.seen: dict[tuple[str, str], int] = {}  # (id, group) -> row

    def row(self, number: int, values: dict[str, Any]) -> tuple[_Planned | None, Problems]:
        """The planned write for a row (None when already registered) and every problem found."""
        read = self._read(number, values)
        planned = None if read.info is None or read.grouping is None else self._plan(read, values)
        return (None if read.problems.errors else planned), read.problems

    def _read(self, number: int, values: dict[str, Any]) -> _Row:
        problems = Problems()
        cell = problems.attempt
        info = cell(lambda: ids.parse_id_number(values.get("id_number"), check_region=False))
        if (info is not None and is_example_id(info.number)) or _name_cell(values) == EXAMPLE_NAME:
            problems.add(ValidationError("import.example_row", field="id_number"))
        grouping = cell(lambda: care_group(values.get("care_group"), not is_empty(values.get("certificate_no"))))
        if grouping is not None:
            _other_group_columns(grouping[0], values, problems)
        person = _person_values(values, self.villages, problems)
        risk = cell(lambda: risk_choice(values.get("risk"), COLUMN["risk"]))
        start = cell(lambda: _start_date(values, info.birth_date if info else None))
        facts = _facts(*grouping, values, problems) if grouping is not None else None
        if info is not None and grouping is not None:
            cell(lambda: self._against_earlier_rows(number, info.number, grouping[0], person))
        household = _household_cells(values, problems)
        return _Row(number, problems, info, grouping, person, risk, start, facts, household)

    def _plan(self, read: _Row, values: dict[str, Any]) -> _Planned | None:
        assert read.info is not None and read.grouping is not None
        existing = self.session.scalar(select(Person).where(Person.id_number == read.info.number))
        if existing is not None:
            return self._existing(read, existing)
        problems = read.problems
        # The register's own checks need a name and a village found; their absence is already reported.
        found = read.person["name"] and read.person["village_code"]
        cleaned = self._register_check(read) if found else None
        group, subtype = read.grouping
        facts = None
        if read.facts is not None:
            birth = read.info.birth_date
            facts = problems.attempt(
                lambda: clean_facts(
                    group,
                    subtype,
                    read.facts or {},
                    id_number=read.info.number if read.info else "",
                    birth_date=birth,
                    on=clock.today(),
                    age_limits=self.age_limits,
                )
            )
        if cleaned is None or facts is None:
            return None
        return _Planned(
            read.number,
            read.info.number,
            read.person,
            group,
            subtype,
            facts,
            _override(group, subtype, facts, read.info.birth_date, read.risk),
            warnings=cleaned[1],
            start_date=read.start,
            household=read.household,
            village_code=str(read.person["village_code"]),
        )

    def _register_check(self, read: _Row) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]] | None:
        """clean_person on the row; a problem in an optional cell does not hide the ones after it."""
        values = dict(read.person)
        found = None
        while True:
            try:
                cleaned = clean_person(self.session, self.scope, values)
            except ValidationError as error:
                if not read.problems.at(error.field):
                    read.problems.add(error)
                blank = _OPTIONAL_PERSON_CELLS.get(error.field or "", ())
                if not blank or all(is_empty(values[k]) for k in blank):
                    return None
                values.update(dict.fromkeys(blank))
                found = error
            else:
                return None if found is not None else cleaned

    def _against_earlier_rows(self, number: int, id_number: str, group: str, person: dict[str, Any]) -> None:
        earlier = self.seen.get((id_number, group))
        if earlier is not None:
            raise ValidationError("import.duplicate_in_file", field="id_number", other=earlier)
        self.seen[(id_number, group)] = number
        first = self.first_row.setdefault(id_number, (number, person["name"], person["village_code"]))
        if first[0] != number and (first[1], first[2]) != (person["name"], person["village_code"]):
            raise ValidationError("import.conflicting_rows", field="id_number", other=first[0])

    def _disagreements(self, person: Person, given: dict[str, Any], problems: Problems) -> None:
        """Each column the row fills that says otherwise than the register (never silently kept)."""
        for key, same in _COMPARED:
            value = given.get(key)
            if is_empty(value) or problems.at(key):
                continue
            registered = getattr(person, key)
            if same(value) != same(registered):
                problems.add(
                    ValidationError(
                        "import.differs_from_register",
                        field=key,
                        registered=self._shown(key, registered),
                        given=self._shown(key, value),
                    )
                )

    def _shown(self, key: str, value: Any) -> str:
        if is_empty(value):
            return t("import.register_empty")
        if key == "village_code":
            village = self.villages.by_code.get(str(value))
            return village.label() if village else str(value)
        return shown(value)

    def _existing(self, read: _Row, person: Person) -> _Planned | None:
        problems = read.problems
        assert read.grouping is not None
        group, subtype = read.grouping
        if visible_person(self.session, self.scope, person.id, include_deleted=True) is None:
            problems.add(ValidationError("person.duplicate_elsewhere", field="id_number"))
            return None
        if person.deleted:
            problems.add(
                ValidationError(
                    "person.duplicate_deleted", field="id_number", name=person.name, village=person.village_code
                )
            )
            return None
        self._disagreements(person, read.person, problems)
        enrolled = self.session.scalar(
            select(Enrollment.id).where(
                Enrollment.person_id == person.id, Enrollment.group == group, Enrollment.end_date.is_(None)
            )
        )
        if enrolled is not None:
            return None
        if person.status in ("deceased", "moved"):
            problems.add(ValidationError("enrollment.person_not_active", field="care_group"))
            return None
        if read.facts is None:
            return None
        facts = problems.attempt(
            lambda: clean_facts(
                group,
                subtype,
                read.facts or {},
                id_number=person.id_number,
                birth_date=person.birth_date,
                on=clock.today(),
                age_limits=self.age_limits,
            )
        )
        if facts is None:
            return None
        return _Planned(
            read.number,
            person.id_number,
            {},
            group,
            subtype,
            facts,
            _override(group, subtype, facts, person.birth_date, read.risk),
            person_id=person.id,
            start_date=read.start,
            household=read.household,
            village_code=person.village_code,
        )


def _name_cell(values: dict[str, Any]) -> str:
    return " ".join(str(values.get("name") or "").split())


def check_roster(
    session: Session, scope: Scope, table: Table, report: ImportReport, progress: Progress | None = None
) -> list[_Planned]:
    """Every row checked (all problems collected in ``report``); the rows that are new."""
    sheet = open_sheet(scope, "import.roster", table, COLUMNS, report)
    if sheet is None:
        return []
    checker = _RosterCheck(session, scope)
    planned: list[_Planned] = []
    for done, (row, values) in enumerate(sheet.rows(), start=1):
        item, problems = checker.row(row, values)
        if problems.errors:
            report.errors.extend(problems.row_errors(COLUMNS, row, ALIASES))
        elif item is None:
            report.unchanged += 1
        else:
            planned.append(item)
            report.warnings.extend(RowError(row, COLUMN["lat"].header, key, p) for key, p in item.warnings)
        if progress and (done % 50 == 0 or done == report.rows):
            progress(done, 0, report.rows)
    report.errors.extend(_household_problems(session, scope, planned))
    report.new = len(planned)
    return planned


def _household_problems(session: Session, scope: Scope, planned: list[_Planned]) -> list[RowError]:
    """Rows of one household must agree: one village, one head, the head found, one household per person."""
    problems: list[RowError] = []

    def refuse(item: _Planned, key: str, column: str, **params: Any) -> None:
        problems.append(row_error(COLUMNS, item.row, ValidationError(key, field=column, **params), ALIASES))

    first: dict[str, _Planned] = {}
    person_key: dict[str, _Planned] = {}
    heads: dict[str, tuple[str, int]] = {}
    in_file = {item.id_number: item for item in planned}
    for item in planned:
        cells = item.household
        earlier = person_key.setdefault(item.id_number, item)
        if earlier is not item and earlier.household != cells:
            refuse(item, "import.household_conflict", "hukou_no", other=earlier.row)
            continue
        if cells is None:
            continue
        leader = first.setdefault(cells.key, item)
        if leader.village_code != item.village_code:
            refuse(item, "import.household_two_villages", "hukou_no", other=leader.row)
        head = cells.head_id or (item.id_number if cells.relation == "head" else "")
        if cells.relation == "head" and cells.head_id and cells.head_id != item.id_number:
            refuse(item, "import.household_two_heads", "relation", other=item.row)
        if head:
            named = heads.setdefault(cells.key, (head, item.row))
            if named[0] != head:
                refuse(item, "import.household_two_heads", "head_id_number", other=named[1])
        if cells.head_id and cells.head_id not in in_file:
            registered = session.scalar(select(Person).where(Person.id_number == cells.head_id))
            seen = registered is not None and visible_person(session, scope, registered.id) is not None
            if not seen or registered is None or registered.village_code != item.village_code:
                refuse(item, "import.head_not_found", "head_id_number", id_number=ids.mask_id_number(cells.head_id))
    return problems


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
    _write_households(session, planned, created, report)


def _write_households(session: Session, planned: list[_Planned], created: dict[str, int], report: ImportReport) -> None:
    """Put the rows of each household of the file together, in file order; family rules re-run once."""
    groups: dict[str, list[_Planned]] = {}
    for item in planned:
        if item.household is not None:
            groups.setdefault(item.household.key, []).append(item)
    ids_of = dict(created)

    def person_id(id_number: str) -> int | None:
        if id_number not in ids_of:
            found = session.scalar(select(Person.id).where(Person.id_number == id_number))
            if found is not None:
                ids_of[id_number] = found
        return ids_of.get(id_number)

    moved: list[int] = []
    for items in groups.values():
        cells = items[0].household
        assert cells is not None
        members: dict[int, str | None] = {}
        for item in items:
            pid = item.person_id or person_id(item.id_number)
            if pid is not None and item.household is not None:
                members.setdefault(pid, item.household.relation)
        head_number = cells.head_id or next(
            (i.id_number for i in items if i.household and i.household.relation == "head"), ""
        )
        head = person_id(head_number) if head_number else None
        hid = households.gather(
            session, hukou_no=cells.hukou_no, village_code=items[0].village_code, head_id=head, members=members
        )
        report.created.setdefault("households", []).append(hid)
        moved.extend(members)
    if moved:
        membership.refresh_family(session, moved)
