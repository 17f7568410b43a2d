"""Reads for 民情日记: the diary entries a user may see, a worker's timeline, a person's entries.

An entry is seen by its own worker's coordinator, and by users with ``diary.view`` (or
``diary.write``) whose area holds the worker. The persons an entry names are shown by name only
when the viewer may see them; the others are counted.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select
from sqlalchemy.orm import Session

from care.queries.scoping import in_area, person_conditions, visible_person, visible_worker
from care.scope import Scope
from db.models import Area, DiaryEntry, DiaryPerson, Person, User, Visit, Worker

SEARCH_LIMIT = 500


@dataclass(frozen=True)
class PersonName:
    """A person the viewer may see, as an entry or a visit names them."""

    id: int
    name: str


@dataclass(frozen=True)
class DiaryRow:
    """One diary entry as a page shows it."""

    id: int
    worker_id: int
    worker: str
    day: dt.date
    kind: str
    text: str
    author: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    persons: tuple[PersonName, ...] = ()
    hidden_persons: int = 0


@dataclass(frozen=True)
class TimelineRow:
    """One line of a worker's timeline: a visit or a diary entry."""

    day: dt.date
    kind: str  # "visit" or "diary"
    summary: str
    persons: tuple[PersonName, ...] = ()
    hidden_persons: int = 0
    # A visit's status and mode; a diary entry's kind.
    status: str | None = None
    mode: str | None = None
    entry_kind: str | None = None
    at: dt.datetime | None = None


def may_search(scope: Scope) -> bool:
    """Whether the user may search diaries beyond their own worker's."""
    return not scope.sees_nothing and not scope.assigned_only and scope.can("diary.view")


def may_read(scope: Scope) -> bool:
    """Whether the user may see any diary at all."""
    return not scope.sees_nothing and (scope.can("diary.view") or scope.can("diary.write"))


def entry_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """WHERE conditions keeping the entries this user may see (deny by default)."""
    if scope.sees_nothing or scope.prefix is None:
        return [false()]
    if scope.assigned_only:
        if not scope.can("diary.write") or scope.worker_id is None:
            return [false()]
        return [DiaryEntry.worker_id == scope.worker_id, DiaryEntry.deleted.is_(False)]
    if not (scope.can("diary.view") or scope.can("diary.write")):
        return [false()]
    workers = select(Worker.id).where(in_area(Worker.area_code, scope.prefix))
    return [DiaryEntry.worker_id.in_(workers), DiaryEntry.deleted.is_(False)]


def _visible_ids(session: Session, scope: Scope, person_ids: Iterable[int]) -> dict[int, str]:
    """Names of the persons among ``person_ids`` the user may see."""
    wanted = sorted(set(person_ids))
    if not wanted:
        return {}
    stmt = select(Person.id, Person.name).where(Person.id.in_(wanted), *person_conditions(scope))
    return {int(pid): str(name) for pid, name in session.execute(stmt)}


def _named(ids: Iterable[int], names: dict[int, str]) -> tuple[tuple[PersonName, ...], int]:
    ids = list(ids)
    shown = tuple(PersonName(pid, names[pid]) for pid in ids if pid in names)
    return shown, len(ids) - len(shown)


def _rows(session: Session, scope: Scope, stmt: Select[*tuple[Any, ...]]) -> list[DiaryRow]:
    entries = session.execute(stmt).all()
    links: dict[int, list[int]] = defaultdict(list)
    if entries:
        ids = [e.id for e in entries]
        for entry_id, person_id in session.execute(
            select(DiaryPerson.entry_id, DiaryPerson.person_id)
            .where(DiaryPerson.entry_id.in_(ids))
            .order_by(DiaryPerson.entry_id, DiaryPerson.person_id)
        ):
            links[entry_id].append(person_id)
    names = _visible_ids(session, scope, (pid for pids in links.values() for pid in pids))
    rows = []
    for e in entries:
        persons, hidden = _named(links.get(e.id, []), names)
        rows.append(
            DiaryRow(
                id=e.id,
                worker_id=e.worker_id,
                worker=e.worker,
                day=e.day,
                kind=e.kind,
                text=e.text,
                author=e.author or "",
                version=e.version,
                created_at=e.created_at,
                updated_at=e.updated_at,
                persons=persons,
                hidden_persons=hidden,
            )
        )
    return rows


def _entries() -> Select[*tuple[Any, ...]]:
    return (
        select(
            DiaryEntry.id,
            DiaryEntry.worker_id,
            Worker.name.label("worker"),
            DiaryEntry.day,
            DiaryEntry.kind,
            DiaryEntry.text,
            User.display_name.label("author"),
            DiaryEntry.version,
            DiaryEntry.created_at,
            DiaryEntry.updated_at,
        )
        .join(Worker, Worker.id == DiaryEntry.worker_id)
        .outerjoin(User, User.id == DiaryEntry.author_id)
    )


