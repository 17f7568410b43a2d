"""The shape of a catalog entry, shared by the catalog's modules."""

from __future__ import annotations

from typing import NamedTuple


class Plural(NamedTuple):
    """English text that depends on a count: ``one`` when the count is 1, ``other`` otherwise.

    ``by`` names the message parameter that holds the count (``n`` unless told). Chinese needs no
    plural, so only the English side of an entry is ever a Plural: ``key: (zh, Plural(one, other))``.
    """

    one: str
    other: str
    by: str = "n"

    def pick(self, params: dict[str, object]) -> str:
        """``one`` or ``other``, by the count in ``params[self.by]`` (an int, or a shown count like "1")."""
        value = params.get(self.by)
        try:
            number = int(str(value).replace(",", "")) if not isinstance(value, int) else value
        except ValueError:
            return self.other
        return self.one if number == 1 else self.other


# key: (zh, en); the English side may depend on a count.
Entry = tuple[str, str | Plural]
