"""Care plans (一人一案) with their planned services, and service orders

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("risk_at_approval", sa.String(length=8), nullable=True),
        sa.Column("return_reason", sa.String(length=200), nullable=False),
        sa.Column("drafted_by", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'returned', 'approved', 'superseded')", name=op.f("ck_care_plans_status")
        ),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_care_plans_decided_by_users")),
        sa.ForeignKeyConstraint(["drafted_by"], ["users.id"], name=op.f("fk_care_plans_drafted_by_users")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_care_plans_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_care_plans_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_plans")),
        sa.UniqueConstraint("enrollment_id", "revision", name="uq_care_plans_enrollment_revision"),
    )
    op.create_index(op.f("ix_care_plans_enrollment_id"), "care_plans", ["enrollment_id"], unique=False)
    op.create_index(op.f("ix_care_plans_person_id"), "care_plans", ["person_id"], unique=False)
    op.create_index("ix_care_plans_status_review_on", "care_plans", ["status", "review_on"], unique=False)
    op.create_table(
        "plan_services",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint("times BETWEEN 1 AND 31", name=op.f("ck_plan_services_times")),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_plan_services_plan_id_care_plans")),
        sa.ForeignKeyConstraint(["provider_id"], ["providers.id"], name=op.f("fk_plan_services_provider_id_providers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_services")),
    )
    op.create_index(op.f("ix_plan_services_plan_id"), "plan_services", ["plan_id"], unique=False)
    op.create_table(
        "service_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("need_id", sa.Integer(), nullable=True),
        sa.Column("plan_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("delivered_by", sa.String(length=64), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decline_reason", sa.String(length=200), nullable=False),
        sa.Column("satisfaction", sa.String(length=16), nullable=True),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "source IN ('visit', 'need', 'plan', 'phone', 'import')", name=op.f("ck_service_orders_source")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'assigned', 'scheduled', 'delivered', 'declined', 'cancelled')",
            name=op.f("ck_service_orders_status"),
        ),
        sa.CheckConstraint("minutes IS NULL OR minutes BETWEEN 1 AND 1440", name=op.f("ck_service_orders_minutes")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_service_orders_created_by_users")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_service_orders_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(["need_id"], ["needs.id"], name=op.f("fk_service_orders_need_id_needs")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_service_orders_person_id_persons")),
        sa.ForeignKeyConstraint(["plan_id"], ["care_plans.id"], name=op.f("fk_service_orders_plan_id_care_plans")),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_service_orders_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_service_orders_updated_by_users")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_service_orders_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_orders")),
        sa.UniqueConstraint("client_token", name=op.f("uq_service_orders_client_token")),
    )
    op.create_index("ix_service_orders_delivered_on", "service_orders", ["delivered_on"], unique=False)
    op.create_index(op.f("ix_service_orders_enrollment_id"), "service_orders", ["enrollment_id"], unique=False)
    op.create_index(op.f("ix_service_orders_need_id"), "service_orders", ["need_id"], unique=False)
    op.create_index(op.f("ix_service_orders_person_id"), "service_orders", ["person_id"], unique=False)
    op.create_index(op.f("ix_service_orders_provider_id"), "service_orders", ["provider_id"], unique=False)
    op.create_index("ix_service_orders_status_due_on", "service_orders", ["status", "due_on"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_service_orders_status_due_on", table_name="service_orders")
    op.drop_index(op.f("ix_service_orders_provider_id"), table_name="service_orders")
    op.drop_index(op.f("ix_service_orders_person_id"), table_name="service_orders")
    op.drop_index(op.f("ix_service_orders_need_id"), table_name="service_orders")
    op.drop_index(op.f("ix_service_orders_enrollment_id"), table_name="service_orders")
    op.drop_index("ix_service_orders_delivered_on", table_name="service_orders")
    op.drop_table("service_orders")
    op.drop_index(op.f("ix_plan_services_plan_id"), table_name="plan_services")
    op.drop_table("plan_services")
    op.drop_index("ix_care_plans_status_review_on", table_name="care_plans")
    op.drop_index(op.f("ix_care_plans_person_id"), table_name="care_plans")
    op.drop_index(op.f("ix_care_plans_enrollment_id"), table_name="care_plans")
    op.drop_table("care_plans")
