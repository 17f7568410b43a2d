"""An import killed with SIGKILL at any moment leaves nothing behind, and the database stays sound."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from care import audit
from care.domain import ids
from db.models import AuditEvent, Enrollment, Person
from db.session import reading

ROOT = Path(__file__).resolve().parents[2]
ROWS = 600
HEADERS = "姓名,公民身份号码,村(社区)代码,现住址,关爱类别,监护类型"


def _roster(path: Path, run: int, village: str) -> Path:
    lines = [HEADERS]
    for i in range(ROWS):
        birth = dt.date(2012, 1, 1) + dt.timedelta(days=run * ROWS + i)
        body = f"522699{birth:%Y%m%d}{700 + run:03d}"
        lines.append(f"批量{run}-{i},{body + ids.check_digit(body)},{village},二组{i}号,留守儿童,祖辈监护")
    file = path / f"roster_{run}.csv"
    file.write_text("\r\n".join(lines), encoding="utf-8-sig")
    return file


def _start(file: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "care.imports", "roster", str(file), "--db", url, "--as", "admin"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )


def _kill_after_written(proc: subprocess.Popen[str], rows: int) -> None:
    """Read the progress lines and kill the process once ``rows`` rows are written (not yet committed)."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith("checked") and int(line.rsplit(" ", 1)[-1]) >= rows:
            break
    proc.send_signal(signal.SIGKILL)


def _state(engine) -> tuple[int, int, int, list[int]]:
    with reading(engine) as session:
        persons = int(session.scalar(select(func.count()).select_from(Person)))
        enrollments = int(session.scalar(select(func.count()).select_from(Enrollment)))
        imports = int(
            session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import.roster"))
        )
        broken = audit.verify_chain(session)
    return persons, enrollments, imports, broken


def _integrity(engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return conn.execute(text("PRAGMA integrity_check")).scalar_one()
        conn.execute(text("SELECT count(*) FROM persons")).scalar_one()
        return "ok"


@pytest.mark.slow
def test_an_import_killed_at_random_moments_leaves_nothing_behind(engine, world, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    before = _state(engine)
    rng = random.Random(20260610)
    moments = [("written", rng.randrange(50, ROWS - 50)) for _ in range(3)] + [
        ("seconds", rng.uniform(0.3, 2.5)) for _ in range(3)
    ]
    for run, (how, when) in enumerate(moments):
        proc = _start(_roster(tmp_path, run, world.village_a1), url)
        if how == "written":
            _kill_after_written(proc, int(when))
        else:
            time.sleep(when)
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"run {run} ended before the kill: {out[-300:]} {err[-300:]}"
        assert _state(engine) == before, f"run {run} ({how} {when}) left something behind"
        assert _integrity(engine) == "ok"
    # The same kind of file, left to finish, is written whole: the runs above were killed mid-way.
    proc = _start(_roster(tmp_path, len(moments), world.village_a1), url)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-500:]
    persons, enrollments, imports, broken = _state(engine)
    assert (persons, enrollments, imports, broken) == (before[0] + ROWS, before[1] + ROWS, 1, [])
