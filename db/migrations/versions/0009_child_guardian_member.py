"""child_details: the guardian as a member of the child's household (optional)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("child_details", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guardian_person_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_child_details_guardian_person_id_persons"), "persons", ["guardian_person_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("child_details", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_child_details_guardian_person_id_persons"), type_="foreignkey")
        batch_op.drop_column("guardian_person_id")
