"""Logins: argon2 hashes, lockout, server-side sessions with idle and absolute timeouts, audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from care import audit, auth
from db.models import AuditEvent, User
from db.session import reading, transaction

START = dt.datetime(2026, 6, 10, 9, 0)


@pytest.fixture
def user(engine, freeze_clock):
    freeze_clock(START)
    with transaction(engine) as session:
        created = auth.create_user(
            session, username="zhou", password="Correct-Horse-9", role="township", area_code=None
        )
        return created.id


def _login(engine, password, username="zhou"):
    with transaction(engine) as session:
        found = auth.authenticate(session, username=username, password=password)
        return auth.start_session(session, user=found) if found else None


def _resume(engine, token):
    with transaction(engine) as session:
        return auth.resume_session(session, token=token)


def test_the_password_is_stored_as_an_argon2id_hash(engine, user):
    with reading(engine) as session:
        stored = session.get(User, user).password_hash
    assert stored.startswith("$argon2id$") and "Correct-Horse-9" not in stored


def test_a_long_chinese_password_works(engine, freeze_clock):
    freeze_clock(START)
    password = "我们村的留守儿童关爱服务从来不让任何一个孩子掉队2026年Care"
    with transaction(engine) as session:
        auth.create_user(session, username="wang", password=password, role="county", area_code=None)
    assert _login(engine, password, username="wang") is not None


def test_five_failures_lock_the_account_for_fifteen_minutes(engine, user, freeze_clock):
    for _ in range(5):
        assert _login(engine, "wrong") is None
    assert _login(engine, "Correct-Horse-9") is None, "locked: even the right password is refused"
    freeze_clock(START + dt.timedelta(minutes=14))
    assert _login(engine, "Correct-Horse-9") is None
    freeze_clock(START + dt.timedelta(minutes=15, seconds=1))
    assert _login(engine, "Correct-Horse-9") is not None
    with reading(engine) as session:
        outcomes = list(session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "login")))
    assert outcomes == ["failure"] * 4 + ["lockout", "locked", "locked", "success"]


def test_an_unknown_user_gets_the_same_refusal_and_is_audited(engine, user):
    assert _login(engine, "whatever", username="nobody") is None
    with reading(engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.username == "nobody"))
    assert (event.action, event.outcome, event.user_id) == ("login", "failure", None)


def test_a_session_ends_after_thirty_idle_minutes(engine, user, freeze_clock):
    token = _login(engine, "Correct-Horse-9")
    freeze_clock(START + dt.timedelta(minutes=29))
    assert _resume(engine, token) is not None
    freeze_clock(START + dt.timedelta(minutes=29 + 31))
    assert _resume(engine, token) is None
    freeze_clock(START + dt.timedelta(minutes=61))
    assert _resume(engine, token) is None, "an ended session stays ended"


def test_a_busy_session_still_ends_after_eight_hours(engine, user, freeze_clock):
    token = _login(engine, "Correct-Horse-9")
    for minutes in range(20, 8 * 60, 20):
        freeze_clock(START + dt.timedelta(minutes=minutes))
        assert _resume(engine, token) is not None
    freeze_clock(START + dt.timedelta(hours=8, minutes=1))
    assert _resume(engine, token) is None


def test_logout_kills_the_token_on_the_server(engine, user):
    token = _login(engine, "Correct-Horse-9")
    with transaction(engine) as session:
        auth.end_session(session, token=token)
    assert _resume(engine, token) is None


def test_a_role_or_area_change_applies_on_the_next_action(engine, user):
    token = _login(engine, "Correct-Horse-9")
    assert _resume(engine, token).area_code is None
    with transaction(engine) as session:
        changed = session.get(User, user)
        changed.role, changed.area_code = "county", None
    assert _resume(engine, token).role == "county"
    with transaction(engine) as session:
        session.get(User, user).active = False
    assert _resume(engine, token) is None


def test_the_audit_chain_verifies_and_flags_a_row_edited_in_the_database(engine, user):
    _login(engine, "wrong")
    _login(engine, "Correct-Horse-9")
    with reading(engine) as session:
        assert audit.verify_chain(session) == []
        first = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id))
    with transaction(engine) as session:
        session.execute(text("UPDATE audit_events SET outcome = 'success' WHERE id = :id"), {"id": first})
    with reading(engine) as session:
        assert audit.verify_chain(session) == [first]


def test_audit_details_never_hold_a_full_id_or_mobile_number(engine, user):
    with transaction(engine) as session:
        event = audit.record(
            session,
            scope=None,
            action="test",
            detail={
                "id_number": "11010519491231002X",
                "phone": "13812345678",
                "notes": "监护人 13912345678，身份证 440524200001010014",
                "nested": {"guardian_phone": "13700001111"},
            },
        )
    flat = str(event.detail)
    for secret in ("11010519491231002X", "13812345678", "13912345678", "440524200001010014", "13700001111"):
        assert secret not in flat
    assert event.detail["id_number"] == "110105********002X"


def _handoff(engine, token):
    with transaction(engine) as session:
        return auth.start_handoff(session, token=token)


def _claim(engine, code):
    with transaction(engine) as session:
        return auth.claim_handoff(session, code=code)


def test_the_cookie_hand_over_gives_the_token_once(engine, user):
    token = _login(engine, "Correct-Horse-9")
    code = _handoff(engine, token)
    with transaction(engine) as session:
        assert auth.handoff_pending(session, token=token)
    assert _claim(engine, code) == token
    assert _claim(engine, code) is None, "a code works once"
    with transaction(engine) as session:
        assert not auth.handoff_pending(session, token=token)
    assert _resume(engine, token) is not None, "claiming does not end the session"


def test_the_database_holds_neither_the_token_nor_the_code(engine, user):
    token = _login(engine, "Correct-Horse-9")
    code = _handoff(engine, token)
    with reading(engine) as session:
        row = session.execute(text("SELECT * FROM login_sessions")).mappings().one()
    stored = " ".join(str(v) for v in row.values())
    assert token not in stored and code not in stored
    assert row["handoff_sealed"] and row["handoff_hash"]


def test_a_code_expires_after_a_minute_and_with_its_session(engine, user, freeze_clock):
    token = _login(engine, "Correct-Horse-9")
    code = _handoff(engine, token)
    freeze_clock(START + auth.HANDOFF_TIMEOUT + dt.timedelta(seconds=1))
    assert _claim(engine, code) is None
    freeze_clock(START)
    other = _login(engine, "Correct-Horse-9")
    code = _handoff(engine, other)
    with transaction(engine) as session:
        auth.end_session(session, token=other)
    assert _claim(engine, code) is None


@pytest.mark.parametrize("code", ["", "x", "a" * 44, "ü" * 44, "a" * 500, "' OR 1=1 --"])
def test_a_wrong_or_malformed_code_gets_nothing(engine, user, code):
    token = _login(engine, "Correct-Horse-9")
    _handoff(engine, token)
    assert _claim(engine, code) is None
    with transaction(engine) as session:
        assert auth.handoff_pending(session, token=token), "a wrong guess does not spend the real code"


def test_a_tag_names_a_token_without_giving_it_away(engine, user):
    token = _login(engine, "Correct-Horse-9")
    tag = auth.token_tag(token)
    assert len(tag) == 16 and tag not in token
    with reading(engine) as session:
        (stored,) = session.execute(text("SELECT token_hash FROM login_sessions")).one()
    assert stored.startswith(tag) and stored != token


def _lock(engine, user_id):
    with transaction(engine) as session:
        session.get(User, user_id).locked_until = START + dt.timedelta(minutes=15)


def _deactivate(engine, user_id):
    with transaction(engine) as session:
        session.get(User, user_id).active = False


def test_every_login_answer_runs_exactly_one_password_verification(engine, user, monkeypatch):
    calls: list[str] = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda stored, pw: calls.append(pw) or real(stored, pw))
    _login(engine, "Correct-Horse-9")
    _login(engine, "wrong")
    _login(engine, "x", username="nobody")
    _lock(engine, user)
    _login(engine, "Correct-Horse-9")
    with transaction(engine) as session:
        session.get(User, user).locked_until = None
    _deactivate(engine, user)
    _login(engine, "Correct-Horse-9")
    assert len(calls) == 5


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_locked_an_inactive_and_an_unknown_account_answer_as_slowly_as_a_wrong_password(engine, freeze_clock):
    import statistics
    import time

    freeze_clock(START)
    ids = {}
    with transaction(engine) as session:
        for name in ("wrongpw", "locked", "inactive"):
            ids[name] = auth.create_user(
                session, username=name, password="Correct-Horse-9", role="township", area_code=None
            ).id
    _lock(engine, ids["locked"])
    _deactivate(engine, ids["inactive"])

    def median_ms(username: str) -> float:
        times = []
        for _ in range(7):
            started = time.perf_counter()
            # A wrong password each time keeps the accounts in their state (no lockout within 7 tries
            # of the unlocked one: the count resets below).
            _login(engine, "not-the-password", username=username)
            times.append((time.perf_counter() - started) * 1000)
            with transaction(engine) as session:
                session.get(User, ids["wrongpw"]).failed_logins = 0
        return statistics.median(times)

    reference = median_ms("wrongpw")
    for name in ("locked", "inactive", "nobody-at-all"):
        ratio = median_ms(name) / reference
        assert 0.6 < ratio < 1.6, (name, ratio, reference)
