"""Single sign-on through the province's unified identity service (OpenID Connect, Streamlit's st.login).

Off unless the secrets hold Streamlit's standard ``[auth]`` section (redirect_uri, cookie_secret,
client_id, client_secret, server_metadata_url): without it the login page has no button and nothing
here runs. ``CARE_SSO_CLAIM`` names the ID-token claim (default ``preferred_username``) whose value
must be the ``username`` of an active, unlocked local user.

The provider vouches for who someone is; what they may do comes from their local account. A
sign-on starts an ordinary local session (server-side row, HttpOnly cookie, idle and absolute
timeouts, audited login), so everything after it works as after a password login.

Streamlit keeps the provider's identity in its own cookie for weeks. That identity starts a session
only while it is fresh (issued at most two minutes ago) and only once (a hash of it is kept on the
session it started, ``login_sessions.sso_key``), so it can never renew a session that ended by
logout, timeout or an administrator.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from streamlit.delta_generator import DeltaGenerator

from care import audit, auth
from care.domain import clock
from care.domain.errors import LoginFailed
from db.models import LoginSession, User
from ui import base

CLAIM_ENV = "CARE_SSO_CLAIM"
DEFAULT_CLAIM = "preferred_username"
# How old (seconds) an ID token may be when it starts a session, and how far ahead the provider's clock may run.
MAX_AGE_S = 120
CLOCK_SKEW_S = 30
SETTINGS = ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
# Streamlit's own route that clears its identity cookie (what st.logout navigates to).
IDENTITY_LOGOUT_PATH = "auth/logout"

# Session-state keys: the identity this browser session has dealt with, what to tell the login page,
# whether Streamlit's identity cookie is still to be cleared, and a logout on its way.
SEEN_KEY = "sso_seen"
NOTICE_KEY = "sso_notice"
FORGET_KEY = "sso_forget"
LOGOUT_KEY = "sso_logout"

# Refusals about the identity itself (before any account is looked at): the login has expired.
EXPIRED = ("stale", "reused", "invalid")


def _auth_section() -> Mapping[str, Any] | None:
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets file at all
        return None
    return section if isinstance(section, Mapping) else None


def enabled() -> bool:
    """Whether single sign-on is configured: an ``[auth]`` section with every setting st.login needs."""
    section = _auth_section()
    return section is not None and all(isinstance(section.get(k), str) and section.get(k, "").strip() for k in SETTINGS)


def claim_name() -> str:
    """The ID-token claim that names the local user (``CARE_SSO_CLAIM``)."""
    return os.environ.get(CLAIM_ENV, "").strip() or DEFAULT_CLAIM


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def identity_key(claims: Mapping[str, Any]) -> str | None:
    """sha256 of (iss, sub, iat, nonce or aud): one sign-in at the provider. None when the token lacks them."""
    iss, sub, iat = claims.get("iss"), claims.get("sub"), claims.get("iat")
    if not iss or not sub or not _number(iat):
        return None
    once = claims.get("nonce") or claims.get("aud")
    payload = json.dumps([str(iss), str(sub), iat, once], separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignOn:
    """What an identity came to: a new session's token and its cookie code, or why it was refused."""

    token: str | None = None
    code: str | None = None
    refused: str = ""


def _refusal(session: Session, claims: Mapping[str, Any], key: str | None, user: User | None, now: float) -> str:
    if key is None:
        return "invalid"
    age = now - float(claims["iat"])
    if not -CLOCK_SKEW_S <= age <= MAX_AGE_S:
        return "stale"
    if session.scalar(select(LoginSession.token_hash).where(LoginSession.sso_key == key)) is not None:
        return "reused"
    value = claims.get(claim_name())
    if not isinstance(value, str) or not value.strip():
        return "no_claim"
    if user is None:
        return "unknown"
    if not user.active:
        return "inactive"
    if user.locked_until is not None and user.locked_until > clock.now():
        return "locked"
    return ""


def _named_user(session: Session, claims: Mapping[str, Any]) -> tuple[str, User | None]:
    value = claims.get(claim_name())
    username = value.strip() if isinstance(value, str) else ""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    return username, user


def refuse(session: Session, claims: Mapping[str, Any], *, reason: str) -> SignOn:
    """Audit a refused sign-on (a login failure, via sso) and say why."""
    username, user = _named_user(session, claims)
    audit.record(
        session,
        scope=auth.scope_of(user) if user is not None else None,
        username=None if user is not None else username[:64],
        action="login",
        outcome="failure",
        detail={"via": "sso", "reason": reason},
    )
    return SignOn(refused=reason)


