"""Typed SQLAlchemy models for every table CareMap keeps.

Codes and enum values are stored as short strings (see care/domain/enums.py for the allowed values);
dates and times are naive county-local time (care/domain/clock.py). Overdue is never stored: it is
derived from ``Enrollment.next_due_on`` at query time.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012 - read by SQLAlchemy at class creation


AreaCode = String(12)


def _county_of_village(context: Any) -> str:
    """A new person's county: the first six digits of their village code (the distribution key)."""
    return str(context.get_current_parameters()["village_code"])[:6] + "000000"


def _county_of_visit(context: Any) -> str:
    """A new visit link's county when the writer did not give it: its visit's."""
    visit_id = context.get_current_parameters()["visit_id"]
    found = context.connection.execute(select(Visit.county_code).where(Visit.id == visit_id)).scalar()
    if found is None:
        raise ValueError(f"no visit {visit_id!r} to take the county from")
    return str(found)


def _county_of_person(context: Any) -> str:
    """A new enrollment's or visit's county when the writer did not give it: its person's."""
    person_id = context.get_current_parameters()["person_id"]
    found = context.connection.execute(select(Person.county_code).where(Person.id == person_id)).scalar()
    if found is None:
        raise ValueError(f"no person {person_id!r} to take the county from")
    return str(found)


class Area(Base):
    """A county, township or village, by its 12-digit statistical division code."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(AreaCode, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    boundary: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    replaced_by: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    # NBS 城乡分类代码 of a village: 1xx urban (111 主城区 … 123 特殊区域), 2xx rural (210 乡中心区, 220 村庄).
    urban_rural: Mapped[str | None] = mapped_column(String(3))

    __table_args__ = (CheckConstraint("level IN ('province', 'city', 'county', 'township', 'village')", name="level"),)


class AreaChange(Base):
    """One re-division (行政区划调整): which codes became which, from when, and what moved."""

    __tablename__ = "area_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    target_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    effective_on: Mapped[dt.date] = mapped_column(Date)
    # Every retired code -> its new code, child villages of merged townships included.
    code_map: Mapped[dict[str, Any]] = mapped_column(default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("kind IN ('merge')", name="kind"),)


class PersonAreaHistory(Base):
    """A person's village before a re-division moved them; ``until`` is their first day in the new one."""

    __tablename__ = "person_area_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    until: Mapped[dt.date] = mapped_column(Date)
    change_id: Mapped[int] = mapped_column(ForeignKey("area_changes.id"))

    __table_args__ = (Index("ix_person_area_history_person_until", "person_id", "until"),)


def new_ref() -> str:
    """A random, unguessable reference for links (16 URL-safe characters)."""
    return secrets.token_urlsafe(12)


class Person(Base):
    """One resident on the registers (一人一档), whatever groups they are enrolled in."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What a link to the person file carries: neither the row number nor the ID number.
    ref: Mapped[str] = mapped_column(String(16), unique=True, default=new_ref)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    village_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    # The county of the village, kept with the row: every county's rows of the large tables carry
    # it, so one county's work is one range of their indexes and they can be distributed by it.
    county_code: Mapped[str] = mapped_column(AreaCode, default=_county_of_village)
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(32), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    datum: Mapped[str] = mapped_column(String(16), default="WGS84")
    status: Mapped[str] = mapped_column(String(16), default="active")
    notes: Mapped[str] = mapped_column(Text, default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    enrollments: Mapped[list[Enrollment]] = relationship(back_populates="person")

    __table_args__ = (
        Index("ix_persons_village_code_deleted", "village_code", "deleted"),
        # The register lists persons in this order, page by page.
        Index("ix_persons_village_name", "village_code", "name", "id"),
        CheckConstraint("sex IN ('M', 'F')", name="sex"),
        CheckConstraint("status IN ('active', 'exited', 'deceased', 'moved')", name="status"),
    )


class Household(Base):
    """A household (户): members sharing an address and home, with an optional 户口簿 户号."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    hukou_no: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    # Set when the household ended (all members moved out, or merged into another).
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class HouseholdMember(Base):
    """A person in a household from ``start_date``; ``end_date`` set when they left (history kept)."""

    __tablename__ = "household_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_household_members_household_end", "household_id", "end_date"),
        # At most one current household per person.
        Index(
            "uq_household_members_current_person",
            "person_id",
            unique=True,
            sqlite_where=text("end_date IS NULL"),
            postgresql_where=text("end_date IS NULL"),
        ),
        Index("ix_household_members_person", "person_id", "end_date"),
        CheckConstraint(
            "relation IN ('head', 'spouse', 'child', 'grandchild', 'parent', 'grandparent', 'other')",
            name="relation",
        ),
    )


