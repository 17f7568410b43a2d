"""The workers' diary (民情日记) and the persons each entry is about

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diary_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('heard', 'done', 'other')", name=op.f("ck_diary_entries_kind")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_diary_entries_author_id_users")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_diary_entries_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diary_entries")),
    )
    op.create_index("ix_diary_entries_worker_day", "diary_entries", ["worker_id", "day"], unique=False)
    op.create_table(
        "diary_persons",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["diary_entries.id"], name=op.f("fk_diary_persons_entry_id_diary_entries")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_diary_persons_person_id_persons")),
        sa.PrimaryKeyConstraint("entry_id", "person_id", name=op.f("pk_diary_persons")),
    )
    op.create_index("ix_diary_persons_person", "diary_persons", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_diary_persons_person", table_name="diary_persons")
    op.drop_table("diary_persons")
    op.drop_index("ix_diary_entries_worker_day", table_name="diary_entries")
    op.drop_table("diary_entries")
