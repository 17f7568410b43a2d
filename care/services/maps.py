"""Writes that come with maps: every map export is recorded in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from care import audit
from care.scope import Scope
from care.tiles import TILES_SETTING, TileSource, usable_tiles
from db.models import Setting


def record_map_export(session: Session, scope: Scope, *, area_code: str, detail: Mapping[str, Any]) -> None:
    """Audit one map export (the page's download or the command line) with what it held."""
    audit.record(session, scope=scope, action="map.export", entity="area", entity_id=area_code, detail=detail)


def set_tiles_as_operator(session: Session, *, value: str, tianditu_key: str | None) -> TileSource:
    """Store the basemap every map and map export uses (``none``, ``osm``, ``tianditu``, ``amap`` or a URL), audited.

    Kept in the database, so the app's processes and the command-line export agree on it whatever
    their environment says. A value that names no usable basemap is refused and nothing is stored.
    """
    text = value.strip()
    tiles = usable_tiles(text, tianditu_key)
    row = session.get(Setting, TILES_SETTING)
    before = row.value if row is not None else None
    if row is None:
        session.add(Setting(key=TILES_SETTING, value=text))
    else:
        row.value = text
    audit.record(
        session,
        scope=None,
        username="cli",
        action="settings.tiles",
        entity="setting",
        entity_id=TILES_SETTING,
        detail={"before": before, "after": text, "kind": tiles.kind},
    )
    return tiles