class Enrollment(Base):
    """A person in one care group (在册记录), from start to exit, with its risk and due date."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # The person's county (see Person.county_code).
    county_code: Mapped[str] = mapped_column(AreaCode, default=_county_of_person)
    group: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str] = mapped_column(String(32))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(String(32))
    exit_note: Mapped[str] = mapped_column(String(200), default="")
    risk_auto: Mapped[str] = mapped_column(String(8))
    risk_override: Mapped[str | None] = mapped_column(String(8))
    risk_override_reason: Mapped[str] = mapped_column(String(200), default="")
    risk: Mapped[str] = mapped_column(String(8))
    last_visit_on: Mapped[dt.date | None] = mapped_column(Date)
    next_due_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(back_populates="enrollments")
    child: Mapped[ChildDetails | None] = relationship(uselist=False)
    elderly: Mapped[ElderlyDetails | None] = relationship(uselist=False)
    disabled: Mapped[DisabledDetails | None] = relationship(uselist=False)

    __table_args__ = (
        # Two equality terms, so correlated "this person's active enrollments" lookups use it.
        Index("ix_enrollments_person_end", "person_id", "end_date"),
        Index("ix_enrollments_active_due", "end_date", "next_due_on"),
        # The active enrollments of one group (the children reaching their age limit).
        Index("ix_enrollments_group_end", "group", "end_date"),
        # The same two within one county: one county's overdue and age-out lists read only its rows.
        Index("ix_enrollments_county_active_due", "county_code", "end_date", "next_due_on"),
        Index("ix_enrollments_county_group_end", "county_code", "group", "end_date"),
        CheckConstraint("\"group\" IN ('child', 'elderly', 'disabled')", name="group"),
        CheckConstraint("risk IN ('high', 'medium', 'low')", name="risk"),
    )


class ChildDetails(Base):
    """Facts of a child enrollment: sub-type, guardianship, schooling."""

    __tablename__ = "child_details"

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    local_subtype: Mapped[str] = mapped_column(String(32), default="")
    guardianship: Mapped[str] = mapped_column(String(16))
    poor_guardianship: Mapped[bool] = mapped_column(Boolean, default=False)
    guardian_name: Mapped[str] = mapped_column(String(64), default="")
    guardian_phone: Mapped[str] = mapped_column(String(32), default="")
    parents_workplace: Mapped[str] = mapped_column(String(100), default="")
    schooling: Mapped[str] = mapped_column(String(16), default="")
    boarding: Mapped[bool] = mapped_column(Boolean, default=False)
    # The guardian as a member of the child's household (None: the name above is free text).
    # Kept when they leave the household later: the file then says so.
    guardian_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))


class ElderlyDetails(Base):
    """Facts of an elderly enrollment: living arrangement, self-care, children's contact."""

    __tablename__ = "elderly_details"

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    living_arrangement: Mapped[str] = mapped_column(String(16))
    self_care: Mapped[str] = mapped_column(String(16))
    children_contact: Mapped[str] = mapped_column(String(100), default="")


