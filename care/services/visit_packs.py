"""Offline visit packs (离线巡访包): issue a coordinator's encrypted pack, take its signed results back.

Rule for result files: the pack must be known, issued to the uploading coordinator's worker,
signed with the pack's own key, and uploaded no later than ``RESULT_GRACE_DAYS`` after the pack
expired; every visit in it must lie between the pack's creation day and its expiry. Anything
else refuses the whole file. Visits are checked by the visit rules, then written all or nothing
through ``record_visit`` with each visit's client token, so the same file twice writes nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from care import audit
from care.domain import clock, ids
from care.domain.errors import NotFound, ValidationError
from care.domain.visits import check_need, visit_problems
from care.files import visit_pack
from care.files.maps import VENDOR_DIR, inline_css, inline_js
from care.permissions import require
from care.queries.visits import HouseholdItem, VisitItem, my_week
from care.scope import Scope
from care.services.visits import NeedInput, record_visit
from db.models import Assignment, Enrollment, Person, Visit, VisitPack, Worker

# The facts of each group the pack shows beside a person (as on the online card).
FACTS_SHOWN = {
    "child": ("guardianship", "schooling"),
    "elderly": ("living_arrangement", "self_care"),
    "disabled": ("category", "grade"),
}
# What a coordinator may do with each kind of conflict: a person who left the list or is now a
# colleague's cannot be written by this coordinator (their supervisor is told the notes instead).
CONFLICT_CHOICES = {"visited": ("record", "discard"), "exited": ("discard",), "reassigned": ("discard",)}


@dataclass(frozen=True)
class IssuedPack:
    """A pack made for download: its id, the HTML file, the persons in it and when it expires."""

    pack_id: str
    html: str
    person_ids: list[int]
    expires_at: dt.datetime


def _persons(items: Sequence[VisitItem | HouseholdItem]) -> list[VisitItem]:
    return [p for item in items for p in (item.people if isinstance(item, HouseholdItem) else (item,))]


def _stop(n: int, item: VisitItem, person: Person) -> dict[str, Any]:
    return {
        "n": n,
        "person_id": item.person_id,
        "name": item.name,
        "sex": item.sex,
        "age": item.age,
        "id_masked": ids.mask_id_number(person.id_number),
        "village": item.village,
        "address": item.address,
        "phone_masked": item.phone_masked,
        "lat": person.lat,
        "lon": person.lon,
        "state": item.state,
        "planned_day": item.planned_day.isoformat() if item.planned_day else None,
        "next_due": item.next_due_on.isoformat() if item.next_due_on else None,
        "risk_reasons": list(item.risk_reasons),
        "concerns": list(item.concerns),
        "open_needs": list(item.open_needs),
        "enrollments": [
            {
                "id": e.id,
                "group": e.group,
                "subtype": e.subtype,
                "risk": e.risk,
                "facts": {f: str(e.facts[f]) for f in FACTS_SHOWN[e.group] if e.facts.get(f) not in (None, "")},
            }
            for e in item.enrollments
        ],
    }


def pack_payload(
    session: Session, scope: Scope, *, items: Sequence[VisitItem], pack_id: str, hmac_key: bytes, expires: dt.datetime
) -> dict[str, Any]:
    """What the pack holds once decrypted: the stops in route order, the form, the labels, the signing key."""
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([i.person_id for i in items])))}
    worker = session.get(Worker, scope.worker_id)
    office = [worker.office_lat, worker.office_lon] if worker and worker.office_lat and worker.office_lon else None
    return {
        "pack_id": pack_id,
        "expires": expires.isoformat(timespec="seconds"),
        "hmac_key": base64.b64encode(hmac_key).decode("ascii"),
        "worker": worker.name if worker else "",
        "office": office,
        "stops": [_stop(n, item, people[item.person_id]) for n, item in enumerate(items, start=1)],
        "defs": visit_pack.form_definitions(),
        "labels": visit_pack.pack_labels(),
    }


def _leaflet() -> tuple[str, str]:
    return inline_css(VENDOR_DIR), inline_js(VENDOR_DIR / "leaflet" / "leaflet.js")


def issue_pack(
    session: Session, scope: Scope, *, pin: str, lang: str = "zh", valid_days: int = visit_pack.PACK_DAYS
) -> IssuedPack:
    """Make the coordinator's pack of this week's persons under their PIN; stored (without the PIN) and audited."""
    require(scope, "visit.record")
    if not scope.assigned_only or scope.worker_id is None or scope.user_id is None:
        raise ValidationError("pack.coordinator_only", field="pin")
    pin = visit_pack.check_pin(pin)
    items = _persons(my_week(session, scope, clock.today()).items)
    if not items:
        raise ValidationError("pack.nothing_due", field="pin")
    return seal_pack(session, scope, items=items, pin=pin, lang=lang, valid_days=valid_days)


def seal_pack(
    session: Session, scope: Scope, *, items: Sequence[VisitItem], pin: str, lang: str, valid_days: int
) -> IssuedPack:
    """Encrypt and record a pack of these persons (already the coordinator's, in route order)."""
    assert scope.worker_id is not None and scope.user_id is not None
    pack_id = secrets.token_hex(16)
    hmac_key = os.urandom(visit_pack.HMAC_KEY_BYTES)
    salt = os.urandom(visit_pack.SALT_BYTES)
    created = clock.now().replace(microsecond=0)
    expires = created + dt.timedelta(days=valid_days)
    payload = pack_payload(session, scope, items=items, pack_id=pack_id, hmac_key=hmac_key, expires=expires)
    sealed = visit_pack.seal(payload, pin, pack_id=pack_id, created=created, expires=expires, salt=salt)
    css, js = _leaflet()
    html = visit_pack.render_html(sealed, leaflet_css=css, leaflet_js=js, lang=lang)
    person_ids = [i.person_id for i in items]
    session.add(
        VisitPack(
            id=pack_id,
            user_id=scope.user_id,
            worker_id=scope.worker_id,
            created_at=created,
            expires_at=expires,
            person_ids=person_ids,
            salt=base64.b64encode(salt).decode("ascii"),
            hmac_key=base64.b64encode(hmac_key).decode("ascii"),
            state="issued",
        )
    )
    session.flush()
    audit.record(
        session,
        scope=scope,
        action="visit_pack.download",
        entity="visit_pack",
        entity_id=pack_id,
        detail={
            "person_ids": person_ids,
            "expires_at": expires.isoformat(),
            "bytes": len(html.encode("utf-8")),
            "html_sha256": hashlib.sha256(html.encode("utf-8")).hexdigest(),
        },
    )
    return IssuedPack(pack_id, html, person_ids, expires)


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One broken rule of one visit in the file (number = its place in the file, from 1)."""

    number: int
    field: str
    key: str
    params: dict[str, Any]


@dataclass
class CheckedVisit:
    """A visit of the file as checked: already saved, or in conflict (and which kind), or new."""

    visit: visit_pack.PackVisit
    name: str
    already: bool = False
    conflict: str | None = None
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class PackCheck:
    """A result file checked against the database: every visit with its state; nothing written."""

    pack_id: str
    sha256: str
    visits: list[CheckedVisit]

    @property
    def problems(self) -> list[Problem]:
        """Every broken rule over the file (one is enough to refuse it)."""
        return [p for v in self.visits for p in v.problems]

    @property
    def conflicts(self) -> list[CheckedVisit]:
        """The new visits whose person changed since the pack was made."""
        return [v for v in self.visits if v.conflict and not v.already]

    def count(self, what: str) -> int:
        """How many visits are ``new`` (to write, conflicts included), ``already`` saved or in ``conflict``."""
        if what == "already":
            return sum(v.already for v in self.visits)
        if what == "conflict":
            return len(self.conflicts)
        return sum(not v.already for v in self.visits)


def _pack_for(session: Session, scope: Scope, file: visit_pack.ResultFile) -> VisitPack:
    require(scope, "visit.record")
    pack = session.get(VisitPack, file.pack_id) if len(file.pack_id) <= 32 else None
    if pack is None:
        raise ValidationError("pack.unknown", field="file")
    if pack.worker_id != scope.worker_id or not scope.assigned_only:
        error = ValidationError("pack.foreign", field="file")
        raise audit.denied(error, scope=scope, action="visit_pack.upload", entity="visit_pack", entity_id=pack.id)
    if clock.now() > pack.expires_at + dt.timedelta(days=visit_pack.RESULT_GRACE_DAYS):
        raise ValidationError(
            "pack.result_expired", field="file", days=visit_pack.RESULT_GRACE_DAYS, expires=pack.expires_at.date()
        )
    return pack


def _conflict(session: Session, scope: Scope, pack: VisitPack, person: Person, found: list[Enrollment]) -> str | None:
    if person.deleted or person.status != "active" or any(e.end_date is not None for e in found):
        return "exited"
    today = clock.today()
    assigned = set(
        session.scalars(
            select(Assignment.enrollment_id).where(
                Assignment.enrollment_id.in_([e.id for e in found]),
                Assignment.worker_id == scope.worker_id,
                Assignment.start_date <= today,
                Assignment.end_date.is_(None) | (Assignment.end_date >= today),
            )
        )
    )
    if assigned != {e.id for e in found}:
        return "reassigned"
    return None


def _visited_meanwhile(session: Session, pack: VisitPack, person_ids: list[int], tokens: set[str]) -> set[int]:
    """Persons with a visit recorded by anyone after the pack was made (not from this file)."""
    rows = session.execute(
        select(Visit.person_id, Visit.client_token).where(
            Visit.person_id.in_(person_ids), Visit.status != "planned", Visit.created_at > pack.created_at
        )
    )
    return {pid for pid, token in rows if token not in tokens}


def _rule_problems(v: visit_pack.PackVisit, found: list[Enrollment]) -> list[Problem]:
    _, broken = visit_problems(
        status=v.status,
        mode=v.mode,
        visited_at=v.visited_at,
        groups=[e.group for e in found],
        starts=[e.start_date for e in found],
        now=clock.now(),
        findings=v.findings,
        notes=v.notes,
        cancel_reason=v.cancel_reason,
        situation=v.situation,
    )
    problems = [Problem(v.number, p.field or "", p.key, p.params) for p in broken]
    if v.need is not None:
        if v.status == "cancelled":
            problems.append(Problem(v.number, "needs", "visit.needs_need_visit", {}))
        try:
            check_need(v.need.get("kind", ""), v.need.get("department", ""), v.need.get("description", ""))
        except ValidationError as error:
            problems.append(Problem(v.number, error.field or "", error.key, error.params))
    return problems


def _check_one(
    session: Session, scope: Scope, pack: VisitPack, v: visit_pack.PackVisit, saved: set[str], visited: set[int]
) -> CheckedVisit:
    person = session.get(Person, v.person_id) if v.person_id in pack.person_ids else None
    if person is None:
        return CheckedVisit(v, "", problems=[Problem(v.number, "person_id", "pack.person_not_in_pack", {})])
    checked = CheckedVisit(v, person.name, already=v.client_token in saved)
    if checked.already:
        return checked
    found = list(
        session.scalars(
            select(Enrollment).where(Enrollment.id.in_(v.enrollment_ids), Enrollment.person_id == person.id)
        )
    )
    if not v.enrollment_ids or len(found) != len(set(v.enrollment_ids)):
        checked.problems.append(Problem(v.number, "enrollment_ids", "pack.person_not_in_pack", {}))
        return checked
    if v.visited_at is not None and not pack.created_at.date() <= v.visited_at.date() <= pack.expires_at.date():
        checked.problems.append(Problem(v.number, "visited_at", "pack.visit_outside_pack", {}))
    checked.problems += _rule_problems(v, found)
    checked.conflict = _conflict(session, scope, pack, person, found) or ("visited" if person.id in visited else None)
    return checked


def check_results(session: Session, scope: Scope, *, data: bytes) -> PackCheck:
    """Read and check a result file (signature, pack, every visit's rules and conflicts); writes nothing."""
    file = visit_pack.read_result_file(data)
    pack = _pack_for(session, scope, file)
    found = visit_pack.read_payload(visit_pack.open_result(base64.b64decode(pack.hmac_key), file), pack.id)
    tokens = {v.client_token for v in found}
    saved: set[str] = set()
    if tokens:
        saved = {str(t) for t in session.scalars(select(Visit.client_token).where(Visit.client_token.in_(tokens)))}
    visited = _visited_meanwhile(session, pack, sorted({v.person_id for v in found}), tokens) if found else set()
    checked: list[CheckedVisit] = []
    seen: set[object] = set()
    for v in found:
        one = _check_one(session, scope, pack, v, saved, visited)
        if v.client_token in seen or v.person_id in seen:
            one.problems.append(Problem(v.number, "client_token", "pack.duplicate_visit", {}))
        seen |= {v.client_token, v.person_id}
        checked.append(one)
    return PackCheck(pack.id, hashlib.sha256(data).hexdigest(), checked)


@dataclass(frozen=True)
class PackApplied:
    """What an upload wrote: visits written, already there, conflicts and how they were resolved."""

    pack_id: str
    written: int
    already: int
    conflicts: int
    discarded: int


def apply_results(
    session: Session, scope: Scope, *, data: bytes, resolutions: Mapping[str, str] | None = None
) -> PackApplied:
    """Write a result file's new visits, all or nothing, once every conflict has a resolution.

    ``resolutions`` maps a conflicting visit's client token to ``record`` or ``discard`` (as
    ``CONFLICT_CHOICES`` allows). A file with a broken rule or an unresolved conflict writes nothing.
    """
    checked = check_results(session, scope, data=data)
    if checked.problems:
        raise ValidationError("pack.result_has_problems", field="file", n=len(checked.problems))
    choices = dict(resolutions or {})
    for v in checked.conflicts:
        assert v.conflict is not None
        if choices.get(v.visit.client_token) not in CONFLICT_CHOICES[v.conflict]:
            raise ValidationError("pack.conflicts_unresolved", field="file", n=len(checked.conflicts))
    written = discarded = 0
    for v in checked.visits:
        if v.already:
            continue
        if v.conflict and choices[v.visit.client_token] == "discard":
            discarded += 1
            continue
        _write(session, scope, v.visit)
        written += 1
    pack = session.get(VisitPack, checked.pack_id)
    if pack is None:
        raise NotFound()
    if written:
        pack.state, pack.returned_at = "returned", clock.now()
    applied = PackApplied(checked.pack_id, written, checked.count("already"), len(checked.conflicts), discarded)
    audit.record(
        session,
        scope=scope,
        action="visit_pack.upload",
        entity="visit_pack",
        entity_id=checked.pack_id,
        detail={
            "visits": len(checked.visits),
            "written": written,
            "already": applied.already,
            "conflicts": applied.conflicts,
            "discarded": discarded,
            "conflict_person_ids": [v.visit.person_id for v in checked.conflicts],
            "file_sha256": checked.sha256,
        },
    )
    return applied


def _write(session: Session, scope: Scope, v: visit_pack.PackVisit) -> None:
    need = v.need
    record_visit(
        session,
        scope,
        person_id=v.person_id,
        enrollment_ids=list(v.enrollment_ids),
        status=v.status,
        mode=v.mode,
        visited_at=v.visited_at,
        findings=v.findings,
        notes=v.notes,
        cancel_reason=v.cancel_reason,
        needs=[NeedInput(need.get("kind", ""), need.get("department", ""), need.get("description", ""))]
        if need
        else (),
        situation=v.situation,
        client_token=v.client_token,
    )


def record_refused_upload(session: Session, scope: Scope, *, data: bytes, key: str) -> None:
    """Audit a result file that was refused (its own transaction: the refused write rolled back)."""
    audit.record(
        session,
        scope=scope,
        action="visit_pack.upload",
        entity="visit_pack",
        outcome="failure",
        detail={"reason": key, "file_sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)},
    )
