"""Writes: one verb-named function per user action. Each takes the session first and never commits."""

from care.queries.policy import phone_counts, policy_intervals
from care.services.due import daily_upkeep, ensure_default_policy, refresh_due_dates, refresh_risks
from care.services.enrollments import enroll, exit_enrollment, update_enrollment
from care.services.persons import (
    create_person,
    person_for_ref,
    record_person_view,
    restore_person,
    soft_delete_person,
    update_person,
)

__all__ = [
    "create_person",
    "daily_upkeep",
    "enroll",
    "ensure_default_policy",
    "exit_enrollment",
    "person_for_ref",
    "phone_counts",
    "policy_intervals",
    "record_person_view",
    "refresh_due_dates",
    "refresh_risks",
    "restore_person",
    "soft_delete_person",
    "update_enrollment",
    "update_person",
]
