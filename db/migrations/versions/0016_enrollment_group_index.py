"""an index on enrollments (group, end_date): the active enrollments of one group without reading all

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_enrollments_group_end", "enrollments", ["group", "end_date"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_enrollments_group_end", table_name="enrollments")
