"""visit links carry their visit's county: one county's links are one range of their index

The month report joins one county's visits of a period to their links. Without the county the
links side is read whole (every county's), so a county's report cost grew with the database;
keyed by county, it reads that county's links only, as a county alone in its database does.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "visit_enrollments", sa.Column("county_code", sa.String(length=12), nullable=False, server_default="")
    )
    op.execute(
        "UPDATE visit_enrollments SET county_code ="
        " (SELECT v.county_code FROM visits v WHERE v.id = visit_enrollments.visit_id)"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("visit_enrollments", "county_code", server_default=None)
    op.create_index(
        "ix_visit_enrollments_county_visit",
        "visit_enrollments",
        ["county_code", "visit_id", "enrollment_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_visit_enrollments_county_visit", table_name="visit_enrollments")
    with op.batch_alter_table("visit_enrollments", schema=None) as batch_op:
        batch_op.drop_column("county_code")
