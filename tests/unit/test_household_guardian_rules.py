"""The linked guardian in the family rule, the guardianship a household relation implies, the certificate mask."""

from __future__ import annotations

import pytest

from care.domain import ids, rules
from care.domain.facts import guardianship_between


@pytest.mark.parametrize(
    ("family", "reasons"),
    [
        (rules.Family(frail_linked_guardian=True), ["risk.reason.frail_linked_guardian"]),
        (rules.Family(frail_guardians=True, frail_linked_guardian=True), ["risk.reason.frail_guardians"]),
        (rules.Family(), []),
    ],
)
def test_a_frail_linked_guardian_makes_a_child_high_risk_once(family, reasons):
    found = rules.family_reasons("child", family)
    assert [r for _, r in found] == reasons
    assert all(level == "high" for level, _ in found)


def test_a_linked_guardian_says_nothing_about_an_elder():
    assert rules.family_reasons("elderly", rules.Family(frail_linked_guardian=True)) == []


@pytest.mark.parametrize(
    ("child", "guardian", "expected"),
    [
        ("grandchild", "head", "grandparent"),
        ("child", "spouse", "one_parent"),
        ("child", "parent", "grandparent"),
        ("head", "parent", "one_parent"),
        ("grandchild", "child", None),
        ("other", "head", None),
        (None, "head", None),
    ],
)
def test_a_guardians_place_in_the_household_implies_a_guardianship_only_when_sure(child, guardian, expected):
    assert guardianship_between(child, guardian) == expected


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("52263119900101123X42", "522631********123X42"),
        ("522631199001011234", "522631********1234"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_certificate_number_is_masked_like_the_id_it_starts_with(number, masked):
    assert ids.mask_certificate(number) == masked
