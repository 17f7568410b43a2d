"""Logins: argon2 password hashes, lockout, and server-side sessions with timeouts."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from care import audit
from care.domain import clock
from care.domain.enums import ROLES, check
from care.domain.errors import ValidationError
from care.scope import Scope
from db.models import LoginSession, User

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both answers take the same time.
_DUMMY_HASH = _hasher.hash("caremap-no-such-user")

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=8)
# How long the browser has to fetch its cookie after a login (one request, normally milliseconds).
HANDOFF_TIMEOUT = dt.timedelta(seconds=60)


MIN_PASSWORD_LENGTH = 10
# zxcvbn's score, 0-4: 3 is "safely unguessable" against an offline attack on a slow hash.
MIN_STRENGTH = 3
_SURNAMES = [
    "wang",
    "li",
    "zhang",
    "liu",
    "chen",
    "yang",
    "huang",
    "zhao",
    "wu",
    "zhou",
    "xu",
    "sun",
    "ma",
    "zhu",
    "hu",
    "guo",
    "he",
    "gao",
    "lin",
    "luo",
    "zheng",
    "liang",
]
_GIVEN = [
    "wei",
    "fang",
    "na",
    "min",
    "jing",
    "li",
    "qiang",
    "lei",
    "jun",
    "yang",
    "yong",
    "yan",
    "jie",
    "juan",
    "tao",
    "ming",
    "chao",
    "xia",
    "ping",
    "gang",
    "hua",
    "hong",
]
# Chinese names in pinyin and the passwords Chinese users pick most (love-you numbers, QQ, pinyin words).
COMMON_WORDS = (
    *_SURNAMES,
    *(s + g for s in _SURNAMES for g in _GIVEN),
    *[
        "woaini",
        "5201314",
        "1314520",
        "520520",
        "woaini1314",
        "qq123456",
        "aini1314",
        "zhongguo",
        "beijing",
        "caremap",
        "guanai",
    ],
    *["ertong", "laoren", "canji", "xiangcun", "zhuren", "kangfu"],
)


def check_password_policy(password: str, *, username: str, personal: tuple[str, ...] = ()) -> None:
    """At least 10 characters of three kinds (lower, upper, digit, other), without the username,
    an ID number or a phone number in it; ValidationError says which rule failed."""

    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password.too_short", field="password", n=MIN_PASSWORD_LENGTH)
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() or not c.isascii() for c in password),
        )
    )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in password):
        raise ValidationError("password.control_chars", field="password")
    if kinds < 3:
        raise ValidationError("password.too_simple", field="password")
    lowered = password.lower()
    if username and username.lower() in lowered:
        raise ValidationError("password.contains_username", field="password")
    if any(len(item) >= 4 and item.lower() in lowered for item in personal if item):
        raise ValidationError("password.contains_personal", field="password")
    # zxcvbn finds repeats, sequences, keyboard walks, dates and dictionary words; it is given the
    # user's own words and Chinese names in pinyin, which its English lists lack.
    if zxcvbn(password, user_inputs=[username, *personal, *COMMON_WORDS])["score"] < MIN_STRENGTH:
        raise ValidationError("password.guessable", field="password")


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def scope_of(user: User) -> Scope:
    """The scope a user acts with."""
    return Scope(user.id, user.username, user.role, user.area_code, user.worker_id, bool(user.must_change_password))


def authenticate(session: Session, *, username: str, password: str) -> User | None:
    """The active, unlocked user with this password, or None.

    A refusal is recorded (failure count, lockout, audit), so the caller commits either way and
    then shows ``LoginFailed``: one message for unknown users, wrong passwords and locked accounts.
    """
    now = clock.now()
    user = session.scalar(select(User).where(User.username == username.strip()))
    # One argon2 verification on every path (unknown, locked, inactive, wrong, right): the time
    # an answer takes does not tell whether a username exists or what state it is in.
    matches = verify_password(user.password_hash if user is not None else _DUMMY_HASH, password)
    if user is None:
        audit.record(session, scope=None, username=username.strip()[:64], action="login", outcome="failure")
        return None
    if user.locked_until is not None and user.locked_until > now:
        audit.record(session, scope=scope_of(user), action="login", outcome="locked")
        return None
    if not user.active or not matches:
        user.failed_logins = (user.failed_logins or 0) + 1
        outcome = "failure"
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            outcome = "lockout"
        audit.record(session, scope=scope_of(user), action="login", outcome=outcome)
        return None
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, scope=scope_of(user), action="login")
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def start_session(session: Session, *, user: User) -> str:
    """A new login session for ``user``; returns the token the browser session keeps."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(LoginSession(token_hash=_token_hash(token), user_id=user.id, created_at=now, last_seen_at=now))
    session.flush()
    return token


