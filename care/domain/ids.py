"""Citizen ID numbers (GB 11643-1999 公民身份号码) and disability certificate numbers (残疾人证号).

Pure functions: they read no database and no session. Every rejection is a
``ValidationError`` whose catalog key (``id.*`` or ``cert.*``) tells the user what to fix.
"""

from __future__ import annotations

import csv
import functools
import math
import numbers
import re
from collections.abc import Container
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from stdnum.cn.ric import calc_check_digit

from care.domain import clock
from care.domain.errors import ValidationError

ID_FIELD = "id_number"
CERT_FIELD = "certificate_no"

_DIGITS = frozenset("0123456789")
_ID_CHARS = _DIGITS | {"X"}

# Full-width digits and X come from Chinese input methods; they look identical on screen.
_WIDTH_MAP = {0xFF10 + i: str(i) for i in range(10)} | {ord("Ｘ"): "X", ord("ｘ"): "X"}
# Hyphens and dashes people type to group the digits; zero-width characters ride along
# invisibly with text pasted from web pages and chat apps.
_DROP = "-\u2010\u2011\u2012\u2013\u2014\u2212\uff0d\u200b\u200c\u200d\u2060\ufeff"
_TRANSLATE = _WIDTH_MAP | {ord(c): None for c in _DROP}

# What Excel shows or exports for a long number kept in a numeric cell.
_SCIENTIFIC = re.compile(r"[+]?\d+(?:\.\d*)?[eE][+]?\d+")
_DECIMAL = re.compile(r"\d+\.\d*")

_MIN_BIRTH_YEAR = 1900
# GB/T 2260 codes an ID number may start with, current and abolished (see care/data/README.md).
_REGIONS_FILE = Path(__file__).resolve().parents[1] / "data" / "gbt2260.csv"
_CERT_LENGTH = 20
_CATEGORIES = range(1, 8)  # 1 视力 2 听力 3 言语 4 肢体 5 智力 6 精神 7 多重
_GRADES = range(1, 5)


@dataclass(frozen=True)
class IdInfo:
    """What a valid citizen ID number says about its holder."""

    number: str  # normalised 18 characters, last may be 'X'
    region: str  # first 6 digits
    birth_date: date
    sex: str  # "M" (odd 17th digit) or "F" (even)
    converted_from_legacy: bool  # True when the input was a 15-digit number


def _compact(text: str) -> str:
    """``text`` with full-width digits and X made half-width, separators removed, x upper-cased."""
    text = text.translate(_TRANSLATE)
    return "".join(text.split()).replace("x", "X")


