"""The import templates: headers and one example row, then the villages the user may import into."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import xlsxwriter
from sqlalchemy import distinct, select
from sqlalchemy.orm import Session, aliased

from care.domain import clock, enums
from care.i18n import t
from care.imports import roster, services, visits
from care.permissions import require
from care.queries.scoping import in_area, person_conditions
from care.scope import Scope
from db.models import Area, Person

# Columns whose digits must stay text in Excel (an ID in a number cell loses its last digits).
TEXT_COLUMNS = {
    "id_number",
    "village_code",
    "phone",
    "guardian_phone",
    "certificate_no",
    "visited_at",
    "hukou_no",
    "head_id_number",
    "delivered_on",
}
VILLAGE_HEADERS = ("村(社区)代码", "村(社区)名称", "乡镇(街道)")


def villages_for_import(session: Session, scope: Scope) -> list[tuple[str, str, str]]:
    """(code, village, township) of the current villages the user may import into."""
    if scope.sees_nothing or scope.prefix is None:
        return []
    township = aliased(Area)
    today = clock.today()
    stmt = (
        select(Area.code, Area.name, township.name)
        .join(township, township.code == Area.parent_code, isouter=True)
        .where(
            in_area(Area.code, scope.prefix),
            Area.level == "village",
            Area.valid_to.is_(None) | (Area.valid_to >= today),
        )
        .order_by(Area.code)
    )
    if scope.assigned_only:
        stmt = stmt.where(Area.code.in_(select(distinct(Person.village_code)).where(*person_conditions(scope))))
    return [(code, name, town or "") for code, name, town in session.execute(stmt)]


def _example_id(scope: Scope, villages: list[tuple[str, str, str]]) -> str:
    """The example row's ID number, in the user's own county (a placeholder when it has none)."""
    region = villages[0][0][:6] if villages else (scope.prefix or "")[:6]
    if len(region) == 6 and region.isdigit():
        return roster.example_id(region, clock.today())
    return t("import.example_id_placeholder")


def _example(kind: str, scope: Scope, villages: list[tuple[str, str, str]]) -> dict[str, Any]:
    if kind == "roster":
        village = villages[0][0] if villages else t("import.example_village_placeholder")
        return {**roster.EXAMPLE_ROW, "id_number": _example_id(scope, villages), "village_code": village}
    day = clock.today() - dt.timedelta(days=1)
    if kind == "services":
        return {
            "id_number": _example_id(scope, villages),
            "service": "助餐",
            "delivered_on": day.isoformat(),
            "provider": "",
            "delivered_by": "王志愿",
            "minutes": 60,
            "satisfaction": t("enum.satisfaction.satisfied"),
            "note": "送餐到家（示例，请删除本行）",
        }
    return {
        "id_number": _example_id(scope, villages),
        "care_group": "留守儿童",
        "visited_at": day.isoformat(),
        "status": t("enum.visit_status.done"),
        "mode": t("enum.mode.home"),
        "worker": "",
        "notes": "孩子在家，祖母照看，情况稳定（示例，请删除本行）",
        "needs": f"{t('enum.need_kind.schooling')}：需联系学校办理午餐补助",
    }


# Drop-down lists offered in the first sheet (typing another value is still allowed and checked).
def _choices(kind: str) -> dict[str, list[str]]:
    if kind == "roster":
        return {
            "care_group": list(roster.CARE_GROUPS),
            "risk": [t(f"enum.risk.{r}") for r in enums.RISKS],
            "guardianship": [t(f"enum.guardianship.{g}") for g in enums.GUARDIANSHIP],
            "schooling": [t(f"enum.schooling.{s}") for s in enums.SCHOOLING],
            "living_arrangement": [t(f"enum.living_arrangement.{v}") for v in enums.LIVING],
            "self_care": [t(f"enum.self_care.{v}") for v in enums.SELF_CARE],
            "category": [t(f"enum.category.{c}") for c in enums.DISABILITY_CATEGORIES],
            "grade": [t(f"enum.grade.{g}") for g in enums.DISABILITY_GRADES],
            "relation": [t(f"enum.relation.{r}") for r in enums.HOUSEHOLD_RELATIONS],
        }
    if kind == "services":
        return {"satisfaction": [t(f"enum.satisfaction.{s}") for s in enums.SATISFACTION]}
    return {
        "care_group": [t(f"enum.group.{g}") for g in enums.GROUPS],
        "status": [t(f"enum.visit_status.{s}") for s in ("done", "not_met", "cancelled")],
        "mode": [t(f"enum.mode.{m}") for m in enums.VISIT_MODES],
    }


def build_template(session: Session, scope: Scope, *, kind: str) -> bytes:
    """The .xlsx template of ``kind`` ('roster', 'visits' or 'services') for this user."""
    require(scope, f"import.{kind}")
    columns = {"roster": roster.COLUMNS, "services": services.COLUMNS}.get(kind, visits.COLUMNS)
    villages = villages_for_import(session, scope)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    as_text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet(t(f"import.sheet_{kind}"))
    example = _example(kind, scope, villages)
    choices = _choices(kind)
    for col, column in enumerate(columns):
        width = max(12, len(column.header) * 2 + 4)
        sheet.set_column(col, col, width, as_text if column.key in TEXT_COLUMNS else None)
        sheet.write_string(0, col, column.header, head)
        value = example.get(column.key)
        if isinstance(value, (int, float)):
            sheet.write_number(1, col, value)
        elif value:
            sheet.write_string(1, col, str(value), as_text)
        if column.key in choices:
            sheet.data_validation(
                1, col, 50_000, col, {"validate": "list", "source": choices[column.key], "error_type": "information"}
            )
    sheet.freeze_panes(1, 0)
    listing = book.add_worksheet(t("import.sheet_villages"))
    listing.set_column(0, 0, 16, as_text)
    listing.set_column(1, 2, 18)
    for col, header in enumerate(VILLAGE_HEADERS):
        listing.write_string(0, col, header, head)
    for row, (code, name, town) in enumerate(villages, start=1):
        listing.write_string(row, 0, code, as_text)
        listing.write_string(row, 1, name)
        listing.write_string(row, 2, town)
    book.close()
    return buffer.getvalue()
