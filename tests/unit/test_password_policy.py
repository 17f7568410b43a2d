"""Password policy: length, three kinds of characters, nothing guessable from the account."""

from __future__ import annotations

import pytest

from care.auth import check_password_policy
from care.errors import ValidationError


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("Short-1", "password.too_short"),
        ("alllowercaseletters", "password.too_simple"),
        ("lowercase123456", "password.too_simple"),
        ("我们村的关爱服务从不让孩子掉队", "password.too_simple"),
        ("Zhou.Ming-2026", "password.contains_username"),
        ("Ab#13812345678", "password.contains_personal"),
    ],
)
def test_weak_passwords_are_refused_with_the_rule_they_break(password, key):
    with pytest.raises(ValidationError) as error:
        check_password_policy(password, username="zhou.ming", personal=("13812345678",))
    assert error.value.key == key


@pytest.mark.parametrize(
    "password",
    ["Correct-Horse-9", "lower123UPPER", "关爱服务Care2026", "no-upper-but-9-digits", "h85t2FiXbri+sq"],
)
def test_strong_passwords_pass(password):
    check_password_policy(password, username="zhou.ming", personal=("13812345678",))
