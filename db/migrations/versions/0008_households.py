"""households (户) and their members; every existing person becomes a one-person household

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("hukou_no", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["merged_into"], ["households.id"], name=op.f("fk_households_merged_into_households")),
        sa.ForeignKeyConstraint(["village_code"], ["areas.code"], name=op.f("fk_households_village_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    op.create_index(op.f("ix_households_village_code"), "households", ["village_code"], unique=False)
    op.create_table(
        "household_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "relation IN ('head', 'spouse', 'child', 'grandchild', 'parent', 'grandparent', 'other')",
            name=op.f("ck_household_members_relation"),
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_household_members_household_id_households")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_household_members_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_members")),
    )
    op.create_index(
        "ix_household_members_household_end", "household_members", ["household_id", "end_date"], unique=False
    )
    op.create_index("ix_household_members_person", "household_members", ["person_id", "end_date"], unique=False)
    op.create_index(
        "uq_household_members_current_person",
        "household_members",
        ["person_id"],
        unique=True,
        sqlite_where=sa.text("end_date IS NULL"),
        postgresql_where=sa.text("end_date IS NULL"),
    )
    # Today's people, each in a household of their own (same number as the person, so nothing is
    # guessed): their village, address and location; they are its head from their first day.
    op.execute(
        "INSERT INTO households (id, village_code, hukou_no, address, lat, lon, ended_on, merged_into,"
        " version, created_at, updated_at)"
        " SELECT id, village_code, '', address, lat, lon, NULL, NULL, 1, created_at, updated_at FROM persons"
    )
    postgres = op.get_bind().dialect.name == "postgresql"
    members = "INSERT INTO household_members (household_id, person_id, relation, start_date, end_date) SELECT id, id, 'head', "
    if postgres:
        op.execute(members + "CAST(created_at AS DATE), NULL FROM persons")
    else:
        op.execute(members + "date(created_at), NULL FROM persons")
    if postgres:
        op.execute(
            "SELECT setval(pg_get_serial_sequence('households', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM households"
        )


def downgrade() -> None:
    op.drop_index("uq_household_members_current_person", table_name="household_members")
    op.drop_index("ix_household_members_person", table_name="household_members")
    op.drop_index("ix_household_members_household_end", table_name="household_members")
    op.drop_table("household_members")
    op.drop_index(op.f("ix_households_village_code"), table_name="households")
    op.drop_table("households")
