"""Writes that come with maps: every map export is recorded in the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from care import audit
from care.domain import areas
from care.domain.errors import ValidationError
from care.domain.tiles import TILES_SETTING, TileSource, usable_tiles
from care.queries.settings import setting_value
from care.scope import Scope
from care.services.settings import put_setting
from db.models import Area


def record_map_export(session: Session, scope: Scope, *, area_code: str, detail: Mapping[str, Any]) -> None:
    """Audit one map export (the page's download or the command line) with what it held."""
    audit.record(session, scope=scope, action="map.export", entity="area", entity_id=area_code, detail=detail)


def set_tiles_as_operator(
    session: Session, *, value: str, tianditu_key: str | None, county_code: str | None = None
) -> TileSource:
    """Store the basemap maps and map exports use (``none``, ``osm``, ``tianditu``, ``amap`` or a URL),
    for one county or (``county_code`` None) for every county without its own, audited.

    Kept in the database, so the app's processes and the command-line export agree on it whatever
    their environment says. A value that names no usable basemap is refused and nothing is stored.
    """
    text = value.strip()
    tiles = usable_tiles(text, tianditu_key)
    if county_code is not None and (not areas.is_code(county_code) or areas.level_of(county_code) != "county"):
        raise ValidationError("area.bad_code", field="county", code=county_code[:20])
    if county_code is not None and session.get(Area, county_code) is None:
        raise ValidationError("area.bad_code", field="county", code=county_code)
    before = setting_value(session, TILES_SETTING, county_code)
    put_setting(session, TILES_SETTING, text, county_code)
    audit.record(
        session,
        scope=None,
        username="cli",
        action="settings.tiles",
        entity="setting",
        entity_id=TILES_SETTING,
        detail={"before": before, "after": text, "kind": tiles.kind, "county": county_code or ""},
    )
    return tiles
