"""visit_packs: the offline visit packs handed to coordinators (who, for whom, until when, signing key)

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_packs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("person_ids", sa.JSON(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("hmac_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("returned_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('issued', 'returned')", name=op.f("ck_visit_packs_state")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_visit_packs_user_id_users")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_visit_packs_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_packs")),
    )
    op.create_index(op.f("ix_visit_packs_user_id"), "visit_packs", ["user_id"], unique=False)
    op.create_index(op.f("ix_visit_packs_worker_id"), "visit_packs", ["worker_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_visit_packs_worker_id"), table_name="visit_packs")
    op.drop_index(op.f("ix_visit_packs_user_id"), table_name="visit_packs")
    op.drop_table("visit_packs")
