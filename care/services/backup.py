"""Consistent backups while the app runs, and restores that refuse to overwrite data by accident.

SQLite: the online backup API copies one consistent snapshot (writers carry on under WAL), the
copy gets ``PRAGMA integrity_check`` and a row count per table. Copying the file itself is not a
backup: with recent writes still in the WAL it can come out without tables.
PostgreSQL: ``pg_dump -Fc`` run on a snapshot exported from a REPEATABLE READ transaction, so
the row counts printed are those of the dump; ``pg_restore --list`` checks the archive.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.engine import make_url

from care import audit
from care.domain import clock
from care.domain.errors import CareError, PermissionDenied
from care.scope import Scope
from db.config import ROOT, normalise_url
from db.migrate import upgrade
from db.models import Base
from db.session import get_engine, transaction

PG_TIMEOUT_S = 3600


class BackupError(CareError):
    """A backup or restore that could not be done safely; nothing was overwritten."""


@dataclass(frozen=True)
class BackupSummary:
    """What a backup file holds (or what a restore produced): rows per table, integrity, hash."""

    kind: str
    path: str
    bytes: int
    sha256: str
    integrity: str
    counts: dict[str, int]
    taken_at: str

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON output and the audit log."""
        return asdict(self)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("backup.no_file")
    return Path(database)


