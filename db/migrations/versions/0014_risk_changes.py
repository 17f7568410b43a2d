"""risk_changes: each change of an enrollment's risk level, for the person file's timeline

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "risk_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("old", sa.String(length=8), nullable=True),
        sa.Column("new", sa.String(length=8), nullable=False),
        sa.Column("cause", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("cause IN ('enroll', 'edit', 'rules')", name=op.f("ck_risk_changes_cause")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_risk_changes_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_risk_changes_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_changes")),
    )
    op.create_index(op.f("ix_risk_changes_enrollment_id"), "risk_changes", ["enrollment_id"], unique=False)
    op.create_index(op.f("ix_risk_changes_person_id"), "risk_changes", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_risk_changes_person_id"), table_name="risk_changes")
    op.drop_index(op.f("ix_risk_changes_enrollment_id"), table_name="risk_changes")
    op.drop_table("risk_changes")
