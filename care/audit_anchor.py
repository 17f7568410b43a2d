"""Anchors of the audit log outside its own table: signed checkpoints of its head.

The hash chain (care/audit.py) shows an event changed or removed in the middle, but not the
newest events deleted: what remains is still a valid chain. So every ``EVERY`` events, at each
day's upkeep and at each backup, a checkpoint records how many events there are up to which one
and the hash it ends in, signed (HMAC-SHA256) with a key the database does not hold. Verification
takes the newest checkpoint whose signature holds and requires its event, hash and count.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care.domain import clock
from db.config import ROOT
from db.models import AuditCheckpoint, AuditEvent

KEY_ENV = "CARE_AUDIT_KEY"
KEY_FILE_ENV = "CARE_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = ROOT / "data" / "audit-signing-key"
EVERY = 100

_log = logging.getLogger("care.audit")


def _key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_ENV, "").strip() or DEFAULT_KEY_FILE)


def audit_key() -> bytes:
    """The signing key: CARE_AUDIT_KEY, else the key file (made, readable by its owner only, when missing).

    Several app processes on one database must share it (the same variable or file).
    """
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        return value.encode("utf-8")
    path = _key_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode("ascii")


def sign(event_id: int, count: int, head_hash: str) -> str:
    """The checkpoint's signature."""
    message = f"{event_id}|{count}|{head_hash}".encode("ascii")
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def write_checkpoint(session: Session, *, reason: str) -> AuditCheckpoint | None:
    """Sign the log's current head (None while the log is empty); also written to the app log."""
    head = session.execute(select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    if head is None:
        return None
    count = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
    checkpoint = AuditCheckpoint(
        at=clock.now(),
        event_id=head.id,
        event_count=count,
        head_hash=head.hash,
        reason=reason[:16],
        mac=sign(head.id, count, head.hash),
    )
    session.add(checkpoint)
    session.flush()
    _log.info("audit head: event %s, %s events, hash %s (%s)", head.id, count, head.hash, reason)
    return checkpoint


Problem = tuple[str, dict[str, object]]


def verify_anchor(session: Session) -> list[Problem]:
    """Problems with the log against its checkpoints, as catalog keys and parameters (empty: none)."""
    problems: list[Problem] = []
    latest: AuditCheckpoint | None = None
    for cp in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)):
        if not hmac.compare_digest(cp.mac, sign(cp.event_id, cp.event_count, cp.head_hash)):
            problems.append(("audit.anchor_forged", {"id": cp.id, "at": f"{cp.at:%Y-%m-%d %H:%M:%S}"}))
            continue
        latest = cp
    if latest is None:
        return problems
    head = session.get(AuditEvent, latest.event_id)
    count = int(session.scalar(select(func.count()).where(AuditEvent.id <= latest.event_id)) or 0)
    if head is None or head.hash != latest.head_hash or count != latest.event_count:
        params = {"id": latest.id, "at": f"{latest.at:%Y-%m-%d %H:%M:%S}", "event": latest.event_id}
        problems.append(("audit.anchor_missing", {**params, "counted": latest.event_count, "found": count}))
    return problems