class DisabledDetails(Base):
    """Facts of a disabled enrollment: category, grade, certificate, rehab needs."""

    __tablename__ = "disabled_details"

    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    category: Mapped[int] = mapped_column(Integer)
    grade: Mapped[int] = mapped_column(Integer)
    certificate_no: Mapped[str | None] = mapped_column(String(20))
    rehab_needs: Mapped[str] = mapped_column(String(200), default="")
    assistive_devices: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        CheckConstraint("category BETWEEN 1 AND 7", name="category"),
        CheckConstraint("grade BETWEEN 1 AND 4", name="grade"),
    )


class Worker(Base):
    """Someone who does visits: child director, rehab coordinator, elderly visitor, volunteer."""

    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    phone: Mapped[str] = mapped_column(String(32), default="")
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    office_lat: Mapped[float | None] = mapped_column(Float)
    office_lon: Mapped[float | None] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(Base):
    """A login with a role and an area scope; a coordinator's login is linked to a worker."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        CheckConstraint(
            "role IN ('province', 'city', 'county', 'township', 'coordinator', 'admin')",
            name="role",
        ),
    )


class LoginSession(Base):
    """A server-side login session; the browser holds only the random token's hash key."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # The one-time hand-over of the token to the browser's HttpOnly cookie (care/auth.py).
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_sealed: Mapped[str | None] = mapped_column(Text)
    handoff_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Single sign-on: the identity-provider login this session came from (a hash), used once.
    sso_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class Assignment(Base):
    """Which worker is responsible for which enrollment, from when to when (服务分配)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        Index("ix_assignments_enrollment_end", "enrollment_id", "end_date"),
        Index("ix_assignments_worker_end", "worker_id", "end_date"),
    )


class VisitPolicy(Base):
    """Visit interval in days for one group and risk level, per county (巡访规则)."""

    __tablename__ = "visit_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("areas.code"))
    group: Mapped[str] = mapped_column(String(16))
    risk: Mapped[str] = mapped_column(String(8))
    interval_days: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("county_code", "group", "risk", name="uq_visit_policies_county_group_risk"),
        CheckConstraint("interval_days BETWEEN 1 AND 366", name="interval_days"),
    )


class Setting(Base):
    """A setting of the whole installation (demo flag, the daily upkeep's last run)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CountySetting(Base):
    """A setting of one county (phone visits count, daily visit limit, tile source, child age limits)."""

    __tablename__ = "county_settings"

    county_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Visit(Base):
    """A patrol visit (巡访记录) to one person, covering one or more of their enrollments."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    # The person's county (see Person.county_code).
    county_code: Mapped[str] = mapped_column(AreaCode, default=_county_of_person)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("workers.id"), index=True)
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    visited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    mode: Mapped[str | None] = mapped_column(String(16))
    findings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    follow_up: Mapped[str] = mapped_column(Text, default="")
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A household visit (one call at the door, one visit per member): the household and the
    # form's token, shared by the member visits saved together.
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    household_visit: Mapped[str | None] = mapped_column(String(64))

    enrollments: Mapped[list[VisitEnrollment]] = relationship()

    __table_args__ = (
        # A person's visits by date with their status and mode: the person file, plans, recent visits.
        Index("ix_visits_person_visited_status_mode", "person_id", "visited_at", "status", "mode"),
        Index("ix_visits_visited_at", "visited_at"),
        # One county's visits of a period, without reading the other counties'; covers the month
        # report's and the due-date recount's counted-visit reads (SQLite: the rowid is the id).
        Index("ix_visits_county_counted", "county_code", "visited_at", "status", "mode", postgresql_include=["id"]),
        # One visit per member in a household visit: a double submit cannot save a member twice.
        UniqueConstraint("household_visit", "person_id", name="uq_visits_household_visit_person"),
        CheckConstraint("status IN ('planned', 'done', 'not_met', 'cancelled')", name="status"),
    )


class VisitEnrollment(Base):
    """Links a visit to each enrollment it counts for (a disabled left-behind child: two)."""

    __tablename__ = "visit_enrollments"

    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), primary_key=True)
    # The visit's county (see Person.county_code): one county's links are one range of their index.
    county_code: Mapped[str] = mapped_column(AreaCode, default=_county_of_visit)

    __table_args__ = (
        Index("ix_visit_enrollments_enrollment", "enrollment_id"),
        # One county's links joined to its visits of a period, without reading the other counties'.
        Index("ix_visit_enrollments_county_visit", "county_code", "visit_id", "enrollment_id"),
    )


class ScheduleDay(Base):
    """One worker's planned route for one day (巡访排班); a fixed day survives regenerating the week."""

    __tablename__ = "schedule_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    fixed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Route order: [{"person_id": 1, "enrollment_ids": [3, 4]}, ...]; a person in two groups is one stop.
    stops: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    distance_km: Mapped[float] = mapped_column(Float, default=0.0)
    generated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (UniqueConstraint("worker_id", "day", name="uq_schedule_days_worker_day"),)


class Need(Base):
    """A need found on a visit or in the file, referred to a department (需求转介)."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    kind: Mapped[str] = mapped_column(String(24))
    department: Mapped[str] = mapped_column(String(64), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_on: Mapped[dt.date] = mapped_column(Date)
    in_progress_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (CheckConstraint("status IN ('open', 'in_progress', 'resolved')", name="status"),)


class AuditCheckpoint(Base):
    """A signed note of the audit log's head: how many events up to which one, ending in which hash.

    Signed with a key kept outside the database (care/audit_anchor.py): whoever deletes the newest
    events cannot write a matching checkpoint, so the cut shows.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    event_id: Mapped[int] = mapped_column(Integer)
    event_count: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    mac: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Who did what to which records, and whether it was allowed; chained by hash."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(32), index=True)
    entity: Mapped[str] = mapped_column(String(32), default="")
    entity_id: Mapped[str] = mapped_column(String(64), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    # The county of the acting user's area ('' for a user above the counties or none).
    county_code: Mapped[str] = mapped_column(AreaCode, default="")

    __table_args__ = (Index("ix_audit_events_county_at", "county_code", "at"),)


class DiaryEntry(Base):
    """One entry of a worker's diary (民情日记): what they heard or did on a day, soft-deleted only."""

    __tablename__ = "diary_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"))
    day: Mapped[dt.date] = mapped_column(Date)
    # enums.DIARY_KINDS: heard (走访见闻), done (办理事项), other.
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_diary_entries_worker_day", "worker_id", "day"),
        CheckConstraint("kind IN ('heard', 'done', 'other')", name="kind"),
    )


