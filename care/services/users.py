"""Managing logins: create, deactivate, reactivate, reset a password, change role and area.

Every change is a permission change: it is audited with the old and new values, carries the
version the admin saw, and takes effect at the user's next action (the scope is re-read from the
users table on every rerun; a deactivated or reset user's sessions end at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from care import audit, auth
from care.domain import areas, enums
from care.domain.errors import NotFound, StaleRecord, ValidationError
from care.permissions import require
from care.queries.settings import only_county
from care.scope import Scope
from care.services.common import Saved
from db.models import Area, User, Worker

ACCESS_FIELDS = ("role", "area_code", "worker_id")


def user_values(user: User) -> dict[str, Any]:
    """What an admin sees of a user (never the hash), plus its version."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "area_code": user.area_code,
        "worker_id": user.worker_id,
        "active": user.active,
        "must_change_password": user.must_change_password,
        "version": user.version,
    }


def _manageable(session: Session, scope: Scope, user_id: int) -> User:
    """The user with this id if the admin's area covers it (a user with no area too), else NotFound."""
    require(scope, "user.manage")
    user = session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if user is None or (user.area_code is not None and not scope.covers(user.area_code)):
        raise audit.denied(NotFound(), scope=scope, action="user.manage", entity="user", entity_id=user_id)
    return user


def _not_self(scope: Scope, user: User) -> None:
    if user.id == scope.user_id:
        raise ValidationError("user.not_on_self", field="username")


def _versioned(session: Session, user: User, seen_version: int, values: Mapping[str, Any]) -> int:
    """UPDATE users ... WHERE id AND version = seen; StaleRecord with the newer values otherwise."""
    result = session.execute(
        update(User)
        .where(User.id == user.id, User.version == seen_version)
        .values(**values, version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    session.expire(user)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        current = session.get(User, user.id)
        raise StaleRecord(
            user_values(current) if current else {}, seen=seen_version, now=current.version if current else 0
        )
    return seen_version + 1


def _clean_access(
    session: Session, scope: Scope, role: str, area_code: str | None, worker_id: int | None
) -> dict[str, Any]:
    """Role, area inside the admin's area, and (coordinators only) a worker of that area.

    A city's or a province's viewer has exactly that level of area; every other role an area of
    one county (a county's administrator hands out no role above their county).
    """
    enums.check("role", role, enums.ROLES)
    code = (area_code or "").strip() or None
    if code is not None:
        area = session.get(Area, code) if areas.is_code(code) else None
        if area is None or not scope.covers(code):
            raise ValidationError("user.bad_area", field="area_code")
        if area.valid_to is not None:
            raise ValidationError("person.village_replaced", field="area_code", code=code)
    above = role in enums.ABOVE_COUNTY_ROLES
    if above and (code is None or areas.level_of(code) != role):
        raise ValidationError("user.area_level", field="area_code")
    if not above and code is not None and areas.above_county(code):
        raise ValidationError("user.area_level", field="area_code")
    if role != "coordinator":
        return {"role": role, "area_code": code, "worker_id": None}
    worker = session.get(Worker, worker_id) if isinstance(worker_id, int) else None
    fits = (
        worker is not None
        and code is not None
        and scope.covers(worker.area_code)
        and (areas.contains(code, worker.area_code) or areas.contains(worker.area_code, code))
    )
    if worker is None or not fits:
        raise ValidationError("user.coordinator_needs_worker", field="worker_id")
    return {"role": role, "area_code": code, "worker_id": worker.id}


def create_user(
    session: Session,
    scope: Scope,
    *,
    username: str,
    display_name: str,
    role: str,
    area_code: str | None,
    worker_id: int | None,
    password: str,
) -> Saved:
    """A new login in the admin's area; it must change the given password at first login."""
    require(scope, "user.manage")
    access = _clean_access(session, scope, role, area_code, worker_id)
    user = auth.create_user(
        session,
        username=username,
        password=password,
        display_name=display_name.strip()[:64],
        must_change_password=True,
        **access,
    )
    audit.record(
        session,
        scope=scope,
        action="user.create",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, **access},
    )
    return Saved(user.id, user.version)


def create_user_as_operator(
    session: Session,
    *,
    username: str,
    role: str,
    area_code: str | None,
    worker_id: int | None,
    password: str,
    must_change_password: bool,
) -> Saved:
    """A login made on the server's command line, under the same rules as the users page.

    The operator acts as an administrator of the area the login is for (or, without one, of the
    database's only county; of nothing on a new database, where only an administrator without
    an area can be made). Only the operator makes a city's or a province's viewer.
    """
    wanted = (area_code or "").strip()
    county = only_county(session)
    operator = Scope(None, "cli", "admin", wanted if areas.is_code(wanted) else county)
    access = _clean_access(session, operator, role, area_code, worker_id)
    user = auth.create_user(
        session, username=username, password=password, must_change_password=must_change_password, **access
    )
    audit.record(
        session,
        scope=None,
        username="cli",
        action="user.create",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, **access},
    )
    return Saved(user.id, user.version)


