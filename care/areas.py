"""12-digit statistical division codes: levels, parents, and scope prefixes."""

from __future__ import annotations

import re

from care.errors import ValidationError

_CODE = re.compile(r"^\d{12}$")
# One character after '9': every code that starts with a prefix sorts below prefix + this.
_AFTER_DIGITS = ":"


def is_code(code: object) -> bool:
    """Whether ``code`` is twelve digits."""
    return isinstance(code, str) and bool(_CODE.match(code))


def level_of(code: str) -> str:
    """'county' (XXXXXX000000), 'township' (XXXXXXXXX000) or 'village'."""
    if not is_code(code):
        raise ValidationError("area.bad_code", field="area_code", code=str(code)[:20])
    if code[6:] == "000000":
        return "county"
    if code[9:] == "000":
        return "township"
    return "village"


def prefix_of(code: str) -> str:
    """The significant digits of ``code``: everything inside this area starts with them."""
    level = level_of(code)
    return {"county": code[:6], "township": code[:9], "village": code}[level]


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


# Mainland China's extent, with a margin: points outside are typos or swapped lat/lon.
CHINA_LAT = (3.8, 53.6)
CHINA_LON = (73.5, 135.1)


def in_china(lat: float, lon: float) -> bool:
    """Whether a WGS-84 point falls inside China's bounding box."""
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]
