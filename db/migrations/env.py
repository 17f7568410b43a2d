"""Alembic environment: the database comes from the caller's connection or CARE_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.models import Base
from db.session import get_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    # SQLite changes a table by rebuilding it (copy, drop, rename): with foreign keys on, dropping a
    # table that other rows point at (visits: their links and needs) fails. As SQLite prescribes,
    # they are off while the migrations run (the pragma works only outside a transaction), every
    # reference is checked before the commit, and they are on again afterwards.
    raw = connection.connection.dbapi_connection if connection.dialect.name == "sqlite" else None
    if raw is not None and not raw.in_transaction:
        raw.execute("PRAGMA foreign_keys = OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=raw is not None,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left rows pointing at rows that do not exist: {broken[:5]}")
        if raw is not None and connection.in_transaction():
            # Alembic leaves a transaction the connection had already begun to its owner: commit it
            # here, so the pragma below can take effect before the connection goes back to the pool.
            connection.commit()
    except BaseException:
        if raw is not None and connection.in_transaction():
            connection.rollback()
        raise
    finally:
        if raw is not None and not raw.in_transaction:
            raw.execute("PRAGMA foreign_keys = ON")


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or None
    with get_engine(url).execution_options(care_write=True).connect() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("CareMap migrations run online only: set CARE_DATABASE_URL and run `alembic upgrade head`.")
run_migrations_online()
