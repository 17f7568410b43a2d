"""report indexes: visits covered by (person, visited_at, status, mode)

The month report reads each enrollment's counted visits of a period through this index alone
(no visits row is read); it replaces the (person_id, visited_at) index it extends.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index(
            "ix_visits_person_visited_status_mode", ["person_id", "visited_at", "status", "mode"], unique=False
        )
        batch_op.drop_index("ix_visits_person_visited")


def downgrade() -> None:
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_person_visited", ["person_id", "visited_at"], unique=False)
        batch_op.drop_index("ix_visits_person_visited_status_mode")
