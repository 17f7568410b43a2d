"""The area files an admin imports: the official code list (CSV) and boundaries (GeoJSON), checked row by row."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from care import area_files
from care.errors import ValidationError

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
        ("522698101201,外县的村", "area.row_outside_county"),
        ("522698000000,外县", "area.row_outside_county"),
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
