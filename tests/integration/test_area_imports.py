"""Area imports write all or nothing, only in the admin's county, and are audited once."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from care import auth
from care.domain import clock
from care.domain.errors import PermissionDenied, ValidationError
from care.files.area_files import gcj02_to_wgs84
from care.queries.areas import county_areas
from care.queries.map import area_shapes
from care.scope import Scope
from care.services.areas import describe_skipped, import_area_codes, import_boundaries
from db.models import Area, AuditEvent, User
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
    assert [(e.row, e.key) for e in result.errors] == [(5, "area.row_parent_missing")]
    assert result.skipped == {"village": 1}
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
            session,
            world.scopes["admin"],
            data=collection("522699101201", "522699999201"),
            code_property="gb",
            datum="wgs84",
        )
    assert [(e.row, e.key) for e in refused.errors] == [(2, "area.feature_unknown_area")]
    assert _count(engine, Area.boundary.is_not(None)) == 0
    with transaction(engine) as session:
        done = import_boundaries(
            session,
            world.scopes["admin"],
            data=collection("522699101201", "522699101000"),
            code_property="gb",
            datum="wgs84",
        )
    assert (done.updated, done.errors) == (2, [])
    with reading(engine) as session:
        assert json.loads(session.get(Area, "522699101201").boundary)["type"] == "Polygon"


# --- published files of a real county: 黎平县 522631 -----------------------------------------------

PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "published"
LIPING = "522631000000"
ROOT = Path(__file__).resolve().parents[2]


def _published(name: str) -> bytes:
    return (PUBLISHED / name).read_bytes()


def _fixture_codes(name: str, prefix: str) -> list[str]:
    """The codes a published CSV holds for ``prefix``, read plainly from the fixture."""
    with (PUBLISHED / name).open(encoding="utf-8", newline="") as handle:
        return [row["code"] for row in csv.DictReader(handle) if row["code"].startswith(prefix)]


@dataclass
class Liping:
    admin: Scope
    county_user: Scope


@pytest.fixture
def liping(engine, freeze_clock) -> Liping:
    """黎平县 as a freshly set-up county: its area, an administrator and a county official."""
    freeze_clock(dt.date(2026, 6, 10))
    scopes = {}
    with transaction(engine) as session:
        session.add(Area(code=LIPING, name="黎平县", level="county"))
        session.flush()
        for username, role in (("lp.admin", "admin"), ("lp.county", "county")):
            user = User(
                username=username,
                display_name=username,
                password_hash="!",  # no password hashes to "!", so nobody logs in
                role=role,
                area_code=LIPING,
                created_at=clock.now(),
                active=True,
                failed_logins=0,
                version=1,
                must_change_password=False,
            )
            session.add(user)
            session.flush()
            scopes[username] = auth.scope_of(user)
    return Liping(scopes["lp.admin"], scopes["lp.county"])


def _levels(engine) -> dict[str, int]:
    with reading(engine) as session:
        rows = session.execute(
            select(Area.level, func.count()).where(Area.code.startswith("522631")).group_by(Area.level)
        ).all()
    return {level: int(n) for level, n in rows}


def test_the_published_township_and_village_lists_import_together(liping, engine):
    townships = _fixture_codes("streets.csv", "522631")
    villages = _fixture_codes("villages.csv", "522631")
    files = [(name, _published(name)) for name in ("provinces.csv", "cities.csv", "areas.csv", "streets.csv")]
    files.append(("villages.csv", _published("villages.csv")))
    with transaction(engine) as session:
        done = import_area_codes(session, liping.admin, data=files)
    assert done.errors == []
    assert (done.created, done.updated, done.unchanged) == (len(townships) + len(villages), 0, 1)
    assert _levels(engine) == {"county": 1, "township": len(townships), "village": len(villages)}
    assert (len(townships), len(villages)) == (26, 321)
    others = {
        "province": len(_fixture_codes("provinces.csv", "")),
        "prefecture": len(_fixture_codes("cities.csv", "")),
        "county": len(_fixture_codes("areas.csv", "")) - 1,
        "township": len(_fixture_codes("streets.csv", "")) - len(townships),
        "village": len(_fixture_codes("villages.csv", "")) - len(villages),
    }
    assert done.skipped == others
    assert "省级 2" in describe_skipped(done, "zh") and "other counties' villages" in describe_skipped(done, "en")
    with reading(engine) as session:
        village = session.get(Area, "522631001001")
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.import")).all()
    assert (village.name, village.parent_code, village.level) == ("双凤社区居民委员会", "522631001000", "village")
    assert len(events) == 1 and events[0].username == "lp.admin" and events[0].detail["skipped"] == others
    assert len(events[0].detail["sha256"]) == len(files)


def test_the_village_list_imports_once_the_townships_are_stored(liping, engine):
    with transaction(engine) as session:
        refused = import_area_codes(session, liping.admin, data=_published("villages.csv"))
    assert refused.errors and {e.key for e in refused.errors} == {"area.row_parent_missing"}
    assert _levels(engine) == {"county": 1}
    with transaction(engine) as session:
        import_area_codes(session, liping.admin, data=_published("streets.csv"))
    with transaction(engine) as session:
        done = import_area_codes(session, liping.admin, data=_published("villages.csv"))
    assert (done.created, done.errors) == (len(_fixture_codes("villages.csv", "522631")), [])


def test_the_urban_rural_code_is_stored_listed_and_kept_by_a_list_without_it(liping, engine):
    with transaction(engine) as session:
        import_area_codes(session, liping.admin, data=[(n, _published(n)) for n in ("streets.csv", "villages.csv")])
    with (PUBLISHED / "villages.csv").open(encoding="utf-8", newline="") as handle:
        names = {row["code"]: row["name"] for row in csv.DictReader(handle) if row["code"].startswith("522631")}
    urban, rural = "522631001001", max(c for c, name in names.items() if name.endswith("村民委员会"))
    nbs = f"统计用区划代码\t城乡分类代码\t名称\n{urban}\t111\t{names[urban]}\n{rural}\t220.0\t{names[rural]}\n"
    with transaction(engine) as session:
        done = import_area_codes(session, liping.admin, data=nbs.encode("utf-8"))
    assert (done.created, done.updated, done.unchanged, done.errors) == (0, 2, 0, [])
    with transaction(engine) as session:
        again = import_area_codes(session, liping.admin, data=_published("villages.csv"))
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(names))
    with reading(engine) as session:
        assert session.get(Area, urban).urban_rural == "111"
        assert session.get(Area, rural).urban_rural == "220"
        table = county_areas(session, liping.admin)
    listed = dict(zip(table["code"], table["urban_rural"], strict=True))
    assert (listed[urban], listed[rural]) == ("111", "220")
    assert sum(1 for v in listed.values() if isinstance(v, str)) == 2


def test_codes_as_floats_formulas_and_tabs_import(liping, engine):
    data = 'code\tname\n522631001\t德凤街道\n522631001001.0\t双凤社区居民委员会\n="522631001002"\t开泰社区居民委员会\n'
    with transaction(engine) as session:
        done = import_area_codes(session, liping.admin, data=data.encode())
    assert (done.created, done.errors) == (3, [])
    assert _levels(engine) == {"county": 1, "township": 1, "village": 2}


def test_the_datav_county_file_sets_the_county_outline_converted_from_gcj02(liping, engine):
    data = _published("datav_qiandongnan_full.json")
    features = json.loads(data)["features"]
    with transaction(engine) as session:
        done = import_boundaries(session, liping.admin, data=data, datum="gcj02")
    assert (done.updated, done.errors, done.skipped) == (1, [], {"county": len(features) - 1})
    raw = next(f for f in features if f["properties"]["adcode"] == 522631)["geometry"]["coordinates"][0][0][0]
    with reading(engine) as session:
        county = session.get(Area, LIPING)
        stored = json.loads(county.boundary)
        _, shapes = area_shapes(session, liping.admin, LIPING)
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.import")).one()
    first = (stored["coordinates"][0][0] if stored["type"] == "Polygon" else stored["coordinates"][0][0][0])[:2]
    expected = gcj02_to_wgs84(raw[1], raw[0])
    assert first == [round(expected[1], 6), round(expected[0], 6)]
    moved = math.dist((raw[0], raw[1]), first) * 111_000
    assert 200 < moved < 1000
    assert (county.lat, county.lon) != (None, None)
    assert event.detail["datum"] == "gcj02" and event.detail["skipped"] == {"county": len(features) - 1}
    assert shapes[0].code == LIPING and shapes[0].boundary == county.boundary


def test_a_boundary_file_without_a_datum_or_without_this_county_is_refused(liping, engine):
    data = _published("echarts_qiandongnan.geojson")
    with pytest.raises(ValidationError) as no_datum:
        with transaction(engine) as session:
            import_boundaries(session, liping.admin, data=data, datum="")
    assert no_datum.value.key == "area.datum_required"
    others = json.dumps(
        {"type": "FeatureCollection", "features": [f for f in json.loads(data)["features"] if f["id"] != "522631"]}
    )
    with pytest.raises(ValidationError) as elsewhere:
        with transaction(engine) as session:
            import_boundaries(session, liping.admin, data=others.encode(), datum="wgs84")
    assert elsewhere.value.key == "area.no_features_for_county"
    assert _count(engine, Area.boundary.is_not(None)) == 0


# --- the command line ------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "care.areas", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_the_command_line_imports_through_the_services_and_audits(liping, engine):
    streets, villages = str(PUBLISHED / "streets.csv"), str(PUBLISHED / "villages.csv")
    done = _cli("import", streets, villages, "--db", _url(engine))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    added = len(_fixture_codes("streets.csv", "522631")) + len(_fixture_codes("villages.csv", "522631"))
    assert lines[0].startswith(
        f"区划代码已导入：新增 {added}，更新 0，未变 0，跳过 {done_skipped(streets, villages)}。"
    )
    refused = _cli("boundaries", str(PUBLISHED / "datav_qiandongnan_full.json"), "--db", _url(engine))
    assert refused.returncode == 2 and "--datum" in refused.stderr
    bounds = _cli(
        "boundaries", str(PUBLISHED / "datav_qiandongnan_full.json"), "--db", _url(engine), "--datum", "gcj02"
    )
    assert bounds.returncode == 0, bounds.stderr
    assert bounds.stdout.startswith("边界已导入：新增 0，更新 1，未变 0，跳过 4（文件坐标系 GCJ-02，存为 WGS-84）。")
    assert len(bounds.stdout.strip().splitlines()) == 1
    with reading(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.import")).all()
        assert session.get(Area, LIPING).boundary is not None
    assert [(e.username, e.detail["kind"]) for e in events] == [("lp.admin", "code_list"), ("lp.admin", "boundaries")]


def done_skipped(*paths: str) -> int:
    """Rows of the published lists that are not 黎平县's."""
    return sum(len(_fixture_codes(Path(p).name, "")) - len(_fixture_codes(Path(p).name, "522631")) for p in paths)


def test_the_command_line_refuses_with_exit_2_and_audits_a_denied_user(liping, engine):
    bad = _cli("import", str(PUBLISHED / "villages.csv"), "--db", _url(engine), "--as", "lp.admin")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == f"未导入：共 {len(_fixture_codes('villages.csv', '522631'))} 处错误。"
    assert "522631001000" in bad.stderr
    denied = _cli("import", str(PUBLISHED / "streets.csv"), "--db", _url(engine), "--as", "lp.county")
    assert denied.returncode == 2 and denied.stderr.strip()
    unknown = _cli("import", str(PUBLISHED / "streets.csv"), "--db", _url(engine), "--as", "nobody")
    assert unknown.returncode == 2 and "nobody" in unknown.stderr
    with reading(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "area.manage")).all()
        imports = session.scalar(select(func.count()).where(AuditEvent.action == "area.import"))
    assert [(e.username, e.outcome) for e in events] == [("lp.county", "denied")] and imports == 0
    assert _levels(engine) == {"county": 1}
