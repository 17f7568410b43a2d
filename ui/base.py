"""What every Streamlit helper starts from: the user's language, the app's engine and sessions, and
the login cookie's token. ui/__init__.py re-exports all of it (``ui.t``, ``ui.write``...), and
ui/sso.py builds on it without importing the package that imports it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from care import audit, i18n, services, web
from care.domain import clock
from db import migrate
from db.session import get_engine, reading, transaction

LANG_KEY = "lang"
TOKEN_KEY = "login_token"  # noqa: S105 - the session-state key, not a secret
CLAIM_KEY = "cookie_claim"
END_KEY = "cookie_end"
DEAD_COOKIE_KEY = "cookie_dead"


def lang() -> str:
    """The user's language: Chinese unless they switched."""
    return str(st.session_state.get(LANG_KEY, i18n.DEFAULT_LANG))


def t(key: str, **params: Any) -> str:
    """A catalog text in the user's language."""
    return i18n.t(key, lang(), **params)


@st.cache_resource
def engine() -> Engine:
    """The process's engine, migrated to the newest schema once per process."""
    eng = get_engine()
    migrate.upgrade(eng)
    return eng


@st.cache_resource(max_entries=2)
def _upkeep(day: str) -> int:
    with transaction(engine()) as session:
        return len(services.daily_upkeep(session, today=dt.date.fromisoformat(day)))


def daily_upkeep() -> None:
    """Run the day's upkeep once per process and day (idempotent across processes)."""
    _upkeep(clock.today().isoformat())


@contextmanager
def write(*, changes_data: bool = True) -> Iterator[Session]:
    """A write transaction on the app's database.

    After a commit that changed register data, the cached reads (st.cache_data, shared by every
    user) are cleared so no page shows the old values; session and audit-only writes keep them.
    """
    with audit.denials_survive(engine()), transaction(engine()) as session:
        yield session
    if changes_data:
        st.cache_data.clear()


@contextmanager
def read() -> Iterator[Session]:
    """A read session on the app's database (a refusal raised inside is audited, as for writes)."""
    with audit.denials_survive(engine()), reading(engine()) as session:
        yield session


def cookie_token() -> str | None:
    """The login token of this browser's cookie, as it was when this tab connected."""
    try:
        cookies = st.context.cookies
    except Exception:  # noqa: BLE001 - no HTTP request behind the session (scripted runs)
        return None
    token = web.cookie_token(cookies)
    return token if token and token != st.session_state.get(DEAD_COOKIE_KEY) else None


def shown_as(labels: Mapping[Any, str]) -> Callable[[Hashable], str]:
    """A select box's ``format_func``: each option shown by its label, or as itself if it has none."""
    return lambda option: labels.get(option, str(option))
