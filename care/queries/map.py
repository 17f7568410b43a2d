"""Reads for the map (总览地图): village aggregates, person points, persons without a location.

Every read starts from ``person_conditions(scope)``: the map, its counts and its lists show exactly
what the registers show the same user.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, and_, case, distinct, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from care import audit
from care.domain import areas, ids, policy
from care.domain.enums import RISK_ORDER
from care.domain.errors import NotFound
from care.domain.map_data import (
    VISIT_STATES,
    AreaShape,
    PersonDot,
    VillageDot,
    boundary_centroid,
    fit_bounds,
    shape_centre,
)
from care.domain.tiles import TILES_SETTING
from care.queries.scoping import in_area, in_county_of, person_conditions, visible_person
from care.queries.settings import county_of_area, setting_value
from care.scope import Scope
from db.models import Area, Assignment, CountySetting, Enrollment, HouseholdMember, Person, Worker

LIST_LIMIT = 300
LIST_COLUMNS = ["person_id", "name", "id_masked", "village", "groups", "risk", "state", "next_due_on", "worker"]


@dataclass(frozen=True)
class MapFilter:
    """What the user chose above the map; empty values do not filter."""

    area_code: str | None = None
    groups: tuple[str, ...] = ()
    risk: str | None = None
    state: str | None = None
    worker_id: int | None = None
    unassigned: bool = False


@dataclass(frozen=True)
class PersonSummary:
    """What the side panel shows for a clicked person (ID masked on the map page, always)."""

    id: int
    name: str
    id_masked: str
    village: str
    township: str
    address: str
    has_location: bool
    enrollments: list[dict[str, Any]] = field(default_factory=list)


def visit_state(next_due_on: dt.date | None, last_visit_on: dt.date | None, today: dt.date) -> str:
    """'overdue', 'never' (not visited yet, not overdue), 'due_soon' or 'on_time' for one enrollment."""
    if next_due_on is not None and next_due_on < today:
        return "overdue"
    if last_visit_on is None:
        return "never"
    return policy.due_status(next_due_on, today)


def state_condition(state: str, today: dt.date) -> ColumnElement[bool]:
    """SQL twin of :func:`visit_state` (the same four answers)."""
    soon = today + dt.timedelta(days=policy.DUE_SOON_DAYS)
    not_overdue = or_(Enrollment.next_due_on.is_(None), Enrollment.next_due_on >= today)
    visited = Enrollment.last_visit_on.is_not(None)
    if state == "overdue":
        return Enrollment.next_due_on < today
    if state == "never":
        return and_(not_overdue, Enrollment.last_visit_on.is_(None))
    if state == "due_soon":
        return and_(visited, Enrollment.next_due_on >= today, Enrollment.next_due_on <= soon)
    if state == "on_time":
        return and_(visited, or_(Enrollment.next_due_on.is_(None), Enrollment.next_due_on > soon))
    return false()


def _current_assignment(today: dt.date, *conditions: ColumnElement[bool]) -> Any:
    return select(Assignment.enrollment_id).where(
        Assignment.start_date <= today,
        Assignment.end_date.is_(None) | (Assignment.end_date >= today),
        *conditions,
    )


def _person_conditions(scope: Scope, flt: MapFilter) -> list[ColumnElement[bool]]:
    conditions = person_conditions(scope)
    if flt.area_code:
        if not areas.is_code(flt.area_code):
            return [false()]
        conditions.append(in_area(Person.village_code, areas.prefix_of(flt.area_code)))
    return conditions


def _enrollment_conditions(flt: MapFilter, today: dt.date, *, by_person: bool = False) -> list[ColumnElement[bool]]:
    # by_person: the same test in a form no index can serve, so the planner walks the area's persons
    # (village-code range) and their enrollments instead of every active enrollment in the county.
    active = func.coalesce(Enrollment.end_date, Enrollment.end_date) if by_person else Enrollment.end_date
    conditions: list[ColumnElement[bool]] = [active.is_(None)]
    if flt.groups:
        conditions.append(Enrollment.group.in_(flt.groups))
    if flt.risk:
        conditions.append(Enrollment.risk == flt.risk)
    if flt.state:
        conditions.append(state_condition(flt.state, today))
    if flt.worker_id is not None:
        conditions.append(Enrollment.id.in_(_current_assignment(today, Assignment.worker_id == flt.worker_id)))
    if flt.unassigned:
        conditions.append(Enrollment.id.not_in(_current_assignment(today)))
    return conditions


def _where(scope: Scope, flt: MapFilter, today: dt.date, *, by_person: bool = False) -> list[ColumnElement[bool]]:
    where = [*_person_conditions(scope, flt), *_enrollment_conditions(flt, today, by_person=by_person)]
    if not by_person:
        # The enrollments of the area's county only (its range of the county index).
        area = areas.prefix_of(flt.area_code) if flt.area_code and areas.is_code(flt.area_code) else scope.prefix
        where.append(in_county_of(Enrollment.county_code, area))
    return where


@dataclass(frozen=True)
class UnplacedVillage:
    """A village with matching persons but no place to draw it: no centroid, no located person, no township place."""

    code: str
    name: str
    township: str
    persons: int
    overdue: int


@dataclass(frozen=True)
class VillageView:
    """The county view's villages: the circles drawn (each saying how it was placed) and those with no place."""

    villages: list[VillageDot] = field(default_factory=list)
    unplaced: list[UnplacedVillage] = field(default_factory=list)

    def placed_by(self, how: str) -> int:
        """How many circles were placed this way ('own', 'persons' or 'township')."""
        return sum(v.placed == how for v in self.villages)

    @property
    def counts(self) -> tuple[int, int]:
        """Persons in the villages, placed or not, and how many of them are overdue."""
        return (
            sum(v.persons for v in self.villages) + sum(u.persons for u in self.unplaced),
            sum(v.overdue for v in self.villages) + sum(u.overdue for u in self.unplaced),
        )


