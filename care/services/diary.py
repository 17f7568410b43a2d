"""The workers' diary (民情日记): add, edit and delete entries, each on the version the user saw.

A coordinator writes for their own worker; a township supervisor or the admin for a worker of
their area. The persons an entry is about must be persons the writer may see; on an edit, links
to persons the editor may no longer see are kept as they were, never dropped unseen.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, enums
from care.domain.errors import NotFound, PermissionDenied, ValidationError
from care.permissions import require
from care.queries.scoping import visible_person, visible_worker
from care.scope import Scope
from care.services.common import Saved, versioned_update
from db.models import DiaryEntry, DiaryPerson

TEXT_MAX = 2000
PERSONS_MAX = 20
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def normalise_text(value: object) -> str:
    """The entry's text with line ends unified, control characters and runs of spaces made one
    space, every line trimmed and at most one blank line in a row."""
    raw = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    raw = _CONTROL.sub(" ", raw)
    lines = [_SPACES.sub(" ", line).strip() for line in raw.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def check_entry(*, day: object, kind: object, text: str, today: dt.date) -> None:
    """Refuse a missing or future day, an unknown kind, an empty or over-long text."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise ValidationError("error.required", field="day")
    if day > today:
        raise ValidationError("diary.error.future", field="day", today=today.isoformat())
    enums.check("diary_kind", kind, enums.DIARY_KINDS)
    if not text:
        raise ValidationError("diary.error.text_required")
    if len(text) > TEXT_MAX:
        raise ValidationError("diary.error.too_long", max=TEXT_MAX, length=len(text))


def _worker_for(session: Session, scope: Scope, worker_id: int | None) -> int:
    """The worker the user writes for: a coordinator their own, anyone else a worker of their area."""
    if scope.sees_nothing:
        raise PermissionDenied()
    if scope.assigned_only:
        if worker_id is not None and worker_id != scope.worker_id:
            raise PermissionDenied()
        worker_id = scope.worker_id
    if worker_id is None:
        raise ValidationError("diary.error.worker_required", field="worker")
    worker = visible_worker(session, scope, worker_id)
    if worker is None:
        raise NotFound()
    return worker.id


def _person_ids(session: Session, scope: Scope, person_ids: Iterable[int]) -> list[int]:
    """The distinct person ids, each one the user may see (one that is not refuses them all)."""
    chosen: list[int] = []
    for pid in person_ids:
        if pid in chosen:
            continue
        if visible_person(session, scope, pid) is None:
            raise ValidationError("diary.error.person", field="person")
        chosen.append(pid)
    if len(chosen) > PERSONS_MAX:
        raise ValidationError("diary.error.too_many_persons", field="person", max=PERSONS_MAX)
    return chosen


def _linked(session: Session, entry_id: int) -> list[int]:
    return list(
        session.scalars(
            select(DiaryPerson.person_id).where(DiaryPerson.entry_id == entry_id).order_by(DiaryPerson.person_id)
        )
    )


def _snapshot(entry: DiaryEntry) -> dict[str, Any]:
    return {
        "worker_id": entry.worker_id,
        "day": entry.day.isoformat(),
        "kind": entry.kind,
        "text": entry.text,
        "deleted": entry.deleted,
    }


def _audit(session: Session, scope: Scope, *, action: str, entry_id: int, before: dict[str, Any] | None) -> None:
    after = session.get(DiaryEntry, entry_id)
    audit.record(
        session,
        scope=scope,
        action=action,
        entity="diary",
        entity_id=entry_id,
        detail={
            "old": before,
            "new": {**_snapshot(after), "persons": _linked(session, entry_id)} if after is not None else None,
        },
    )


def _editable(session: Session, scope: Scope, entry_id: int) -> DiaryEntry:
    """The entry if the user may write for its worker and it is not deleted, else NotFound."""
    require(scope, "diary.write")
    entry = session.get(DiaryEntry, entry_id) if isinstance(entry_id, int) else None
    if entry is None or entry.deleted or visible_worker(session, scope, entry.worker_id) is None:
        raise NotFound()
    return entry


def add_entry(
    session: Session,
    scope: Scope,
    *,
    day: dt.date,
    kind: str,
    text: str,
    worker_id: int | None = None,
    person_ids: Iterable[int] = (),
    today: dt.date | None = None,
) -> Saved:
    """Write a diary entry for ``worker_id`` (a coordinator: their own worker) about ``person_ids``."""
    require(scope, "diary.write")
    today = today or clock.today()
    body = normalise_text(text)
    check_entry(day=day, kind=kind, text=body, today=today)
    worker = _worker_for(session, scope, worker_id)
    persons = _person_ids(session, scope, person_ids)
    now = clock.now()
    entry = DiaryEntry(
        worker_id=worker,
        day=day,
        kind=kind,
        text=body,
        author_id=scope.user_id,
        deleted=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(entry)
    session.flush()
    session.add_all(DiaryPerson(entry_id=entry.id, person_id=pid) for pid in persons)
    session.flush()
    _audit(session, scope, action="diary.create", entry_id=entry.id, before=None)
    return Saved(entry.id, entry.version)


def update_entry(
    session: Session,
    scope: Scope,
    *,
    entry_id: int,
    seen_version: int,
    day: dt.date,
    kind: str,
    text: str,
    person_ids: Iterable[int] = (),
    today: dt.date | None = None,
) -> Saved:
    """Change an entry's day, kind, text and persons, on the version the user saw (else StaleRecord)."""
    entry = _editable(session, scope, entry_id)
    today = today or clock.today()
    body = normalise_text(text)
    check_entry(day=day, kind=kind, text=body, today=today)
    chosen = _person_ids(session, scope, person_ids)
    before_persons = _linked(session, entry.id)
    # Links the editor may not see stay: they cannot be chosen in the form, so leaving them out says nothing.
    hidden = [pid for pid in before_persons if visible_person(session, scope, pid) is None]
    before = {**_snapshot(entry), "persons": before_persons}
    version = versioned_update(session, entry, seen_version, {"day": day, "kind": kind, "text": body}, _snapshot)
    wanted = set(chosen) | set(hidden)
    session.execute(delete(DiaryPerson).where(DiaryPerson.entry_id == entry_id, DiaryPerson.person_id.not_in(wanted)))
    session.add_all(DiaryPerson(entry_id=entry_id, person_id=pid) for pid in sorted(wanted - set(before_persons)))
    session.flush()
    _audit(session, scope, action="diary.update", entry_id=entry_id, before=before)
    return Saved(entry_id, version)


def delete_entry(session: Session, scope: Scope, *, entry_id: int, seen_version: int) -> Saved:
    """Soft-delete an entry on the version the user saw; it leaves every list but stays in the database."""
    entry = _editable(session, scope, entry_id)
    before = {**_snapshot(entry), "persons": _linked(session, entry.id)}
    version = versioned_update(session, entry, seen_version, {"deleted": True}, _snapshot)
    _audit(session, scope, action="diary.delete", entry_id=entry_id, before=before)
    return Saved(entry_id, version)
