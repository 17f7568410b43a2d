"""area changes (re-divisions) and persons' village history

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "area_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("target_code", sa.String(length=12), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("code_map", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('merge')", name=op.f("ck_area_changes_kind")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_area_changes_created_by_users")),
        sa.ForeignKeyConstraint(["target_code"], ["areas.code"], name=op.f("fk_area_changes_target_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_changes")),
    )
    op.create_table(
        "person_area_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["area_changes.id"], name=op.f("fk_person_area_history_change_id_area_changes")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_person_area_history_person_id_persons")),
        sa.ForeignKeyConstraint(
            ["village_code"], ["areas.code"], name=op.f("fk_person_area_history_village_code_areas")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_area_history")),
    )
    with op.batch_alter_table("person_area_history", schema=None) as batch_op:
        batch_op.create_index("ix_person_area_history_person_until", ["person_id", "until"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("person_area_history", schema=None) as batch_op:
        batch_op.drop_index("ix_person_area_history_person_until")
    op.drop_table("person_area_history")
    op.drop_table("area_changes")
