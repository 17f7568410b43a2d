"""Streamlit helpers every page shares: language, engine, login state, errors and labels."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from care import audit, auth, i18n, web
from care.domain import clock
from care.domain.errors import CareError, ValidationError
from care.queries.person_file import ref_of
from care.scope import Scope
from ui import sso
from ui.base import (  # the helpers every page calls as ui.t, ui.read, ui.write ...
    CLAIM_KEY,
    DEAD_COOKIE_KEY,
    END_KEY,
    LANG_KEY,
    TOKEN_KEY,
    cookie_token,
    read,
    shown_as,
    t,
    write,
)
from ui.base import (
    daily_upkeep as daily_upkeep,
)
from ui.base import (
    engine as engine,
)
from ui.base import (
    lang as lang,
)

# What the pages and the other helpers call as ui.<name>.
__all__ = [
    "COUNT_COLUMN",
    "LANG_KEY",
    "PERCENT_COLUMN",
    "WORD_JOINER",
    "area_picker",
    "cookie_frames",
    "current_scope",
    "daily_upkeep",
    "engine",
    "is_phone",
    "label",
    "labeller",
    "lang",
    "login",
    "logout",
    "md",
    "message",
    "open_person",
    "picker_columns",
    "read",
    "require_page",
    "show_error",
    "show_warnings",
    "shown_as",
    "t",
    "today",
    "village_choices",
    "write",
]

# Table columns of counts (thousands separators, as the tiles) and of percentages (one decimal,
# values already times 100), the same on every page.
COUNT_COLUMN = st.column_config.NumberColumn(format="localized")
PERCENT_COLUMN = st.column_config.NumberColumn(format="%.1f%%")


def label(name: str, value: object) -> str:
    """The label of an enum value (``enum.<name>.<value>``); empty for None."""
    if value is None or value == "":
        return ""
    return t(f"enum.{name}.{value}")


def labeller(name: str) -> Callable[[object], str]:
    """A ``format_func`` for selectboxes over an enum."""
    return lambda value: label(name, value) if value is not None else t("register.all")


# A phone's browser says so in its user agent (Android and iOS phones: "Mobile"; tablets do not).
_PHONE_AGENT = re.compile(r"Mobile|iPhone", re.IGNORECASE)


def is_phone() -> bool:
    """Whether the page is drawn on a phone: some pages then fold their filters away."""
    try:
        agent = st.context.headers.get("User-Agent", "") or ""
    except (AttributeError, RuntimeError):
        return False
    return bool(_PHONE_AGENT.search(agent)) and "iPad" not in agent


def current_scope() -> Scope | None:
    """The logged-in user's scope, re-read from the server each run (None when logged out).

    A tab that logged in keeps its token in the session; a reloaded tab, a new tab or a tab that
    reconnected to another app process finds it in the HttpOnly cookie.
    """
    # Single sign-on (ui/sso.py): an identity the provider has just vouched for starts a local session.
    sso.sign_in()
    token = st.session_state.get(TOKEN_KEY)
    from_cookie = not token
    if from_cookie:
        token = cookie_token()
    if not token:
        return None
    with write(changes_data=False) as session:
        scope = auth.resume_session(session, token=token)
        pending = scope is not None and auth.handoff_pending(session, token=token)
    if scope is None:
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state.pop(CLAIM_KEY, None)
        if from_cookie:
            # Ended elsewhere (logout, timeout, reset): forget it and clear the cookie.
            st.session_state[DEAD_COOKIE_KEY] = token
            st.session_state[END_KEY] = auth.token_tag(token)
        return None
    st.session_state[TOKEN_KEY] = token
    if not pending:
        st.session_state.pop(CLAIM_KEY, None)
    return scope


def cookie_frames() -> None:
    """The invisible frames that set the login cookie after a login and clear it after a logout."""
    code = st.session_state.get(CLAIM_KEY)
    tag = st.session_state.get(END_KEY)
    if not code and not tag:
        return
    with st.sidebar:
        if tag:
            st.iframe(f"{web.END_PATH}?{urlencode({'tag': tag})}", height=1)
        if code:
            st.iframe(f"{web.CLAIM_PATH}?{urlencode({'code': code})}", height=1)


def require_page(page: str) -> Scope:
    """The scope of a user allowed on ``page``; anyone else is stopped here."""
    scope = current_scope()
    if scope is None:
        st.warning(t("shell.session_ended"))
        st.stop()
    if scope.must_change_password:
        st.warning(t("user.must_change_first"))
        st.stop()
    if not scope.may_open(page):
        with write(changes_data=False) as session:
            audit.record(session, scope=scope, action="page.open", entity="page", entity_id=page, outcome="denied")
        st.error(t("shell.page_denied"))
        st.stop()
    if scope.sees_nothing:
        st.info(t("error.no_scope"))
    return scope


def show_error(error: CareError) -> None:
    """Show a CareError to the user in their language (naming the field when there is one)."""
    field = getattr(error, "field", None) if isinstance(error, ValidationError) else None
    prefix = f"{t('form.' + field)}：" if field and i18n.has("form." + field) else ""
    st.error(prefix + message(error.key, error.params))


def message(key: str, params: Mapping[str, Any]) -> str:
    """A catalog message whose parameters may hold user text (names, cell values): each one made inert."""
    return t(key, **{k: v if isinstance(v, int | float) else md(v) for k, v in params.items()})


def show_warnings(warnings: Sequence[tuple[str, dict[str, Any]]]) -> None:
    """Show service warnings (saved, but worth checking)."""
    for key, params in warnings:
        st.warning(t("form.warning", text=message(key, params)))


def today() -> dt.date:
    """County-local today."""
    return clock.today()


def open_person(person_id: int) -> None:
    """Go to the person file of ``person_id``: /person?ref=…, a link that can be shared."""
    with read() as session:
        ref = ref_of(session, int(person_id))
    st.switch_page("pages/person.py", query_params={"ref": ref or ""})


def login(username: str, password: str) -> bool:
    """Check the password and start a server-side session; False (and audited) on refusal.

    The browser then fetches the session's HttpOnly cookie through ``cookie_frames``.
    """
    with write(changes_data=False) as session:
        user = auth.authenticate(session, username=username, password=password)
        token = auth.start_session(session, user=user) if user is not None else None
        code = auth.start_handoff(session, token=token) if token is not None else None
    if token is None:
        return False
    for key in list(st.session_state.keys()):
        if key not in (LANG_KEY,):
            del st.session_state[key]
    st.session_state[TOKEN_KEY] = token
    st.session_state[CLAIM_KEY] = code
    return True


def logout() -> None:
    """End the session on the server, clear its cookie and forget everything this browser session held."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        with write(changes_data=False) as session:
            auth.end_session(session, token=token)
    keep = st.session_state.get(LANG_KEY)
    st.session_state.clear()
    if keep:
        st.session_state[LANG_KEY] = keep
    if token:
        st.session_state[END_KEY] = auth.token_tag(token)
        st.session_state[DEAD_COOKIE_KEY] = token
    # Single sign-on (ui/sso.py): clear Streamlit's identity too, or it would log straight back in.
    sso.sign_out()


_MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~:$&")


# Streamlit finds :material/name: icons and :emoji: shortcodes in the text after Markdown has
# read it, so a backslash cannot stop them: a word joiner (invisible, zero-width) after the colon does.
_SHORTCODE_START = re.compile(r":(?=[\w+-])")
WORD_JOINER = "\u2060"


def md(text: object) -> str:
    """User text made inert inside st.markdown: every markdown punctuation mark escaped, no shortcodes."""
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in str(text)).replace("\n", " ")
    return _SHORTCODE_START.sub(":" + WORD_JOINER, escaped)


def village_choices(areas: Any) -> Any:
    """The villages of ``area_options`` rows, each named with its township ("丹江镇 羊排村"): village
    names repeat across townships (every town has its 南门社区)."""
    towns = dict(zip(areas["code"], areas["name"], strict=True))
    villages = areas[areas["level"] == "village"].copy()
    villages["name"] = [
        f"{towns[p]} {n}" if p in towns else n for p, n in zip(villages["parent_code"], villages["name"], strict=True)
    ]
    return villages


def picker_columns(areas: Any) -> int:
    """How many select boxes ``area_picker`` draws over these areas: county (when several), township, village."""
    return 3 if int((areas["level"] == "county").sum()) > 1 else 2


def area_picker(
    areas: Any, prefix: str, columns: Sequence[Any], on_change: Callable[[], None] | None = None
) -> tuple[str | None, str | None]:
    """Township then village select boxes over the user's areas; keys ``<prefix>_township``/``_village``.

    Above a county (``areas`` holds several counties: ``picker_columns`` is 3) a county select
    (``<prefix>_county``) comes first, in ``columns[0]``, and the townships are that county's; the
    first value returned is then the township, else the county chosen.
    """
    names = dict(zip(areas["code"], areas["name"], strict=True))
    counties = areas[areas["level"] == "county"]
    county = None
    if len(counties) > 1:
        first, *columns = columns
        county = first.selectbox(
            t("register.county"),
            [None, *counties["code"]],
            key=f"{prefix}_county",
            format_func=lambda c: names.get(c, t("register.all")),
            on_change=on_change,
        )
    townships = areas[(areas["level"] == "township") & ((areas["parent_code"] == county) if county else True)]
    township = columns[0].selectbox(
        t("register.township"),
        [None, *townships["code"]],
        key=f"{prefix}_township",
        format_func=lambda c: names.get(c, t("register.all")),
        on_change=on_change,
    )
    in_township = (areas["parent_code"] == township) if township else True
    villages = areas[(areas["level"] == "village") & in_township]
    village = columns[1].selectbox(
        t("register.village"),
        [None, *villages["code"]],
        key=f"{prefix}_village",
        format_func=lambda c: names.get(c, t("register.all")),
        on_change=on_change,
    )
    return township or county, village
