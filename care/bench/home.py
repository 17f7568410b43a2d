"""Home page benchmark: every read the home page makes, for each role (target under 1 s each).

``home_<role>``: ``care.queries.home.home_page`` as the page calls it: the register counts with the
worklist and the areas below ranked, the service alerts, a coordinator's week, the children
reaching their age limit (read only).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine

from care.bench.common import active_user, line, timed
from care.domain import clock
from care.queries.home import home_page
from db.session import reading

ROLES = ("coordinator", "township", "county", "admin")
TARGET_SECONDS = 1.0


def bench_home(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """home_coordinator, home_township, home_county, home_admin."""
    today = clock.today()
    for role in ROLES:
        scope = active_user(engine, role)

        def run(scope: Any = scope) -> Any:
            with reading(engine) as session:
                return home_page(session, scope, today)

        times, page = timed(run, repeat=5)
        summary = page.summary
        yield line(
            "home",
            f"home_{role}",
            n,
            times,
            role=role,
            persons=summary.persons,
            overdue=summary.overdue,
            areas_ranked=len(summary.areas),
            week_items=len(page.week.items) if page.week is not None else None,
            target=TARGET_SECONDS,
        )
