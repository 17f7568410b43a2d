"""Fixtures every kind of test may use: a frozen clock and a migrated database engine."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import Engine, create_engine, text

# Under the tests a catalog message that cannot be formatted (a parameter missing, a stray brace)
# raises instead of showing its raw text; the env var also reaches app servers the tests start.
os.environ["CARE_I18N_STRICT"] = "1"
from sqlalchemy.exc import DBAPIError

from care import i18n
from care.domain import clock
from db.migrate import upgrade
from db.session import get_engine

i18n.set_strict(True)

POSTGRES_URL_ENV = "CARE_TEST_POSTGRES_URL"

FreezeClock = Callable[[dt.datetime | dt.date], dt.datetime]


@pytest.fixture(autouse=True)
def _release_clock() -> Iterator[None]:
    """No test sees a clock frozen by an earlier one."""
    yield
    clock.freeze(None)


@pytest.fixture
def freeze_clock() -> FreezeClock:
    """Call with a datetime (or a date, meaning 09:00 that day) to fix care.domain.clock there."""

    def _freeze(at: dt.datetime | dt.date) -> dt.datetime:
        if not isinstance(at, dt.datetime):
            at = dt.datetime.combine(at, dt.time(9, 0))
        clock.freeze(at)
        return at

    return _freeze


def _with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (libpq ``options=-csearch_path=...``)."""
    parts = urlsplit(url)
    option = f"options=-csearch_path%3D{schema}"
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


def _plain_driver_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` both mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """An engine on CARE_TEST_POSTGRES_URL; skips when unset, fails when set but unreachable."""
    url = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set")
    admin = create_engine(
        _plain_driver_url(url),
        hide_parameters=True,
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 10},
    )
    problem = None
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        problem = str(exc).splitlines()[0]
    if problem:
        admin.dispose()
        pytest.fail(
            f"{POSTGRES_URL_ENV} is set but PostgreSQL does not answer: {problem}",
            pytrace=False,
        )
    yield admin
    admin.dispose()


def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = get_engine(str(tmp_path / "care.db"))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


def _postgres_engine(admin: Engine) -> Iterator[Engine]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = get_engine(_with_search_path(admin.url.render_as_string(hide_password=False), schema))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)],
)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database built by the migrations: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path)
    else:
        yield from _postgres_engine(request.getfixturevalue("postgres_admin"))