class DiaryPerson(Base):
    """A person a diary entry is about (an entry may name several, each once)."""

    __tablename__ = "diary_persons"

    entry_id: Mapped[int] = mapped_column(ForeignKey("diary_entries.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), primary_key=True)

    __table_args__ = (Index("ix_diary_persons_person", "person_id"),)


class ServiceItem(Base):
    """One version of a service on the county's basic service list (基本服务清单), in force from ``valid_from``.

    A change to a service closes its current row (``valid_to``) and opens a new one, so the list
    as of any day, and who was eligible under it, can be read back.
    """

    __tablename__ = "service_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_code: Mapped[str] = mapped_column(String(12), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column(String(16))
    # Provider kinds that may deliver it (enums.PROVIDER_KINDS).
    provider_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Expected frequency: this many times per period (enums.SERVICE_PERIODS).
    times: Mapped[int] = mapped_column(Integer, default=1)
    period: Mapped[str] = mapped_column(String(8), default="month")
    # The facts that make an enrollment of ``group`` eligible (care.domain.service_rules.Eligibility).
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        Index("ix_service_items_county_code_from", "county_code", "code", "valid_from"),
        CheckConstraint("\"group\" IN ('child', 'elderly', 'disabled')", name="group"),
        CheckConstraint("times BETWEEN 1 AND 31", name="times"),
    )


class Provider(Base):
    """Who delivers services: a department, a social organisation, a volunteer, a mutual-aid team or a cadre."""

    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    # Service codes of the county's list it offers.
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Pairing(Base):
    """A volunteer or cadre paired with a person (结对帮扶) from ``start_date`` until ``end_date``."""

    __tablename__ = "pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class CarePlan(Base):
    """One revision of an enrollment's care plan (一人一案): goals, planned services, review date.

    Drafted by the coordinator, submitted, then approved or returned with a reason by the township
    supervisor. An approved plan is the plan in force until a later revision is approved, which
    marks it superseded; every revision is kept.
    """

    __tablename__ = "care_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    goals: Mapped[str] = mapped_column(Text, default="")
    review_on: Mapped[dt.date] = mapped_column(Date)
    # The enrollment's risk when the plan was approved: a different risk later calls for a review.
    risk_at_approval: Mapped[str | None] = mapped_column(String(8))
    return_reason: Mapped[str] = mapped_column(String(200), default="")
    drafted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    items: Mapped[list[PlanService]] = relationship(order_by="PlanService.id")

    __table_args__ = (
        UniqueConstraint("enrollment_id", "revision", name="uq_care_plans_enrollment_revision"),
        Index("ix_care_plans_status_review_on", "status", "review_on"),
        CheckConstraint("status IN ('draft', 'submitted', 'returned', 'approved', 'superseded')", name="status"),
    )


class PlanService(Base):
    """A service planned in a care plan: which one of the county's list, how often, by whom."""

    __tablename__ = "plan_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("care_plans.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(32))
    times: Mapped[int] = mapped_column(Integer, default=1)
    period: Mapped[str] = mapped_column(String(8), default="month")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"))
    note: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (CheckConstraint("times BETWEEN 1 AND 31", name="times"),)


