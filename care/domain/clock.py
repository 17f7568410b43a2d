"""County-local time. Every date and time CareMap stores is naive Asia/Shanghai time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    """The current county-local time, without tzinfo (or the frozen time in tests)."""
    if _frozen is not None:
        return _frozen
    return dt.datetime.now(TZ).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """The current county-local date."""
    return now().date()


def freeze(at: dt.datetime | None) -> None:
    """Fix the clock at ``at`` (None releases it). For tests and deterministic demos."""
    global _frozen  # noqa: PLW0603 - one process-wide test clock
    _frozen = at
