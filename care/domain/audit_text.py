"""The audit log in words: action and record-type names from the catalog, details as "key: value".

Pure functions on the plain rows of ``care.queries.audit_log``. The text they return is plain:
pages show it in ``st.dataframe`` cells, which never read markdown or HTML, so user text stored
inside a detail stays inert.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from care.i18n import has, t

# Detail keys whose values are codes of catalog enums (shown by their label, not the code).
VALUE_ENUMS: dict[str, tuple[str, ...]] = {
    "group": ("group",),
    "groups": ("group",),
    "risk": ("risk",),
    "mode": ("mode",),
    "role": ("role",),
    "status": ("visit_status", "need_status", "status"),
    "kind": ("need_kind", "worker_kind"),
    "reason": ("exit_reason",),
}
# Person fields an edit's old/new values name, labelled as on the person form.
PERSON_FIELDS = frozenset(
    {"name", "id_number", "sex", "birth_date", "village", "address", "phone", "lat", "lon", "notes"}
)
LIST_SHOWN = 10  # long id lists (an import's created records) show their first items and a count
TEXT_SHOWN = 200


def action_label(action: str, lang: str) -> str:
    """The action's name in ``lang``; a code the catalog does not know shows as itself."""
    key = f"audit.action.{action}"
    return t(key, lang) if has(key) else action


def entity_label(entity: str | None, lang: str) -> str:
    """The record type's name in ``lang`` (empty when the event names no record)."""
    if not entity:
        return ""
    key = f"audit.entity.{entity}"
    return t(key, lang) if has(key) else entity


def key_label(name: str, lang: str) -> str:
    """The label of a detail key (a changed field takes its form label); an uncommon key shows as itself."""
    for key in (f"audit.key.{name}", f"fact.{name}", f"form.{name}" if name in PERSON_FIELDS else ""):
        if key and has(key):
            return t(key, lang)
    return name


def _flat(text: str) -> str:
    """One line: control characters (newlines, tabs) become spaces; long text is cut."""
    line = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text)
    return line if len(line) <= TEXT_SHOWN else line[:TEXT_SHOWN] + "…"


def _value(name: str, value: Any, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("audit.yes" if value else "audit.no", lang)
    if isinstance(value, Mapping):
        return "(" + _pairs(value, lang) + ")" if value else "—"
    if isinstance(value, (list, tuple)):
        if not value:
            return "—"
        shown = "、".join if lang == "zh" else ", ".join
        items = shown(_value(name, v, lang) for v in value[:LIST_SHOWN])
        more = len(value) - LIST_SHOWN
        return items + (t("audit.more", lang, n=len(value)) if more > 0 else "")
    if isinstance(value, str):
        for enum in VALUE_ENUMS.get(name, ()):
            if has(f"enum.{enum}.{value}"):
                return t(f"enum.{enum}.{value}", lang)
    return _flat(str(value))


def _pairs(detail: Mapping[str, Any], lang: str) -> str:
    sep = "；" if lang == "zh" else "; "
    colon = "：" if lang == "zh" else ": "
    return sep.join(f"{key_label(str(k), lang)}{colon}{_value(str(k), v, lang)}" for k, v in detail.items())


def detail_text(detail: Mapping[str, Any] | str | None, lang: str) -> str:
    """A detail as readable text: "label: value" pairs with catalog labels, nested values in brackets."""
    if isinstance(detail, str):
        raw = detail
        try:
            detail = json.loads(raw) if raw.strip() else {}
        except ValueError:
            return _flat(raw)
    if not isinstance(detail, Mapping):
        return "" if detail is None else _flat(str(detail))
    return _pairs(detail, lang)


def readable_rows(rows: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rows of an audit page with the action, record type and detail in words.

    The raw action code and detail JSON stay alongside, as ``action_code`` and ``detail_json``.
    """
    out = rows.copy()
    out["action_code"] = rows["action"]
    out["detail_json"] = rows["detail"]
    out["action"] = [action_label(a, lang) for a in rows["action"]]
    out["entity"] = [entity_label(e, lang) for e in rows["entity"]]
    out["detail"] = [detail_text(d, lang) for d in rows["detail"]]
    return out
