"""The role check every read and write of a user's request starts with."""

from __future__ import annotations

from care import audit
from care.domain.errors import PermissionDenied
from care.scope import Scope


def require(scope: Scope, action: str) -> None:
    """Refuse unless the user's role allows ``action``; the refusal is audited as denied access."""
    if not scope.can(action):
        error = PermissionDenied()
        error.denial = audit.Denial(scope=scope, action=action)
        raise error