def _clean(raw: object, prefix: str, field: str) -> str:
    """The compact text of ``raw``, or the error for a value that is not usable text."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        # pandas reads an empty spreadsheet cell as NaN.
        raise ValidationError(f"{prefix}.empty", field=field)
    if isinstance(raw, bool):
        raise ValidationError(f"{prefix}.not_text", field=field)
    if isinstance(raw, numbers.Number):
        # A numeric cell keeps only 15 significant digits, so the value cannot be trusted
        # even when it happens to look complete.
        raise ValidationError(f"{prefix}.excel_number", field=field)
    if not isinstance(raw, str):
        raise ValidationError(f"{prefix}.not_text", field=field)
    text = _compact(raw)
    if not text:
        raise ValidationError(f"{prefix}.empty", field=field)
    if _SCIENTIFIC.fullmatch(text):
        raise ValidationError(f"{prefix}.excel_scientific", field=field, value=raw.strip())
    if _DECIMAL.fullmatch(text):
        raise ValidationError(f"{prefix}.excel_number", field=field)
    return text


def _is_ascii_digits(text: str) -> bool:
    """Whether ``text`` is non-empty and made of 0-9 only (``str.isdigit`` also takes other scripts)."""
    return bool(text) and all(c in _DIGITS for c in text)


def check_digit(first17: str) -> str:
    """The GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits; ValueError otherwise."""
    if len(first17) != 17 or not _is_ascii_digits(first17):
        raise ValueError("check_digit needs exactly 17 ASCII digits")
    # stdnum's function takes a whole number and ignores its last character.
    return calc_check_digit(first17 + "0")


# The same check for many numbers at once (the report checks every person on the register): the
# weights of the first 17 digits, 2^(17-i) mod 11, and the check character of each remainder.
_CHECK_WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK_CHARACTERS = np.frombuffer(b"10X98765432", dtype=np.uint8)


def check_bytes(digits: np.ndarray) -> np.ndarray:
    """The check character, as an ASCII byte, of each row of 17 digit values (0-9): check_digit by rows."""
    return _CHECK_CHARACTERS[(digits @ _CHECK_WEIGHTS) % 11]


def legacy_to_18(number15: str) -> str:
    """The 18-character form of a 15-digit (pre-1999) number: '19' before yymmdd, check digit after."""
    if len(number15) != 15 or not _is_ascii_digits(number15):
        raise ValueError("legacy_to_18 needs exactly 15 ASCII digits")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_digit(first17)


def _birth_date(yyyymmdd: str, today: date) -> date:
    """The birth date encoded in an ID number, or the error saying why it cannot be one."""
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise ValidationError("id.bad_date", field=ID_FIELD, date=yyyymmdd) from None
    if born.year < _MIN_BIRTH_YEAR:
        raise ValidationError("id.birth_before_1900", field=ID_FIELD, year=born.year)
    if born > today:
        raise ValidationError("id.future_birth", field=ID_FIELD, date=born.isoformat())
    return born


@functools.cache
def known_regions() -> frozenset[str]:
    """Every GB/T 2260 code, current or abolished, that an ID number's first 6 digits may be."""
    with _REGIONS_FILE.open(encoding="utf-8", newline="") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


def require_known_region(region: str, *, local_regions: Container[str] = frozenset()) -> None:
    """Raise unless ``region`` is a GB/T 2260 code or one of ``local_regions`` (the database's counties).

    No birth year is compared with the years a code was in use: people keep the code their
    number was first issued under, and numbers were issued under codes newer than the birth.
    """
    if region not in known_regions() and region not in local_regions:
        raise ValidationError("id.unknown_region", field=ID_FIELD, region=region)


def parse_id_number(
    raw: object,
    *,
    today: date | None = None,
    local_regions: Container[str] = frozenset(),
    check_region: bool = True,
) -> IdInfo:
    """Validate a citizen ID number as typed or imported and return what it encodes.

    ``local_regions`` adds region codes the county's own area list defines; ``check_region=False``
    leaves the region to the caller (a number that only looks up someone already registered).
    """
    text = _clean(raw, "id", ID_FIELD)
    bad = next((c for c in text if c not in _ID_CHARS), None)
    if bad is not None:
        raise ValidationError("id.bad_chars", field=ID_FIELD, char=bad)
    if len(text) not in (15, 18):
        raise ValidationError("id.bad_length", field=ID_FIELD, length=len(text))
    if not _is_ascii_digits(text[:-1]) or (len(text) == 15 and text[-1] == "X"):
        raise ValidationError("id.x_position", field=ID_FIELD)

    legacy = len(text) == 15
    born = _birth_date("19" + text[6:12] if legacy else text[6:14], today or clock.today())
    if legacy:
        number = legacy_to_18(text)
    else:
        number = text
        if number[17] != check_digit(number[:17]):
            # A numeric Excel cell keeps 15 significant digits and zero-fills the rest.
            key = "id.excel_lost_digits" if number.endswith("000") else "id.bad_check_digit"
            # The expected digit is left out on purpose: it would let a mistyped number
            # be "corrected" into someone else's valid number.
            raise ValidationError(key, field=ID_FIELD)
    if check_region:
        require_known_region(number[:6], local_regions=local_regions)
    return IdInfo(
        number=number,
        region=number[:6],
        birth_date=born,
        sex="M" if int(number[16]) % 2 else "F",
        converted_from_legacy=legacy,
    )


def normalise_id_number(raw: object, *, today: date | None = None) -> str:
    """The validated 18-character form of a citizen ID number (15-digit numbers converted)."""
    return parse_id_number(raw, today=today).number


def is_valid_id_number(raw: object) -> bool:
    """Whether ``raw`` is a citizen ID number that ``parse_id_number`` accepts today."""
    try:
        parse_id_number(raw)
    except ValidationError:
        return False
    return True


