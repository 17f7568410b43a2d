"""One engine per database URL per process, and the two ways to use it.

``transaction()`` is for writes: on SQLite it begins with ``BEGIN IMMEDIATE`` so two writers
queue instead of silently losing updates; ``reading()`` is for reads (deferred, never commits).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session

from db.config import database_url, normalise_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "care_write"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module so our BEGIN is the one used.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        # FULL, not NORMAL: a power cut must not drop a commit the user was told succeeded.
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA temp_store = MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: ``CARE_DATABASE_URL`` or embedded SQLite)."""
    return _engine_for(normalise_url(url) if url else database_url())


@functools.cache
def _engine_for(url: str) -> Engine:
    """One engine per resolved URL (the default is resolved on every call, then cached by URL)."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, hide_parameters=True, pool_pre_ping=True, pool_size=10)


def _session(engine: Engine | None, write: bool) -> Session:
    bound = engine or get_engine()
    if write:
        bound = bound.execution_options(**{WRITE_OPTION: True})
    return Session(bind=bound, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """A write transaction: commits when the block ends, rolls back on any exception."""
    session = _session(engine, write=True)
    try:
        with session.begin():
            yield session
    finally:
        session.close()


@contextmanager
def rolled_back(engine: Engine | None = None) -> Iterator[Session]:
    """A write transaction that is always rolled back: dry runs and benchmarks of writes."""
    session = _session(engine, write=True)
    try:
        session.begin()
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def reading(engine: Engine | None = None) -> Iterator[Session]:
    """A read-only session over one consistent snapshot; anything written is rolled back."""
    session = _session(engine, write=False)
    try:
        yield session
    finally:
        session.close()
