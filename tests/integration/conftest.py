"""The hand-made scope fixture (two townships, two coordinators in one village) on every database."""

from __future__ import annotations

import datetime as dt

import pytest

from db.session import transaction
from tests.fixtures.scope import ScopeFixture, build_scope_fixture

FIXTURE_TODAY = dt.date(2026, 6, 10)


@pytest.fixture
def world(engine, freeze_clock) -> ScopeFixture:
    """The scope fixture on a fresh database, with the clock frozen at FIXTURE_TODAY."""
    freeze_clock(FIXTURE_TODAY)
    with transaction(engine) as session:
        return build_scope_fixture(session, today=FIXTURE_TODAY)
