"""Form widgets shared by the person pages: identity fields, each group's facts, flash messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

import ui
from care.domain import enums
from care.domain.errors import CareError, StaleRecord
from care.domain.ids import mask_certificate
from care.queries.households import GuardianChoice
from ui import location_picker

FLASH_KEY = "flash"


@dataclass(frozen=True)
class PersonContext:
    """What the facts forms of one person file may offer: the household's adults as guardians, and
    whether the user has the whole ID (and certificate) number shown (the audited toggle)."""

    guardians: tuple[GuardianChoice, ...] = ()
    full_ids: bool = False


# Per script run (Streamlit runs each session's script in a thread of its own).
_CONTEXT: ContextVar[PersonContext | None] = ContextVar("person_form_context", default=None)


def _context() -> PersonContext:
    return _CONTEXT.get() or PersonContext()


@contextmanager
def person_context(*, guardians: Sequence[GuardianChoice] = (), full_ids: bool = False) -> Iterator[None]:
    """Draw the person file's forms with these guardian choices and this view of certificate numbers."""
    token = _CONTEXT.set(PersonContext(tuple(guardians), full_ids))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def flash(kind: str, text: str, details: Mapping[str, Any] | None = None) -> None:
    """Keep a message to show after the next rerun."""
    st.session_state[FLASH_KEY] = (kind, text, dict(details) if details else None)


def show_flash() -> None:
    """Show (once) the message kept by ``flash``."""
    kept = st.session_state.pop(FLASH_KEY, None)
    if not kept:
        return
    kind, text, details = kept
    {"success": st.success, "error": st.error, "warning": st.warning}.get(kind, st.info)(text)
    if details:
        st.caption(ui.t("person_file.newer_values"))
        st.dataframe(
            pd.DataFrame(
                {
                    ui.t("person_file.col_item"): list(details.keys()),
                    ui.t("person_file.col_value"): [str(v) for v in details.values()],
                }
            ),
            hide_index=True,
        )


def seen_version(key: str, current: int) -> int:
    """The version of a record the user's form was loaded from (kept until saved or refreshed)."""
    return int(st.session_state.setdefault(f"seen_{key}", current))


def save(key: str, action: Callable[[], Any], done_text: str) -> Any:
    """Run a save; on success or a stale version, reset the form and rerun with a message."""
    try:
        result = action()
    except StaleRecord as stale:
        st.session_state[f"seen_{key}"] = stale.params.get("now", 0)
        flash("error", stale.message(ui.lang()), _readable(stale.current))
        st.rerun()
    except CareError as error:
        ui.show_error(error)
        return None
    st.session_state.pop(f"seen_{key}", None)
    warnings = getattr(result, "warnings", [])
    text = done_text + "".join(" " + ui.message(k, p) for k, p in warnings)
    flash("warning" if warnings else "success", text)
    st.rerun()


