"""Writing a county's settings (the caller audits the change)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from db.models import CountySetting, Setting


def put_setting(session: Session, key: str, value: str, county_code: str | None) -> None:
    """Store ``key`` for this county (``county_code`` None: the installation's value)."""
    if county_code is None:
        row = session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=value))
        else:
            row.value = value
        return
    found = session.get(CountySetting, (county_code, key))
    if found is None:
        session.add(CountySetting(county_code=county_code, key=key, value=value))
    else:
        found.value = value
