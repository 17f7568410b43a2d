"""Writes that come with maps: every map export is recorded in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from care import audit
from care.scope import Scope


def record_map_export(session: Session, scope: Scope, *, area_code: str, detail: Mapping[str, Any]) -> None:
    """Audit one map export (the page's download or the command line) with what it held."""
    audit.record(session, scope=scope, action="map.export", entity="area", entity_id=area_code, detail=detail)
