"""One family of errors whose messages are fit to show a user, in their language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from care.i18n import t


class CareError(Exception):
    """An error a user caused or can act on; ``message(lang)`` renders it from the catalog."""

    # A refused access to audit (care.audit.Denial): written after the transaction rolls back.
    denial: Any = None

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self, lang: str = "zh") -> str:
        return t(self.key, lang, **self.params)

    def __str__(self) -> str:
        return self.message("en")


class ValidationError(CareError):
    """Input that breaks a rule of the register; ``field`` names the input at fault."""

    def __init__(self, key: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field


class NotFound(CareError):
    """The record does not exist or is outside the user's scope (the two look the same)."""

    def __init__(self, key: str = "error.not_found", **params: Any) -> None:
        super().__init__(key, **params)


class PermissionDenied(CareError):
    """The user's role may not perform this action."""

    def __init__(self, key: str = "error.permission_denied", **params: Any) -> None:
        super().__init__(key, **params)


class StaleRecord(CareError):
    """Someone else saved the record since the user loaded it; ``current`` holds the newer values."""

    def __init__(self, current: dict[str, Any] | None = None, **params: Any) -> None:
        super().__init__("error.stale_record", **params)
        self.current = current or {}


class LoginFailed(CareError):
    """Wrong username or password, or a locked or inactive account (one message for all)."""

    def __init__(self, key: str = "error.login_failed", **params: Any) -> None:
        super().__init__(key, **params)


@dataclass(frozen=True)
class RowError:
    """One problem in an imported file: the row (header = 1; feature number for GeoJSON), the
    column header and a catalog-keyed reason."""

    row: int
    column: str
    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def reason(self, lang: str) -> str:
        """The reason in ``lang``."""

        return t(self.key, lang, **self.params)
