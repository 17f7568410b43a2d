"""person links and cookie sessions: persons.ref, the login session's one-time hand-over, its sign-on

Every person gets a random reference for links to the person file; a login session can hand its
token once to the browser's HttpOnly cookie (the code's hash, the sealed token, until when).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5_000


def upgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handoff_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("handoff_sealed", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("handoff_until", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sso_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_login_sessions_handoff_hash"), ["handoff_hash"])
        batch_op.create_unique_constraint(batch_op.f("uq_login_sessions_sso_key"), ["sso_key"])

    op.add_column("persons", sa.Column("ref", sa.String(length=16), nullable=True))
    conn = op.get_bind()
    persons = sa.table("persons", sa.column("id", sa.Integer), sa.column("ref", sa.String))
    ids = [row[0] for row in conn.execute(sa.select(persons.c.id).where(persons.c.ref.is_(None)))]
    update = sa.update(persons).where(persons.c.id == sa.bindparam("pid")).values(ref=sa.bindparam("new_ref"))
    for start in range(0, len(ids), _BATCH):
        conn.execute(update, [{"pid": i, "new_ref": secrets.token_urlsafe(12)} for i in ids[start : start + _BATCH]])
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.alter_column("ref", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_persons_ref"), ["ref"])


def downgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_persons_ref"), type_="unique")
        batch_op.drop_column("ref")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_login_sessions_sso_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_login_sessions_handoff_hash"), type_="unique")
        batch_op.drop_column("sso_key")
        batch_op.drop_column("handoff_until")
        batch_op.drop_column("handoff_sealed")
        batch_op.drop_column("handoff_hash")
