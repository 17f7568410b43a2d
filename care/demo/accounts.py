"""The demo's logins: one per role in each county (and one for the city), with generated passwords."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from care.auth import hash_password
from care.demo.common import CITY_CODE, CITY_NAME, CITY_USERNAME, _BuilderBase, _Township, _Workers, demo_rng
from care.demo.rows import Writer
from care.domain import clock
from db.models import (
    User,
    Worker,
)

PASSWORD_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"


PASSWORD_LOWER = "abcdefghijkmnpqrstuvwxyz"


PASSWORD_DIGITS = "23456789"


PASSWORD_SYMBOLS = "!@#%&*?-+="


PASSWORD_LENGTH = 14


def demo_password(rng: random.Random, username: str) -> str:
    """A password with upper, lower, digit and symbol characters that does not contain ``username``."""
    while True:
        chars = [
            rng.choice(PASSWORD_UPPER),
            rng.choice(PASSWORD_LOWER),
            rng.choice(PASSWORD_DIGITS),
            rng.choice(PASSWORD_SYMBOLS),
        ]
        pool = PASSWORD_UPPER + PASSWORD_LOWER + PASSWORD_DIGITS + PASSWORD_SYMBOLS
        chars += [rng.choice(pool) for _ in range(PASSWORD_LENGTH - len(chars))]
        rng.shuffle(chars)
        password = "".join(chars)
        if username.lower() not in password.lower():
            return password


def _user_row(
    user_id: int,
    username: str,
    password: str,
    *,
    role: str,
    area: str,
    display: str,
    worker_id: int | None,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": username,
        "display_name": display,
        "password_hash": hash_password(password),
        "role": role,
        "area_code": area,
        "worker_id": worker_id,
        "active": True,
        "must_change_password": False,
        "failed_logins": 0,
        "locked_until": None,
        "created_at": now,
        "last_login_at": None,
        "version": 1,
    }


def _city_account(session: Session, write: Writer, seed: int) -> dict[str, str]:
    """The city's login (a viewer of every county), after the counties' so theirs keep their ids."""
    password = demo_password(demo_rng(seed, "city accounts"), CITY_USERNAME)
    user_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    display = f"{CITY_NAME.split('（', maxsplit=1)[0]}民政局（演示）"
    row = _user_row(
        user_id, CITY_USERNAME, password, role="city", area=CITY_CODE, display=display, worker_id=None, now=clock.now()
    )
    write(User, [row])
    return {"role": "city", "username": CITY_USERNAME, "password": password}


class _AccountsPart(_BuilderBase):
    """The builder's accounts."""

    def _users(self, townships: list[_Township], workers: _Workers) -> list[dict[str, str]]:
        rng = demo_rng(self.seed, "accounts")
        first = townships[0]
        coordinator_name = self.session.scalar(select(Worker.name).where(Worker.id == workers.coordinator))
        county = self.county
        office = "县民政局（演示）" if county.index == 0 else f"{county.short_name}民政局（演示）"
        admin = "系统管理员（演示）" if county.index == 0 else f"{county.short_name}系统管理员（演示）"
        plan = (
            ("county", "county", self.code, office, None),
            ("township", "township", first.code, f"{first.name}督导员（演示）", None),
            ("coordinator", "coordinator", first.code, f"{coordinator_name}（儿童主任）", workers.coordinator),
            ("admin", "admin", self.code, admin, None),
        )
        accounts: list[dict[str, str]] = []
        rows: list[dict[str, Any]] = []
        for role, name, area, display, worker_id in plan:
            username = county.username(name)
            password = demo_password(rng, username)
            accounts.append({"role": role, "username": username, "password": password})
            user_id = self.ids["users"].take()
            rows.append(
                _user_row(
                    user_id,
                    username,
                    password,
                    role=role,
                    area=area,
                    display=display,
                    worker_id=worker_id,
                    now=self.now,
                )
            )
        self._insert(User, rows)
        return accounts
