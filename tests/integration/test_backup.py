"""Backups taken while writers run restore whole; restores refuse to overwrite data or read a bad file."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from care import audit_anchor
from care.domain.errors import CareError
from care.services import backup
from db.models import AuditEvent, Person, Visit
from db.session import get_engine, reading, transaction

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 3


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


class Writers:
    """Threads that each commit (one person + one visit of theirs) per transaction until stopped."""

    def __init__(self, engine, village: str) -> None:
        self.engine, self.village = engine, village
        self.stop = threading.Event()
        self.committed = [0] * WRITERS
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(WRITERS)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            now = dt.datetime(2026, 6, 10, 9, 0)
            try:
                with transaction(self.engine) as session:
                    person = Person(
                        id_number=f"W{n}{i:016d}",
                        name=f"写入{n}-{i}",
                        sex="F",
                        birth_date=dt.date(1950, 1, 1),
                        village_code=self.village,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(person)
                    session.flush()
                    session.add(Visit(person_id=person.id, status="done", mode="home", visited_at=now, created_at=now))
                self.committed[n] += 1
            except BaseException as error:  # a writer must never fail: the test reports it
                self.errors.append(error)
                return

    def __enter__(self) -> Writers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def total(self) -> int:
        return sum(self.committed)


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "writers made no progress"
        time.sleep(0.01)


def _writer_rows(engine) -> tuple[int, int]:
    with reading(engine) as session:
        persons = session.scalar(select(func.count()).where(Person.id_number.like("W%"))) or 0
        visits = session.scalar(select(func.count()).select_from(Visit).join(Person).where(Person.id_number.like("W%")))
    return int(persons), int(visits or 0)


@pytest.fixture
def target(engine, tmp_path, request):
    """An empty database of the same kind to restore into (a fresh PostgreSQL database for PostgreSQL)."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    admin = request.getfixturevalue("postgres_admin")
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_url(engine)).set(database=name).render_as_string(hide_password=False)
    yield url
    get_engine(url).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_a_backup_taken_while_writers_run_restores_whole_with_the_counts_of_that_moment(
    world, engine, target, tmp_path
):
    dest = tmp_path / "backup.bin"
    with Writers(engine, world.village_a1) as writers:
        _wait_for(lambda: writers.total() >= 20)
        before = writers.total()
        summary = backup.backup(_url(engine), dest)
        after_backup = writers.total()
        _wait_for(lambda: writers.total() >= after_backup + 20)
    assert writers.errors == []
    assert summary.integrity == "ok" and dest.is_file() and summary.sha256 == backup.file_sha256(dest)
    persons_in_backup = summary.counts["persons"] - len(world.persons)
    # The copy is one moment between the commits seen before and after the backup ran ...
    assert before <= persons_in_backup <= after_backup
    # ... and writing went on afterwards, so the live database has moved past it.
    assert _writer_rows(engine)[0] > persons_in_backup

    restored = backup.restore(target, dest)
    assert restored.integrity == "ok"
    assert restored.counts == summary.counts
    # Whole transactions only: every writer's person came with its visit.
    assert _writer_rows(get_engine(target)) == (persons_in_backup, persons_in_backup)


def test_restore_refuses_a_database_that_holds_rows_unless_forced(world, engine, tmp_path):
    dest = tmp_path / "backup.bin"
    backup.backup(_url(engine), dest)
    with transaction(engine) as session:
        session.add(AuditEvent(at=dt.datetime(2026, 6, 10), action="test.marker", detail={}))
    with pytest.raises(CareError) as refused:
        backup.restore(_url(engine), dest)
    assert refused.value.key == "backup.target_not_empty"
    with reading(engine) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "test.marker")) == 1
    backup.restore(_url(engine), dest, force=True)
    with reading(engine) as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "test.marker")) == 0
        assert session.scalar(select(func.count()).select_from(Person)) == len(world.persons)


def test_a_backup_never_overwrites_a_file_and_a_damaged_file_is_not_restored(world, engine, tmp_path):
    dest = tmp_path / "backup.bin"
    dest.write_bytes(b"something precious")
    with pytest.raises(CareError) as exists:
        backup.backup(_url(engine), dest)
    assert exists.value.key == "backup.target_exists" and dest.read_bytes() == b"something precious"
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(CareError) as damaged:
        backup.restore(empty, dest)
    assert damaged.value.key == "backup.bad_source"
    assert not (tmp_path / "empty.db").exists() or (tmp_path / "empty.db").stat().st_size == 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "care.admin", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
        check=False,
    )


def test_the_backup_and_restore_commands_print_a_summary_and_refuse_a_non_empty_target(tmp_path):
    from care.demo.build import build_demo

    source = tmp_path / "care.db"
    build_demo(get_engine(str(source)), residents=40, seed=4)
    from care import auth

    with transaction(get_engine(str(source))) as session:
        auth.authenticate(session, username="nobody", password="x")  # an audit log to anchor
    made = _cli("backup", "--db", str(source), "--to", str(tmp_path / "b.db"))
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout.strip().splitlines()[-1])
    assert summary["integrity"] == "ok" and summary["counts"]["persons"] == 40
    again = _cli("backup", "--db", str(source), "--to", str(tmp_path / "b.db"))
    assert again.returncode == 2 and "已存在" in again.stderr
    restored = _cli("restore", "--db", str(tmp_path / "r.db"), "--from", str(tmp_path / "b.db"))
    assert restored.returncode == 0, restored.stderr
    restored_summary = json.loads(restored.stdout.strip().splitlines()[-1])
    assert restored_summary["counts"] == summary["counts"]
    # What the README promises: the restored database holds the file's rows and the restore's one event.
    assert restored_summary["own_events"] == {"audit_events": 1}
    with reading(get_engine(str(tmp_path / "r.db"))) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        anchored = audit_anchor.verify_anchor(session)
    assert events == summary["counts"]["audit_events"] + 1
    assert summary["audit_head"]["events"] == summary["counts"]["audit_events"]
    assert anchored == [], "the copy carries a valid checkpoint of its own head"
    refused = _cli("--lang", "en", "restore", "--db", str(source), "--from", str(tmp_path / "b.db"))
    assert refused.returncode == 2 and "--force" in refused.stderr
    with reading(get_engine(str(source))) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.username == "cli")).all()
    assert actions.count("backup.create") == 1
