"""Accounts in the app: the forced password change, the users tab and the audit page."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from care import auth
from db.models import AuditEvent, User
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
TEMP = "Temp-Pass-2026"
NEW = "Fresh-Secret-88"


def _texts(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _engine(demo_db):
    return get_engine(str(demo_db["path"]))


def _new_login(demo_db, role="township", area="522699101000") -> str:
    """A fresh login that must change its password (as an admin creates it)."""
    username = f"new_{role}_{uuid.uuid4().hex[:8]}"
    with transaction(_engine(demo_db)) as session:
        auth.create_user(
            session, username=username, password=TEMP, role=role, area_code=area, must_change_password=True
        )
    return username


def _log_in(username: str, password: str) -> AppTest:
    """Log in through the login form, then open the app afresh in that browser session."""
    form = AppTest.from_file(APP, default_timeout=60).run()
    form.text_input(key="login_username").input(username)
    form.text_input(key="login_password").input(password)
    form.button[0].click().run()
    assert "login_token" in form.session_state, "the login was refused"
    # AppTest keeps running the page it last ran; a browser follows st.navigation to the next one.
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["login_token"] = form.session_state["login_token"]
    return at.run()


def _audit_count(demo_db, action: str) -> int:
    with reading(_engine(demo_db)) as session:
        return int(session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)))


def test_a_login_that_must_change_its_password_gets_only_the_change_page(demo_db):
    at = _log_in(_new_login(demo_db), TEMP)
    assert not at.exception
    assert "请设置只有您知道的新密码" in _texts(at)
    assert [t.value for t in at.title] == ["修改密码"]
    for page in ("pages/home.py", "pages/registers.py"):
        try:
            at.switch_page(page)
        except ValueError:
            continue
        raise AssertionError(f"{page} is in the navigation before the password is changed")


def test_a_page_run_directly_before_the_change_refuses_and_shows_no_data(demo_db):
    at = _log_in(_new_login(demo_db), TEMP)
    direct = AppTest.from_file(str(ROOT / "pages/registers.py"), default_timeout=60)
    direct.session_state["login_token"] = at.session_state["login_token"]
    direct.run()
    assert "请先修改密码" in _texts(direct)
    assert not direct.dataframe


def test_after_the_change_the_role_pages_open_and_the_new_password_is_the_one(demo_db):
    username = _new_login(demo_db)
    at = _log_in(username, TEMP)
    at.text_input(key="pw_current").input(TEMP)
    at.text_input(key="pw_new").input(NEW)
    at.text_input(key="pw_repeat").input(NEW)
    at.button(key="pw_submit").click().run()
    assert not at.exception
    assert "密码已修改" in _texts(at)
    at.switch_page("pages/registers.py").run()
    assert [t.value for t in at.title] == ["对象台账"]
    with reading(_engine(demo_db)) as session:
        user = session.scalar(select(User).where(User.username == username))
    assert not user.must_change_password and auth.verify_password(user.password_hash, NEW)


def test_a_weak_new_password_gets_the_rule_and_the_change_stays_due(demo_db):
    username = _new_login(demo_db)
    at = _log_in(username, TEMP)
    at.text_input(key="pw_current").input(TEMP)
    at.text_input(key="pw_new").input("abcdefghij")
    at.text_input(key="pw_repeat").input("abcdefghij")
    at.button(key="pw_submit").click().run()
    assert "密码须包含" in _texts(at) or "三类" in _texts(at)
    with reading(_engine(demo_db)) as session:
        assert session.scalar(select(User.must_change_password).where(User.username == username))


def _users_tab() -> None:
    import ui
    from ui import admin_users

    admin_users.render(ui.require_page("admin"))


def test_the_users_tab_creates_a_login_that_must_change_its_password(app_as, demo_db):
    admin = app_as("admin")
    at = AppTest.from_function(_users_tab, default_timeout=60)
    at.session_state["login_token"] = admin.session_state["login_token"]
    at.run()
    assert not at.exception
    assert demo_db["accounts"]["township"]["username"] in set(at.dataframe[0].value.iloc[:, 0])
    before = _audit_count(demo_db, "user.create")
    at.text_input(key="new_user_username").input("tab_made")
    at.selectbox(key="new_user_role").set_value("county")
    at.selectbox(key="new_user_area").set_value(None)
    at.text_input(key="new_user_password").input(TEMP)
    at.button(key="new_user_submit").click().run()
    assert not at.exception
    assert "账号“tab\\_made”已创建" in _texts(at)
    with reading(_engine(demo_db)) as session:
        made = session.scalar(select(User).where(User.username == "tab_made"))
    assert made.role == "county" and made.must_change_password
    assert _audit_count(demo_db, "user.create") == before + 1


def test_the_users_tab_refuses_a_weak_temporary_password_in_chinese(app_as, demo_db):
    admin = app_as("admin")
    at = AppTest.from_function(_users_tab, default_timeout=60)
    at.session_state["login_token"] = admin.session_state["login_token"]
    at.run()
    at.text_input(key="new_user_username").input("weak_one")
    at.text_input(key="new_user_password").input("123")
    at.button(key="new_user_submit").click().run()
    assert "密码至少 10 个字符" in _texts(at)
    with reading(_engine(demo_db)) as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == "weak_one")) == 0


def test_the_audit_page_lists_filters_and_verifies_the_chain(app_as, demo_db):
    at = app_as("admin")
    at.run()
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    assert at.dataframe, "the log shows events"
    at.selectbox(key="audit_action").set_value("login").run()
    shown = at.dataframe[0].value
    assert set(shown.iloc[:, 3]) == {"登录"}
    at.button(key="audit_verify").click().run()
    assert "哈希链完整" in _texts(at)


def test_a_denied_page_is_recorded_in_the_audit_log(app_as, demo_db):
    before = _audit_count(demo_db, "page.open")
    at = app_as("county")
    direct = AppTest.from_file(str(ROOT / "pages/audit.py"), default_timeout=60)
    direct.session_state["login_token"] = at.session_state["login_token"]
    direct.run()
    assert "您的角色无权打开此页面" in _texts(direct)
    assert _audit_count(demo_db, "page.open") == before + 1


def test_the_users_tab_deactivates_the_chosen_login_and_ends_its_session(app_as, demo_db):
    username = _new_login(demo_db)
    with transaction(_engine(demo_db)) as session:
        user = session.scalar(select(User).where(User.username == username))
        token = auth.start_session(session, user=user)
    admin = app_as("admin")
    at = AppTest.from_function(_users_tab, default_timeout=60)
    at.session_state["login_token"] = admin.session_state["login_token"]
    at.run()
    row = list(at.dataframe[0].value.iloc[:, 0]).index(username)
    at.session_state["admin_users_table"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert username.replace("_", "\\_") in _texts(at)
    next(b for b in at.button if b.label == "停用账号").click().run()
    assert not at.exception
    assert "账号已停用" in _texts(at)
    with reading(_engine(demo_db)) as session:
        assert not session.scalar(select(User.active).where(User.username == username))
    # The deactivated user's next click meets the login page.
    theirs = AppTest.from_file(APP, default_timeout=60)
    theirs.session_state["login_token"] = token
    theirs.run()
    assert [t.value for t in theirs.title] == ["乡村关爱地图 · 登录"]


def test_a_role_change_ends_the_session_at_the_next_click(demo_db):
    from care.services.users import change_access

    username = _new_login(demo_db)
    engine = _engine(demo_db)
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == username))
        user.must_change_password = False
        token = auth.start_session(session, user=user)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["login_token"] = token
    at.run()
    at.switch_page("pages/person_new.py").run()
    assert [t.value for t in at.title] == ["新建对象"]
    with transaction(engine) as session:
        admin = auth.scope_of(
            session.scalar(select(User).where(User.username == demo_db["accounts"]["admin"]["username"]))
        )
        user = session.scalar(select(User).where(User.username == username))
        change_access(
            session, admin, user_id=user.id, seen_version=user.version, role="county", area_code=admin.area_code
        )
    at.run()
    # The page it was on asks for a new login: the new role starts with a new session.
    assert "登录已过期或已退出" in _texts(at)
    assert not at.dataframe and not at.button
    again = AppTest.from_file(APP, default_timeout=60)
    again.session_state["login_token"] = token
    again.run()
    assert [t.value for t in again.title] == ["乡村关爱地图 · 登录"]


def _person_page(token: str, ref: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages/person.py"), default_timeout=60)
    at.session_state["login_token"] = token
    at.query_params["ref"] = ref
    return at.run()


def test_a_link_to_a_person_outside_the_scope_answers_as_a_missing_one_and_is_audited(app_as, demo_db):
    from db.models import Person

    at = app_as("township")
    token = at.session_state["login_token"]
    with reading(_engine(demo_db)) as session:
        area = session.scalar(
            select(User.area_code).where(User.username == demo_db["accounts"]["township"]["username"])
        )
        outside = session.scalar(select(Person.id).where(~Person.village_code.startswith(area[:9])).limit(1))
        inside = session.scalar(select(Person.id).where(Person.village_code.startswith(area[:9])).limit(1))
    before = _audit_count(demo_db, "person.view")
    outside_ref, inside_ref = person_ref(demo_db["path"], outside), person_ref(demo_db["path"], inside)
    hidden, missing, garbled = (_person_page(token, r) for r in (outside_ref, "A" * 16, "<script>'; --"))
    own = _person_page(token, inside_ref)
    assert _texts(hidden) == _texts(missing) == _texts(garbled) and "记录不存在或无权查看" in _texts(hidden)
    assert not hidden.exception and not hidden.toggle and not hidden.dataframe
    assert "记录不存在" not in _texts(own)
    # The row number is no way in either: only the reference opens a file.
    assert "记录不存在或无权查看" in _texts(_person_page(token, str(inside)))
    with reading(_engine(demo_db)) as session:
        outcomes = list(
            session.scalars(
                select(AuditEvent.outcome).where(AuditEvent.action == "person.view").order_by(AuditEvent.id)
            )
        )[before:]
    assert outcomes == ["denied", "denied", "denied", "success", "denied"]
