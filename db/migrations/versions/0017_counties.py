"""counties side by side: each large table's rows carry their county, county settings, city and province

Persons, enrollments, visits and audit events get a ``county_code`` (a person's from their village,
an enrollment's and a visit's from their person, a new audit event's from the acting user's area), with
indexes that lead with it. The county-wide settings move from ``settings`` to ``county_settings``,
one row per county. Areas and users may be a city (XXXX00000000) or a province (XX0000000000).

Revision ID: 0017
Revises: 0016
"""

# The statements below are built from this file's constant table and key names only.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The settings that belong to one county (the rest are the installation's).
COUNTY_KEYS = (
    "policy.phone_counts",
    "policy.daily_limit",
    "policy.version",
    "map.tiles",
    "child_age.limits",
    "child_age.version",
)
LEVELS = ("province", "city", "county", "township", "village")
ROLES = ("province", "city", "county", "township", "coordinator", "admin")
OLD_LEVELS = ("county", "township", "village")
OLD_ROLES = ("county", "township", "coordinator", "admin")


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _checks(levels: Sequence[str], roles: Sequence[str]) -> None:
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_areas_level"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_areas_level"), _in("level", levels))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_users_role"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_users_role"), _in("role", roles))


def upgrade() -> None:
    county = "substr(village_code, 1, 6) || '000000'"
    for table in ("persons", "enrollments", "visits", "audit_events"):
        op.add_column(table, sa.Column("county_code", sa.String(length=12), nullable=False, server_default=""))
    op.execute(f"UPDATE persons SET county_code = {county}")
    for table in ("enrollments", "visits"):
        op.execute(
            f"UPDATE {table} SET county_code = (SELECT p.county_code FROM persons p WHERE p.id = {table}.person_id)"
        )
    # Events already written keep no county: it is part of an event's hash, and no event is rewritten.
    if op.get_bind().dialect.name == "postgresql":
        for table in ("persons", "enrollments", "visits", "audit_events"):
            op.alter_column(table, "county_code", server_default=None)
    op.create_index(
        "ix_enrollments_county_active_due", "enrollments", ["county_code", "end_date", "next_due_on"], unique=False
    )
    op.create_index(
        "ix_enrollments_county_group_end", "enrollments", ["county_code", "group", "end_date"], unique=False
    )
    op.create_index("ix_visits_county_visited_at", "visits", ["county_code", "visited_at"], unique=False)
    op.create_index("ix_audit_events_county_at", "audit_events", ["county_code", "at"], unique=False)

    op.create_table(
        "county_settings",
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["county_code"], ["areas.code"], name=op.f("fk_county_settings_county_code_areas")),
        sa.PrimaryKeyConstraint("county_code", "key", name=op.f("pk_county_settings")),
    )
    keys = ", ".join(repr(k) for k in COUNTY_KEYS)
    op.execute(
        "INSERT INTO county_settings (county_code, key, value) SELECT a.code, s.key, s.value"
        f" FROM areas a, settings s WHERE a.level = 'county' AND s.key IN ({keys})"
    )
    op.execute(f"DELETE FROM settings WHERE key IN ({keys})")
    _checks(LEVELS, ROLES)


def downgrade() -> None:
    keys = ", ".join(repr(k) for k in COUNTY_KEYS)
    # One county's settings go back to being the installation's (the first county by code).
    op.execute(
        "INSERT INTO settings (key, value) SELECT c.key, c.value FROM county_settings c"
        f" WHERE c.key IN ({keys}) AND c.county_code = (SELECT MIN(county_code) FROM county_settings)"
    )
    op.drop_table("county_settings")
    op.execute("DELETE FROM login_sessions WHERE user_id IN (SELECT id FROM users WHERE role IN ('province', 'city'))")
    op.execute("DELETE FROM users WHERE role IN ('province', 'city')")
    op.execute("UPDATE areas SET parent_code = NULL WHERE level = 'county'")
    op.execute("DELETE FROM areas WHERE level IN ('province', 'city')")
    _checks(OLD_LEVELS, OLD_ROLES)
    op.drop_index("ix_audit_events_county_at", table_name="audit_events")
    op.drop_index("ix_visits_county_visited_at", table_name="visits")
    op.drop_index("ix_enrollments_county_group_end", table_name="enrollments")
    op.drop_index("ix_enrollments_county_active_due", table_name="enrollments")
    for table in ("audit_events", "visits", "enrollments", "persons"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("county_code")
