"""Managing logins: every change is versioned and audited; access changes end the user's sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from care import audit, auth
from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.queries.users import access_choices, users_table
from care.services import users
from db.models import AuditEvent, User
from db.session import reading, transaction

TEMP = "Temp-Pass-2026"
NEW = "My-Own-Secret-77"


def _create(engine, world, username="li_township", role="township", area=None, worker_id=None):
    with transaction(engine) as session:
        return users.create_user(
            session,
            world.scopes["admin"],
            username=username,
            display_name="李",
            role=role,
            area_code=area or world.township_a,
            worker_id=worker_id,
            password=TEMP,
        ).id


def _login(engine, username, password):
    with transaction(engine) as session:
        user = auth.authenticate(session, username=username, password=password)
        return auth.start_session(session, user=user) if user else None


def _resume(engine, token):
    with transaction(engine) as session:
        return auth.resume_session(session, token=token)


def _version(engine, user_id):
    with reading(engine) as session:
        return session.get(User, user_id).version


def _events(engine, action):
    with reading(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_new_login_must_change_its_password_before_it_can_do_anything(engine, world):
    _create(engine, world)
    token = _login(engine, "li_township", TEMP)
    scope = _resume(engine, token)
    assert scope.must_change_password
    assert not scope.can("person.view") and not scope.may_open("registers") and scope.sees_nothing
    with transaction(engine) as session:
        users.change_own_password(session, scope, current=TEMP, new=NEW, repeat=NEW)
    after = _resume(engine, token)
    assert not after.must_change_password and after.can("person.view") and after.may_open("registers")
    assert _login(engine, "li_township", TEMP) is None
    assert _login(engine, "li_township", NEW) is not None


@pytest.mark.parametrize(
    ("current", "new", "repeat", "key"),
    [
        ("wrong-one", NEW, NEW, "user.current_password_wrong"),
        (TEMP, NEW, NEW + "x", "setup.passwords_differ"),
        (TEMP, TEMP, TEMP, "user.password_unchanged"),
        (TEMP, "short1A", "short1A", "password.too_short"),
        (TEMP, "li_township-Abc-1", "li_township-Abc-1", "password.contains_username"),
    ],
)
def test_a_bad_new_password_is_refused_and_the_change_stays_due(engine, world, current, new, repeat, key):
    _create(engine, world)
    scope = _resume(engine, _login(engine, "li_township", TEMP))
    with pytest.raises(ValidationError) as refused, transaction(engine) as session:
        users.change_own_password(session, scope, current=current, new=new, repeat=repeat)
    assert refused.value.key == key
    assert _resume(engine, _login(engine, "li_township", TEMP)).must_change_password


def test_an_admin_reset_unlocks_logs_out_and_forces_a_change(engine, world):
    user_id = _create(engine, world)
    token = _login(engine, "li_township", TEMP)
    with transaction(engine) as session:
        users.change_own_password(session, _resume(engine, token), current=TEMP, new=NEW, repeat=NEW)
    for _ in range(5):
        _login(engine, "li_township", "wrong")
    assert _login(engine, "li_township", NEW) is None, "locked"
    with transaction(engine) as session:
        users.reset_password(
            session, world.scopes["admin"], user_id=user_id, seen_version=_version(engine, user_id), password=TEMP
        )
    assert _resume(engine, token) is None, "the old session ended with the reset"
    fresh = _login(engine, "li_township", TEMP)
    assert fresh is not None and _resume(engine, fresh).must_change_password
    assert [e.detail for e in _events(engine, "user.reset_password")] == [{"username": "li_township"}]


def test_a_deactivated_user_is_logged_out_at_the_next_action_and_can_come_back(engine, world):
    user_id = _create(engine, world)
    token = _login(engine, "li_township", TEMP)
    with transaction(engine) as session:
        users.set_active(
            session, world.scopes["admin"], user_id=user_id, seen_version=_version(engine, user_id), active=False
        )
    assert _resume(engine, token) is None
    assert _login(engine, "li_township", TEMP) is None
    with transaction(engine) as session:
        users.set_active(
            session, world.scopes["admin"], user_id=user_id, seen_version=_version(engine, user_id), active=True
        )
    assert _login(engine, "li_township", TEMP) is not None
    assert [len(_events(engine, a)) for a in ("user.deactivate", "user.reactivate")] == [1, 1]


def test_a_role_and_area_change_ends_the_sessions_and_is_audited_old_to_new(engine, world):
    user_id = _create(engine, world)
    token = _login(engine, "li_township", TEMP)
    with transaction(engine) as session:
        users.change_own_password(session, _resume(engine, token), current=TEMP, new=NEW, repeat=NEW)
    assert _resume(engine, token).area_code == world.township_a
    with transaction(engine) as session:
        users.change_access(
            session,
            world.scopes["admin"],
            user_id=user_id,
            seen_version=_version(engine, user_id),
            role="county",
            area_code=world.county,
        )
    assert _resume(engine, token) is None, "the session with the old access is over"
    after = _resume(engine, _login(engine, "li_township", NEW))
    assert (after.role, after.area_code) == ("county", world.county)
    (event,) = _events(engine, "user.change_role")
    assert event.detail["old"] == {"role": "township", "area_code": world.township_a}
    assert event.detail["new"] == {"role": "county", "area_code": world.county}


def test_two_admins_changing_the_same_login_the_second_is_told_it_changed(engine, world):
    user_id = _create(engine, world)
    seen = _version(engine, user_id)
    with transaction(engine) as session:
        users.change_access(
            session, world.scopes["admin"], user_id=user_id, seen_version=seen, role="county", area_code=world.county
        )
    with pytest.raises(StaleRecord) as stale, transaction(engine) as session:
        users.set_active(session, world.scopes["admin"], user_id=user_id, seen_version=seen, active=False)
    assert stale.value.current["role"] == "county" and "password_hash" not in stale.value.current
    with reading(engine) as session:
        assert session.get(User, user_id).active


@pytest.mark.parametrize(
    ("role", "area", "worker", "key"),
    [
        ("township", "522699999000", None, "user.bad_area"),
        ("township", "not-a-code", None, "user.bad_area"),
        ("coordinator", "522699101201", None, "user.coordinator_needs_worker"),
        ("coordinator", "522699102201", "w1", "user.coordinator_needs_worker"),
        ("nobody", "522699101000", None, "error.bad_choice"),
    ],
)
def test_a_bad_role_area_or_worker_is_refused_and_nothing_is_created(engine, world, role, area, worker, key):
    with pytest.raises(ValidationError) as refused, transaction(engine) as session:
        users.create_user(
            session,
            world.scopes["admin"],
            username="new_one",
            display_name="",
            role=role,
            area_code=area,
            worker_id=world.workers[worker] if worker else None,
            password=TEMP,
        )
    assert refused.value.key == key
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == "new_one")) == 0
    assert _events(engine, "user.create") == []


def test_a_coordinator_login_is_linked_to_a_worker_of_its_area(engine, world):
    user_id = _create(engine, world, "wu", "coordinator", world.village_a1, world.workers["w1"])
    with reading(engine) as session:
        assert session.get(User, user_id).worker_id == world.workers["w1"]


def test_an_admin_cannot_lock_themselves_out(engine, world):
    admin = world.scopes["admin"]
    with pytest.raises(ValidationError) as refused, transaction(engine) as session:
        users.set_active(session, admin, user_id=admin.user_id, seen_version=1, active=False)
    assert refused.value.key == "user.not_on_self"


def test_only_an_admin_manages_logins_and_a_refusal_is_audited_as_denied(engine, world):
    target = world.scopes["coord_1"].user_id
    with pytest.raises(PermissionDenied), audit.denials_survive(engine), transaction(engine) as session:
        users.reset_password(session, world.scopes["township_a"], user_id=target, seen_version=1, password=TEMP)
    (event,) = _events(engine, "user.manage")
    assert (event.outcome, event.username) == ("denied", "township_a")


def test_a_tampered_user_id_gets_the_answer_of_a_missing_one(engine, world):
    answers = []
    for user_id in (10_000, "1", True):
        with pytest.raises(NotFound) as missing, transaction(engine) as session:
            users.reset_password(session, world.scopes["admin"], user_id=user_id, seen_version=1, password=TEMP)
        answers.append(missing.value.message("en"))
    assert len(set(answers)) == 1


def test_the_users_list_holds_the_admins_logins_and_no_password_hash(engine, world):
    _create(engine, world)
    with reading(engine) as session:
        table = users_table(session, world.scopes["admin"])
        nothing = users_table(session, world.scopes["township_a"])
        areas, workers = access_choices(session, world.scopes["admin"])
    assert "li_township" in set(table["username"]) and "no_area" in set(table["username"])
    assert "password_hash" not in table.columns
    assert nothing.empty
    assert world.village_b1 in set(areas["code"]) and len(workers) == 4
