"""The area files an admin imports: the official code list (CSV) and boundaries (GeoJSON), checked row by row."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from pathlib import Path

import pytest

from care.domain.errors import ValidationError
from care.domain.tiles import wgs84_to_gcj02
from care.files import area_files

COUNTY = "522699000000"
STORED = {COUNTY: None, "522699101000": None, "522699101201": None, "522699101299": dt.date(2026, 1, 1)}


def _csv(*rows: str, header: str = "统计用区划代码,名称") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def test_a_good_code_list_derives_level_and_parent_from_each_code():
    rows, errors = area_files.check_code_list(
        _csv("522699102000,西江镇", "522699102201,南猛村", "522699101202,乌东村"), county_code=COUNTY, existing=STORED
    )
    assert errors == []
    assert [(r.code, r.level, r.parent_code) for r in rows] == [
        ("522699102000", "township", COUNTY),
        ("522699102201", "village", "522699102000"),
        ("522699101202", "village", "522699101000"),
    ]


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("52269910220,短了一位", "area.row_bad_code"),
        ("5226991022011,多了一位", "area.row_bad_code"),
        ("52269910220X,带字母", "area.row_bad_code"),
        ("522699000201,没有乡镇的村", "area.row_bad_code"),
        ("5.22699E+11,科学计数法", "area.row_excel_number"),
        ("522699103201,上级不存在", "area.row_parent_missing"),
        ("522699101299,已撤并", "area.row_retired"),
        ("522699101203,", "area.row_name_required"),
        ("522699101203," + "名" * 65, "area.row_name_too_long"),
    ],
)
def test_a_bad_row_is_reported_with_its_row_number_and_reason(line, key):
    rows, errors = area_files.check_code_list(_csv("522699101202,乌东村", line), county_code=COUNTY, existing=STORED)
    assert [(e.row, e.key) for e in errors] == [(3, key)]
    assert [r.code for r in rows] == ["522699101202"]


def test_a_duplicate_code_names_the_row_where_it_first_appeared():
    _, errors = area_files.check_code_list(
        _csv("522699101202,乌东村", "522699101202,乌东村"), county_code=COUNTY, existing=STORED
    )
    assert [(e.row, e.key, e.params["first"]) for e in errors] == [(3, "area.row_duplicate", 2)]


@pytest.mark.parametrize(
    ("coords", "key"),
    [
        ("26.4,", "area.row_bad_coords"),
        ("abc,108.2", "area.row_bad_coords"),
        ("108.2,26.4", "area.row_coords_outside_china"),
    ],
)
def test_optional_coordinates_must_be_a_pair_inside_china(coords, key):
    _, errors = area_files.check_code_list(
        _csv(f"522699101202,乌东村,{coords}", header="code,name,lat,lon"), county_code=COUNTY, existing=STORED
    )
    assert [e.key for e in errors] == [key]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_the_code_list_is_read_as_utf8_or_gb18030(encoding):
    data = "统计用区划代码,名称,城乡分类代码\n522699101202,乌东村,220\n".encode(encoding)
    rows, errors = area_files.check_code_list(data, county_code=COUNTY, existing=STORED)
    assert errors == [] and rows[0].name == "乌东村"


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ("代码,名字\n".encode("utf-16"), "area.file_encoding"),
        (b"", "area.file_empty"),
        ("区域,名字\n522699101202,乌东村\n".encode(), "area.csv_headers"),
        (b"x" * (area_files.MAX_CODE_LIST_BYTES + 1), "area.file_too_big"),
    ],
)
def test_an_unreadable_code_list_is_refused_as_a_whole(data, key):
    with pytest.raises(ValidationError) as refused:
        area_files.check_code_list(data, county_code=COUNTY, existing=STORED)
    assert refused.value.key == key


SQUARE = [[108.0, 26.0], [108.1, 26.0], [108.1, 26.1], [108.0, 26.1], [108.0, 26.0]]


def _feature(code: object, geometry: object, prop: str = "code") -> dict:
    return {"type": "Feature", "properties": {prop: code}, "geometry": geometry}


def _collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


KNOWN = {"522699101000": "township", "522699101201": "village", "522699101202": "village"}


def test_good_boundaries_are_kept_compact_with_their_centroid():
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [[[p[0] + 0.2, p[1]] for p in SQUARE]]]}
    good, errors = area_files.check_boundaries(
        _collection(
            _feature("522699101201", {"type": "Polygon", "coordinates": [[[*p, 1200.0] for p in SQUARE]]}),
            _feature(522699101202, multi),
        ),
        code_property="code",
        known=KNOWN,
    )
    assert errors == []
    assert [(b.code, b.lat, b.lon) for b in good] == [("522699101201", 26.05, 108.05), ("522699101202", 26.05, 108.15)]
    assert json.loads(good[0].geometry) == {"type": "Polygon", "coordinates": [SQUARE]}


@pytest.mark.parametrize(
    ("feature", "key"),
    [
        (_feature(None, {"type": "Polygon", "coordinates": [SQUARE]}), "area.feature_no_code"),
        (_feature("5226991012", {"type": "Polygon", "coordinates": [SQUARE]}), "area.feature_bad_code"),
        (_feature("522699102201", {"type": "Polygon", "coordinates": [SQUARE]}), "area.feature_unknown_area"),
        (_feature("522699101201", {"type": "Point", "coordinates": [108.0, 26.0]}), "area.feature_bad_geometry_type"),
        (_feature("522699101201", None), "area.feature_bad_geometry_type"),
        (_feature("522699101201", {"type": "Polygon", "coordinates": [SQUARE[:3]]}), "area.feature_bad_ring"),
        (
            _feature("522699101201", {"type": "Polygon", "coordinates": [[*SQUARE[:4], [108.0, 26.05]]]}),
            "area.feature_ring_not_closed",
        ),
        (
            _feature("522699101201", {"type": "Polygon", "coordinates": [[["108", 26.0]] * 5]}),
            "area.feature_bad_coordinates",
        ),
        (
            _feature("522699101201", {"type": "Polygon", "coordinates": [[[p[1], p[0]] for p in SQUARE]]}),
            "area.feature_outside_china",
        ),
        (
            _feature(
                "522699101201", {"type": "Polygon", "coordinates": [[[500000.0 + p[0], 2900000.0] for p in SQUARE]]}
            ),
            "area.feature_outside_china",
        ),
    ],
)
def test_a_bad_feature_is_reported_by_its_number(feature, key):
    good_one = _feature("522699101202", {"type": "Polygon", "coordinates": [SQUARE]})
    good, errors = area_files.check_boundaries(_collection(good_one, feature), code_property="code", known=KNOWN)
    assert [(e.row, e.key) for e in errors] == [(2, key)]
    assert [b.code for b in good] == ["522699101202"]


def test_a_boundary_with_too_many_points_is_refused():
    ring = [[108.0 + i * 1e-6, 26.0] for i in range(area_files.MAX_VERTICES_PER_AREA)] + [[108.0, 26.1], [108.0, 26.0]]
    _, errors = area_files.check_boundaries(
        _collection(_feature("522699101201", {"type": "Polygon", "coordinates": [ring]})),
        code_property="code",
        known=KNOWN,
    )
    assert [e.key for e in errors] == ["area.feature_too_detailed"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"{not json", "area.geojson_not_json"),
        (b'{"type": "FeatureCollection", "features": []}', "area.geojson_not_collection"),
        (b'{"type": "Polygon", "coordinates": []}', "area.geojson_not_collection"),
    ],
)
def test_a_file_that_is_not_a_feature_collection_is_refused(data, key):
    with pytest.raises(ValidationError) as refused:
        area_files.check_boundaries(data, code_property="code", known=KNOWN)
    assert refused.value.key == key


# --- published layouts --------------------------------------------------------------------------

PUBLISHED = Path(__file__).resolve().parents[1] / "fixtures" / "published"
LIPING = "522631000000"


def _published(name: str) -> bytes:
    return (PUBLISHED / name).read_bytes()


def _codes_in(name: str) -> list[str]:
    """The code column of a published CSV, read plainly (what the fixture holds, not what the check says)."""
    with (PUBLISHED / name).open(encoding="utf-8", newline="") as handle:
        return [row["code"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize(
    ("cell", "digits"),
    [
        ("522631001001", "522631001001"),
        ("522631001001.0", "522631001001"),
        ("5.22631001001E+11", "522631001001"),
        ("5.22631001001e11", "522631001001"),
        ('="522631001001"', "522631001001"),
        ("'522631001001", "522631001001"),
        (" 522631 001001 ", "522631001001"),
        ("５２２６３１００１００１", "522631001001"),
        ("522631001", "522631001"),
    ],
)
def test_codes_written_by_excel_and_pandas_are_read_as_their_digits(cell, digits):
    assert area_files.clean_code(cell) == (digits, None)


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("5.22631E+11", "area.row_excel_number"),
        ("5.2263100100E+11", "area.row_excel_number"),
        ("52263100100X", "area.row_bad_code"),
        ("522631001001.5", "area.row_bad_code"),
        ("=522631001001", "area.row_bad_code"),
    ],
)
def test_a_rounded_or_garbled_code_is_not_guessed(cell, key):
    assert area_files.clean_code(cell)[1] == key


@pytest.mark.parametrize(
    ("digits", "code", "level"),
    [
        ("52", "520000000000", "province"),
        ("5226", "522600000000", "prefecture"),
        ("522631", "522631000000", "county"),
        ("522631001", "522631001000", "township"),
        ("522631001001", "522631001001", "village"),
        ("522600000000", "522600000000", "prefecture"),
    ],
)
def test_short_published_codes_become_twelve_digits_of_their_level(digits, code, level):
    assert area_files.twelve_digits(digits) == code
    assert area_files.division_level(code) == level


@pytest.mark.parametrize("digits", ["522631000", "520000", "52263100", "5226310010011", "522631000001"])
def test_a_code_whose_length_and_digits_disagree_is_no_code(digits):
    assert area_files.twelve_digits(digits) is None


@pytest.mark.parametrize("delimiter", ["\t", ";", ","])
def test_tab_semicolon_and_comma_separated_lists_are_read_alike(delimiter):
    lines = ["统计用区划代码", "名称"], ["522699102000", "西江镇"], ["522699102201", "南猛村"]
    data = "\n".join(delimiter.join(line) for line in lines).encode()
    rows, errors = area_files.check_code_list(data, county_code=COUNTY, existing=STORED)
    assert errors == [] and [r.code for r in rows] == ["522699102000", "522699102201"]


def test_the_nbs_page_layout_keeps_the_urban_rural_code_below_its_title_lines():
    page = (
        "2023年统计用区划代码和城乡划分代码\n"
        "统计用区划代码\t城乡分类代码\t名称\n"
        "522699101202\t220\t乌东村委会\n"
        "522699101203\t111\t西江社区居委会\n"
        "522699101204\t\t新村\n"
    )
    rows, errors = area_files.check_code_list(page.encode(), county_code=COUNTY, existing=STORED)
    assert errors == []
    assert [(r.row, r.code, r.urban_rural) for r in rows] == [
        (3, "522699101202", "220"),
        (4, "522699101203", "111"),
        (5, "522699101204", None),
    ]


def test_rows_above_and_beside_the_county_are_skipped_and_counted_by_level():
    data = _csv(
        "520000000000,贵州省",
        "522600000000,黔东南苗族侗族自治州",
        "522698000000,外县",
        "522698101000,外县的镇",
        "522698101201,外县的村",
        "522698101202,外县的村",
        "522699101202,乌东村",
    )
    checked = area_files.check_code_files([("", data)], county_code=COUNTY, existing=STORED)
    assert checked.errors == [] and [r.code for r in checked.rows] == ["522699101202"]
    assert checked.skipped == {"province": 1, "prefecture": 1, "county": 1, "township": 1, "village": 2}


def test_a_list_with_no_row_of_the_county_is_refused_naming_the_county():
    with pytest.raises(ValidationError) as refused:
        area_files.check_code_list(_csv("522698101201,外县的村"), county_code=COUNTY, existing=STORED)
    assert refused.value.key == "area.no_rows_for_county" and refused.value.params["county"] == COUNTY


def test_every_problem_of_a_row_is_listed_not_only_the_first():
    data = _csv("522699101299,,abc,108.2,999", header="code,name,lat,lon,城乡分类代码")
    _, errors = area_files.check_code_list(data, county_code=COUNTY, existing=STORED)
    assert [(e.row, e.key) for e in errors] == [
        (2, "area.row_retired"),
        (2, "area.row_name_required"),
        (2, "area.row_bad_coords"),
        (2, "area.row_bad_urban_rural"),
    ]


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("522699101203,新村,330", "area.row_bad_urban_rural"),
        ("522699102000,西江镇,220", "area.row_urban_rural_not_village"),
    ],
)
def test_an_urban_rural_code_is_one_of_the_nbs_codes_and_only_on_a_village(line, key):
    _, errors = area_files.check_code_list(
        _csv(line, header="代码,名称,城乡分类代码"), county_code=COUNTY, existing=STORED
    )
    assert [e.key for e in errors] == [key]


def test_a_village_whose_township_is_stored_needs_no_township_row():
    rows, errors = area_files.check_code_list(_csv("522699101203,新村"), county_code=COUNTY, existing=STORED)
    assert errors == [] and rows[0].parent_code == "522699101000"


def test_the_published_township_and_village_lists_of_liping_check_clean_together():
    files = [(name, _published(name)) for name in ("streets.csv", "villages.csv")]
    checked = area_files.check_code_files(files, county_code=LIPING, existing={LIPING: None})
    streets, villages = _codes_in("streets.csv"), _codes_in("villages.csv")
    ours_t = [c + "000" for c in streets if c.startswith("522631")]
    ours_v = [c for c in villages if c.startswith("522631")]
    assert checked.errors == []
    assert sorted(r.code for r in checked.rows if r.level == "township") == sorted(ours_t)
    assert sorted(r.code for r in checked.rows if r.level == "village") == sorted(ours_v)
    assert (len(ours_t), len(ours_v)) == (26, 321)
    assert checked.skipped == {"township": len(streets) - len(ours_t), "village": len(villages) - len(ours_v)}


def test_the_published_village_list_alone_names_each_missing_township():
    checked = area_files.check_code_files(
        [("villages.csv", _published("villages.csv"))], county_code=LIPING, existing={LIPING: None}
    )
    assert checked.rows == []
    assert {e.key for e in checked.errors} == {"area.row_parent_missing"}
    assert len(checked.errors) == len([c for c in _codes_in("villages.csv") if c.startswith("522631")])


def test_problems_in_several_files_name_the_file_in_the_column():
    files = [("a.csv", _csv("522699102000,")), ("b.csv", _csv("522699102201,"))]
    checked = area_files.check_code_files(files, county_code=COUNTY, existing=STORED)
    assert [(e.column, e.row) for e in checked.errors] == [("a.csv · 名称", 2), ("b.csv · 名称", 2)]


# --- boundaries of published files, and datums ---------------------------------------------------

GCJ_PAIRS = [  # WGS-84 -> GCJ-02, the published pairs tests/unit/test_tiles.py checks the forward shift on
    ((39.915, 116.404), (39.91640428, 116.41024449)),
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = math.radians(b[0] - a[0])
    dlon = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6371008.8 * math.hypot(dlat, dlon)


@pytest.mark.parametrize(("wgs", "gcj"), GCJ_PAIRS)
def test_a_published_gcj02_point_converts_back_to_its_wgs84_point(wgs, gcj):
    assert _metres(area_files.gcj02_to_wgs84(*gcj), wgs) < 0.5


@pytest.mark.parametrize("lat", [25.5, 26.0, 26.5, 27.0, 30.0, 40.0])
@pytest.mark.parametrize("lon", [107.5, 108.5, 109.5, 116.0, 121.0])
def test_gcj02_round_trip_is_within_half_a_metre(lat, lon):
    assert _metres(area_files.gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon)), (lat, lon)) < 0.5


def test_the_datum_of_a_boundary_file_must_be_chosen():
    data = _collection(_feature("522699101201", {"type": "Polygon", "coordinates": [SQUARE]}))
    for datum in ("", "bd09", None):
        with pytest.raises(ValidationError) as refused:
            area_files.check_boundary_file(data, code_property="", known=KNOWN, datum=datum)
        assert refused.value.key == "area.datum_required"


def test_a_gcj02_boundary_moves_by_the_shift_to_wgs84():
    gcj = [[round(lon, 6), round(lat, 6)] for lat, lon in (wgs84_to_gcj02(p[1], p[0]) for p in SQUARE)]
    data = _collection(_feature("522699101201", {"type": "Polygon", "coordinates": [gcj]}))
    checked = area_files.check_boundary_file(data, code_property="", known=KNOWN, datum="gcj02")
    stored = json.loads(checked.boundaries[0].geometry)["coordinates"][0]
    moved = _metres((gcj[0][1], gcj[0][0]), (stored[0][1], stored[0][0]))
    assert 200 < moved < 1000
    assert all(_metres((p[1], p[0]), (q[1], q[0])) < 0.5 for p, q in zip(stored, SQUARE, strict=True))


@pytest.mark.parametrize(
    ("properties", "feature_id", "code"),
    [
        ({"adcode": 522699}, None, COUNTY),
        ({"adcode": 522699.0}, None, COUNTY),
        ({"code": "522699101"}, None, "522699101000"),
        ({"id": 522699101201}, None, "522699101201"),
        ({"name": "羊排村"}, "522699101201", "522699101201"),
    ],
)
def test_a_feature_code_is_found_in_adcode_code_or_id_in_any_published_form(properties, feature_id, code):
    feature = {"type": "Feature", "properties": properties, "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    if feature_id is not None:
        feature["id"] = feature_id
    checked = area_files.check_boundary_file(
        _collection(feature), code_property="", known={**KNOWN, COUNTY: "county"}, datum="wgs84", county_code=COUNTY
    )
    assert checked.errors == [] and [b.code for b in checked.boundaries] == [code]


@pytest.mark.parametrize(
    ("name", "datum", "code_of"),
    [
        ("datav_qiandongnan_full.json", "gcj02", lambda f: str(f["properties"]["adcode"])),
        ("echarts_qiandongnan.geojson", "wgs84", lambda f: f["id"]),
    ],
)
def test_a_published_county_file_keeps_this_county_and_skips_the_others(name, datum, code_of):
    features = json.loads(_published(name))["features"]
    checked = area_files.check_boundary_file(
        _published(name), code_property="", known={LIPING: "county"}, datum=datum, county_code=LIPING
    )
    assert checked.errors == [] and [b.code for b in checked.boundaries] == [LIPING]
    assert checked.skipped == {"county": len([f for f in features if code_of(f) != "522631"])}
    assert 25.9 < checked.boundaries[0].lat < 26.5 and 108.7 < checked.boundaries[0].lon < 109.5


def test_an_odd_code_of_another_county_is_skipped_not_refused():
    data = _published("streets.csv")
    assert b"\n350527000," in data
    checked = area_files.check_code_files([("streets.csv", data)], county_code=LIPING, existing={LIPING: None})
    assert checked.errors == []
    assert checked.skipped["township"] == len([c for c in _codes_in("streets.csv") if not c.startswith("522631")])
    _, errors = area_files.check_code_list(_csv("522699000,本县的怪代码"), county_code=COUNTY, existing=STORED)
    assert [e.key for e in errors] == ["area.row_bad_code"]


def test_a_header_repeated_between_pasted_pages_is_skipped_and_counted():
    data = _csv("522699101202,乌东村", "统计用区划代码,名称", "522699101203,新村")
    checked = area_files.check_code_files([("", data)], county_code=COUNTY, existing=STORED)
    assert checked.errors == [] and [r.row for r in checked.rows] == [2, 4]
    assert checked.skipped == {"header": 1}


def test_names_holding_tabs_and_semicolons_do_not_change_how_a_comma_list_is_split():
    data = _csv('522699101202,"a;b;c;d;e;f"', '522699101203,"x\ty\tz;;;;"', header="统计用区划代码,名称")
    rows, errors = area_files.check_code_list(data, county_code=COUNTY, existing=STORED)
    assert errors == [] and [r.name for r in rows] == ["a;b;c;d;e;f", "x y z;;;;"]
