"""AppTest fixtures: one small demo county per session, and helpers to log in as each role."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from care import auth
from care.demo.build import build_demo
from db.models import User
from db.session import get_engine, transaction

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ROLES = ("county", "township", "coordinator", "admin")


@contextmanager
def _database(path: Path) -> Iterator[None]:
    """Point the app under test at ``path`` for the duration of the block."""
    previous = os.environ.get("CARE_DATABASE_URL")
    os.environ["CARE_DATABASE_URL"] = str(path)
    st.cache_resource.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        if previous is None:
            os.environ.pop("CARE_DATABASE_URL", None)
        else:
            os.environ["CARE_DATABASE_URL"] = previous


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A 300-person demo county in a file; the app under test reads it through CARE_DATABASE_URL."""
    path = tmp_path_factory.mktemp("app") / "demo.db"
    summary = build_demo(get_engine(str(path)), residents=300, seed=5)
    with _database(path):
        yield {"path": path, "summary": summary, "accounts": {a["role"]: a for a in summary["accounts"]}}


@pytest.fixture(scope="module")
def own_demo_db(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A demo county of the test module's own, for tests whose writes would disturb other modules."""
    path = tmp_path_factory.mktemp("own") / "demo.db"
    summary = build_demo(get_engine(str(path)), residents=300, seed=5)
    return {"path": path, "summary": summary, "accounts": {a["role"]: a for a in summary["accounts"]}}


@pytest.fixture
def own_app_as(own_demo_db: dict) -> Iterator[Callable[[str], AppTest]]:
    """Like ``app_as``, on the module's own demo county."""
    with _database(own_demo_db["path"]):
        yield _logged_in(own_demo_db)


def _logged_in(db: dict) -> Callable[[str], AppTest]:
    def _app(role: str) -> AppTest:
        engine = get_engine(str(db["path"]))
        with transaction(engine) as session:
            user = session.scalar(select(User).where(User.username == db["accounts"][role]["username"]))
            token = auth.start_session(session, user=user)
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["login_token"] = token
        return at

    return _app


@pytest.fixture
def app_as(demo_db: dict) -> Callable[[str], AppTest]:
    """An AppTest already logged in as the demo account of ``role`` (session started on the server)."""
    return _logged_in(demo_db)


def person_ref(db_path: Path | str, person_id: int) -> str:
    """The reference a link to this person's file carries (/person?ref=…)."""
    from care.queries.person_file import ref_of
    from db.session import reading

    with reading(get_engine(str(db_path))) as session:
        ref = ref_of(session, person_id)
    assert ref, f"no person {person_id}"
    return ref
