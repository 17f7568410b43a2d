"""Each care group's own facts: validation, and moving them between forms and detail rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from care import enums, ids
from care.errors import ValidationError
from db.models import ChildDetails, DisabledDetails, ElderlyDetails, Enrollment

CHILD_FIELDS = (
    "local_subtype",
    "guardianship",
    "poor_guardianship",
    "guardian_name",
    "guardian_phone",
    "parents_workplace",
    "schooling",
    "boarding",
)
ELDERLY_FIELDS = ("living_arrangement", "self_care", "children_contact")
DISABLED_FIELDS = ("category", "grade", "certificate_no", "rehab_needs", "assistive_devices")
FIELDS = {"child": CHILD_FIELDS, "elderly": ELDERLY_FIELDS, "disabled": DISABLED_FIELDS}
MODELS: dict[str, type[ChildDetails] | type[ElderlyDetails] | type[DisabledDetails]] = {
    "child": ChildDetails,
    "elderly": ElderlyDetails,
    "disabled": DisabledDetails,
}


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else str(value).strip()
    return text[:limit]


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError("error.bad_choice", field=field, value=str(value)) from None


def clean_facts(
    group: str, subtype: str, facts: Mapping[str, Any], *, id_number: str, birth_date: dt.date, on: dt.date
) -> dict[str, Any]:
    """The group's facts, validated against the group's rules and the person's age on ``on``."""
    enums.check("group", group, enums.GROUPS)
    enums.check("subtype", subtype, enums.SUBTYPES[group])
    age = ids.age_on(birth_date, on)
    if group == "child":
        return _child(facts, age)
    if group == "elderly":
        return _elderly(facts, age)
    return _disabled(subtype, facts, id_number)


def _child(facts: Mapping[str, Any], age: int) -> dict[str, Any]:
    if age >= enums.CHILD_AGE_LIMIT:
        raise ValidationError("enroll.child_too_old", field="birth_date", age=age)
    guardianship = facts.get("guardianship") or ""
    enums.check("guardianship", guardianship, enums.GUARDIANSHIP)
    schooling = facts.get("schooling") or ""
    if schooling:
        enums.check("schooling", schooling, enums.SCHOOLING)
    return {
        "local_subtype": _text(facts.get("local_subtype"), 32),
        "guardianship": guardianship,
        "poor_guardianship": bool(facts.get("poor_guardianship")),
        "guardian_name": _text(facts.get("guardian_name"), 64),
        "guardian_phone": _text(facts.get("guardian_phone"), 32),
        "parents_workplace": _text(facts.get("parents_workplace"), 100),
        "schooling": schooling,
        "boarding": bool(facts.get("boarding")),
    }


def _elderly(facts: Mapping[str, Any], age: int) -> dict[str, Any]:
    if age < enums.ELDERLY_MIN_AGE:
        raise ValidationError("enroll.elderly_too_young", field="birth_date", age=age)
    living = facts.get("living_arrangement") or ""
    enums.check("living_arrangement", living, enums.LIVING)
    self_care = facts.get("self_care") or ""
    enums.check("self_care", self_care, enums.SELF_CARE)
    return {
        "living_arrangement": living,
        "self_care": self_care,
        "children_contact": _text(facts.get("children_contact"), 100),
    }


def _disabled(subtype: str, facts: Mapping[str, Any], id_number: str) -> dict[str, Any]:
    category = _int(facts.get("category"), "category")
    grade = _int(facts.get("grade"), "grade")
    enums.check("category", category, enums.DISABILITY_CATEGORIES)
    enums.check("grade", grade, enums.DISABILITY_GRADES)
    raw_cert = facts.get("certificate_no")
    certificate: str | None = None
    if raw_cert not in (None, ""):
        certificate, category, grade = ids.parse_certificate(
            raw_cert, id_number=id_number, category=category, grade=grade
        )
    elif subtype == "certified":
        raise ValidationError("enroll.certificate_required", field="certificate_no")
    return {
        "category": category,
        "grade": grade,
        "certificate_no": certificate,
        "rehab_needs": _text(facts.get("rehab_needs"), 200),
        "assistive_devices": _text(facts.get("assistive_devices"), 200),
    }


def facts_of(enrollment: Enrollment) -> dict[str, Any]:
    """The stored facts of an enrollment as a plain dict."""
    details = getattr(enrollment, enrollment.group)
    if details is None:
        return {}
    return {name: getattr(details, name) for name in FIELDS[enrollment.group]}


def details_row(group: str, enrollment_id: int, facts: Mapping[str, Any]) -> Any:
    """A new detail row for ``group`` holding ``facts``."""
    return MODELS[group](enrollment_id=enrollment_id, **dict(facts))
