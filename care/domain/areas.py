"""12-digit statistical division codes: levels, parents, and scope prefixes."""

from __future__ import annotations

import re

from care.domain.errors import ValidationError

_CODE = re.compile(r"^\d{12}$")
# One character after '9': every code that starts with a prefix sorts below prefix + this.
_AFTER_DIGITS = ":"


def is_code(code: object) -> bool:
    """Whether ``code`` is twelve digits."""
    return isinstance(code, str) and bool(_CODE.match(code))


def level_of(code: str) -> str:
    """'province' (XX0000000000), 'city' (XXXX00000000), 'county' (XXXXXX000000), 'township'
    (XXXXXXXXX000) or 'village'."""
    if not is_code(code):
        raise ValidationError("area.bad_code", field="area_code", code=str(code)[:20])
    if code[2:] == "0" * 10:
        return "province"
    if code[4:] == "0" * 8:
        return "city"
    if code[6:] == "000000":
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


# How many leading digits of a code name its area, by level.
PREFIX_LENGTH = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
# The level of the areas directly below each level.
LEVEL_BELOW = {"province": "city", "city": "county", "county": "township", "township": "village"}


def prefix_of(code: str) -> str:
    """The significant digits of ``code``: everything inside this area starts with them."""
    level = level_of(code)
    return code[: PREFIX_LENGTH[level]]


def contains(outer: str, inner: str) -> bool:
    """Whether area ``inner`` lies in (or is) area ``outer``."""
    return is_code(outer) and is_code(inner) and inner.startswith(prefix_of(outer))


def prefix_bounds(prefix: str) -> tuple[str, str]:
    """A half-open string range [low, high) holding exactly the codes that start with ``prefix``.

    A range, unlike LIKE 'prefix%', uses the index on both SQLite and PostgreSQL.
    """
    return prefix, prefix + _AFTER_DIGITS


def township_of(code: str) -> str:
    """The township code a village (or township) belongs to."""
    return code[:9] + "000"


def county_of(code: str) -> str:
    """The county code an area belongs to."""
    return code[:6] + "000000"


def above_county(code: str) -> bool:
    """Whether ``code`` is a city or a province: an area of several counties."""
    return is_code(code) and level_of(code) in ("city", "province")


def parent_of(code: str) -> str | None:
    """The code of the area directly above ``code`` by its digits (None for a province)."""
    level = level_of(code)
    if level == "province":
        return None
    keep = {"city": 2, "county": 4, "township": 6, "village": 9}[level]
    return code[:keep].ljust(12, "0")


# Mainland China's extent, with a margin: points outside are typos or swapped lat/lon.
CHINA_LAT = (3.8, 53.6)
CHINA_LON = (73.5, 135.1)


def in_china(lat: float, lon: float) -> bool:
    """Whether a WGS-84 point falls inside China's bounding box."""
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]
