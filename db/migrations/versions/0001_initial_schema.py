"""initial schema

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "areas",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("boundary", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("replaced_by", sa.String(length=12), nullable=True),
        sa.CheckConstraint("level IN ('county', 'township', 'village')", name=op.f("ck_areas_level")),
        sa.ForeignKeyConstraint(["parent_code"], ["areas.code"], name=op.f("fk_areas_parent_code_areas")),
        sa.ForeignKeyConstraint(["replaced_by"], ["areas.code"], name=op.f("fk_areas_replaced_by_areas")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_areas")),
    )
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_areas_parent_code"), ["parent_code"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_user_id"), ["user_id"], unique=False)

    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("datum", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("sex IN ('M', 'F')", name=op.f("ck_persons_sex")),
        sa.CheckConstraint("status IN ('active', 'exited', 'deceased', 'moved')", name=op.f("ck_persons_status")),
        sa.ForeignKeyConstraint(["village_code"], ["areas.code"], name=op.f("fk_persons_village_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
        sa.UniqueConstraint("id_number", name=op.f("uq_persons_id_number")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_village_code_deleted", ["village_code", "deleted"], unique=False)
        batch_op.create_index("ix_persons_village_name", ["village_code", "name", "id"], unique=False)

    op.create_table(
        "visit_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.CheckConstraint("interval_days BETWEEN 1 AND 366", name=op.f("ck_visit_policies_interval_days")),
        sa.ForeignKeyConstraint(["county_code"], ["areas.code"], name=op.f("fk_visit_policies_county_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_policies")),
        sa.UniqueConstraint("county_code", "group", "risk", name="uq_visit_policies_county_group_risk"),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("office_lat", sa.Float(), nullable=True),
        sa.Column("office_lon", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name=op.f("fk_workers_area_code_areas")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_area_code"), ["area_code"], unique=False)

    op.create_table(
        "enrollments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=16), nullable=False),
        sa.Column("subtype", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("exit_reason", sa.String(length=32), nullable=True),
        sa.Column("exit_note", sa.String(length=200), nullable=False),
        sa.Column("risk_auto", sa.String(length=8), nullable=False),
        sa.Column("risk_override", sa.String(length=8), nullable=True),
        sa.Column("risk_override_reason", sa.String(length=200), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("last_visit_on", sa.Date(), nullable=True),
        sa.Column("next_due_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("risk IN ('high', 'medium', 'low')", name=op.f("ck_enrollments_risk")),
        sa.CheckConstraint("\"group\" IN ('child', 'elderly', 'disabled')", name=op.f("ck_enrollments_group")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_enrollments_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollments")),
    )
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_enrollments_active_due", ["end_date", "next_due_on"], unique=False)
        batch_op.create_index("ix_enrollments_person_end", ["person_id", "end_date"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("role IN ('county', 'township', 'coordinator', 'admin')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(["area_code"], ["areas.code"], name=op.f("fk_users_area_code_areas")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_users_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_assignments_created_by_users")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_assignments_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_assignments_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index("ix_assignments_enrollment_end", ["enrollment_id", "end_date"], unique=False)
        batch_op.create_index("ix_assignments_worker_end", ["worker_id", "end_date"], unique=False)

    op.create_table(
        "child_details",
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("local_subtype", sa.String(length=32), nullable=False),
        sa.Column("guardianship", sa.String(length=16), nullable=False),
        sa.Column("poor_guardianship", sa.Boolean(), nullable=False),
        sa.Column("guardian_name", sa.String(length=64), nullable=False),
        sa.Column("guardian_phone", sa.String(length=32), nullable=False),
        sa.Column("parents_workplace", sa.String(length=100), nullable=False),
        sa.Column("schooling", sa.String(length=16), nullable=False),
        sa.Column("boarding", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_child_details_enrollment_id_enrollments")
        ),
        sa.PrimaryKeyConstraint("enrollment_id", name=op.f("pk_child_details")),
    )
    op.create_table(
        "disabled_details",
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=20), nullable=True),
        sa.Column("rehab_needs", sa.String(length=200), nullable=False),
        sa.Column("assistive_devices", sa.String(length=200), nullable=False),
        sa.CheckConstraint("category BETWEEN 1 AND 7", name=op.f("ck_disabled_details_category")),
        sa.CheckConstraint("grade BETWEEN 1 AND 4", name=op.f("ck_disabled_details_grade")),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_disabled_details_enrollment_id_enrollments")
        ),
        sa.PrimaryKeyConstraint("enrollment_id", name=op.f("pk_disabled_details")),
    )
    op.create_table(
        "elderly_details",
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("living_arrangement", sa.String(length=16), nullable=False),
        sa.Column("self_care", sa.String(length=16), nullable=False),
        sa.Column("children_contact", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_elderly_details_enrollment_id_enrollments")
        ),
        sa.PrimaryKeyConstraint("enrollment_id", name=op.f("pk_elderly_details")),
    )
    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_login_sessions")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("visited_at", sa.DateTime(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("client_token", sa.String(length=64), nullable=True),
        sa.CheckConstraint("status IN ('planned', 'done', 'not_met', 'cancelled')", name=op.f("ck_visits_status")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_visits_created_by_users")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_visits_person_id_persons")),
        sa.ForeignKeyConstraint(["worker_id"], ["workers.id"], name=op.f("fk_visits_worker_id_workers")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
        sa.UniqueConstraint("client_token", name=op.f("uq_visits_client_token")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_person_visited", ["person_id", "visited_at"], unique=False)
        batch_op.create_index("ix_visits_visited_at", ["visited_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_visits_worker_id"), ["worker_id"], unique=False)

    op.create_table(
        "needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name=op.f("ck_needs_status")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_needs_created_by_users")),
        sa.ForeignKeyConstraint(["enrollment_id"], ["enrollments.id"], name=op.f("fk_needs_enrollment_id_enrollments")),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_needs_person_id_persons")),
        sa.ForeignKeyConstraint(["resolved_by"], ["users.id"], name=op.f("fk_needs_resolved_by_users")),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_needs_visit_id_visits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_needs")),
    )
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_needs_person_id"), ["person_id"], unique=False)

    op.create_table(
        "visit_enrollments",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"], ["enrollments.id"], name=op.f("fk_visit_enrollments_enrollment_id_enrollments")
        ),
        sa.ForeignKeyConstraint(["visit_id"], ["visits.id"], name=op.f("fk_visit_enrollments_visit_id_visits")),
        sa.PrimaryKeyConstraint("visit_id", "enrollment_id", name=op.f("pk_visit_enrollments")),
    )
    with op.batch_alter_table("visit_enrollments", schema=None) as batch_op:
        batch_op.create_index("ix_visit_enrollments_enrollment", ["enrollment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit_enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_enrollments_enrollment")

    op.drop_table("visit_enrollments")
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_person_id"))

    op.drop_table("needs")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visits_worker_id"))
        batch_op.drop_index("ix_visits_visited_at")
        batch_op.drop_index("ix_visits_person_visited")

    op.drop_table("visits")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))

    op.drop_table("login_sessions")
    op.drop_table("elderly_details")
    op.drop_table("disabled_details")
    op.drop_table("child_details")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index("ix_assignments_worker_end")
        batch_op.drop_index("ix_assignments_enrollment_end")

    op.drop_table("assignments")
    op.drop_table("users")
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollments_person_end")
        batch_op.drop_index("ix_enrollments_active_due")

    op.drop_table("enrollments")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_area_code"))

    op.drop_table("workers")
    op.drop_table("visit_policies")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index("ix_persons_village_name")
        batch_op.drop_index("ix_persons_village_code_deleted")

    op.drop_table("persons")
    op.drop_table("settings")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_parent_code"))

    op.drop_table("areas")
