"""AppTest fixtures: one small demo county per session, and helpers to log in as each role."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from care import auth
from care.demo import build_demo
from db.models import User
from db.session import get_engine, transaction

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ROLES = ("county", "township", "coordinator", "admin")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A 300-person demo county in a file; the app under test reads it through CARE_DATABASE_URL."""
    path = tmp_path_factory.mktemp("app") / "demo.db"
    summary = build_demo(get_engine(str(path)), residents=300, seed=5)
    previous = os.environ.get("CARE_DATABASE_URL")
    os.environ["CARE_DATABASE_URL"] = str(path)
    st.cache_resource.clear()
    yield {"path": path, "summary": summary, "accounts": {a["role"]: a for a in summary["accounts"]}}
    st.cache_resource.clear()
    if previous is None:
        os.environ.pop("CARE_DATABASE_URL", None)
    else:
        os.environ["CARE_DATABASE_URL"] = previous


@pytest.fixture
def app_as(demo_db: dict) -> Callable[[str], AppTest]:
    """An AppTest already logged in as the demo account of ``role`` (session started on the server)."""

    def _app(role: str) -> AppTest:
        engine = get_engine(str(demo_db["path"]))
        with transaction(engine) as session:
            user = session.scalar(select(User).where(User.username == demo_db["accounts"][role]["username"]))
            token = auth.start_session(session, user=user)
        at = AppTest.from_file(APP, default_timeout=60)
        at.session_state["login_token"] = token
        return at

    return _app
