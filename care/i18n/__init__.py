"""The one catalog of every label, enum value and message, in Chinese (default) and English.

The catalog is one dict, ``CATALOG``, merged at import from one module per page or area, so that
a translator finds a page's strings in one place:

    common       app shell, navigation, sign-in, set-up, shared columns  (app. nav. shell. login. ...)
    errors       errors and ID / certificate / person / enrollment checks
    forms        form field labels ``form.<field>`` and facts ``fact.``
    enums        labels of stored values ``enum.<name>.<value>``
    home, registers, person_file, households, visits, needs, schedules, map, services, plans,
    diary, imports, reports, admin, audit, visit_pack   one per page or area

Each module declares the key prefixes it owns (``PREFIXES``) and its entries (``ENTRIES``);
a key lives in the module that owns its prefix, and a key defined twice stops the import.

Each entry is ``key: (zh, en)``. Messages take ``str.format`` parameters by name. English text
that depends on a count is ``Plural(one, other)`` (see care/i18n/entry.py), chosen by the ``n``
parameter (or the one it names); the Chinese side is a plain string.

A message that cannot be formatted (a parameter missing, a stray brace) shows its raw text and is
logged; in strict mode (``CARE_I18N_STRICT=1``, switched on for the tests) it raises
``CatalogFormatError`` instead.
"""

from __future__ import annotations

import logging
import math
import os
import string
from types import ModuleType
from typing import Any

from care.i18n import (
    admin,
    audit,
    common,
    diary,
    enums,
    errors,
    forms,
    home,
    households,
    imports,
    map,
    needs,
    person_file,
    plans,
    registers,
    reports,
    schedules,
    services,
    visit_pack,
    visits,
)
from care.i18n.entry import Entry, Plural

__all__ = [
    "CATALOG",
    "DEFAULT_LANG",
    "LANGS",
    "MODULES",
    "NO_VALUE",
    "CatalogError",
    "CatalogFormatError",
    "Entry",
    "Plural",
    "count",
    "fields",
    "has",
    "percent",
    "set_strict",
    "t",
]

log = logging.getLogger(__name__)

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

MODULES: tuple[ModuleType, ...] = (
    common,
    errors,
    forms,
    enums,
    home,
    registers,
    person_file,
    households,
    visits,
    needs,
    schedules,
    map,
    services,
    plans,
    diary,
    imports,
    reports,
    admin,
    audit,
    visit_pack,
)


class CatalogError(Exception):
    """The catalog's modules do not fit together: a key defined twice, or in a module that does not own its prefix."""


class CatalogFormatError(CatalogError):
    """A message could not be formatted with the parameters given (raised in strict mode only)."""


def merge(modules: tuple[ModuleType, ...]) -> dict[str, Entry]:
    """One catalog from the modules' entries; a key defined twice, or outside its module's prefixes, is an error."""
    owners: dict[str, str] = {}
    for module in modules:
        for prefix in module.PREFIXES:
            if prefix in owners:
                raise CatalogError(f"prefix {prefix!r} is owned by both {owners[prefix]} and {module.__name__}")
            owners[prefix] = module.__name__
    catalog: dict[str, Entry] = {}
    where: dict[str, str] = {}
    for module in modules:
        for key, entry in module.ENTRIES.items():
            if key in catalog:
                raise CatalogError(f"{key!r} is defined twice: in {where[key]} and {module.__name__}")
            prefix = key.split(".")[0]
            if owners.get(prefix) != module.__name__:
                raise CatalogError(f"{key!r} is in {module.__name__}, but its prefix belongs to {owners.get(prefix)}")
            catalog[key] = entry
            where[key] = module.__name__
    return catalog


CATALOG: dict[str, Entry] = merge(MODULES)

_strict = os.environ.get("CARE_I18N_STRICT", "") == "1"


def set_strict(on: bool) -> bool:
    """Switch strict mode (a formatting error raises instead of showing the raw text); returns the old setting."""
    global _strict
    old, _strict = _strict, on
    return old


def fields(text: str) -> set[str]:
    """The named parameters ``text`` takes (``{n}``, ``{name}``); raises ValueError on a stray brace."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def t(key: str, lang: str = DEFAULT_LANG, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in; an unknown key shows as itself."""
    entry = CATALOG.get(key)
    if entry is None:
        return key
    text = entry[1] if lang == "en" else entry[0]
    if isinstance(text, Plural):
        text = text.pick(params)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
            if _strict:
                raise CatalogFormatError(
                    f"{key!r} ({lang}) cannot be formatted with {sorted(params)}: {error!r}"
                ) from error
            log.warning("catalog entry %r (%s) cannot be formatted with %s: %r", key, lang, sorted(params), error)
            return text
    if _strict:
        try:
            needed = fields(text)
        except ValueError as error:
            raise CatalogFormatError(f"{key!r} ({lang}) has a stray brace: {error}") from error
        if needed:
            raise CatalogFormatError(f"{key!r} ({lang}) needs {sorted(needed)} but was given none")
    return text


def has(key: str) -> bool:
    """Whether the catalog holds ``key``."""
    return key in CATALOG


NO_VALUE = "—"


def percent(share: Any) -> str:
    """A share (0.5) as a percentage with one decimal ("50.0%"), the same in every language and on
    every page and file; NO_VALUE when there is none (no one to count)."""
    if share is None or math.isnan(float(share)):
        return NO_VALUE
    return f"{float(share) * 100:.1f}%"


def count(n: Any) -> str:
    """A count with thousands separators ("13,056"), as every page and file shows it."""
    return f"{int(n):,}"