def start_session(session: Session, claims: Mapping[str, Any], *, now: float | None = None) -> SignOn:
    """A local session for the user the ID token's claims name, or a refusal; audited either way.

    ``claims`` are the ID token's, as Streamlit hands them over in ``st.user``. A refusal writes
    only its audit event, so the caller commits in both cases.
    """
    key = identity_key(claims)
    _, user = _named_user(session, claims)
    reason = _refusal(session, claims, key, user, time.time() if now is None else now)
    if reason or user is None:
        return refuse(session, claims, reason=reason or "unknown")
    token = auth.start_session(session, user=user)
    row = session.get(LoginSession, auth._token_hash(token))
    if row is None:  # pragma: no cover - start_session has just added it
        raise RuntimeError("the new login session is missing")
    row.sso_key = key
    user.last_login_at = clock.now()
    # The key is unique: a second use of this identity racing this one fails here.
    session.flush()
    code = auth.start_handoff(session, token=token)
    audit.record(session, scope=auth.scope_of(user), action="login", detail={"via": "sso"})
    return SignOn(token=token, code=code)


def _sign_on(claims: Mapping[str, Any]) -> SignOn:
    try:
        with base.write(changes_data=False) as session:
            return start_session(session, claims)
    except IntegrityError:
        # Another tab started a session from this very identity a moment ago.
        with base.write(changes_data=False) as session:
            return refuse(session, claims, reason="reused")


def _has_live_session() -> bool:
    token = st.session_state.get(base.TOKEN_KEY) or base.cookie_token()
    if not token:
        return False
    with base.write(changes_data=False) as session:
        return auth.resume_session(session, token=token) is not None


def sign_in() -> None:
    """Each run, before the login is read: an identity the provider has just vouched for starts a session.

    Streamlit reads its identity cookie when a tab connects, so each browser session looks at its
    identity once, and only when it has no live local session. A refused identity is cleared from
    Streamlit's cookie and the login page says so.
    """
    if not enabled():
        return
    if st.session_state.pop(LOGOUT_KEY, False):
        # The logout's rerun: send the browser through Streamlit's logout route again, in case the
        # first redirect was still queued when that rerun dropped the queue.
        st.logout()
        return
    claims = st.user.to_dict()
    if not claims.get("is_logged_in"):
        return
    seen = identity_key(claims) or "invalid"
    if st.session_state.get(SEEN_KEY) == seen:
        return
    if _has_live_session():
        st.session_state[SEEN_KEY] = seen
        return
    outcome = _sign_on(claims)
    if outcome.token is None:
        st.session_state[SEEN_KEY] = seen
        st.session_state[FORGET_KEY] = True
        st.session_state[NOTICE_KEY] = "expired" if outcome.refused in EXPIRED else "refused"
        return
    # As after a password login: nothing of the logged-out browser session is carried over.
    for key in list(st.session_state.keys()):
        if key != base.LANG_KEY:
            del st.session_state[key]
    st.session_state[base.TOKEN_KEY] = outcome.token
    st.session_state[base.CLAIM_KEY] = outcome.code
    st.session_state[SEEN_KEY] = seen


def sign_out() -> None:
    """At logout: clear Streamlit's identity too, so the provider's sign-on cannot log straight back in.

    st.logout() sends the browser through Streamlit's logout route (and the provider's end of
    session, when it has one) back to the login page.
    """
    if enabled() and st.user.to_dict().get("is_logged_in"):
        st.logout()
        st.session_state[LOGOUT_KEY] = True


def _identity_logout_url() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{IDENTITY_LOGOUT_PATH}" if base else f"/{IDENTITY_LOGOUT_PATH}"


def login_button(container: DeltaGenerator) -> None:
    """On the login page: the unified identity service's button, and what became of the last sign-on.

    A refused sign-on shows the password login's one message (no hint whether the account exists);
    an expired or already used identity asks for a new login. Its identity cookie is cleared by
    Streamlit's logout route in an invisible frame, so this page stays where it is.
    """
    if not enabled():
        return
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice == "refused":
        container.error(LoginFailed().message(base.lang()))
    elif notice == "expired":
        container.warning(base.t("shell.session_ended"))
    if st.session_state.get(FORGET_KEY):
        with st.sidebar:
            st.iframe(_identity_logout_url(), height=1)
    if container.button(base.t("login.sso"), icon=":material/verified_user:", width="stretch", key="login_sso"):
        st.session_state.pop(FORGET_KEY, None)
        st.login()