def _readable(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    context = _context()
    for name, value in values.items():
        if name == "facts" and isinstance(value, Mapping):
            out.update(_readable(value))
        elif name == "certificate_no" and not context.full_ids:
            out[ui.t(f"form.{name}")] = mask_certificate(value)
        elif name == "guardian_person_id":
            names = {g.person_id: g.name for g in context.guardians}
            out[ui.t(f"form.{name}")] = names.get(value, "—" if value is None else ui.t("form.guardian_elsewhere"))
        elif name != "version":
            out[ui.t(f"form.{name}")] = value
    return out


def person_fields(
    prefix: str, defaults: Mapping[str, Any], villages: pd.DataFrame, editable: tuple[str, ...]
) -> dict[str, Any]:
    """Identity inputs (inside a form); fields the role may not edit are shown disabled."""
    names = dict(zip(villages["code"], villages["name"], strict=True))
    codes = list(villages["code"])
    village = defaults.get("village_code")
    values: dict[str, Any] = {}
    c1, c2 = st.columns(2)
    values["name"] = c1.text_input(
        ui.t("form.name"),
        value=defaults.get("name", ""),
        max_chars=64,
        key=f"{prefix}_name",
        disabled="name" not in editable,
    )
    values["id_number"] = c2.text_input(
        ui.t("form.id_number"),
        value=defaults.get("id_number", ""),
        max_chars=24,
        key=f"{prefix}_id",
        help=ui.t("form.id_help"),
        disabled="id_number" not in editable,
    )
    values["village_code"] = c1.selectbox(
        ui.t("form.village"),
        codes,
        index=codes.index(village) if village in codes else None,
        format_func=lambda c: names.get(c, c),
        placeholder=placeholder(),
        key=f"{prefix}_village",
        disabled="village_code" not in editable,
    )
    values["phone"] = c2.text_input(
        ui.t("form.phone"), value=defaults.get("phone", ""), max_chars=20, key=f"{prefix}_phone"
    )
    values["address"] = st.text_input(
        ui.t("form.address"), value=defaults.get("address", ""), max_chars=200, key=f"{prefix}_address"
    )
    values["lat"], values["lon"] = _coordinates(prefix, defaults)
    values["notes"] = st.text_area(
        ui.t("form.notes"), value=defaults.get("notes", ""), max_chars=2000, key=f"{prefix}_notes", height=80
    )
    return {k: v for k, v in values.items() if k in editable}


def _coordinates(prefix: str, defaults: Mapping[str, Any]) -> tuple[float | None, float | None]:
    """The home's latitude and longitude side by side, filled by the map picker when it chose a place."""
    c3, c4 = st.columns(2)
    location_picker.apply_pending(prefix)
    lat = c3.number_input(
        ui.t("form.lat"),
        **_initial(f"{prefix}_lat", defaults.get("lat")),
        min_value=-90.0,
        max_value=90.0,
        format="%.6f",
        key=f"{prefix}_lat",
        help=ui.t("form.coords_help"),
    )
    lon = c4.number_input(
        ui.t("form.lon"),
        **_initial(f"{prefix}_lon", defaults.get("lon")),
        min_value=-180.0,
        max_value=180.0,
        format="%.6f",
        key=f"{prefix}_lon",
    )
    return lat, lon


def _initial(key: str, value: Any) -> dict[str, Any]:
    """A box's starting value, unless the map picker already put one in its state."""
    return {} if key in st.session_state else {"value": value}


def placeholder(required: bool = True) -> str:
    """The catalog text an empty select box shows (never Streamlit's own English one)."""
    return ui.t("form.choose" if required else "form.choose_optional")


def _choice(
    name: str, field: str, options: tuple[Any, ...], defaults: Mapping[str, Any], prefix: str, *, required: bool = True
) -> Any:
    """A coded fact: the recorded value if there is one, otherwise empty until the user chooses."""
    value = defaults.get(field)
    return st.selectbox(
        ui.t(f"form.{field}"),
        options,
        index=options.index(value) if value in options else None,
        format_func=lambda v: ui.label(name, v),
        placeholder=placeholder(required),
        key=f"{prefix}_{field}",
    )


def facts_fields(
    group: str, prefix: str, subtype: str | None, defaults: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The sub-type and the group's own facts (inside a form); nothing is chosen that the record lacks.

    An empty choice comes back as "" (sub-type) or None (facts): the service refuses a missing
    required one by name.
    """
    subtypes = enums.SUBTYPES[group]
    chosen = st.selectbox(
        ui.t("form.subtype"),
        subtypes,
        index=subtypes.index(subtype) if subtype in subtypes else None,
        format_func=lambda v: ui.label("subtype", v),
        placeholder=placeholder(),
        key=f"{prefix}_subtype",
    )
    if group == "child":
        facts = _child_facts(prefix, defaults)
    elif group == "elderly":
        facts = _elderly_facts(prefix, defaults)
    else:
        facts = _disability_facts(prefix, defaults)
    return chosen or "", facts


def _child_facts(prefix: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A child's facts: guardianship and the guardian, schooling, the parents' workplace, boarding."""
    facts: dict[str, Any] = {}
    c1, c2 = st.columns(2)
    with c1:
        facts["guardianship"] = _choice("guardianship", "guardianship", enums.GUARDIANSHIP, defaults, prefix)
        facts["guardian_name"] = st.text_input(
            ui.t("form.guardian_name"), defaults.get("guardian_name", ""), max_chars=64, key=f"{prefix}_gname"
        )
        facts["guardian_person_id"] = _guardian_member(prefix, defaults)
        facts["parents_workplace"] = st.text_input(
            ui.t("form.parents_workplace"),
            defaults.get("parents_workplace", ""),
            max_chars=100,
            key=f"{prefix}_work",
        )
    with c2:
        facts["schooling"] = _choice("schooling", "schooling", enums.SCHOOLING, defaults, prefix, required=False)
        facts["guardian_phone"] = st.text_input(
            ui.t("form.guardian_phone"), defaults.get("guardian_phone", ""), max_chars=20, key=f"{prefix}_gphone"
        )
        facts["local_subtype"] = st.text_input(
            ui.t("form.local_subtype"), defaults.get("local_subtype", ""), max_chars=32, key=f"{prefix}_local"
        )
    facts["poor_guardianship"] = st.checkbox(
        ui.t("form.poor_guardianship"), bool(defaults.get("poor_guardianship")), key=f"{prefix}_poor"
    )
    facts["boarding"] = st.checkbox(ui.t("form.boarding"), bool(defaults.get("boarding")), key=f"{prefix}_board")
    chosen_guardian = _guardian_choice(facts["guardian_person_id"])
    if chosen_guardian is not None and facts["guardianship"] is None:
        # The member's place in the household says which guardianship it is, when that is sure.
        facts["guardianship"] = chosen_guardian.guardianship
    return facts


def _elderly_facts(prefix: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """An elderly person's facts: how they live, how far they care for themselves, their children's contact."""
    facts: dict[str, Any] = {}
    c1, c2 = st.columns(2)
    with c1:
        facts["living_arrangement"] = _choice(
            "living_arrangement", "living_arrangement", enums.LIVING, defaults, prefix
        )
    with c2:
        facts["self_care"] = _choice("self_care", "self_care", enums.SELF_CARE, defaults, prefix)
    facts["children_contact"] = st.text_input(
        ui.t("form.children_contact"), defaults.get("children_contact", ""), max_chars=100, key=f"{prefix}_kids"
    )
    return facts


def _disability_facts(prefix: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """A disabled person's facts: category, grade, certificate number, rehabilitation needs, assistive devices."""
    facts: dict[str, Any] = {}
    c1, c2 = st.columns(2)
    with c1:
        facts["category"] = _choice("category", "category", enums.DISABILITY_CATEGORIES, defaults, prefix)
    with c2:
        facts["grade"] = _choice("grade", "grade", enums.DISABILITY_GRADES, defaults, prefix)
    facts["certificate_no"] = _certificate(prefix, defaults.get("certificate_no") or "")
    facts["rehab_needs"] = st.text_input(
        ui.t("form.rehab_needs"), defaults.get("rehab_needs", ""), max_chars=200, key=f"{prefix}_rehab"
    )
    facts["assistive_devices"] = st.text_input(
        ui.t("form.assistive_devices"), defaults.get("assistive_devices", ""), max_chars=200, key=f"{prefix}_aids"
    )
    return facts


def _guardian_choice(person_id: Any) -> GuardianChoice | None:
    return next((g for g in _context().guardians if g.person_id == person_id), None)


def _guardian_member(prefix: str, defaults: Mapping[str, Any]) -> int | None:
    """从家庭成员中选择: an adult of the child's household as the guardian (their name is then used);
    a link already stored stays offered after that member has left the household."""
    guardians = {g.person_id: g for g in _context().guardians}
    stored = defaults.get("guardian_person_id")
    if not guardians and stored is None:
        return None
    options: list[int | None] = [None, *guardians]
    if stored is not None and stored not in guardians:
        options.append(stored)

    def shown(pid: int | None) -> str:
        if pid is None:
            return ui.t("form.guardian_free_text")
        if pid in guardians:
            g = guardians[pid]
            return ui.t("form.guardian_member_label", name=g.name, relation=ui.label("relation", g.relation), age=g.age)
        return ui.t("form.guardian_former_label", name=defaults.get("guardian_name") or "—")

    chosen = st.selectbox(
        ui.t("form.guardian_member"),
        options,
        index=options.index(stored) if stored in options else 0,
        format_func=shown,
        help=ui.t("form.guardian_member_help"),
        key=f"{prefix}_gmember",
    )
    return int(chosen) if chosen is not None else None


def _certificate(prefix: str, stored: str) -> str | None:
    """The certificate number: in full only with the whole ID shown; otherwise an empty box (empty
    keeps the stored number) showing the masked one, and a box to remove it."""
    if not stored or _context().full_ids:
        # A key of its own: the box is filled anew when the whole number is shown.
        key = f"{prefix}_cert_full" if stored else f"{prefix}_cert"
        return st.text_input(ui.t("form.certificate_no"), stored, max_chars=24, key=key)
    typed = st.text_input(
        ui.t("form.certificate_no"),
        "",
        max_chars=24,
        placeholder=mask_certificate(stored),
        help=ui.t("form.certificate_keep"),
        key=f"{prefix}_cert",
    )
    if st.checkbox(ui.t("form.certificate_clear"), key=f"{prefix}_cert_clear"):
        return None
    return typed.strip() or stored


def risk_override_fields(prefix: str, override: str | None, reason: str) -> tuple[str | None, str]:
    """An optional manual risk level with its reason (inside a form)."""
    options: tuple[str | None, ...] = (None, *enums.RISKS)
    chosen = st.selectbox(
        ui.t("form.risk_override"),
        options,
        index=options.index(override),
        format_func=lambda v: ui.t("form.no_override") if v is None else ui.label("risk", v),
        placeholder=placeholder(),
        key=f"{prefix}_override",
    )
    text = st.text_input(ui.t("form.override_reason"), reason, max_chars=200, key=f"{prefix}_override_reason")
    return chosen, text


def date_input(label_key: str, key: str, value: dt.date) -> dt.date:
    """A date input bounded by today (nothing in the future)."""
    return st.date_input(ui.t(label_key), value=value, max_value=ui.today(), min_value=dt.date(1900, 1, 1), key=key)