class ServiceOrder(Base):
    """A service ordered for a person (上门式、订单式服务) and what became of it.

    Raised from a visit, a need, the care plan or a request taken by phone from the family;
    assigned to a provider, scheduled, then delivered (date, who, minutes, note, the family's
    satisfaction) or declined with a reason. An order raised from a need resolves it when delivered.
    """

    __tablename__ = "service_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("enrollments.id"), index=True)
    service_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"), index=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("care_plans.id"))
    # Who asked, for an order taken by phone (the family member's name and relation).
    requested_by: Mapped[str] = mapped_column(String(64), default="")
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    requested_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    scheduled_on: Mapped[dt.date | None] = mapped_column(Date)
    delivered_on: Mapped[dt.date | None] = mapped_column(Date)
    delivered_by: Mapped[str] = mapped_column(String(64), default="")
    minutes: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    decline_reason: Mapped[str] = mapped_column(String(200), default="")
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_service_orders_status_due_on", "status", "due_on"),
        Index("ix_service_orders_delivered_on", "delivered_on"),
        CheckConstraint("source IN ('visit', 'need', 'plan', 'phone', 'import')", name="source"),
        CheckConstraint(
            "status IN ('open', 'assigned', 'scheduled', 'delivered', 'declined', 'cancelled')", name="status"
        ),
        CheckConstraint("minutes IS NULL OR minutes BETWEEN 1 AND 1440", name="minutes"),
    )


class RiskChange(Base):
    """An enrollment's risk level changing: on enrolment, by an edit or override, or by the rules
    re-run (an age crossed, the household changed); the person file's timeline reads them."""

    __tablename__ = "risk_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    old: Mapped[str | None] = mapped_column(String(8))
    new: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("cause IN ('enroll', 'edit', 'rules')", name="cause"),)


class VisitPack(Base):
    """An offline visit pack (离线巡访包) handed to a coordinator: whose, for whom, until when.

    The PIN is never stored; ``hmac_key`` is the pack's secret, from which the result file's
    encryption and signing keys are derived (it is also inside the pack's ciphertext, so only
    someone with the PIN can make a result file).
    """

    __tablename__ = "visit_packs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    person_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    salt: Mapped[str] = mapped_column(String(32))
    hmac_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="issued")
    returned_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (CheckConstraint("state IN ('issued', 'returned')", name="state"),)