def set_active(session: Session, scope: Scope, *, user_id: int, seen_version: int, active: bool) -> Saved:
    """Deactivate a login (its sessions end now) or reactivate it; never one's own."""
    user = _manageable(session, scope, user_id)
    _not_self(scope, user)
    if user.active == active and user.version == seen_version:
        return Saved(user.id, user.version)
    version = _versioned(session, user, seen_version, {"active": active, "failed_logins": 0, "locked_until": None})
    if not active:
        auth.end_sessions_of(session, user_id=user.id)
    audit.record(
        session,
        scope=scope,
        action="user.reactivate" if active else "user.deactivate",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username},
    )
    return Saved(user.id, version)


def reset_password(session: Session, scope: Scope, *, user_id: int, seen_version: int, password: str) -> Saved:
    """Give a login a temporary password: it is unlocked, logged out and must change it at next login."""
    user = _manageable(session, scope, user_id)
    auth.check_password_policy(password, username=user.username)
    version = _versioned(
        session,
        user,
        seen_version,
        {
            "password_hash": auth.hash_password(password),
            "must_change_password": True,
            "failed_logins": 0,
            "locked_until": None,
        },
    )
    auth.end_sessions_of(session, user_id=user.id)
    audit.record(
        session,
        scope=scope,
        action="user.reset_password",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username},
    )
    return Saved(user.id, version)


def change_access(
    session: Session,
    scope: Scope,
    *,
    user_id: int,
    seen_version: int,
    role: str,
    area_code: str | None,
    worker_id: int | None = None,
) -> Saved:
    """Change a login's role, area or worker; its sessions end, so it logs in again with the new access."""
    user = _manageable(session, scope, user_id)
    _not_self(scope, user)
    new = _clean_access(session, scope, role, area_code, worker_id)
    old = {name: getattr(user, name) for name in ACCESS_FIELDS}
    changes = {k: v for k, v in new.items() if v != old[k]}
    if not changes:
        if user.version != seen_version:
            _versioned(session, user, seen_version, {})
        return Saved(user.id, user.version)
    version = _versioned(session, user, seen_version, changes)
    auth.end_sessions_of(session, user_id=user.id)
    audit.record(
        session,
        scope=scope,
        action="user.change_role",
        entity="user",
        entity_id=user.id,
        detail={"username": user.username, "old": {k: old[k] for k in changes}, "new": changes},
    )
    return Saved(user.id, version)


def change_own_password(session: Session, scope: Scope, *, current: str, new: str, repeat: str) -> Saved:
    """The logged-in user replaces their password (forced after a reset); other sessions end."""
    user = session.get(User, scope.user_id) if scope.user_id is not None else None
    if user is None or not user.active:
        raise NotFound()
    if not auth.verify_password(user.password_hash, current):
        raise ValidationError("user.current_password_wrong", field="current_password")
    if new != repeat:
        raise ValidationError("setup.passwords_differ", field="new_password")
    if new == current:
        raise ValidationError("user.password_unchanged", field="new_password")
    auth.check_password_policy(new, username=user.username)
    version = _versioned(
        session, user, user.version, {"password_hash": auth.hash_password(new), "must_change_password": False}
    )
    audit.record(session, scope=scope, action="user.change_password", entity="user", entity_id=user.id)
    return Saved(user.id, version)
