"""The village of an import row: by its 12-digit code, or by its name within the user's area.

County lists name villages the way people write them: the stored name (岜沙村村民委员会), the
short name (岜沙村, 岜沙), with the township before it (丙妹镇岜沙村) or in a column of its own.
A name that fits several villages, or none, is refused with the candidates or a close name.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from care.domain import areas, clock
from care.domain.errors import ValidationError
from care.scope import Scope
from db.models import Area

# What stored names end with that people leave out (the first that fits is left out).
NAME_SUFFIXES = ("村民委员会", "居民委员会", "村委会", "居委会", "委员会")
# Left out too, but only when no name matches: 岜沙村 -> 岜沙, 城关社区 -> 城关.
STEM_SUFFIXES = ("社区", "村")
TOWNSHIP_SUFFIXES = ("街道办事处", "人民政府", "街道", "民族乡", "镇", "乡")
# Written between township and village, or inside a name, without changing it.
_SEPARATORS = {ord(c): None for c in "/／、·-—_"}
# Longest value quoted back in a message; a cell can hold anything.
SHOWN_MAX = 30
CANDIDATES_SHOWN = 5
CLOSE = 0.6  # difflib ratio from which a name is offered as 'did you mean'


def loose(value: object) -> str:
    """A name compared loosely: full-width forms, spaces, case and separators do not matter."""
    text = unicodedata.normalize("NFKC", "" if value is None else str(value))
    return "".join(text.split()).translate(_SEPARATORS).casefold()


def shown(value: object) -> str:
    """A cell quoted back to the user: one line, trimmed, at most SHOWN_MAX characters."""
    text = " ".join(str(value or "").split())
    return text[:SHOWN_MAX] + ("…" if len(text) > SHOWN_MAX else "")


def _without_suffix(name: str, suffixes: Iterable[str]) -> set[str]:
    """``name`` and, when it ends with one of ``suffixes``, ``name`` without the first that fits."""
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) > len(suffix):
            return {name, name[: -len(suffix)]}
    return {name}


def village_names(name: str) -> set[str]:
    """The full and short names a village goes by (loose forms)."""
    return _without_suffix(loose(name), NAME_SUFFIXES)


def village_stems(name: str) -> set[str]:
    """Shorter still: a short name without 村 / 社区 (used only when no name matches)."""
    names = village_names(name)
    return {stem for form in names for stem in _without_suffix(form, STEM_SUFFIXES)} - names


def township_names(name: str) -> set[str]:
    """The full and short names a township goes by (丙妹镇, 丙妹)."""
    return _without_suffix(loose(name), TOWNSHIP_SUFFIXES)


@dataclass(frozen=True)
class Village:
    """A current village of the user's area, with its township."""

    code: str
    name: str
    township_code: str
    township: str

    def label(self) -> str:
        """How a candidate is named in a message: 岜沙村村民委员会（丙妹镇，522632101201）."""
        where = f"{shown(self.township)}，" if self.township else ""
        return f"{shown(self.name)}（{where}{self.code}）"


def _labels(villages: Iterable[Village]) -> str:
    """The first CANDIDATES_SHOWN villages by code, each named with its township and code."""
    chosen = sorted(villages, key=lambda v: v.code)
    return " / ".join(v.label() for v in chosen[:CANDIDATES_SHOWN])


