"""Concurrent read-modify-write transactions lose nothing (SQLite: BEGIN IMMEDIATE; PostgreSQL: row locks)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from care.domain import areas
from db.models import Area, Setting
from db.session import reading, transaction

THREADS = 8
ROUNDS = 50


def test_eight_threads_incrementing_one_counter_lose_no_update(engine):
    with transaction(engine) as session:
        session.add(Setting(key="counter", value="0"))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(ROUNDS):
                with transaction(engine) as session:
                    row = session.get(Setting, "counter", with_for_update=True)
                    row.value = str(int(row.value) + 1)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with reading(engine) as session:
        final = session.get(Setting, "counter").value
    assert errors == []
    assert final == str(THREADS * ROUNDS)


def test_sqlite_connections_use_wal_full_sync_and_foreign_keys(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 30000}


def test_a_failed_write_leaves_nothing_behind(engine):
    try:
        with transaction(engine) as session:
            session.add(Area(code="522699000000", name="县", level="county", valid_from=dt.date(2020, 1, 1)))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with reading(engine) as session:
        assert session.scalar(select(Area.code)) is None
    assert areas.is_code("522699000000")


def test_sql_parameters_are_hidden_from_error_messages(engine):
    with transaction(engine) as session:
        session.add(Area(code="522699000000", name="县", level="county"))
    with pytest.raises(IntegrityError) as error, transaction(engine) as session:
        session.add(Area(code="522699000000", name="110105194912310021", level="county"))
        session.flush()
    assert "110105194912310021" not in str(error.value)