def _sqlite_counts(conn: sqlite3.Connection) -> dict[str, int]:
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {t: int(conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in _tables() if t in present}  # noqa: S608 - table names come from the models


def _sqlite_integrity(conn: sqlite3.Connection) -> str:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    return "ok" if rows == ["ok"] else "; ".join(str(r) for r in rows[:5])


def _summary(kind: str, path: Path, integrity: str, counts: dict[str, int]) -> BackupSummary:
    return BackupSummary(
        kind=kind,
        path=str(path),
        bytes=path.stat().st_size,
        sha256=file_sha256(path),
        integrity=integrity,
        counts=counts,
        taken_at=clock.now().isoformat(),
    )


def _fresh_destination(dest: Path) -> Path:
    if dest.exists():
        raise BackupError("backup.target_exists", path=dest.name)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    part.unlink(missing_ok=True)
    return part


def backup(url: str, dest: Path) -> BackupSummary:
    """Write a consistent copy of the database at ``url`` to ``dest`` (which must not exist yet)."""
    url = normalise_url(url)
    dest = Path(dest)
    if url.startswith("sqlite"):
        return _backup_sqlite(_sqlite_path(url), dest)
    if url.startswith("postgresql"):
        return _backup_postgres(url, dest)
    raise BackupError("backup.unsupported")


def _backup_sqlite(source: Path, dest: Path) -> BackupSummary:
    if not source.exists():
        raise BackupError("backup.no_file")
    part = _fresh_destination(dest)
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(part)
    try:
        # One step (pages=-1): the whole snapshot under one read transaction; WAL writers carry on.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
        integrity = _sqlite_integrity(dst)
        counts = _sqlite_counts(dst)
    finally:
        dst.close()
        src.close()
    if integrity != "ok":
        part.unlink(missing_ok=True)
        raise BackupError("backup.integrity_failed", detail=integrity[:200])
    with part.open("rb") as handle:
        os.fsync(handle.fileno())
    part.replace(dest)
    return _summary("sqlite", dest, integrity, counts)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _libpq(url: str) -> tuple[str, dict[str, str], str | None]:
    """A libpq URI without the password, the environment that carries it, and the schema in use."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    options = parsed.query.get("options", ())
    schema = None
    for option in [options] if isinstance(options, str) else options:
        for part in unquote(option).split():
            if part.startswith("-csearch_path="):
                schema = part.split("=", 1)[1].split(",")[0].strip() or None
    return plain.render_as_string(hide_password=False), env, schema


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError("backup.tool_missing", tool=name)
    return found


def _db_counts(conn: Connection) -> dict[str, int]:
    present = set(inspect(conn).get_table_names())
    tables = [t for t in Base.metadata.sorted_tables if t.name in present]
    return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False)
    if done.returncode != 0:
        # The tools' messages name tables and options, never row data.
        raise BackupError("backup.tool_failed", tool=Path(args[0]).name, detail=done.stderr.strip()[-300:])
    return done


def _backup_postgres(url: str, dest: Path) -> BackupSummary:
    pg_dump, pg_restore = _tool("pg_dump"), _tool("pg_restore")
    uri, env, schema = _libpq(url)
    part = _fresh_destination(dest)
    engine = get_engine(url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        counts = _db_counts(conn)
        args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}"]
        if schema and schema != "public":
            args.append(f"--schema={schema}")
        _run([*args, f"--file={part}", f"--dbname={uri}"], env)
    listing = _run([pg_restore, "--list", str(part)], env)
    integrity = "ok" if "TABLE DATA" in listing.stdout else "archive holds no table data"
    if integrity != "ok":
        part.unlink(missing_ok=True)
        raise BackupError("backup.integrity_failed", detail=integrity)
    part.replace(dest)
    return _summary("postgresql", dest, integrity, counts)


# --- restore ------------------------------------------------------------------------------------


def restore(url: str, source: Path, *, force: bool = False) -> BackupSummary:
    """Load a backup into the database at ``url``, then apply newer migrations.

    Refuses when that database already holds rows, unless ``force``; a damaged file is refused
    before anything is touched.
    """
    url = normalise_url(url)
    source = Path(source)
    if not source.is_file():
        raise BackupError("backup.no_source", path=source.name)
    if url.startswith("sqlite"):
        _restore_sqlite(source, _sqlite_path(url), force)
    elif url.startswith("postgresql"):
        _restore_postgres(url, source, force)
    else:
        raise BackupError("backup.unsupported")
    engine = get_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        counts = _db_counts(conn)
    integrity = "ok"
    if url.startswith("sqlite"):
        check = sqlite3.connect(_sqlite_path(url))
        try:
            integrity = _sqlite_integrity(check)
        finally:
            check.close()
    return _summary(make_url(url).get_backend_name(), source, integrity, counts)


def _holds_rows(counts: dict[str, int]) -> bool:
    return any(n for table, n in counts.items() if table != "alembic_version")


def _restore_sqlite(source: Path, target: Path, force: bool) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        integrity = _sqlite_integrity(src)
        if integrity != "ok" or "alembic_version" not in {
            r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }:
            raise BackupError("backup.bad_source", path=source.name)
    except sqlite3.DatabaseError:
        raise BackupError("backup.bad_source", path=source.name) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=30)
        try:
            if _holds_rows(_sqlite_counts(dst)) and not force:
                raise BackupError("backup.target_not_empty")
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    get_engine(f"sqlite:///{target.resolve()}").dispose()


def _restore_postgres(url: str, source: Path, force: bool) -> None:
    pg_restore = _tool("pg_restore")
    uri, env, _schema = _libpq(url)
    done = subprocess.run(
        [pg_restore, "--list", str(source)], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode != 0 or "TABLE DATA" not in done.stdout:
        raise BackupError("backup.bad_source", path=source.name)
    engine = get_engine(url)
    with engine.connect() as conn:
        if _holds_rows(_db_counts(conn)) and not force:
            raise BackupError("backup.target_not_empty")
    engine.dispose()
    args = [pg_restore, "--no-owner", "--no-privileges", "--clean", "--if-exists", "--exit-on-error"]
    _run([*args, "--single-transaction", f"--dbname={uri}", str(source)], env)


# --- the admin page's backup --------------------------------------------------------------------


def backup_dir() -> Path:
    """Where the admin page writes backups: ``CARE_BACKUP_DIR``, else data/backups."""
    configured = os.environ.get("CARE_BACKUP_DIR", "").strip()
    return Path(configured) if configured else ROOT / "data" / "backups"


def create_backup(url: str, scope: Scope, *, folder: Path | None = None) -> BackupSummary:
    """The admin page's backup: checks the role, writes a new file, records one audit event."""
    if not scope.can("backup.create"):
        raise PermissionDenied()
    url = normalise_url(url)
    folder = folder or backup_dir()
    ext = "db" if url.startswith("sqlite") else "dump"
    stamp = f"caremap-{clock.now():%Y%m%d-%H%M%S}"
    dest = folder / f"{stamp}.{ext}"
    serial = 1
    while dest.exists():
        serial += 1
        dest = folder / f"{stamp}-{serial}.{ext}"
    summary = backup(url, dest)
    with transaction(get_engine(url)) as session:
        audit.record(
            session,
            scope=scope,
            action="backup.create",
            entity="database",
            entity_id=dest.name,
            detail={"sha256": summary.sha256, "bytes": summary.bytes, "rows": sum(summary.counts.values())},
        )
    return summary