def sex_and_birth_agree(info: IdInfo, sex: str | None, birth_date: date | None) -> None:
    """Raise when a given sex ("M"/"F") or birth date disagrees with the ID number."""
    if sex and sex.strip().upper() != info.sex:
        raise ValidationError("id.sex_mismatch", field="sex")
    if birth_date is not None and birth_date != info.birth_date:
        raise ValidationError(
            "id.birth_mismatch",
            field="birth_date",
            given=birth_date.isoformat(),
            expected=info.birth_date.isoformat(),
        )


def age_on(birth_date: date, on: date) -> int:
    """Full years (周岁) reached on ``on``; someone born on 29 February turns a year older on 1 March."""
    if on < birth_date:
        raise ValueError("age_on: the date is before the birth date")
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def mask_id_number(number: str | None) -> str:
    """The number with only the first 6 and last 4 characters visible; None or '' gives ''."""
    if not number:
        return ""
    text = number.strip()
    if len(text) <= 10:
        # Too short to show 10 characters and still hide anything.
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


# A certificate number is the holder's 18-character ID number, then the category and grade digits.
CERT_ID_DIGITS = 18


def mask_certificate(number: str | None) -> str:
    """A disability certificate number masked like its holder's ID number (first 6 and last 4 of the
    ID part), the category and grade digits after it visible; None or '' gives ''."""
    if not number:
        return ""
    text = number.strip()
    if len(text) <= CERT_ID_DIGITS:
        return mask_id_number(text)
    return mask_id_number(text[:CERT_ID_DIGITS]) + text[CERT_ID_DIGITS:]


def mask_phone(phone: str | None) -> str:
    """A mobile number as '138****1234'; any other number with only its last 4 characters shown."""
    if not phone:
        return ""
    text = _compact(phone)
    if len(text) == 11 and text[0] == "1" and _is_ascii_digits(text):
        return text[:3] + "****" + text[-4:]
    if len(text) <= 4:
        # Showing the last 4 of so short a value would show all of it.
        return "*" * len(text)
    return "*" * (len(text) - 4) + text[-4:]


def parse_certificate(
    raw: object,
    *,
    id_number: str,
    category: int | None = None,
    grade: int | None = None,
) -> tuple[str, int, int]:
    """Validate a second-generation disability certificate number against its holder's ID.

    The number is the holder's 18-character ID followed by the category digit (1-7) and
    the grade digit (1-4). Returns (certificate number, category, grade).
    """
    text = _clean(raw, "certificate", CERT_FIELD)
    bad = next((c for c in text if c not in _ID_CHARS), None)
    if bad is not None:
        raise ValidationError("certificate.bad_chars", field=CERT_FIELD, char=bad)
    if len(text) != _CERT_LENGTH:
        raise ValidationError("certificate.bad_length", field=CERT_FIELD, length=len(text))
    if not (_is_ascii_digits(text[:17]) and _is_ascii_digits(text[18:])):
        raise ValidationError("certificate.x_position", field=CERT_FIELD)

    holder = _compact(id_number) if id_number else ""
    if len(holder) == 15 and _is_ascii_digits(holder):
        holder = legacy_to_18(holder)
    if not holder:
        raise ValidationError("certificate.no_id_number", field=ID_FIELD)
    if text[:18] != holder:
        raise ValidationError("certificate.id_mismatch", field=CERT_FIELD)

    found_category, found_grade = int(text[18]), int(text[19])
    if found_category not in _CATEGORIES:
        raise ValidationError("certificate.bad_category", field=CERT_FIELD, found=found_category)
    if found_grade not in _GRADES:
        raise ValidationError("certificate.bad_grade", field=CERT_FIELD, found=found_grade)
    if category is not None and found_category != category:
        raise ValidationError(
            "certificate.category_mismatch",
            field=CERT_FIELD,
            found=found_category,
            expected=category,
        )
    if grade is not None and found_grade != grade:
        raise ValidationError("certificate.grade_mismatch", field=CERT_FIELD, found=found_grade, expected=grade)
    return text, found_category, found_grade
