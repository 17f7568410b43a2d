"""An import killed with SIGKILL at any moment leaves nothing behind, and the database stays sound.

The import is killed where it says it has stopped (while checking, while writing, just before the
commit), never after a guessed delay.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
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


# The import's own command line, run in a child that stops at the moment the test names and tells
# the test so; only then is it killed. Where: "checked N" (rows checked, nothing written yet),
# "written N" (rows written, not committed) or "commit" (every row and the import's audit event
# written, the COMMIT not yet sent). Stopped, it waits on its standard input, which the test never
# writes: it can only be killed there (if the test goes away first, it leaves without committing).
CHILD = """
import os
import sys

from sqlalchemy import Engine, event

import care.cli.imports as cli

where, count = sys.argv[1], int(sys.argv[2])
written_all = False


def stop(moment):
    print(f"STOPPED {moment}", file=sys.stderr, flush=True)
    sys.stdin.read()
    os._exit(3)


shown = cli._progress


def progress(checked, written, total):
    global written_all
    shown(checked, written, total)
    if where == "checked" and written == 0 and checked >= count:
        stop(f"after {checked} rows checked")
    if where == "written" and written >= count:
        stop(f"after {written} rows written")
    written_all = written == total


cli._progress = progress


@event.listens_for(Engine, "commit")
def before_commit(conn):
    if where == "commit" and written_all:
        stop("before the commit")


sys.exit(cli.main(sys.argv[3:]))
"""


def _start(file: Path, url: str, where: str = "", count: int = 0) -> subprocess.Popen[str]:
    """The import of ``file``; with ``where``, one that stops there (see CHILD) instead of finishing."""
    run = ["-c", CHILD, where, str(count)] if where else ["-m", "care.imports"]
    return subprocess.Popen(
        [sys.executable, *run, "roster", str(file), "--db", url, "--as", "admin"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ,
    )


def _kill_when_stopped(proc: subprocess.Popen[str]) -> str:
    """Wait for the child to say it has stopped where it was told, then kill it; what it said."""
    assert proc.stderr is not None
    said = ""
    for line in proc.stderr:
        if line.startswith("STOPPED"):
            said = line.strip()
            break
    proc.send_signal(signal.SIGKILL)
    return said


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
    moments = (
        [("checked", rng.randrange(50, ROWS, 50)) for _ in range(2)]
        + [("written", rng.randrange(50, ROWS - 50)) for _ in range(3)]
        + [("commit", 0)]
    )
    for run, (where, count) in enumerate(moments):
        proc = _start(_roster(tmp_path, run, world.village_a1), url, where, count)
        said = _kill_when_stopped(proc)
        out, err = proc.communicate(timeout=120)
        assert said, f"run {run} ({where} {count}) ended without stopping: {out[-300:]} {err[-300:]}"
        assert proc.returncode == -signal.SIGKILL, f"run {run} ended before the kill: {out[-300:]} {err[-300:]}"
        assert _state(engine) == before, f"run {run} ({said}) left something behind"
        assert _integrity(engine) == "ok"
    # The same kind of file, left to finish, is written whole: the runs above were killed mid-way.
    proc = _start(_roster(tmp_path, len(moments), world.village_a1), url)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-500:]
    persons, enrollments, imports, broken = _state(engine)
    assert (persons, enrollments, imports, broken) == (before[0] + ROWS, before[1] + ROWS, 1, [])