def search(
    session: Session,
    scope: Scope,
    *,
    worker_id: int | None = None,
    text: str | None = None,
    person_id: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[DiaryRow]:
    """The entries the user may see, newest first, narrowed by worker, words, person and days."""
    stmt = _entries().where(*entry_conditions(scope))
    if worker_id is not None:
        stmt = stmt.where(DiaryEntry.worker_id == worker_id)
    needle = (text or "").strip()
    if needle:
        stmt = stmt.where(DiaryEntry.text.icontains(needle, autoescape=True))
    if person_id is not None:
        # A person outside the user's scope finds nothing: their links are not for this user to follow.
        if visible_person(session, scope, person_id) is None:
            return []
        stmt = stmt.where(DiaryEntry.id.in_(select(DiaryPerson.entry_id).where(DiaryPerson.person_id == person_id)))
    if start is not None:
        stmt = stmt.where(DiaryEntry.day >= start)
    if end is not None:
        stmt = stmt.where(DiaryEntry.day <= end)
    stmt = stmt.order_by(DiaryEntry.day.desc(), DiaryEntry.id.desc()).limit(max(1, min(int(limit), SEARCH_LIMIT)))
    return _rows(session, scope, stmt)


def entry(session: Session, scope: Scope, entry_id: int) -> DiaryRow | None:
    """One entry the user may see, or None."""
    if not isinstance(entry_id, int) or isinstance(entry_id, bool):
        return None
    rows = _rows(session, scope, _entries().where(DiaryEntry.id == entry_id, *entry_conditions(scope)))
    return rows[0] if rows else None


def person_diary(session: Session, scope: Scope, person_id: int, *, limit: int = 100) -> list[DiaryRow]:
    """The entries about a person, for their file: only if the user may see the person, newest first."""
    return search(session, scope, person_id=person_id, limit=limit)


def timeline(session: Session, scope: Scope, *, worker_id: int, start: dt.date, end: dt.date) -> list[TimelineRow]:
    """The worker's visits (those that took place) and diary entries from ``start`` to ``end``, by day."""
    if visible_worker(session, scope, worker_id) is None or not may_read(scope):
        return []
    since = dt.datetime.combine(start, dt.time.min)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min)
    visits = session.execute(
        select(Visit.id, Visit.person_id, Visit.visited_at, Visit.status, Visit.mode, Visit.notes)
        .where(
            Visit.worker_id == worker_id,
            Visit.visited_at.is_not(None),
            Visit.visited_at >= since,
            Visit.visited_at < until,
        )
        .order_by(Visit.visited_at, Visit.id)
    ).all()
    names = _visible_ids(session, scope, (v.person_id for v in visits))
    rows: list[TimelineRow] = []
    for v in visits:
        persons, hidden = _named([v.person_id], names)
        rows.append(
            TimelineRow(
                day=v.visited_at.date(),
                kind="visit",
                # Notes about a person the viewer may not see are theirs neither.
                summary=v.notes if not hidden else "",
                persons=persons,
                hidden_persons=hidden,
                status=v.status,
                mode=v.mode,
                at=v.visited_at,
            )
        )
    for e in search(session, scope, worker_id=worker_id, start=start, end=end, limit=SEARCH_LIMIT):
        rows.append(
            TimelineRow(
                day=e.day,
                kind="diary",
                summary=e.text,
                persons=e.persons,
                hidden_persons=e.hidden_persons,
                entry_kind=e.kind,
                at=e.created_at,
            )
        )
    # By day; within a day visits before entries (the entry is usually written after the rounds).
    rows.sort(key=lambda r: (r.day, 0 if r.kind == "visit" else 1, r.at or dt.datetime.min))
    return rows


def writable_workers(session: Session, scope: Scope) -> list[tuple[int, str]]:
    """Workers the user may write for or look at: (id, 'name · area'); a coordinator only their own."""
    if scope.sees_nothing or scope.prefix is None or not may_read(scope):
        return []
    stmt = (
        select(Worker.id, Worker.name, Area.name)
        .join(Area, Area.code == Worker.area_code)
        .where(in_area(Worker.area_code, scope.prefix))
        .order_by(Worker.area_code, Worker.name, Worker.id)
    )
    if scope.assigned_only:
        stmt = stmt.where(Worker.id == scope.worker_id)
    return [(wid, f"{name} · {area}") for wid, name, area in session.execute(stmt)]


def person_choices(
    session: Session, scope: Scope, text: str = "", *, include: Iterable[int] = (), limit: int = 50
) -> list[tuple[int, str]]:
    """Persons the user may see to link to an entry: (id, 'name · village'), those in ``include`` first.

    A coordinator gets their own persons without typing; anyone else names part of a name.
    """
    base = select(Person.id, Person.name, Area.name).join(Area, Area.code == Person.village_code)
    kept = sorted({pid for pid in include if isinstance(pid, int)})
    out: list[tuple[int, str]] = []
    if kept:
        stmt = base.where(Person.id.in_(kept), *person_conditions(scope)).order_by(Person.id)
        out += [(pid, f"{name} · {village}") for pid, name, village in session.execute(stmt)]
    needle = text.strip()
    if not needle and not scope.assigned_only:
        return out
    stmt = base.where(*person_conditions(scope))
    if needle:
        stmt = stmt.where(Person.name.contains(needle, autoescape=True))
    if kept:
        stmt = stmt.where(Person.id.not_in(kept))
    stmt = stmt.order_by(Person.name, Person.id).limit(limit)
    out += [(pid, f"{name} · {village}") for pid, name, village in session.execute(stmt)]
    return out
