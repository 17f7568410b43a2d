"""Password policy: length, three kinds of characters, no control characters, nothing guessable."""

from __future__ import annotations

import pytest

from care.auth import check_password_policy
from care.domain.errors import ValidationError


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("Short-1", "password.too_short"),
        ("alllowercaseletters", "password.too_simple"),
        ("lowercase123456", "password.too_simple"),
        ("我们村的关爱服务从不让孩子掉队", "password.too_simple"),
        ("Zhou.Ming-2026", "password.contains_username"),
        ("Ab#13812345678", "password.contains_personal"),
        # Three kinds and ten characters, yet guessed in seconds: repeats, sequences, padding,
        # common Chinese passwords and names in pinyin.
        ("Aa1!Aa1!Aa1!", "password.guessable"),
        ("1234567890aA", "password.guessable"),
        ("          aA1", "password.guessable"),
        ("Qwertyuiop1!", "password.guessable"),
        ("Woaini1314!!", "password.guessable"),
        ("Wangfang@123", "password.guessable"),
        ("Zhangwei1990!", "password.guessable"),
        ("Password2026!", "password.guessable"),
        ("Abc\x00defgh12!", "password.control_chars"),
        ("Abcdefgh12!\n", "password.control_chars"),
        ("Abc\u200bdefgh12!", "password.control_chars"),
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


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_guessable_password_is_explained_in_the_users_language(lang):
    with pytest.raises(ValidationError) as error:
        check_password_policy("Aa1!Aa1!Aa1!", username="zhou.ming")
    text = error.value.message(lang)
    assert ("容易被猜中" in text) if lang == "zh" else ("easy to guess" in text)
