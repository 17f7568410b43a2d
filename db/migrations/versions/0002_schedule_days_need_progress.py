"""schedule days; need progress dates

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fixed", sa.Boolean(), nullable=False),
        sa.Column("stops", sa.JSON(), nullable=False),
        sa.Column("distance_km", sa.Float(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_schedule_days_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_days")),
        sa.UniqueConstraint("worker_id", "day", name="uq_schedule_days_worker_day"),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("in_progress_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("updated_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_needs_updated_by_users"), "users", ["updated_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_needs_updated_by_users"), type_="foreignkey")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("updated_by")
        batch_op.drop_column("in_progress_on")
    op.drop_table("schedule_days")
