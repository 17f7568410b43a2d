"""Area imports write all or nothing, only in the admin's county, and are audited once."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from care.errors import PermissionDenied
from care.services.areas import import_area_codes, import_boundaries
from db.models import Area, AuditEvent
from db.session import reading, transaction

SQUARE = [[108.0, 26.0], [108.1, 26.0], [108.1, 26.1], [108.0, 26.1], [108.0, 26.0]]
GOOD = "统计用区划代码,名称,纬度,经度\n522699103000,东江镇,26.5,108.3\n522699103201,东江村,,\n522699101201,羊排新村,,\n"


def _count(engine, *conditions) -> int:
    with reading(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Area).where(*conditions)) or 0)


def test_a_good_code_list_creates_and_renames_areas_and_records_one_event(world, engine):
    with transaction(engine) as session:
        result = import_area_codes(session, world.scopes["admin"], data=GOOD.encode("utf-8-sig"))
    assert (result.created, result.updated, result.unchanged, result.errors) == (2, 1, 0, [])
    with reading(engine) as session:
        village = session.get(Area, "522699103201")
        assert (village.level, village.parent_code) == ("village", "522699103000")
        assert session.get(Area, "522699101201").name == "羊排新村"
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.import")).all()
    assert len(events) == 1 and events[0].detail["created"] == 2 and len(events[0].detail["sha256"]) == 64
    with transaction(engine) as session:
        again = import_area_codes(session, world.scopes["admin"], data=GOOD.encode("utf-8-sig"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_one_bad_row_and_nothing_is_written(world, engine):
    before = _count(engine)
    bad = GOOD + "522699104201,没有乡镇,,\n522698101201,外县村,,\n"
    with transaction(engine) as session:
        result = import_area_codes(session, world.scopes["admin"], data=bad.encode())
    assert [(e.row, e.key) for e in result.errors] == [(5, "area.row_parent_missing"), (6, "area.row_outside_county")]
    assert _count(engine) == before
    with reading(engine) as session:
        assert session.get(Area, "522699101201").name == "羊排村"
        assert session.scalar(select(func.count()).where(AuditEvent.action == "area.import")) == 0


@pytest.mark.parametrize("role", ["county", "township_a", "coord_1"])
def test_only_the_admin_imports_areas(world, engine, role):
    with pytest.raises(PermissionDenied):
        with transaction(engine) as session:
            import_area_codes(session, world.scopes[role], data=GOOD.encode())


def test_boundaries_are_set_by_code_all_or_nothing(world, engine):
    def collection(*codes: str) -> bytes:
        features = [
            {"type": "Feature", "properties": {"gb": c}, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
            for c in codes
        ]
        return json.dumps({"type": "FeatureCollection", "features": features}).encode()

    with transaction(engine) as session:
        refused = import_boundaries(
            session, world.scopes["admin"], data=collection("522699101201", "522699999201"), code_property="gb"
        )
    assert [(e.row, e.key) for e in refused.errors] == [(2, "area.feature_unknown_area")]
    assert _count(engine, Area.boundary.is_not(None)) == 0
    with transaction(engine) as session:
        done = import_boundaries(
            session, world.scopes["admin"], data=collection("522699101201", "522699101000"), code_property="gb"
        )
    assert (done.updated, done.errors) == (2, [])
    with reading(engine) as session:
        assert json.loads(session.get(Area, "522699101201").boundary)["type"] == "Polygon"
