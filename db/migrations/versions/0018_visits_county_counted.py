"""the county's visits index covers the counted-visit reads: (county_code, visited_at, status, mode), and the id

The month report and the due-date recount read one county's done visits of some modes over a period
and join them to their enrollments by visit id. With status and mode in the key and the id beside it
(SQLite: the rowid every index holds; PostgreSQL: INCLUDE) they read the index alone, never the rows.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_visits_county_counted",
        "visits",
        ["county_code", "visited_at", "status", "mode"],
        unique=False,
        postgresql_include=["id"],
    )
    op.drop_index("ix_visits_county_visited_at", table_name="visits")


def downgrade() -> None:
    op.create_index("ix_visits_county_visited_at", "visits", ["county_code", "visited_at"], unique=False)
    op.drop_index("ix_visits_county_counted", table_name="visits")
