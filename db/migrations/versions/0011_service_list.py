"""The county's basic service list (versioned by effective dates), providers and pairings

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("provider_kinds", sa.JSON(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("\"group\" IN ('child', 'elderly', 'disabled')", name=op.f("ck_service_items_group")),
        sa.CheckConstraint("times BETWEEN 1 AND 31", name=op.f("ck_service_items_times")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_service_items_created_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_items")),
    )
    op.create_index(op.f("ix_service_items_county_code"), "service_items", ["county_code"], unique=False)
    op.create_index(
        "ix_service_items_county_code_from", "service_items", ["county_code", "code", "valid_from"], unique=False
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name=op.f("fk_providers_area_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
    )
    op.create_index(op.f("ix_providers_area_code"), "providers", ["area_code"], unique=False)
    op.create_table(
        "pairings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_pairings_person_id_persons")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_pairings_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pairings")),
    )
    op.create_index(op.f("ix_pairings_person_id"), "pairings", ["person_id"], unique=False)
    op.create_index(op.f("ix_pairings_provider_id"), "pairings", ["provider_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pairings_provider_id"), table_name="pairings")
    op.drop_index(op.f("ix_pairings_person_id"), table_name="pairings")
    op.drop_table("pairings")
    op.drop_index(op.f("ix_providers_area_code"), table_name="providers")
    op.drop_table("providers")
    op.drop_index("ix_service_items_county_code_from", table_name="service_items")
    op.drop_index(op.f("ix_service_items_county_code"), table_name="service_items")
    op.drop_table("service_items")
