"""Visit and need rules (巡访记录, 需求转介) on plain values: what a recorded visit may hold.

The visit form, the service and every imported visit row go through the same checks. Each
problem is a ValidationError whose ``field`` names the input at fault and whose key is in the
catalog, so a form shows it beside the field and an import reports it against the column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from care.domain import enums
from care.domain.errors import ValidationError

RECORDED_STATUSES = ("done", "not_met", "cancelled")
# Findings areas and the short choice each takes; the first choice is the unremarkable one.
FINDING_CHOICES: dict[str, tuple[str, ...]] = {
    "safety": ("ok", "concern"),
    "health": ("good", "fair", "poor"),
    "living": ("ok", "poor"),
    "guardianship": ("ok", "concern"),
    "schooling": ("attending", "absent", "n/a"),
    "rehab": ("improving", "stable", "needs_support"),
}
FINDING_AREAS = tuple(FINDING_CHOICES)
AREAS_BY_GROUP: dict[str, tuple[str, ...]] = {
    "child": ("safety", "health", "living", "guardianship", "schooling"),
    "elderly": ("safety", "health", "living"),
    "disabled": ("safety", "health", "living", "rehab"),
}
# Choices a coordinator should look at again on the next visit.
CONCERNS = frozenset({"concern", "poor", "absent", "needs_support"})
NOTE_SUFFIX = "_note"


def concerns_of(findings: dict[str, Any] | None) -> tuple[str, ...]:
    """The findings areas a visit found wanting, in the areas' order."""
    return tuple(area for area in FINDING_AREAS if (findings or {}).get(area) in CONCERNS)


SITUATIONS = ("parent_returned", "died", "moved")
# The exit reason each situation change writes on the enrollments it ends.
SITUATION_EXIT_REASON = {"parent_returned": "parent_returned", "died": "died", "moved": "moved"}
FINDING_NOTE_MAX = 200
NOTES_MAX = 2000
CANCEL_REASON_MAX = 200
DEPARTMENT_MAX = 64
NEED_DESCRIPTION_MAX = 1000
# Open -> in progress -> resolved; a need found already handled may be resolved straight away.
NEED_MOVES: dict[str, tuple[str, ...]] = {"open": ("in_progress", "resolved"), "in_progress": ("resolved",)}


@dataclass(frozen=True)
class CleanVisit:
    """A visit's values once every rule holds (findings only on a done visit)."""

    status: str
    mode: str | None
    visited_at: dt.datetime | None
    findings: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    cancel_reason: str = ""
    situation: str | None = None


def areas_for(groups: Sequence[str]) -> tuple[str, ...]:
    """The findings areas that apply to a visit covering these groups, in a fixed order."""
    wanted = {area for group in groups for area in AREAS_BY_GROUP.get(group, ())}
    return tuple(area for area in FINDING_AREAS if area in wanted)


def _as_datetime(value: dt.datetime | dt.date | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0, 0))
    raise ValidationError("visit.bad_time", field="visited_at")


def _text(value: object, limit: int, key: str, name: str) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError(key, field=name, limit=limit)
    return text


def clean_findings(findings: Mapping[str, Any] | None, groups: Sequence[str]) -> dict[str, Any]:
    """Findings as ``{area: choice, area_note: text}``; an area without choice or note is left out."""
    allowed = areas_for(groups)
    out: dict[str, Any] = {}
    for name, value in (findings or {}).items():
        area = name.removesuffix(NOTE_SUFFIX)
        if area not in FINDING_CHOICES:
            raise ValidationError("visit.finding_unknown", field="findings", area=name)
        if value in (None, "") or name.endswith(NOTE_SUFFIX):
            continue
        if area not in allowed:
            raise ValidationError("visit.finding_not_for_group", field="findings", area=area)
        if value not in FINDING_CHOICES[area]:
            raise ValidationError("visit.finding_bad_choice", field="findings", area=area, value=str(value))
        out[area] = value
    for area in allowed:
        note = _text((findings or {}).get(area + NOTE_SUFFIX), FINDING_NOTE_MAX, "visit.note_too_long", "findings")
        if note and area not in out:
            raise ValidationError("visit.finding_note_without_choice", field="findings", area=area)
        if note:
            out[area + NOTE_SUFFIX] = note
    return out


def _check_time(visited_at: dt.datetime | None, starts: Sequence[dt.date], now: dt.datetime) -> None:
    if visited_at is None:
        return
    if visited_at > now:
        raise ValidationError("visit.in_future", field="visited_at")
    latest_start = max(starts, default=None)
    if latest_start is not None and visited_at.date() < latest_start:
        raise ValidationError("visit.before_start", field="visited_at", start=latest_start.isoformat())