class VillageLookup:
    """Villages of one user's area by code and by name, read once for a whole file."""

    def __init__(self, villages: Iterable[Village], *, session: Session | None = None) -> None:
        self.session = session  # explains a code that is not a current village of the area
        self.by_code: dict[str, Village] = {}
        self.names: dict[str, set[str]] = defaultdict(set)  # loose name -> village codes
        self.stems: dict[str, set[str]] = defaultdict(set)
        self.townships: dict[str, set[str]] = defaultdict(set)  # loose township name or code -> codes
        self.township_labels: dict[str, str] = {}
        for village in villages:
            self._add(village)

    def _add(self, village: Village) -> None:
        self.by_code[village.code] = village
        towns = township_names(village.township) if village.township else set()
        for town in towns | {village.township_code}:
            self.townships[town].add(village.township_code)
        self.township_labels[village.township_code] = f"{shown(village.township)}（{village.township_code}）"
        for index, forms in ((self.names, village_names(village.name)), (self.stems, village_stems(village.name))):
            for form in forms:
                index[form].add(village.code)
                for town in towns:
                    index[town + form].add(village.code)

    def township(self, value: object) -> set[str] | None:
        """The township codes a 乡镇 cell names (None when empty); refused when it names none."""
        wanted = loose(value)
        if not wanted:
            return None
        found = self.townships.get(wanted)
        if found:
            return found
        close = difflib.get_close_matches(wanted, [k for k in self.townships if not k.isdigit()], n=1, cutoff=CLOSE)
        if close:
            suggestion = " / ".join(self.township_labels[c] for c in sorted(self.townships[close[0]]))
            raise ValidationError(
                "import.township_unknown_close", field="township", value=shown(value), suggestion=suggestion
            )
        raise ValidationError("import.township_unknown", field="township", value=shown(value))

    def village(self, value: object, *, township: object = None) -> str:
        """The code of the village a cell names (a code or a name), within the user's area."""
        wanted = loose(value)
        if not wanted:
            raise ValidationError("import.required", field="village_code")
        towns = self.township(township)
        if wanted.isdigit():
            return self._by_code(wanted, value, towns)
        found = self._matches(wanted, towns)
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise ValidationError(
                "import.village_ambiguous",
                field="village_code",
                value=shown(value),
                count=len(found),
                candidates=_labels(self.by_code[c] for c in found),
            )
        raise self._unknown(wanted, value, towns)

    def _matches(self, wanted: str, towns: set[str] | None) -> set[str]:
        """Villages the name fits: by full or short name first, by the shorter stem only if none."""
        typed = village_names(wanted)  # 岜沙村村民委员会 also finds a village stored as 岜沙村
        for index, keys in ((self.names, typed), (self.stems, typed | village_stems(wanted))):
            found = {c for key in keys for c in index.get(key, ())}
            if towns is not None:
                found = {c for c in found if self.by_code[c].township_code in towns}
            if found:
                return found
        return set()

    def _by_code(self, wanted: str, value: object, towns: set[str] | None) -> str:
        if not areas.is_code(wanted):
            raise ValidationError("import.village_code_length", field="village_code", value=shown(value))
        village = self.by_code.get(wanted)
        if village is None:
            raise self._not_a_current_village(wanted, value)
        if towns is not None and village.township_code not in towns:
            raise ValidationError(
                "import.village_not_in_township", field="village_code", value=shown(value), village=village.label()
            )
        return wanted

    def _not_a_current_village(self, code: str, value: object) -> ValidationError:
        """Why a code is not one of the user's current villages, in the register's own words."""
        area = self.session.get(Area, code) if self.session is not None else None
        if area is None or area.level != "village":
            return ValidationError("import.village_code_unknown", field="village_code", value=shown(value))
        if area.valid_to is not None and area.valid_to < clock.today():
            return ValidationError("person.village_replaced", field="village_code", code=code)
        return ValidationError("person.village_outside_scope", field="village_code")

    def _unknown(self, wanted: str, value: object, towns: set[str] | None) -> ValidationError:
        pool = {
            name: codes
            for name, codes in self.names.items()
            if towns is None or any(self.by_code[c].township_code in towns for c in codes)
        }
        close = difflib.get_close_matches(wanted, list(pool), n=3, cutoff=CLOSE)
        codes = {c for name in close for c in pool[name]}
        if not codes:
            return ValidationError("import.village_unknown", field="village_code", value=shown(value))
        return ValidationError(
            "import.village_unknown_close",
            field="village_code",
            value=shown(value),
            suggestion=_labels(self.by_code[c] for c in codes),
        )


def village_lookup(session: Session, scope: Scope) -> VillageLookup:
    """The current villages of the user's area (read in one query), to look rows up in."""
    prefix = None if scope.sees_nothing else scope.prefix
    if prefix is None:
        return VillageLookup([], session=session)
    low, high = areas.prefix_bounds(prefix)
    today = clock.today()
    rows = session.execute(
        select(Area.code, Area.name, Area.level).where(
            Area.code >= low,
            Area.code < high,
            Area.level.in_(("township", "village")),
            Area.valid_to.is_(None) | (Area.valid_to >= today),
        )
    ).all()
    towns = {code: name for code, name, level in rows if level == "township"}
    villages = [
        Village(code, name, areas.township_of(code), towns.get(areas.township_of(code), ""))
        for code, name, level in rows
        if level == "village"
    ]
    return VillageLookup(villages, session=session)
