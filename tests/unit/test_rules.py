"""Risk rules: each group's facts give the level and the reasons, table by table."""

from __future__ import annotations

import pytest

from care.domain.rules import compute_risk, effective_risk


@pytest.mark.parametrize(
    ("subtype", "facts", "age", "level", "reason"),
    [
        ("left_behind", {"guardianship": "none"}, 10, "high", "risk.reason.no_guardian"),
        ("unsupported", {"guardianship": "relative"}, 10, "high", "risk.reason.unsupported"),
        (
            "left_behind",
            {"guardianship": "grandparent", "poor_guardianship": True},
            9,
            "high",
            "risk.reason.poor_guardianship",
        ),
        (
            "left_behind",
            {"guardianship": "grandparent", "schooling": "out_of_school"},
            14,
            "high",
            "risk.reason.out_of_school",
        ),
        ("distressed", {"guardianship": "one_parent"}, 12, "medium", "risk.reason.distressed"),
        ("left_behind", {"guardianship": "grandparent"}, 4, "medium", "risk.reason.young_child"),
        ("left_behind", {"guardianship": "grandparent", "schooling": "primary"}, 9, "low", "risk.reason.none"),
    ],
)
def test_child_risk_follows_guardianship_schooling_and_age(subtype, facts, age, level, reason):
    result = compute_risk("child", subtype, facts, age)
    assert result.level == level
    assert reason in result.reasons


@pytest.mark.parametrize(
    ("subtype", "facts", "age", "level", "reason"),
    [
        ("alone", {"living_arrangement": "alone", "self_care": "full"}, 80, "high", "risk.reason.old_alone"),
        ("alone", {"living_arrangement": "alone", "self_care": "full"}, 79, "medium", "risk.reason.alone"),
        (
            "empty_nest",
            {"living_arrangement": "with_spouse", "self_care": "none"},
            70,
            "high",
            "risk.reason.no_self_care",
        ),
        (
            "disabled_elderly",
            {"living_arrangement": "with_relatives", "self_care": "partial"},
            66,
            "high",
            "risk.reason.no_self_care",
        ),
        ("empty_nest", {"living_arrangement": "with_spouse", "self_care": "full"}, 85, "medium", "risk.reason.over_80"),
        (
            "special_family",
            {"living_arrangement": "with_spouse", "self_care": "full"},
            65,
            "medium",
            "risk.reason.special_family",
        ),
        ("empty_nest", {"living_arrangement": "with_spouse", "self_care": "full"}, 65, "low", "risk.reason.none"),
    ],
)
def test_elderly_risk_follows_age_living_and_self_care(subtype, facts, age, level, reason):
    result = compute_risk("elderly", subtype, facts, age)
    assert result.level == level
    assert reason in result.reasons


@pytest.mark.parametrize(
    ("facts", "level", "reason"),
    [
        ({"category": 4, "grade": 1}, "high", "risk.reason.grade_1"),
        ({"category": 6, "grade": 2}, "high", "risk.reason.grade_2_mental"),
        ({"category": 4, "grade": 2}, "medium", "risk.reason.grade_2"),
        ({"category": 2, "grade": 3, "rehab_needs": "助听器适配"}, "medium", "risk.reason.rehab_needs"),
        ({"category": 2, "grade": 4, "rehab_needs": "  "}, "low", "risk.reason.none"),
    ],
)
def test_disabled_risk_follows_grade_category_and_needs(facts, level, reason):
    result = compute_risk("disabled", "certified", facts, 40)
    assert result.level == level
    assert reason in result.reasons


def test_reasons_list_the_highest_first():
    result = compute_risk("child", "distressed", {"guardianship": "none"}, 3)
    assert result.reasons[0] == "risk.reason.no_guardian"
    assert set(result.reasons) == {"risk.reason.no_guardian", "risk.reason.distressed", "risk.reason.young_child"}


@pytest.mark.parametrize(
    ("auto", "override", "expected"), [("low", None, "low"), ("low", "high", "high"), ("high", "low", "low")]
)
def test_a_manual_override_wins_over_the_rules(auto, override, expected):
    assert effective_risk(auto, override) == expected


def test_the_family_adds_its_reasons_after_the_groups_own_and_can_raise_the_level():
    from care.domain.rules import Family

    plain = {"guardianship": "grandparent", "schooling": "primary"}
    frail = compute_risk("child", "left_behind", plain, 9, Family(frail_guardians=True))
    assert (frail.level, frail.reasons) == ("high", ("risk.reason.frail_guardians",))
    both = compute_risk("child", "distressed", plain, 4, Family(frail_guardians=True, all_in_care=True))
    assert both.level == "high"
    assert both.reasons == (
        "risk.reason.frail_guardians",
        "risk.reason.distressed",
        "risk.reason.young_child",
        "risk.reason.all_in_care",
    )
    # Frail guardians are a child's rule; everyone-in-care holds for every group.
    elder = compute_risk("elderly", "empty_nest", {"living_arrangement": "with_spouse"}, 66, Family(True, True))
    assert (elder.level, elder.reasons) == ("medium", ("risk.reason.all_in_care",))
    assert compute_risk("child", "left_behind", plain, 9).reasons == ("risk.reason.none",)
