"""What every benchmark shares: timing, the result line, the demo's accounts and a database copy."""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from care.auth import scope_of
from care.domain.clock import today
from care.domain.reports import month_of
from care.scope import Scope
from db.models import User
from db.session import reading

COPY_NAME = "bench_visits_copy.db"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], Any]:
    """Wall-clock seconds of ``repeat`` calls (after one warm-up call), and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def line(bench: str, case: str, n: int, times: list[float], **extra: Any) -> dict[str, Any]:
    """One result line: the median, with min, max and run count beside it."""
    return {
        "bench": bench,
        "case": case,
        "n": n,
        "seconds": round(statistics.median(times), 5),
        "min": round(min(times), 5),
        "max": round(max(times), 5),
        "runs": len(times),
        **extra,
    }


def user_scope(engine: Engine, role: str) -> Scope:
    """The first account of ``role`` with an area (the demo's), as a scope."""
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.role == role, User.area_code.is_not(None)).order_by(User.id))
        if user is None:
            raise SystemExit(f"no {role} account in this database; build it with python -m care.demo")
        return scope_of(user)


def copy_database(engine: Engine) -> Path:
    """A fresh copy of a SQLite database beside it, made with the online backup API."""
    url = make_url(engine.url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise SystemExit("the visits bench writes, so it runs on a copy of a SQLite database file (--db FILE)")
    source = Path(url.database)
    target = source.with_name(COPY_NAME)
    for stale in (target, target.with_name(COPY_NAME + "-wal"), target.with_name(COPY_NAME + "-shm")):
        stale.unlink(missing_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def active_user(engine: Engine, role: str) -> Scope:
    """The first active account of ``role``, as a scope."""
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.role == role, User.active.is_(True)).order_by(User.id))
        if user is None:
            raise SystemExit(f"no {role} account in this database; build it with python -m care.demo")
        return scope_of(user)


def last_month() -> str:
    """The label (YYYY-MM) of the month before this one: the month a report is usually read for."""
    return month_of(month_of(today()).first - dt.timedelta(days=1)).label
