"""``python -m care.maps export --db URL --area CODE --out FILE.html [--as USERNAME]``: a standalone HTML map."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from care import audit, i18n
from care.auth import scope_of
from care.domain import clock
from care.domain.errors import CareError, NotFound
from care.domain.map_data import PLACEMENTS
from care.domain.tiles import TIANDITU_KEY_ENV, TileSource, configured_tiles, tile_hosts, tiles_origin, usable_tiles
from care.files.maps import build_map, standalone_html
from care.queries.map import export_data, shapes_bounds
from care.services.maps import record_map_export
from db.models import User
from db.session import get_engine, transaction


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m care.maps export``: write a standalone HTML map of an area, in a user's scope."""
    parser = argparse.ArgumentParser(prog="python -m care.maps", description="CareMap map tools")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write a standalone HTML map of an area")
    export.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    export.add_argument("--area", required=True, help="12-digit area code (county, township or village)")
    export.add_argument("--out", required=True, help="the HTML file to write")
    export.add_argument("--as", dest="username", help="act as this user (default: the first admin)")
    export.add_argument("--lang", default=i18n.DEFAULT_LANG, choices=i18n.LANGS)
    export.add_argument(
        "--tiles", help="basemap for this file: none, osm, tianditu, amap or a tile URL (default: the configured one)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    try:
        summary = export_area(
            args.db, area_code=args.area, username=args.username, lang=args.lang, out=Path(args.out), tiles=args.tiles
        )
    except CareError as error:
        print(f"care.maps: {i18n.t(error.key, args.lang, **error.params)}", file=sys.stderr)
        return 2
    if summary["tiles_from"] == "default":
        print(f"care.maps: {i18n.t('map.basemap.default_used', args.lang)}", file=sys.stderr)
    if not summary["bounds_known"]:
        print(f"care.maps: {i18n.t('map.bounds.none', args.lang)}", file=sys.stderr)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _export_tiles(setting: str | None, override: str | None) -> tuple[TileSource, str]:
    """The basemap of an exported file: ``--tiles`` when given (refused if unusable), else the configured one."""
    if override is None:
        return configured_tiles(setting), tiles_origin(setting)
    return usable_tiles(override, os.environ.get(TIANDITU_KEY_ENV)), "option"


def export_area(
    db: str | None, *, area_code: str, username: str | None, lang: str, out: Path, tiles: str | None = None
) -> dict[str, Any]:
    """Write the standalone map of an area as ``username`` (default: the first admin), audited.

    The basemap is ``tiles`` when given, else the one configured for the server (the ``map.tiles``
    setting, else ``CARE_MAP_TILES``); the file names the servers it needs.
    """
    engine = get_engine(db)
    # A refused area is one audited denial (written after the rollback), as on the map page.
    with audit.denials_survive(engine), transaction(engine) as session:
        users = select(User).where(User.active.is_(True))
        users = users.where(User.username == username) if username else users.where(User.role == "admin")
        user = session.scalar(users.order_by(User.id))
        if user is None:
            raise NotFound()
        scope = scope_of(user)
        data = export_data(session, scope, area_code, clock.today())
        basemap, origin = _export_tiles(data.tiles_setting, tiles)
        points = [(p.lat, p.lon) for p in data.persons] or [(v.lat, v.lon) for v in data.villages]
        bounds = shapes_bounds(data.shapes, points, data.anchor)
        m = build_map(
            tiles=basemap,
            lang=lang,
            bounds=bounds,
            villages=data.villages,
            persons=data.persons,
            shapes=data.shapes,
            mode=data.mode,
        )
        page = standalone_html(m)
        out.write_text(page, encoding="utf-8")
        summary = {
            "area": area_code,
            "user": user.username,
            "persons": len({p.person_id for p in data.persons}),
            "villages": len(data.villages),
            "villages_placed": {how: sum(v.placed == how for v in data.villages) for how in PLACEMENTS},
            "villages_unplaced": len(data.unplaced),
            "bounds_known": bounds is not None,
            "tiles": basemap.kind,
            "tiles_from": origin,
            "tiles_hosts": list(tile_hosts(basemap)),
            "out": str(out),
            "bytes": len(page.encode("utf-8")),
        }
        record_map_export(session, scope, area_code=area_code, detail={**summary, "via": "command line"})
    return summary
