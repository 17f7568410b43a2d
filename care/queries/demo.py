"""Whether the database is the synthetic demo, and the demo logins the login page shows."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from db.models import Setting

DEMO_SETTING = "demo"
ACCOUNTS_SETTING = "demo.accounts"


def is_demo(session: Session) -> bool:
    """Whether this database is the synthetic demo county."""
    row = session.get(Setting, DEMO_SETTING)
    return row is not None and row.value == "1"


def demo_accounts(session: Session) -> list[dict[str, str]]:
    """The demo logins (role, username, password) to show on the login page; empty unless demo."""
    if not is_demo(session):
        return []
    row = session.get(Setting, ACCOUNTS_SETTING)
    try:
        accounts = json.loads(row.value) if row is not None else []
    except ValueError:
        return []
    if not isinstance(accounts, list):
        return []
    keys = ("role", "username", "password")
    return [{k: str(a[k]) for k in keys} for a in accounts if isinstance(a, dict) and all(k in a for k in keys)]
