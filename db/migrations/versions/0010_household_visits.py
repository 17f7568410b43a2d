"""visits: the household visit (one call at the door, one visit per member) they were saved in

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("household_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("household_visit", sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_visits_household_id_households"), "households", ["household_id"], ["id"]
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_visits_household_visit_person"), ["household_visit", "person_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_visits_household_visit_person"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_visits_household_id_households"), type_="foreignkey")
        batch_op.drop_column("household_visit")
        batch_op.drop_column("household_id")