@dataclass(frozen=True)
class _Place:
    name: str
    township: str
    at: tuple[float, float] | None  # (lat, lon), None: no place
    placed: str


def _point(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    return None if lat is None or lon is None else (float(lat), float(lon))


def village_aggregates(session: Session, scope: Scope, flt: MapFilter, today: dt.date) -> list[VillageDot]:
    """Per placed village: persons with a matching enrollment, how many overdue, and by group."""
    return village_view(session, scope, flt, today).villages


# The areas a map above a township draws as circles: a county's villages, a city's townships, a
# province's counties (by the length of the code's prefix).
CIRCLE_PREFIX = {"county": 12, "city": 9, "province": 6}


def village_view(session: Session, scope: Scope, flt: MapFilter, today: dt.date, *, size: int = 12) -> VillageView:
    """Per village with matching persons: its circle, placed by its own centroid, else the mean of its
    located persons (in the user's scope), else its township's place; or, failing all three, unplaced.

    With ``size`` 9 (6) the circles are townships (counties) instead, each at its own centroid, else
    the mean of its villages' centroids: a city's map adds up its persons by township.
    """
    overdue = case((Enrollment.next_due_on < today, Person.id))
    by_group = [
        func.count(distinct(case((Enrollment.group == g, Person.id)))) for g in ("child", "elderly", "disabled")
    ]
    area = Person.village_code if size == 12 else func.substr(Person.village_code, 1, size)
    stmt = (
        select(area, func.count(distinct(Person.id)), func.count(distinct(overdue)), *by_group)
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(*_where(scope, flt, today))
        .group_by(area)
    )
    counts = [(str(row[0]).ljust(12, "0"), *row[1:]) for row in session.execute(stmt).all()]
    if not counts:
        return VillageView()
    codes = [row[0] for row in counts]
    places = _village_places(session, scope, codes) if size == 12 else _area_places(session, codes)
    dots: list[VillageDot] = []
    unplaced: list[UnplacedVillage] = []
    for row in counts:
        code, persons, late, child, elderly, disabled = tuple(row)
        place = places.get(code) or _Place(code, "", None, "")
        if place.at is None:
            unplaced.append(UnplacedVillage(code, place.name, place.township, int(persons), int(late)))
            continue
        groups = {"child": int(child), "elderly": int(elderly), "disabled": int(disabled)}
        lat, lon = place.at
        dots.append(
            VillageDot(code, place.name, place.township, lat, lon, int(persons), int(late), groups, place.placed)
        )
    return VillageView(dots, sorted(unplaced, key=lambda u: u.code))


def _village_places(session: Session, scope: Scope, codes: list[str]) -> dict[str, _Place]:
    """Name, township name and place of each village, in one query (a second for townships known only by outline)."""
    township = aliased(Area)
    unlocated = select(Area.code).where(Area.code.in_(codes), or_(Area.lat.is_(None), Area.lon.is_(None)))
    # Only villages without a centroid of their own are averaged: a county's persons are read once at most.
    means = (
        select(Person.village_code.label("code"), func.avg(Person.lat).label("lat"), func.avg(Person.lon).label("lon"))
        .where(
            *person_conditions(scope),
            Person.village_code.in_(unlocated),
            Person.lat.is_not(None),
            Person.lon.is_not(None),
        )
        .group_by(Person.village_code)
        .subquery()
    )
    found = session.execute(
        select(
            Area.code,
            Area.name,
            Area.lat,
            Area.lon,
            means.c.lat.label("mean_lat"),
            means.c.lon.label("mean_lon"),
            township.code.label("town_code"),
            township.name.label("town"),
            township.lat.label("town_lat"),
            township.lon.label("town_lon"),
            township.boundary.is_not(None).label("town_outlined"),
        )
        .outerjoin(township, township.code == Area.parent_code)
        .outerjoin(means, means.c.code == Area.code)
        .where(Area.code.in_(codes))
    ).all()
    # Townships known only by their outline: their boundaries are read once, and only if a village needs them.
    outlined = {
        r.town_code
        for r in found
        if r.town_outlined and not any(map(_point, (r.lat, r.mean_lat, r.town_lat), (r.lon, r.mean_lon, r.town_lon)))
    }
    centres = _outline_centres(session, outlined)
    places = {}
    for r in found:
        choices = (
            ("own", _point(r.lat, r.lon)),
            ("persons", _point(r.mean_lat, r.mean_lon)),
            ("township", _point(r.town_lat, r.town_lon) or centres.get(r.town_code)),
        )
        how, at = next(((h, p) for h, p in choices if p is not None), ("", None))
        places[r.code] = _Place(r.name, r.town or "", at, how)
    return places


def _area_places(session: Session, codes: list[str]) -> dict[str, _Place]:
    """Name, parent's name and place of each township or county: its centroid, else the mean of its villages'."""
    parent = aliased(Area)
    found = session.execute(
        select(Area.code, Area.name, Area.lat, Area.lon, parent.name)
        .outerjoin(parent, parent.code == Area.parent_code)
        .where(Area.code.in_(codes))
    ).all()
    unlocated = [code for code, _, lat, lon, _ in found if _point(lat, lon) is None]
    means = _village_means(session, unlocated)
    places = {}
    for code, name, lat, lon, parent_name in found:
        own = _point(lat, lon)
        at, how = (own, "own") if own is not None else (means.get(code), "villages")
        places[code] = _Place(name, parent_name or "", at, how)
    return places


def _village_means(session: Session, codes: list[str]) -> dict[str, tuple[float, float]]:
    """The mean of the village centroids inside each of these areas (all of one level), in one query."""
    if not codes:
        return {}
    size = areas.PREFIX_LENGTH[areas.level_of(codes[0])]
    part = func.substr(Area.code, 1, size)
    wanted = {code[:size]: code for code in codes}
    rows = session.execute(
        select(part, func.avg(Area.lat), func.avg(Area.lon))
        .where(part.in_(list(wanted)), Area.level == "village", Area.lat.is_not(None), Area.lon.is_not(None))
        .group_by(part)
    ).all()
    return {wanted[prefix]: (float(lat), float(lon)) for prefix, lat, lon in rows}


def _outline_centres(session: Session, codes: set[str]) -> dict[str, tuple[float, float]]:
    """The centre of each of these areas' boundaries (areas without a centroid of their own)."""
    if not codes:
        return {}
    centres = {}
    for code, boundary in session.execute(select(Area.code, Area.boundary).where(Area.code.in_(sorted(codes)))):
        centre = boundary_centroid(boundary) if boundary else None
        if centre is not None:
            centres[code] = centre
    return centres


def person_points(session: Session, scope: Scope, flt: MapFilter, today: dt.date) -> list[PersonDot]:
    """One dot per matching active enrollment of a located person, with their current household (if any)."""
    stmt = (
        select(
            Person.id,
            Person.name,
            Person.lat,
            Person.lon,
            Enrollment.group,
            Enrollment.risk,
            Enrollment.next_due_on,
            Enrollment.last_visit_on,
            HouseholdMember.household_id,
        )
        .join(Enrollment, Enrollment.person_id == Person.id)
        .outerjoin(HouseholdMember, and_(HouseholdMember.person_id == Person.id, HouseholdMember.end_date.is_(None)))
        .where(*_where(scope, flt, today, by_person=True), Person.lat.is_not(None), Person.lon.is_not(None))
        .order_by(Person.id, Enrollment.group)
    )
    return [
        PersonDot(pid, name, group, float(lat or 0), float(lon or 0), visit_state(due, last, today), risk, home)
        for pid, name, lat, lon, group, risk, due, last, home in session.execute(stmt)
    ]


def persons_without_location_count(session: Session, scope: Scope, flt: MapFilter, today: dt.date) -> int:
    """How many matching persons have no coordinates (they are listed, never dropped silently)."""
    stmt = (
        select(func.count(distinct(Person.id)))
        .join(Enrollment, Enrollment.person_id == Person.id)
        .where(*_where(scope, flt, today), or_(Person.lat.is_(None), Person.lon.is_(None)))
    )
    return int(session.scalar(stmt) or 0)


def person_list(
    session: Session,
    scope: Scope,
    flt: MapFilter,
    today: dt.date,
    *,
    missing_location: bool = False,
    limit: int = LIST_LIMIT,
) -> tuple[pd.DataFrame, int]:
    """Matching persons (e.g. of one village, or those without a location) for the side list, and the total."""
    where = _where(scope, flt, today)
    if missing_location:
        where.append(or_(Person.lat.is_(None), Person.lon.is_(None)))
    matching = select(Person.id).join(Enrollment, Enrollment.person_id == Person.id).where(*where).distinct()
    total = int(session.scalar(select(func.count()).select_from(matching.subquery())) or 0)
    people = session.execute(
        select(Person.id, Person.name, Person.id_number, Area.name)
        .join(Area, Area.code == Person.village_code)
        .where(Person.id.in_(matching))
        .order_by(Person.village_code, Person.name, Person.id)
        .limit(max(1, min(limit, 2000)))
    ).all()
    details = _enrollment_details(session, [p[0] for p in people], flt, today)
    records = []
    for pid, name, id_number, village in people:
        mine = details.get(pid, [])
        records.append(
            {
                "person_id": pid,
                "name": name,
                "id_masked": ids.mask_id_number(id_number),
                "village": village,
                "groups": [e["group"] for e in mine],
                "risk": min((e["risk"] for e in mine), key=RISK_ORDER.__getitem__, default=None),
                "state": min((e["state"] for e in mine), key=VISIT_STATES.index, default=None),
                "next_due_on": min((e["next_due_on"] for e in mine if e["next_due_on"]), default=None),
                "worker": "、".join(sorted({e["worker"] for e in mine if e["worker"]})),
            }
        )
    return pd.DataFrame.from_records(records, columns=LIST_COLUMNS), total


def _enrollment_details(
    session: Session, person_ids: list[int], flt: MapFilter, today: dt.date
) -> dict[int, list[dict[str, Any]]]:
    if not person_ids:
        return {}
    current = and_(
        Assignment.enrollment_id == Enrollment.id,
        Assignment.start_date <= today,
        Assignment.end_date.is_(None) | (Assignment.end_date >= today),
    )
    rows = session.execute(
        select(
            Enrollment.id,
            Enrollment.person_id,
            Enrollment.group,
            Enrollment.risk,
            Enrollment.next_due_on,
            Enrollment.last_visit_on,
            Worker.name,
        )
        .outerjoin(Assignment, current)
        .outerjoin(Worker, Worker.id == Assignment.worker_id)
        .where(Enrollment.person_id.in_(person_ids), *_enrollment_conditions(flt, today))
        .order_by(Enrollment.person_id, Enrollment.group, Worker.name)
    )
    by_enrollment: dict[int, dict[str, Any]] = {}
    found: dict[int, list[dict[str, Any]]] = {}
    for eid, pid, group, risk, due, last, worker in rows:
        if eid in by_enrollment:
            if worker:
                by_enrollment[eid]["worker"] = "、".join(filter(None, (by_enrollment[eid]["worker"], worker)))
            continue
        entry = {
            "group": group,
            "risk": risk,
            "next_due_on": due,
            "last_visit_on": last,
            "state": visit_state(due, last, today),
            "worker": worker or "",
        }
        by_enrollment[eid] = entry
        found.setdefault(pid, []).append(entry)
    return found


def person_summary(session: Session, scope: Scope, person_id: int, today: dt.date) -> PersonSummary | None:
    """The clicked person's summary if the user may see them (None otherwise, as for a missing one)."""
    person = visible_person(session, scope, person_id)
    if person is None:
        return None
    village = session.get(Area, person.village_code)
    township = session.get(Area, village.parent_code) if village and village.parent_code else None
    details = _enrollment_details(session, [person.id], MapFilter(), today).get(person.id, [])
    return PersonSummary(
        id=person.id,
        name=person.name,
        id_masked=ids.mask_id_number(person.id_number),
        village=village.name if village else person.village_code,
        township=township.name if township else "",
        address=person.address,
        has_location=person.lat is not None and person.lon is not None,
        enrollments=details,
    )


def worker_options(session: Session, scope: Scope) -> pd.DataFrame:
    """Workers the user may filter by: active ones in the user's area (a coordinator: only themself)."""
    columns = ["id", "name", "kind", "area"]
    if scope.sees_nothing or scope.prefix is None:
        return pd.DataFrame(columns=columns)
    stmt = (
        select(Worker.id, Worker.name, Worker.kind, Area.name)
        .join(Area, Area.code == Worker.area_code)
        .where(Worker.active.is_(True), in_area(Worker.area_code, scope.prefix))
        .order_by(Worker.area_code, Worker.name, Worker.id)
    )
    if scope.assigned_only:
        stmt = stmt.where(Worker.id == scope.worker_id)
    return pd.DataFrame(session.execute(stmt).all(), columns=columns)


def area_shapes(session: Session, scope: Scope, area_code: str | None) -> tuple[AreaShape | None, list[AreaShape]]:
    """The area the map shows (in the user's area) and the shapes drawn: its townships, or its villages."""
    if scope.sees_nothing or scope.prefix is None:
        return None, []
    code = area_code or scope.area_code or ""
    if not areas.is_code(code) or not areas.contains(scope.area_code or "", code):
        code = scope.area_code or ""
    area = session.get(Area, code)
    if area is None:
        return None, []
    shown = _shape(area)
    child_level = areas.LEVEL_BELOW.get(area.level) if area.level != "village" else None
    stmt = select(Area).where(Area.valid_to.is_(None))
    if child_level is None:
        children = [shown]
    else:
        rows = session.scalars(stmt.where(Area.parent_code == area.code, Area.level == child_level).order_by(Area.code))
        children = [_shape(a) for a in rows]
        if area.level == "township" or area.boundary:  # a county is drawn under its townships once it has an outline
            children.insert(0, shown)
    return shown, children


def _shape(area: Area) -> AreaShape:
    return AreaShape(area.code, area.name, area.level, area.lat, area.lon, area.boundary)


def shapes_bounds(
    shapes: list[AreaShape], points: list[tuple[float, float]], anchor: tuple[float, float] | None = None
) -> list[list[float]] | None:
    """South-west and north-east corners around the points, the areas' centroids and every corner of
    their boundaries; around ``anchor`` (see :func:`area_anchor`) when none is known; else None.
    """
    return fit_bounds(shapes, points, anchor)


def area_anchor(session: Session, code: str) -> tuple[float, float] | None:
    """The area's own centroid, else its township's, else its county's: where a map with nothing else centres."""
    if not areas.is_code(code):
        return None
    chain = list(dict.fromkeys((code, areas.township_of(code), areas.county_of(code))))
    rows = session.execute(select(Area.code, Area.lat, Area.lon).where(Area.code.in_(chain)))
    found = {c: (float(lat), float(lon)) for c, lat, lon in rows if lat is not None and lon is not None}
    return next((found[c] for c in chain if c in found), None)


@dataclass(frozen=True)
class PlaceStart:
    """Where a location picker starts for a village: the village (with its boundary if imported), its
    own centre if it has one, else the nearest centre known above it (township, county)."""

    shape: AreaShape | None
    centre: tuple[float, float] | None
    nearby: tuple[float, float] | None


def place_start(session: Session, scope: Scope, village_code: str | None) -> PlaceStart:
    """The picker's start for a village in the user's area; the user's own area when there is none."""
    code = village_code if village_code and areas.contains(scope.area_code or "", village_code) else None
    area = session.get(Area, code) if code else None
    if area is None:
        return PlaceStart(None, None, area_anchor(session, scope.area_code or ""))
    shape = _shape(area)
    centre = shape_centre(shape)
    return PlaceStart(shape, centre, None if centre else area_anchor(session, area.code))


def tiles_setting(session: Session, area_code: str | None) -> str | None:
    """The ``map.tiles`` setting of the area's county (else the installation's) if one was stored."""
    return setting_value(session, TILES_SETTING, county_of_area(area_code))


def every_tiles_setting(session: Session) -> list[str | None]:
    """The installation's basemap setting and every county's (what the page's CSP must allow)."""
    own = select(CountySetting.value).where(CountySetting.key == TILES_SETTING)
    return [tiles_setting(session, None), *session.scalars(own)]


@dataclass(frozen=True)
class ExportData:
    """What a standalone map of an area holds, read in one user's scope."""

    shapes: list[AreaShape]
    villages: list[VillageDot]
    persons: list[PersonDot]
    tiles_setting: str | None
    unplaced: list[UnplacedVillage] = field(default_factory=list)
    anchor: tuple[float, float] | None = None
    mode: str = "persons"


def export_data(session: Session, scope: Scope, area_code: str, today: dt.date) -> ExportData:
    """Persons individually for a township or village (or a coordinator), village aggregates above."""
    if not areas.is_code(area_code) or not scope.covers(area_code):
        raise audit.denied(NotFound(), scope=scope, action="map.export", entity="area", entity_id=str(area_code)[:20])
    shown, shapes = area_shapes(session, scope, area_code)
    if shown is None:
        raise audit.denied(NotFound(), scope=scope, action="map.export", entity="area", entity_id=area_code)
    flt = MapFilter(area_code=area_code)
    individual = shown.level not in CIRCLE_PREFIX or scope.assigned_only
    view = VillageView() if individual else village_view(session, scope, flt, today, size=CIRCLE_PREFIX[shown.level])
    persons = person_points(session, scope, flt, today) if individual else []
    anchor = area_anchor(session, shown.code)
    mode = "persons" if individual else "villages"
    return ExportData(shapes, view.villages, persons, tiles_setting(session, shown.code), view.unplaced, anchor, mode)
