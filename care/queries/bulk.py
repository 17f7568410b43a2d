"""Reading large tables fast: the driver's own rows into typed columns, one statement in a thread.

A county's report reads 100,000 enrollments and 100,000 persons. Through SQLAlchemy's row objects
and pandas' type guessing that costs more than the database's own work; these helpers skip both.
"""

from __future__ import annotations

import gc
import secrets
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Integer, column, insert, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

KINDS = ("text", "int", "float", "bool", "raw")


class _Pauses:
    """How many pauses of the collector are open, and whether it ran before the first."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.was_enabled = False


_PAUSES = _Pauses()


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while building large frames.

    Reading 100,000 rows creates as many tuples; each batch of new objects sets off a collection
    that walks every object alive, again and again, for nothing: rows hold no reference cycles.
    Nested and concurrent pauses are counted; the collector resumes (if it was running) when the
    last one ends.
    """
    with _PAUSES.lock:
        if _PAUSES.open == 0:
            _PAUSES.was_enabled = gc.isenabled()
            gc.disable()
        _PAUSES.open += 1
    try:
        yield
    finally:
        with _PAUSES.lock:
            _PAUSES.open -= 1
            if _PAUSES.open == 0 and _PAUSES.was_enabled:
                gc.enable()


def frame(session: Session, stmt: Any, columns: list[str], kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The rows of ``stmt`` as a frame (see ``rows_frame``)."""
    return rows_frame(fetch(session.connection(), stmt), columns, kinds or {})


def fetch(connection: Connection, stmt: Any) -> list[Any]:
    """The driver's own tuples, for statements whose columns are all plain (numbers, text, dates
    read as text): they skip SQLAlchemy's per-row objects, the larger part of reading 100,000 rows."""
    result = connection.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def rows_frame(rows: list[Any], columns: list[str], kinds: Mapping[str, str]) -> pd.DataFrame:
    """Rows as a frame built one column at a time, each to the type ``kinds`` names: "int" (never
    empty), "float" (may be empty), "bool", "raw" (left as the driver gave it); other columns are
    text. Letting pandas guess each column's type would cost as much again as reading it."""
    cells = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    data = {}
    for i, name in enumerate(columns):
        kind = kinds.get(name, "text")
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r}")
        if kind == "float":
            data[name] = pd.Series(cells[:, i].astype("float64"))
        elif kind == "text":
            data[name] = pd.Series(cells[:, i], dtype="str")
        elif kind == "raw":
            data[name] = pd.Series(cells[:, i], dtype=object)
        elif kind == "int":
            data[name] = pd.Series(cells[:, i].astype("int64"))
        else:
            data[name] = pd.Series(cells[:, i].astype(bool))
    return pd.DataFrame(data, copy=False)


def read_beside(session: Session, stmt: Any, columns: list[str], kinds: Mapping[str, str]) -> Future[pd.DataFrame]:
    """Start reading ``stmt`` on a second connection, in a thread, while the caller reads the rest.

    For the one statement that costs the database most (the enrollments with their visits): the
    database works on it while this thread reads and converts the smaller tables. The thread holds
    the interpreter lock only to convert rows. On SQLite the rows are first copied into a temporary
    table by one INSERT … SELECT, then read: the sqlite3 module lets go of the lock around each step
    of a statement, so a SELECT read in a thread would pass the lock back and forth once per row,
    while the INSERT runs as a single step.

    Both connections read committed data only, but they are two reads: on SQLite their snapshots
    may lie as far apart as the smaller reads take (well under a second), so a change committed
    in between can show in one table and not the other. ``compute`` keeps only the enrollments of
    the persons it was given.
    """
    engine = session.get_bind()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="report-read")
    try:
        return pool.submit(_read_apart, engine, stmt, columns, kinds)
    finally:
        pool.shutdown(wait=False)


def _read_apart(engine: Any, stmt: Any, columns: list[str], kinds: Mapping[str, str]) -> pd.DataFrame:
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            return rows_frame(fetch(connection, stmt), columns, kinds)
        # Created inside the read transaction: the rollback when the connection closes drops it.
        name = f"report_rows_{secrets.token_hex(8)}"
        slots = [f"c{i}" for i in range(len(columns))]
        connection.exec_driver_sql(f"CREATE TEMP TABLE {name} ({', '.join(slots)})")
        target = table(name, *(column(slot) for slot in slots))
        connection.execute(insert(target).from_select(slots, stmt))
        return rows_frame(fetch(connection, select(target)), columns, kinds)


class day_number(FunctionElement[int]):
    """Days from 1970-01-01 to a date or timestamp column's calendar day, as an integer.

    Read that way, a date costs the driver a small integer instead of a string, and pandas nothing
    to parse; ``care.domain.reports`` takes a numeric date column as day numbers already.
    """

    type = Integer()
    inherit_cache = True
    name = "day_number"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element: day_number, compiler: Any, **kw: Any) -> str:
    # julianday of '1970-01-01 00:00' is 2440587.5; dates stored as ISO text are never before it here.
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(day_number, "postgresql")
def _day_number_postgresql(element: day_number, compiler: Any, **kw: Any) -> str:
    return f"(CAST({compiler.process(element.clauses, **kw)} AS DATE) - DATE '1970-01-01')"
