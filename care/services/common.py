"""What every write shares: the saved-record result and the version check (the role check is care.permissions)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from care.domain import clock
from care.domain.errors import StaleRecord


@dataclass
class Saved:
    """The id and new version of a saved record, with warnings the user should see."""

    id: int
    version: int
    warnings: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def versioned_update(
    session: Session,
    record: Any,
    seen_version: int,
    values: Mapping[str, Any],
    snapshot: Callable[[Any], dict[str, Any]],
) -> int:
    """UPDATE ... WHERE id = :id AND version = :seen; returns the new version.

    Zero rows updated means someone saved in between: StaleRecord carries the newer values
    (``snapshot`` of the current row) so the user sees them instead of overwriting them.
    """
    model = type(record)
    result = session.execute(
        update(model)
        .where(model.id == record.id, model.version == seen_version)
        .values(**values, version=model.version + 1, updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    session.expire(record)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(model, record.id)
        raise StaleRecord(
            snapshot(current) if current else {}, seen=seen_version, now=current.version if current else 0
        )
    return seen_version + 1
