"""Exporting the audit log: the file is built and its export audited in one transaction."""

from __future__ import annotations

import hashlib

from sqlalchemy.orm import Session

from care import audit
from care.permissions import require
from care.queries.audit_log import AuditFilter, audit_csv
from care.scope import Scope


def export_audit_csv(session: Session, scope: Scope, *, flt: AuditFilter, headers: list[str]) -> bytes:
    """The filtered audit log as CSV; the export itself is audited with row count and file hash."""
    require(scope, "audit.view")
    data, rows = audit_csv(session, scope, flt, headers)
    audit.record(
        session,
        scope=scope,
        action="export.audit_csv",
        entity="audit",
        detail={
            "rows": rows,
            "sha256": hashlib.sha256(data).hexdigest(),
            "filter": {
                "username": flt.username,
                "action": flt.action,
                "person_id": flt.person_id,
                "start": flt.start.isoformat() if flt.start else None,
                "end": flt.end.isoformat() if flt.end else None,
            },
        },
    )
    return data
