"""``python -m care.admin audit-verify``: check the audit log's hash chain and its signed checkpoints."""

from __future__ import annotations

import argparse

from sqlalchemy import func, select

from care import audit, audit_anchor, i18n
from db.models import AuditEvent
from db.session import get_engine, reading


def verify(args: argparse.Namespace) -> int:
    """Print each event whose hash or link does not verify; exit 1 if any, 0 when intact."""
    with reading(get_engine(args.db)) as session:
        total = int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
        bad = audit.verify_chain(session)
        rows = session.execute(
            select(AuditEvent.id, AuditEvent.at, AuditEvent.action)
            .where(AuditEvent.id.in_(bad))
            .order_by(AuditEvent.id)
        ).all()
        anchored = audit_anchor.verify_anchor(session)
    for event_id, at, action in rows:
        print(f"broken link: event {event_id} at {at:%Y-%m-%d %H:%M:%S} ({action})")
    lang = getattr(args, "lang", "zh")
    for key, params in anchored:
        print(i18n.t(key, lang, **params))
    print(f"{total} events checked, {len(bad)} broken, {len(anchored)} checkpoint problems")
    return 1 if bad or anchored else 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``audit-verify`` sub-command."""
    check = sub.add_parser("audit-verify", help="verify the audit log's hash chain; lists broken links")
    check.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
