"""Alembic environment: the database comes from the caller's connection or CARE_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.models import Base
from db.session import get_engine

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