def _status_and_mode(status: str, mode: str | None) -> str | None:
    if status not in RECORDED_STATUSES:
        raise ValidationError("visit.bad_status", field="status", value=str(status))
    if mode is not None and mode not in enums.VISIT_MODES:
        raise ValidationError("visit.bad_mode", field="mode", value=str(mode))
    if status == "done" and mode is None:
        raise ValidationError("visit.mode_required", field="mode")
    return mode


def _when(
    status: str, visited_at: dt.datetime | dt.date | None, starts: Sequence[dt.date], now: dt.datetime
) -> dt.datetime | None:
    when = _as_datetime(visited_at)
    if status != "cancelled" and when is None:
        raise ValidationError("visit.time_required", field="visited_at")
    _check_time(when, starts, now)
    return when


def _cancel_reason(status: str, cancel_reason: str) -> str:
    reason = _text(cancel_reason, CANCEL_REASON_MAX, "visit.text_too_long", "cancel_reason")
    if status == "cancelled" and not reason:
        raise ValidationError("visit.cancel_reason_required", field="cancel_reason")
    return reason if status == "cancelled" else ""


def _situation(status: str, situation: str | None, groups: Sequence[str]) -> str | None:
    if situation is None:
        return None
    if situation not in SITUATIONS:
        raise ValidationError("visit.bad_situation", field="situation", value=str(situation))
    if status == "cancelled":
        raise ValidationError("visit.situation_needs_visit", field="situation")
    if situation == "parent_returned" and "child" not in groups:
        raise ValidationError("visit.situation_needs_child", field="situation")
    return situation


def visit_problems(
    *,
    status: str,
    mode: str | None,
    visited_at: dt.datetime | dt.date | None,
    groups: Sequence[str],
    starts: Sequence[dt.date],
    now: dt.datetime,
    findings: Mapping[str, Any] | None = None,
    notes: str = "",
    cancel_reason: str = "",
    situation: str | None = None,
) -> tuple[CleanVisit | None, list[ValidationError]]:
    """The cleaned visit (None when any rule breaks) and every broken rule, one per field.

    ``groups`` and ``starts`` are the care groups and start dates of the enrollments the visit
    covers; ``now`` is county-local time (a visit is never in the future). An import reports
    all problems of a row at once; a form shows the first.
    """
    checks: list[tuple[str, Any]] = [
        ("mode", lambda: _status_and_mode(status, mode or None)),
        ("visited_at", lambda: _when(status, visited_at, starts, now)),
        ("cancel_reason", lambda: _cancel_reason(status, cancel_reason)),
        ("notes", lambda: _text(notes, NOTES_MAX, "visit.text_too_long", "notes")),
        ("findings", lambda: clean_findings(findings, groups) if status == "done" else {}),
        ("situation", lambda: _situation(status, situation or None, groups)),
    ]
    values: dict[str, Any] = {}
    problems: list[ValidationError] = []
    for name, check in checks:
        try:
            values[name] = check()
        except ValidationError as problem:
            problems.append(problem)
    if problems:
        return None, problems
    return CleanVisit(status=status, **values), []


def check_visit(**values: Any) -> CleanVisit:
    """The visit's values cleaned, or the first broken rule raised (arguments as visit_problems)."""
    clean, problems = visit_problems(**values)
    if problems:
        raise problems[0]
    assert clean is not None
    return clean


@dataclass(frozen=True)
class CleanNeed:
    """A need's values once its rules hold."""

    kind: str
    department: str
    description: str


def check_need(kind: str, department: str = "", description: str = "") -> CleanNeed:
    """A need's kind, department and description cleaned; 'other' must say what is needed."""
    if kind not in enums.NEED_KINDS:
        raise ValidationError("needs.bad_kind", field="kind", value=str(kind))
    dept = _text(department, DEPARTMENT_MAX, "visit.text_too_long", "department")
    text = _text(description, NEED_DESCRIPTION_MAX, "visit.text_too_long", "description")
    if kind == "other" and not text:
        raise ValidationError("needs.description_required", field="description")
    return CleanNeed(kind, dept, text)


def check_need_move(current: str, target: str) -> None:
    """Refuse a status change that does not go forward (open → in progress → resolved)."""
    if target not in enums.NEED_STATUSES:
        raise ValidationError("needs.bad_status", field="need_status", value=str(target))
    if target not in NEED_MOVES.get(current, ()):
        raise ValidationError("needs.bad_move", field="need_status", current=current, target=target)


def need_dates(target: str, today: dt.date, in_progress_on: dt.date | None) -> dict[str, dt.date | None]:
    """The dates a move writes: work started on (kept once set) and resolved on."""
    started = in_progress_on or (today if target == "in_progress" else None)
    return {"in_progress_on": started, "resolved_on": today if target == "resolved" else None}
