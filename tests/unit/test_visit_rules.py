"""Visit and need rules on plain values: what a recorded visit may hold, field by field."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from care.domain.errors import ValidationError
from care.domain.visits import (
    FINDING_CHOICES,
    SITUATIONS,
    CleanNeed,
    areas_for,
    check_need,
    check_need_move,
    check_visit,
    need_dates,
    visit_problems,
)
from care.i18n import CATALOG
from care.scope import ROLE_ACTIONS

NOW = dt.datetime(2026, 6, 10, 15, 30)
START = dt.date(2026, 1, 5)
BASE = {
    "status": "done",
    "mode": "home",
    "visited_at": dt.datetime(2026, 6, 10, 9, 0),
    "groups": ["child"],
    "starts": [START],
    "now": NOW,
}


def visit(**changes):
    return check_visit(**{**BASE, **changes})


@pytest.mark.parametrize(
    ("changes", "key", "field"),
    [
        ({"status": "planned"}, "visit.bad_status", "status"),
        ({"status": "visited"}, "visit.bad_status", "status"),
        ({"mode": "letter"}, "visit.bad_mode", "mode"),
        ({"mode": None}, "visit.mode_required", "mode"),
        ({"mode": ""}, "visit.mode_required", "mode"),
        ({"visited_at": None}, "visit.time_required", "visited_at"),
        ({"status": "not_met", "visited_at": None}, "visit.time_required", "visited_at"),
        ({"visited_at": NOW + dt.timedelta(minutes=1)}, "visit.in_future", "visited_at"),
        ({"visited_at": dt.date(2026, 6, 11)}, "visit.in_future", "visited_at"),
        ({"visited_at": dt.datetime(2026, 1, 4, 23, 59)}, "visit.before_start", "visited_at"),
        ({"visited_at": "2026-06-10"}, "visit.bad_time", "visited_at"),
        (
            {"status": "cancelled", "visited_at": None, "cancel_reason": "  "},
            "visit.cancel_reason_required",
            "cancel_reason",
        ),
        ({"notes": "x" * 2001}, "visit.text_too_long", "notes"),
        ({"findings": {"mood": "ok"}}, "visit.finding_unknown", "findings"),
        ({"findings": {"rehab": "stable"}}, "visit.finding_not_for_group", "findings"),
        ({"findings": {"safety": "fine"}}, "visit.finding_bad_choice", "findings"),
        ({"findings": {"safety_note": "电线裸露"}}, "visit.finding_note_without_choice", "findings"),
        ({"findings": {"safety": "concern", "safety_note": "x" * 201}}, "visit.note_too_long", "findings"),
        ({"situation": "married"}, "visit.bad_situation", "situation"),
        ({"groups": ["elderly"], "situation": "parent_returned"}, "visit.situation_needs_child", "situation"),
        (
            {"status": "cancelled", "visited_at": None, "cancel_reason": "暴雨", "situation": "moved"},
            "visit.situation_needs_visit",
            "situation",
        ),
    ],
)
def test_a_visit_breaking_a_rule_is_refused_naming_the_field(changes, key, field):
    with pytest.raises(ValidationError) as refused:
        visit(**changes)
    assert (refused.value.key, refused.value.field) == (key, field)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {"status": "done", "mode": "home"}),
        ({"status": "not_met", "mode": None}, {"status": "not_met", "mode": None}),
        ({"mode": "phone"}, {"mode": "phone"}),
        (
            {"status": "cancelled", "mode": None, "visited_at": None, "cancel_reason": " 道路塌方 "},
            {"status": "cancelled", "visited_at": None, "cancel_reason": "道路塌方"},
        ),
        ({"visited_at": dt.date(2026, 6, 10)}, {"visited_at": dt.datetime(2026, 6, 10, 0, 0)}),
        ({"visited_at": dt.datetime(2026, 1, 5, 0, 0)}, {"visited_at": dt.datetime(2026, 1, 5, 0, 0)}),
        ({"situation": "parent_returned"}, {"situation": "parent_returned"}),
        ({"status": "not_met", "situation": "moved"}, {"situation": "moved"}),
        ({"situation": ""}, {"situation": None}),
    ],
)
def test_a_visit_that_keeps_the_rules_is_cleaned(changes, expected):
    clean = visit(**changes)
    assert {k: getattr(clean, k) for k in expected} == expected


def test_a_cancel_reason_is_kept_only_on_a_cancelled_visit():
    assert visit(cancel_reason="没去成").cancel_reason == ""


def test_findings_keep_choices_and_notes_and_drop_unchecked_areas():
    clean = visit(
        findings={
            "safety": "concern",
            "safety_note": " 电线裸露 ",
            "health": None,
            "health_note": "",
            "schooling": "attending",
        }
    )
    assert clean.findings == {"safety": "concern", "safety_note": "电线裸露", "schooling": "attending"}


@pytest.mark.parametrize("status", ["not_met", "cancelled"])
def test_findings_are_kept_only_on_a_visit_that_took_place(status):
    clean = visit(
        status=status,
        cancel_reason="暴雨",
        visited_at=None if status == "cancelled" else BASE["visited_at"],
        findings={"safety": "ok"},
    )
    assert clean.findings == {}


@pytest.mark.parametrize(
    ("groups", "areas"),
    [
        (["child"], ("safety", "health", "living", "guardianship", "schooling")),
        (["elderly"], ("safety", "health", "living")),
        (["disabled"], ("safety", "health", "living", "rehab")),
        (["child", "disabled"], ("safety", "health", "living", "guardianship", "schooling", "rehab")),
    ],
)
def test_each_group_has_its_own_findings_areas(groups, areas):
    assert areas_for(groups) == areas


def test_a_visit_covering_two_enrollments_is_not_before_the_later_start():
    with pytest.raises(ValidationError) as refused:
        visit(starts=[START, dt.date(2026, 6, 10)], visited_at=dt.datetime(2026, 6, 9, 9))
    assert refused.value.key == "visit.before_start"
    assert refused.value.params == {"start": "2026-06-10"}


def test_every_problem_of_one_row_is_reported_once_per_field():
    clean, problems = visit_problems(
        **{**BASE, "mode": "letter", "visited_at": NOW + dt.timedelta(days=1), "notes": "x" * 3000}
    )
    assert clean is None
    assert [(p.field, p.key) for p in problems] == [
        ("mode", "visit.bad_mode"),
        ("visited_at", "visit.in_future"),
        ("notes", "visit.text_too_long"),
    ]


@pytest.mark.parametrize(
    ("kind", "department", "description", "key"),
    [
        ("housing", "", "", "needs.bad_kind"),
        ("other", "民政办", " ", "needs.description_required"),
        ("medical", "x" * 65, "", "visit.text_too_long"),
    ],
)
def test_a_bad_need_is_refused(kind, department, description, key):
    with pytest.raises(ValidationError) as refused:
        check_need(kind, department, description)
    assert refused.value.key == key


def test_a_good_need_is_cleaned():
    assert check_need("assistive_device", " 县残联 ", " 轮椅 ") == CleanNeed("assistive_device", "县残联", "轮椅")


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("open", "in_progress", True),
        ("open", "resolved", True),
        ("in_progress", "resolved", True),
        ("in_progress", "open", False),
        ("resolved", "open", False),
        ("resolved", "in_progress", False),
        ("open", "open", False),
        ("open", "closed", False),
    ],
)
def test_a_need_only_moves_forward(current, target, allowed):
    if allowed:
        check_need_move(current, target)
    else:
        with pytest.raises(ValidationError):
            check_need_move(current, target)


@pytest.mark.parametrize(
    ("target", "started", "expected"),
    [
        ("in_progress", None, {"in_progress_on": dt.date(2026, 6, 10), "resolved_on": None}),
        ("resolved", dt.date(2026, 6, 1), {"in_progress_on": dt.date(2026, 6, 1), "resolved_on": dt.date(2026, 6, 10)}),
        ("resolved", None, {"in_progress_on": None, "resolved_on": dt.date(2026, 6, 10)}),
    ],
)
def test_moving_a_need_writes_its_dates(target, started, expected):
    assert need_dates(target, dt.date(2026, 6, 10), started) == expected


VISIT_FILES = (
    "care/domain/visits.py",
    "care/services/visits.py",
    "care/services/needs.py",
    "care/queries/visits.py",
    "ui/visit_form.py",
    "ui/needs.py",
    "pages/my_visits.py",
    "pages/needs.py",
)


def test_every_catalog_key_the_visit_and_need_code_names_exists():
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"""["']((?:visit|need|needs|mv|vf)\.[a-z0-9_.]+)["']""")
    named = {k for f in VISIT_FILES for k in pattern.findall((root / f).read_text(encoding="utf-8"))}
    actions = {a for actions in ROLE_ACTIONS.values() for a in actions} | {"visit.update"}
    # Audit actions are labelled as audit.action.<name>.
    actions |= {k.removeprefix("audit.action.") for k in CATALOG if k.startswith("audit.action.")}
    assert sorted(k for k in named - actions if k not in CATALOG and not k.endswith(".")) == []


@pytest.mark.parametrize(
    "key",
    [
        *(f"visit.area.{a}" for a in FINDING_CHOICES),
        *(f"enum.finding.{c}" for choices in FINDING_CHOICES.values() for c in choices),
        *(f"enum.situation.{s}" for s in SITUATIONS),
        *(f"my_visits.state.{s}" for s in ("done", "not_met", "overdue", "due")),
        *(f"my_visits.show.{s}" for s in ("todo", "all")),
        *(f"needs.show.{s}" for s in ("open", "all")),
    ],
)
def test_every_label_the_visit_form_builds_from_a_value_exists(key):
    assert key in CATALOG
