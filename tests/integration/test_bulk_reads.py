"""Fast reads for reports: rows read beside on a second connection equal the plain read, leave no
temporary table behind, and dates read as day numbers are the days since 1970-01-01."""

from __future__ import annotations

import datetime as dt
import gc
import threading

import pandas as pd
import pytest
from sqlalchemy import select, text

from care.queries import bulk
from db.models import Enrollment, Visit
from db.session import reading, transaction

COLUMNS = ["enrollment_id", "person_id", "group", "start_date", "last_visit_on"]
KINDS = {"enrollment_id": "int", "person_id": "int", "start_date": "float", "last_visit_on": "float"}


def _statement():
    return select(
        Enrollment.id,
        Enrollment.person_id,
        Enrollment.group,
        bulk.day_number(Enrollment.start_date),
        bulk.day_number(Enrollment.last_visit_on),
    ).order_by(Enrollment.id)


def test_rows_read_beside_equal_the_plain_read(engine, world):
    with reading(engine) as session:
        plain = bulk.frame(session, _statement(), COLUMNS, KINDS)
        beside = bulk.read_beside(session, _statement(), COLUMNS, KINDS).result()
    assert len(plain) == len(world.persons) + 1  # one person is in two groups
    # Rows come back in the order the statement gives them on both paths.
    pd.testing.assert_frame_equal(beside, plain)
    assert str(beside["enrollment_id"].dtype) == "int64" and str(beside["start_date"].dtype) == "float64"


def test_the_temporary_table_goes_with_the_read(engine, world):
    if engine.dialect.name != "sqlite":
        pytest.skip("only SQLite copies the rows into a temporary table")
    with reading(engine) as session:
        for _ in range(3):
            bulk.read_beside(session, _statement(), COLUMNS, KINDS).result()
    # Every pooled connection, whichever served the reads, holds no temporary table.
    held = [engine.connect() for _ in range(3)]
    try:
        assert [c.execute(text("SELECT count(*) FROM sqlite_temp_master")).scalar() for c in held] == [0, 0, 0]
    finally:
        for connection in held:
            connection.close()


def test_an_error_in_the_read_reaches_the_caller(engine, world):
    broken = select(text("no_such_column FROM enrollments"))
    with reading(engine) as session, pytest.raises(Exception, match="no_such_column"):
        bulk.read_beside(session, broken, ["x"], {}).result()


def test_day_numbers_of_dates_timestamps_and_empty_values(engine, world):
    person = next(iter(world.persons.values()))
    stamps = [dt.datetime(2026, 5, 31, 23, 59, 59), dt.datetime(2026, 6, 1, 0, 0), dt.datetime(2000, 2, 29, 12, 30)]
    with transaction(engine) as session:
        for stamp in stamps:
            session.add(Visit(person_id=person, status="done", visited_at=stamp, mode="home", created_at=stamp))
    with reading(engine) as session:
        visited = session.execute(
            select(Visit.visited_at, bulk.day_number(Visit.visited_at)).where(Visit.visited_at.is_not(None))
        ).all()
        empty = session.execute(select(bulk.day_number(Enrollment.end_date)).where(Enrollment.end_date.is_(None)))
        starts = session.execute(select(Enrollment.start_date, bulk.day_number(Enrollment.start_date))).all()
    epoch = dt.date(1970, 1, 1)
    assert sorted(number for _, number in visited) == [(s.date() - epoch).days for s in sorted(stamps)]
    assert [n for s, n in visited if s == stamps[0]] == [20604]  # 2026-05-31, not the next day
    assert all(number == (day - epoch).days for day, number in starts)
    assert set(empty.scalars()) == {None}


def test_the_collector_pause_nests_and_restores_the_collector():
    assert gc.isenabled()
    with bulk.collection_paused():
        assert not gc.isenabled()
        with bulk.collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk.collection_paused():
            pass
        assert not gc.isenabled(), "a collector switched off before stays off"
    finally:
        gc.enable()


def test_concurrent_pauses_resume_the_collector_after_the_last():
    inside, leave = threading.Barrier(2), threading.Event()

    def pause() -> None:
        with bulk.collection_paused():
            inside.wait()
            leave.wait()

    worker = threading.Thread(target=pause)
    worker.start()
    with bulk.collection_paused():
        inside.wait()
    assert not gc.isenabled(), "the other thread's pause is still open"
    leave.set()
    worker.join()
    assert gc.isenabled()


def test_an_unknown_column_kind_is_refused():
    with pytest.raises(ValueError, match="kind"):
        bulk.rows_frame([(1,)], ["x"], {"x": "integer"})
