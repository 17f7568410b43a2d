"""A city of demo counties: each county's code, seed, share of the residents and map box, and the
city's and province's own areas."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from care.demo.areas import _area_row
from care.demo.common import (
    BOX_STEP,
    CITY_CODE,
    CITY_NAME,
    COUNTY_NAMES,
    LAT_RANGE,
    LON_RANGE,
    PROVINCE_CODE,
    PROVINCE_NAME,
    Box,
    DemoCounty,
)


def demo_county_code(index: int) -> str:
    """County ``index`` of the demo city: 522699000000, 522698000000, ..."""
    return f"5226{99 - index:02d}000000"


def county_seed(seed: int, index: int) -> int:
    """County 0 is built with the city's seed; every other county with its own, fixed by both."""
    if index == 0:
        return seed
    digest = hashlib.sha256(f"caremap-demo-city:{seed}:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def county_shares(residents: int, counties: int) -> list[int]:
    """Residents per county: an even split, the remainder to the first."""
    share, rest = divmod(residents, counties)
    return [share + rest] + [share] * (counties - 1)


def county_box(index: int, counties: int) -> Box:
    """County ``index``'s map box: rows of boxes going east, then south, from county 0's."""
    columns = math.ceil(math.sqrt(counties))
    row, column = divmod(index, columns)
    lat = (round(LAT_RANGE[0] - row * BOX_STEP, 6), round(LAT_RANGE[1] - row * BOX_STEP, 6))
    lon = (round(LON_RANGE[0] + column * BOX_STEP, 6), round(LON_RANGE[1] + column * BOX_STEP, 6))
    return (lat, lon) if index else (LAT_RANGE, LON_RANGE)


def demo_counties(residents: int, seed: int, counties: int = 1) -> list[DemoCounty]:
    """The counties a demo of this size builds, in the order they are built."""
    parent = CITY_CODE if counties > 1 else None
    return [
        DemoCounty(k, demo_county_code(k), name, county_seed(seed, k), share, county_box(k, counties), parent)
        for k, (name, share) in enumerate(zip(COUNTY_NAMES, county_shares(residents, counties), strict=False))
    ]


def _city_areas(counties: list[DemoCounty]) -> list[dict[str, Any]]:
    """The province and the city above the counties, placed at the middle of the counties' boxes."""
    lat = round((min(c.box[0][0] for c in counties) + max(c.box[0][1] for c in counties)) / 2, 6)
    lon = round((min(c.box[1][0] for c in counties) + max(c.box[1][1] for c in counties)) / 2, 6)
    return [
        _area_row(PROVINCE_CODE, PROVINCE_NAME, "province", None, lat, lon),
        _area_row(CITY_CODE, CITY_NAME, "city", PROVINCE_CODE, lat, lon),
    ]
