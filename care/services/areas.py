"""Areas: import the official code list and boundaries, and re-divisions (行政区划调整, 撤并).

Every function here is all or nothing: a file with one bad row writes nothing, and a merge moves
persons, workers, users and child areas in the caller's one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import Session

from care import audit
from care.domain import areas, clock
from care.domain.errors import RowError, ValidationError
from care.files import area_files
from care.i18n import t
from care.permissions import require
from care.queries.scoping import in_area
from care.scope import Scope
from db.models import Area, AreaChange, Household, Person, PersonAreaHistory, User, Worker

MERGE_LEVELS = ("township", "village")


@dataclass
class AreaImport:
    """What an import did (or, with errors, would not do): counts, rows skipped by level, every bad row."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        """Rows or features left out as another area's (repeated header rows included)."""
        return sum(self.skipped.values())


def _county_of_scope(scope: Scope) -> str:
    require(scope, "area.manage")
    if scope.sees_nothing or scope.area_code is None:
        raise ValidationError("error.no_scope")
    return areas.county_of(scope.area_code)


def _stored_codes(session: Session, scope: Scope) -> dict[str, Area]:
    prefix = scope.prefix or "-"
    return {a.code: a for a in session.scalars(select(Area).where(in_area(Area.code, prefix)))}


def _code_files(data: bytes | Sequence[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [("", data)] if isinstance(data, bytes) else list(data)


def _changed(area: Area, row: area_files.CodeRow) -> bool:
    """Whether a row says something new about a stored area (an empty cell never wipes what is stored)."""
    return (
        area.name != row.name
        or (row.lat is not None and (area.lat, area.lon) != (row.lat, row.lon))
        or (row.urban_rural is not None and area.urban_rural != row.urban_rural)
    )


def _apply_code_rows(
    session: Session,
    result: AreaImport,
    *,
    stored: Mapping[str, Area],
    rows: Sequence[area_files.CodeRow],
    today: dt.date,
    dry_run: bool,
) -> None:
    """Count each row as created, updated or unchanged, county first; write the change unless a dry run."""
    for row in sorted(rows, key=lambda r: ("county", "township", "village").index(r.level)):
        area = stored.get(row.code)
        if area is None:
            result.created += 1
            if not dry_run:
                session.add(
                    Area(
                        code=row.code,
                        name=row.name,
                        level=row.level,
                        parent_code=row.parent_code,
                        lat=row.lat,
                        lon=row.lon,
                        urban_rural=row.urban_rural,
                        valid_from=today,
                    )
                )
                session.flush()
        elif _changed(area, row):
            result.updated += 1
            if not dry_run:
                area.name = row.name
                if row.lat is not None:
                    area.lat, area.lon = row.lat, row.lon
                if row.urban_rural is not None:
                    area.urban_rural = row.urban_rural
        else:
            result.unchanged += 1


def _audit_import(
    session: Session, scope: Scope, result: AreaImport, *, county: str, detail: dict[str, object]
) -> None:
    """Audit a written area import (code lists or boundaries) with ``detail``, and mark it written."""
    audit.record(session, scope=scope, action="area.import", entity="area", entity_id=county, detail=detail)
    session.flush()
    result.written = True


def _audit_code_import(
    session: Session,
    scope: Scope,
    result: AreaImport,
    *,
    county: str,
    row_count: int,
    files: Sequence[tuple[str, bytes]],
) -> None:
    """Audit a written code-list import with its counts and the files' SHA-256, and mark it written."""
    hashes = [hashlib.sha256(content).hexdigest() for _, content in files]
    detail = {
        "kind": "code_list",
        "rows": row_count,
        "created": result.created,
        "updated": result.updated,
        "skipped": result.skipped,
        "sha256": hashes if len(hashes) > 1 else hashes[0],
    }
    _audit_import(session, scope, result, county=county, detail=detail)


def import_area_codes(
    session: Session, scope: Scope, *, data: bytes | Sequence[tuple[str, bytes]], dry_run: bool = False
) -> AreaImport:
    """Create or update the areas of official code lists (CSV) in the admin's county, all or nothing.

    ``data`` is one file, or (name, content) pairs checked as one list (a township list beside its
    village list). Rows of other areas than the county are skipped and counted; see
    ``area_files.check_code_files`` for the layouts read.
    """
    county = _county_of_scope(scope)
    files = _code_files(data)
    stored = _stored_codes(session, scope)
    checked = area_files.check_code_files(
        files, county_code=county, existing={code: a.valid_to for code, a in stored.items()}
    )
    result = AreaImport(errors=checked.errors, skipped=dict(checked.skipped))
    if checked.errors:
        return result
    today = clock.today()
    _apply_code_rows(session, result, stored=stored, rows=checked.rows, today=today, dry_run=dry_run)
    if not dry_run:
        _audit_code_import(session, scope, result, county=county, row_count=len(checked.rows), files=files)
    return result


def import_boundaries(
    session: Session,
    scope: Scope,
    *,
    data: bytes,
    datum: str,
    code_property: str = "",
    dry_run: bool = False,
) -> AreaImport:
    """Set the boundaries of the county and its current townships and villages from GeoJSON, all or nothing.

    ``datum`` is the file's: ``wgs84``, or ``gcj02`` (AMap, DataV) converted to WGS-84; there is no
    default. Features of other areas (a DataV file's other counties) are skipped and counted.
    """
    county = _county_of_scope(scope)
    stored = _stored_codes(session, scope)
    known = {c: a.level for c, a in stored.items() if a.valid_to is None}
    checked = area_files.check_boundary_file(
        data, code_property=code_property.strip(), known=known, datum=datum, county_code=county
    )
    result = AreaImport(errors=checked.errors, skipped=dict(checked.skipped))
    if checked.errors:
        return result
    if not checked.boundaries:
        raise ValidationError("area.no_features_for_county", county=county, skipped=result.skipped_total)
    for boundary in checked.boundaries:
        area = stored[boundary.code]
        if area.boundary == boundary.geometry:
            result.unchanged += 1
            continue
        result.updated += 1
        if not dry_run:
            area.boundary = boundary.geometry
            if area.lat is None or area.lon is None:
                area.lat, area.lon = boundary.lat, boundary.lon
    if not dry_run:
        detail = {
            "kind": "boundaries",
            "features": len(checked.boundaries),
            "updated": result.updated,
            "skipped": result.skipped,
            "datum": area_files.check_datum(datum),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
        _audit_import(session, scope, result, county=county, detail=detail)
    return result


# --- re-division --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MergePlan:
    """A merge worked out but not applied: every retired code's new code, and what would move."""

    level: str
    target: str
    target_name: str
    target_is_new: bool
    sources: tuple[str, ...]
    code_map: dict[str, str]
    new_areas: tuple[tuple[str, str, str], ...]  # (new code, name, old code or "") for areas to create
    persons: int
    workers: int
    users: int


@dataclass(frozen=True)
class MergeDone:
    """The applied merge: the change record's id, the plan it followed and the audit event id."""

    change_id: int
    plan: MergePlan
    audit_id: int


def _source_areas(session: Session, scope: Scope, sources: Sequence[str], target: str) -> list[Area]:
    codes = list(dict.fromkeys(str(c).strip() for c in sources if str(c).strip() and str(c).strip() != target))
    if not codes:
        raise ValidationError("area.merge_need_sources", field="merge_sources")
    found: list[Area] = []
    for code in codes:
        area = session.get(Area, code) if areas.is_code(code) else None
        if area is None or area.valid_to is not None or not scope.covers(code) or area.level not in MERGE_LEVELS:
            raise ValidationError("area.merge_bad_source", field="merge_sources", code=code[:20])
        found.append(area)
    if len({a.level for a in found}) != 1:
        raise ValidationError("area.merge_mixed_levels", field="merge_sources")
    return found


def _target_area(session: Session, scope: Scope, target: str, level: str, name: str | None) -> tuple[Area | None, str]:
    if not area_files.well_formed(target) or areas.level_of(target) != level:
        raise ValidationError("area.merge_target_level", field="merge_target", code=target[:20])
    if not scope.covers(target):
        raise ValidationError("area.merge_target_outside", field="merge_target", code=target)
    existing = session.get(Area, target)
    if existing is not None:
        if existing.valid_to is not None or existing.level != level:
            raise ValidationError("area.merge_target_retired", field="merge_target", code=target)
        return existing, existing.name
    clean = " ".join((name or "").split())
    if not clean or len(clean) > 64:
        raise ValidationError("area.merge_target_name", field="merge_target_name")
    parent = session.get(Area, area_files.parent_of(target) or "")
    if parent is None or parent.valid_to is not None:
        raise ValidationError("area.merge_target_parent", field="merge_target", code=target)
    return None, clean


def _recoded_villages(session: Session, townships: list[Area], target: str) -> list[tuple[str, str, str]]:
    """New codes under ``target`` for the current villages of merged townships (same suffix when free)."""
    taken = set(session.scalars(select(Area.code).where(in_area(Area.code, target[:9]))))
    planned: list[tuple[str, str, str]] = []
    for township in townships:
        villages = session.scalars(
            select(Area).where(Area.parent_code == township.code, Area.valid_to.is_(None)).order_by(Area.code)
        )
        for village in villages:
            start = int(village.code[9:])
            for suffix in [*range(start, 1000), *range(1, start)]:
                code = f"{target[:9]}{suffix:03d}"
                if code not in taken:
                    break
            else:
                raise ValidationError("area.merge_no_free_code", field="merge_target", code=target)
            taken.add(code)
            planned.append((code, village.name, village.code))
    return planned


def plan_merge(
    session: Session, scope: Scope, *, sources: Sequence[str], target: str, target_name: str | None = None
) -> MergePlan:
    """Check a merge of ``sources`` into ``target`` (an existing current area, or a new code with a name)."""
    _county_of_scope(scope)
    target = str(target or "").strip()
    found = _source_areas(session, scope, sources, target)
    level = found[0].level
    existing, name = _target_area(session, scope, target, level, target_name)
    code_map = {a.code: target for a in found}
    new_areas: list[tuple[str, str, str]] = [] if existing else [(target, name, "")]
    if level == "township":
        recoded = _recoded_villages(session, found, target)
        code_map.update({old: new for new, _, old in recoded})
        new_areas += recoded
    village_codes = [c for c in code_map if areas.level_of(c) == "village"]
    persons = session.scalar(select(func.count()).where(Person.village_code.in_(village_codes))) or 0
    workers = session.scalar(select(func.count()).where(Worker.area_code.in_(list(code_map)))) or 0
    users = session.scalar(select(func.count()).where(User.area_code.in_(list(code_map)))) or 0
    return MergePlan(
        level=level,
        target=target,
        target_name=name,
        target_is_new=existing is None,
        sources=tuple(a.code for a in found),
        code_map=code_map,
        new_areas=tuple(new_areas),
        persons=int(persons),
        workers=int(workers),
        users=int(users),
    )


def _merged_boundary(shapes: list[str | None]) -> str | None:
    polygons = [p for s in shapes for p in area_files.parse_geometry(s)]
    return area_files.geometry_json(polygons) if polygons else None


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(sum(present) / len(present), 6) if present else None


def _create_areas(session: Session, plan: MergePlan, today: dt.date) -> None:
    for code, name, old in plan.new_areas:
        if old:  # a village of a merged township, recoded under the target township
            source = session.get(Area, old)
            assert source is not None
            lat, lon, boundary = source.lat, source.lon, source.boundary
            parent: str | None = plan.target
        else:  # the new target: centroid and outline of the areas it replaces
            merged = [session.get(Area, c) for c in plan.sources]
            lat, lon = _mean([a.lat for a in merged if a]), _mean([a.lon for a in merged if a])
            boundary = _merged_boundary([a.boundary for a in merged if a])
            parent = area_files.parent_of(code)
        session.add(
            Area(
                code=code,
                name=name,
                level=areas.level_of(code),
                parent_code=parent,
                lat=lat,
                lon=lon,
                boundary=boundary,
                valid_from=today,
            )
        )
        session.flush()
    if not plan.target_is_new:
        target = session.get(Area, plan.target)
        merged = [session.get(Area, c) for c in plan.sources]
        if target is not None:
            target.boundary = _merged_boundary([target.boundary, *(a.boundary for a in merged if a)])
            session.flush()


def _record_change(session: Session, scope: Scope, plan: MergePlan, *, today: dt.date, now: dt.datetime) -> int:
    """Store the merge as an area change effective today, and return its id."""
    change = AreaChange(
        kind="merge",
        level=plan.level,
        target_code=plan.target,
        effective_on=today,
        code_map=plan.code_map,
        counts={"persons": plan.persons, "workers": plan.workers, "users": plan.users},
        created_at=now,
        created_by=scope.user_id,
    )
    session.add(change)
    session.flush()
    return change.id


def _move_persons(session: Session, plan: MergePlan, *, change_id: int, today: dt.date, now: dt.datetime) -> None:
    """Keep each moved person's old village in the history, then move persons and households to the new villages."""
    village_map = {old: new for old, new in plan.code_map.items() if areas.level_of(old) == "village"}
    session.execute(
        insert(PersonAreaHistory).from_select(
            ["person_id", "village_code", "until", "change_id"],
            select(Person.id, Person.village_code, literal(today), literal(change_id)).where(
                Person.village_code.in_(list(village_map))
            ),
        )
    )
    for old, new in village_map.items():
        session.execute(
            update(Person)
            .where(Person.village_code == old)
            .values(village_code=new, version=Person.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        # Households move with their members: the same house, now in the new village's code.
        session.execute(
            update(Household)
            .where(Household.village_code == old)
            .values(village_code=new, version=Household.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _retire_codes(session: Session, plan: MergePlan, *, today: dt.date) -> None:
    """Move workers and users to the new codes and end the old areas yesterday, replaced by the new ones."""
    for old, new in plan.code_map.items():
        session.execute(update(Worker).where(Worker.area_code == old).values(area_code=new))
        session.execute(update(User).where(User.area_code == old).values(area_code=new, version=User.version + 1))
        session.execute(
            update(Area).where(Area.code == old).values(valid_to=today - dt.timedelta(days=1), replaced_by=new)
        )


def _audit_merge(session: Session, scope: Scope, plan: MergePlan) -> int:
    """Audit the merge with its old and new codes and what moved, and return the event id."""
    event = audit.record(
        session,
        scope=scope,
        action="area.merge",
        entity="area",
        entity_id=plan.target,
        detail={
            "old_codes": list(plan.sources),
            "new_code": plan.target,
            "level": plan.level,
            "new_target": plan.target_is_new,
            "recoded": {old: new for old, new in plan.code_map.items() if old not in plan.sources},
            "persons": plan.persons,
            "workers": plan.workers,
            "users": plan.users,
        },
    )
    return event.id


def merge_areas(
    session: Session,
    scope: Scope,
    *,
    sources: Sequence[str],
    target: str,
    target_name: str | None = None,
    expected: Mapping[str, str] | None = None,
) -> MergeDone:
    """Merge villages or townships into ``target``: move everything, retire the old codes, audit.

    ``expected`` is the code map the admin confirmed; when the areas changed since, nothing is done.
    Persons keep their old village in ``person_area_history`` so past months can still be told apart.
    """
    plan = plan_merge(session, scope, sources=sources, target=target, target_name=target_name)
    if expected is not None and dict(expected) != plan.code_map:
        raise ValidationError("area.merge_plan_changed")
    today, now = clock.today(), clock.now()
    _create_areas(session, plan, today)
    change_id = _record_change(session, scope, plan, today=today, now=now)
    _move_persons(session, plan, change_id=change_id, today=today, now=now)
    _retire_codes(session, plan, today=today)
    audit_id = _audit_merge(session, scope, plan)
    session.expire_all()
    return MergeDone(change_id=change_id, plan=plan, audit_id=audit_id)


def describe_errors(errors: Sequence[RowError], lang: str) -> list[dict[str, Any]]:
    """Row errors as plain rows (row, column, message) in the user's language, for a table or CSV."""
    return [{"row": e.row, "column": e.column, "message": t(e.key, lang, **e.params)} for e in errors]


def describe_skipped(result: AreaImport, lang: str, *, features: bool = False) -> str | None:
    """One sentence counting the rows (or features) skipped as other areas', by level; None when none were."""
    if not result.skipped_total:
        return None
    order = [*area_files.LEVELS, "header"]
    kinds = "、" if lang == "zh" else ", "
    named = kinds.join(
        t(f"area.skip_kind.{kind}", lang, n=result.skipped[kind])
        for kind in sorted(result.skipped, key=lambda k: order.index(k) if k in order else len(order))
    )
    key = "area.skipped_features" if features else "area.skipped"
    return t(key, lang, count=result.skipped_total, kinds=named)


def code_map_json(plan: MergePlan) -> str:
    """The plan's code map as stable JSON (what a confirmation form carries)."""
    return json.dumps(plan.code_map, sort_keys=True)
