"""The audit log: one event per action, scrubbed of ID and phone numbers, chained by hash."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from care import audit_anchor
from care.domain import areas, clock
from care.domain.errors import CareError
from care.domain.ids import mask_id_number, mask_phone
from care.scope import Scope
from db.models import AuditEvent
from db.session import transaction

_ID_LIKE = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE_LIKE = re.compile(r"1\d{10}")
_DIGEST = re.compile(r"[0-9a-f]{64}")
SENSITIVE_FIELDS = {"id_number": mask_id_number, "phone": mask_phone, "guardian_phone": mask_phone}


def scrub_text(value: str) -> str:
    """Mask anything that looks like an ID number or a mobile number inside free text."""
    value = _ID_LIKE.sub(lambda m: mask_id_number(m.group(0)), value)
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), value)


def scrub(detail: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``detail`` safe to store: sensitive fields masked, recursively."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if isinstance(value, Mapping):
            out[key] = scrub(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [scrub(v) if isinstance(v, Mapping) else _scrub_value(key, v) for v in value]
        else:
            out[key] = _scrub_value(key, value)
    return out


def _scrub_value(key: str, value: Any) -> Any:
    if key in SENSITIVE_FIELDS and isinstance(value, str):
        return SENSITIVE_FIELDS[key](value)
    if key.endswith("sha256") and isinstance(value, str) and _DIGEST.fullmatch(value):
        # A file's digest, not a number about a person: masking its digit runs would break it.
        return value
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (int, float, bool)):
        return value
    return str(value)


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and this event's canonical JSON."""
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + "|" + payload).encode("utf-8")).hexdigest()


def _county(scope: Scope | None) -> str:
    """The county an event belongs to: the acting user's ('' above the counties or without an area)."""
    code = scope.area_code if scope is not None else None
    if code is None or not areas.is_code(code) or areas.above_county(code):
        return ""
    return areas.county_of(code)


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    # The county joined the events later: an event without one hashes as it always did.
    county = {"county_code": event.county_code} if event.county_code else {}
    return {
        **county,
        "at": event.at.isoformat(),
        "user_id": event.user_id,
        "username": event.username,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "outcome": event.outcome,
        "detail": event.detail,
    }


def record(
    session: Session,
    *,
    scope: Scope | None,
    action: str,
    entity: str = "",
    entity_id: object = "",
    outcome: str = "success",
    detail: Mapping[str, Any] | None = None,
    username: str | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction, chained to the previous one."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise writers of the chain; SQLite writers are already serialised by BEGIN IMMEDIATE.
        session.execute(text("SELECT pg_advisory_xact_lock(727274)"))
    prev = session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)) or ""
    event = AuditEvent(
        at=clock.now(),
        user_id=scope.user_id if scope else None,
        username=username if username is not None else (scope.username if scope else ""),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        outcome=outcome,
        detail=scrub(detail or {}),
        prev_hash=prev,
        county_code=_county(scope),
    )
    event.hash = event_hash(prev, _hashed_fields(event))
    session.add(event)
    session.flush()
    if event.id % audit_anchor.EVERY == 0:
        audit_anchor.write_checkpoint(session, reason="every")
    return event


def verify_chain(session: Session) -> list[int]:
    """The ids of events whose hash or link does not match (empty: the log is intact)."""
    bad: list[int] = []
    prev = ""
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev or event.hash != event_hash(prev, _hashed_fields(event)):
            bad.append(event.id)
        prev = event.hash
    return bad


@dataclass(frozen=True)
class Denial:
    """A refused access, carried on the CareError so it is audited even though the write rolls back."""

    scope: Scope | None
    action: str
    entity: str = ""
    entity_id: object = ""


def denied(
    error: CareError, *, scope: Scope | None, action: str, entity: str = "", entity_id: object = ""
) -> CareError:
    """``error`` marked as a denied access to audit (raise what this returns)."""
    error.denial = Denial(scope, action, entity, entity_id)
    return error


def record_denial(session: Session, denial: Denial) -> AuditEvent:
    """Append the audit event of one denied access."""
    return record(
        session,
        scope=denial.scope,
        action=denial.action,
        entity=denial.entity,
        entity_id=denial.entity_id,
        outcome="denied",
    )


@contextmanager
def denials_survive(engine: Engine) -> Iterator[None]:
    """Around a write transaction: a denial raised inside is audited in its own transaction.

    The refused write rolls back with everything it did, so the denied-access event cannot be
    written in it; it is written here, once, after the rollback, and the error goes on up.
    """
    try:
        yield
    except CareError as error:
        if isinstance(error.denial, Denial):
            with transaction(engine) as session:
                record_denial(session, error.denial)
        raise