def resume_session(session: Session, *, token: str) -> Scope | None:
    """The current scope for a live session token (re-read each time), or None when it has ended."""
    row = session.get(LoginSession, _token_hash(token))
    now = clock.now()
    if row is None or row.ended_at is not None:
        return None
    if now - row.last_seen_at > IDLE_TIMEOUT or now - row.created_at > ABSOLUTE_TIMEOUT:
        row.ended_at = now
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        row.ended_at = now
        return None
    row.last_seen_at = now
    return scope_of(user)


def token_tag(token: str) -> str:
    """A short, non-secret name of a token: which cookie a logout may clear (not enough to log in)."""
    return _token_hash(token)[:16]


def start_handoff(session: Session, *, token: str) -> str:
    """A one-time code with which the browser fetches ``token`` into its HttpOnly cookie.

    The token is kept only sealed with the code (Fernet: AES and HMAC), and the code only as a
    hash: the database alone cannot produce the cookie, and the code works once, for a minute.
    """
    row = session.get(LoginSession, _token_hash(token))
    if row is None or row.ended_at is not None:
        raise ValueError("no live session for this token")
    code = Fernet.generate_key().decode("ascii")
    row.handoff_hash = _token_hash(code)
    row.handoff_sealed = Fernet(code.encode("ascii")).encrypt(token.encode("ascii")).decode("ascii")
    row.handoff_until = clock.now() + HANDOFF_TIMEOUT
    session.flush()
    return code


def claim_handoff(session: Session, *, code: str) -> str | None:
    """The token a live one-time code hands over (the code is spent), or None."""
    if not code or len(code) > 64 or not code.isascii():
        return None
    row = session.scalar(select(LoginSession).where(LoginSession.handoff_hash == _token_hash(code)))
    if row is None:
        return None
    sealed, until = row.handoff_sealed, row.handoff_until
    row.handoff_hash = row.handoff_sealed = row.handoff_until = None
    if row.ended_at is not None or until is None or sealed is None or clock.now() > until:
        return None
    try:
        token = Fernet(code.encode("ascii")).decrypt(sealed.encode("ascii")).decode("ascii")
    except (InvalidToken, ValueError):
        return None
    return token if _token_hash(token) == row.token_hash else None


def handoff_pending(session: Session, *, token: str) -> bool:
    """Whether the browser has yet to fetch this token's cookie (and still may)."""
    row = session.get(LoginSession, _token_hash(token))
    return bool(row and row.handoff_hash and row.handoff_until and row.handoff_until >= clock.now())


def end_session(session: Session, *, token: str) -> None:
    """Log out: the token is dead on the server from now on."""
    row = session.get(LoginSession, _token_hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = clock.now()
        user = session.get(User, row.user_id)
        audit.record(session, scope=scope_of(user) if user else None, action="logout")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    area_code: str | None,
    display_name: str = "",
    worker_id: int | None = None,
    must_change_password: bool = False,
) -> User:
    """Add a login; the username must be new."""
    check("role", role, ROLES)
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationError("user.bad_username", field="username")
    if session.scalar(select(func.count()).select_from(User).where(User.username == username)):
        raise ValidationError("user.exists", field="username", username=username)
    check_password_policy(password, username=username)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        role=role,
        area_code=area_code,
        worker_id=worker_id,
        must_change_password=must_change_password,
        created_at=clock.now(),
        failed_logins=0,
        active=True,
        version=1,
    )
    session.add(user)
    session.flush()
    return user


def end_sessions_of(session: Session, *, user_id: int) -> None:
    """End every live session of a user (after a password reset or deactivation)."""
    session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.ended_at.is_(None))
        .values(ended_at=clock.now())
    )
