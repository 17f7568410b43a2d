"""Hostile text planted everywhere users type it: every page shows it as typed, never as Markdown.

Person names, addresses, notes, override reasons, exit notes, need descriptions, a county,
township and village name, a worker's name and a user's display name each hold a payload of
tests/hostile.py. Every page then runs for the roles that see it, and every element whose text
Streamlit reads as Markdown (markdown, captions, headings, alerts, toasts, widget labels and
help, expander and tab labels, radio and pill options) may show a payload only escaped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

import ui
from care import services
from care.auth import scope_of
from care.domain import clock
from care.scope import ROLE_PAGES
from care.services.areas import import_area_codes
from care.services.assignments import assign_worker
from care.services.needs import raise_need
from care.services.users import create_user
from care.services.visits import record_visit
from db.models import Area, Assignment, Enrollment, Person, User, Worker
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref
from tests.app.test_pages import PAGE_FILES
from tests.hostile import all_texts, person_values

TEXTS = all_texts()
COUNTY_NAME = ":red[red] :material/home: $x^2$"
TOWNSHIP_NAME = "> quote `code`"
VILLAGE_NAME = "<b>raw html</b> | a | b |"
WORKER_NAME = "**bold** _it_ [link](javascript:alert(1))"
REHAB_NAME = "`${alert(document.domain)}`"
DISPLAY_NAME = "# heading"
NEW_AREA_NAME = "{{ 7*7 }} **x**"
PLANTED = (*TEXTS, NEW_AREA_NAME)

# What Markdown reads as markup unless a backslash keeps it literal (the marks ui.md escapes).
MARKDOWN_SPECIALS = frozenset("\\`*_{}[]()<>#+-.!|~:$&")
# Streamlit finds :icon: and :emoji: shortcodes after Markdown ran: only a word joiner stops them.
SHORTCODE_NEXT = re.compile(r"[\w+-]")
# Proto fields Streamlit renders as Markdown, on every element that has them.
MARKDOWN_FIELDS = ("body", "label", "help", "text")
# Elements shown as plain text, code or data, and a metric's figure.
PLAIN_ELEMENTS = {"text", "code", "json", "html", "exception"}
PLAIN_FIELDS = {("metric", "body")}


def _as_read(source: str) -> tuple[str, list[bool]]:
    """What a reader sees of Markdown ``source``: its characters, each with whether it is literal."""
    chars: list[str] = []
    literal: list[bool] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == ui.WORD_JOINER:
            i += 1
            continue
        escaped = ch == "\\" and source[i + 1 : i + 2] in MARKDOWN_SPECIALS
        if escaped:
            i += 1
            ch = source[i]
        chars.append(ch)
        if ch == ":":
            literal.append(not SHORTCODE_NEXT.match(source[i + 1 : i + 2]))
        else:
            literal.append(escaped or ch not in MARKDOWN_SPECIALS)
        i += 1
    return "".join(chars), literal


def raw_payloads(source: str, payloads: tuple[str, ...] = PLANTED) -> list[str]:
    """The payloads that Markdown ``source`` holds unescaped (some mark of theirs would be markup)."""
    seen, literal = _as_read(source)
    found = []
    for payload in payloads:
        if payload in source and payload not in ui.md(payload):
            found.append(payload)
            continue
        start = seen.find(payload)
        while start != -1:
            if not all(literal[start : start + len(payload)]):
                found.append(payload)
                break
            start = seen.find(payload, start + 1)
    return found


def shown_payloads(source: str, payloads: tuple[str, ...] = PLANTED) -> set[str]:
    """The payloads a reader of Markdown ``source`` sees, character for character."""
    seen, _ = _as_read(source)
    return {p for p in payloads if p in seen}


BREAKOUT = "\\`);alert(1);//"


@pytest.mark.parametrize(
    ("source", "raw"),
    [
        (ui.md(WORKER_NAME), []),
        (f"将 {ui.md(WORKER_NAME)} 标记为外出", []),
        (f"将 {WORKER_NAME} 标记为外出", [WORKER_NAME]),
        (ui.md(COUNTY_NAME), []),
        # A backslash before a colon does not stop a shortcode: the word joiner does.
        (ui.md(COUNTY_NAME).replace(ui.WORD_JOINER, ""), [COUNTY_NAME]),
        ("a ` b", ["`"]),
        (ui.md("`"), []),
        (ui.md(BREAKOUT), []),
        (BREAKOUT, [BREAKOUT]),
        ("辖区：全县 · 2026-01-01", []),
    ],
)
def test_the_checker_tells_escaped_payloads_from_raw_ones(source, raw):
    assert raw_payloads(source, (WORKER_NAME, COUNTY_NAME, "`", BREAKOUT)) == raw


def _sources(at: AppTest) -> Iterator[tuple[str, str]]:
    """Every Markdown text of the run: (element kind and field, Markdown source)."""
    for node in (*at.main, *at.sidebar):
        proto = getattr(node, "proto", None)
        if proto is None or getattr(node, "type", "") in PLAIN_ELEMENTS or not hasattr(proto, "DESCRIPTOR"):
            continue
        fields = proto.DESCRIPTOR.fields_by_name
        for name in MARKDOWN_FIELDS:
            if (node.type, name) in PLAIN_FIELDS or name not in fields:
                continue
            if fields[name].type == fields[name].TYPE_STRING and getattr(proto, name):
                yield f"{node.type}.{name}", getattr(proto, name)
        if node.type == "radio":
            yield from (("radio.option", o) for o in proto.options)
        if node.type == "button_group":
            yield from (("button_group.option", o.content) for o in proto.options)


def check(at: AppTest, where: str) -> set[str]:
    """No exception, and no payload unescaped in any Markdown text; returns the payloads shown."""
    assert not at.exception, (where, [e.value for e in at.exception])
    shown: set[str] = set()
    for kind, source in _sources(at):
        assert raw_payloads(source) == [], (where, kind, source)
        shown |= shown_payloads(source)
    return shown


def _scope(session, username: str):
    return scope_of(session.scalar(select(User).where(User.username == username)))


def _code_list(rows: list[tuple[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("统计用区划代码", "名称", "纬度", "经度"))
    writer.writerows((code, name, "", "") for code, name in rows)
    return out.getvalue().encode("utf-8-sig")


def _plant(path) -> dict[str, Any]:
    """The payloads, written by the services the pages call (no service names a worker: renamed in place)."""
    engine = get_engine(str(path))
    with transaction(engine) as session:
        admin = _scope(session, "admin")
        township = _scope(session, "township")
        coordinator = _scope(session, "coordinator")
        village = session.scalar(
            select(Area).where(Area.parent_code == township.area_code, Area.level == "village").order_by(Area.code)
        )
        rehab = session.scalar(
            select(Worker).where(Worker.area_code == township.area_code, Worker.kind == "rehab_coordinator")
        )
        session.get(Worker, coordinator.worker_id).name = WORKER_NAME
        rehab.name = REHAB_NAME
        county_code = admin.area_code
        done = import_area_codes(
            session,
            admin,
            data=_code_list(
                [(county_code, COUNTY_NAME), (township.area_code, TOWNSHIP_NAME), (village.code, VILLAGE_NAME)]
            ),
        )
        assert not done.errors and done.updated == 3
        create_user(
            session,
            admin,
            username="hostile_user",
            display_name=DISPLAY_NAME,
            role="township",
            area_code=township.area_code,
            worker_id=None,
            password="Hostile-Passw0rd!",
        )
        persons: dict[str, int] = {}
        enrollments: dict[str, int] = {}
        for i, text in enumerate(TEXTS):
            saved = services.create_person(session, admin, values=person_values(i, text, village))
            enrolled = services.enroll(
                session,
                admin,
                person_id=saved.id,
                group="child",
                subtype="left_behind",
                start_date=clock.today() - dt.timedelta(days=60),
                facts={"guardianship": "grandparent", "schooling": "primary", "guardian_name": text},
                risk_override="high",
                risk_override_reason=text,
            )
            raise_need(session, admin, person_id=saved.id, kind="schooling", department=text[:64], description=text)
            persons[text], enrollments[text] = saved.id, enrolled.id
        current = {
            a.enrollment_id: a.worker_id
            for a in session.scalars(
                select(Assignment).where(
                    Assignment.enrollment_id.in_(list(enrollments.values())), Assignment.end_date.is_(None)
                )
            )
        }
        seen = {eid: current.get(eid) for eid in enrollments.values()}
        assign_worker(session, admin, worker_id=coordinator.worker_id, seen=seen, reason=TEXTS[0])
        for text in TEXTS[:3]:
            record_visit(
                session,
                coordinator,
                person_id=persons[text],
                enrollment_ids=[enrollments[text]],
                status="done",
                mode="home",
                visited_at=clock.now() - dt.timedelta(hours=1),
                notes=text,
            )
        _plant_services(session, admin, township, coordinator, persons, enrollments)
        exiting = TEXTS[-1]
        services.exit_enrollment(
            session,
            admin,
            enrollment_id=enrollments[exiting],
            seen_version=_version(session, enrollments[exiting]),
            reason="aged_out",
            end_date=clock.today(),
            note=exiting,
        )
    return {
        "persons": persons,
        "enrollments": enrollments,
        "village": village.code,
        "township": township.area_code,
        "worker": coordinator.worker_id,
        "rehab": rehab.id,
        "db": path,
    }


def _plant_services(session, admin, township, coordinator, persons, enrollments) -> None:
    """A provider, a pairing, an approved plan, orders and diary entries carrying the payloads."""
    from care.services import diary, orders, plans, service_list

    today = clock.today()
    provider = service_list.save_provider(
        session,
        admin,
        values=service_list.ProviderInput(
            kind="volunteer",
            name=TEXTS[0][:100],
            area_code=township.area_code,
            services=("tutoring",),
            note=TEXTS[1][:200],
        ),
    )
    for text in TEXTS[:3]:
        pid, eid = persons[text], enrollments[text]
        service_list.pair(
            session, township, person_id=pid, provider_id=provider.id, start_date=today, note=text[:200], today=today
        )
        draft = plans.save_draft(
            session,
            coordinator,
            enrollment_id=eid,
            goals=text,
            review_on=today + dt.timedelta(days=60),
            items=[plans.PlannedService("tutoring", 2, "month", provider.id, text[:200])],
            today=today,
        )
        sent = plans.submit_plan(session, coordinator, plan_id=draft.id, seen_version=draft.version)
        plans.approve_plan(session, township, plan_id=draft.id, seen_version=sent.version, today=today)
        orders.raise_order(
            session,
            coordinator,
            person_id=pid,
            values=orders.OrderInput(service_code="tutoring", source="phone", requested_by=text[:64], note=text),
            today=today,
        )
        diary.add_entry(session, coordinator, day=today, kind="heard", text=text, person_ids=[pid], today=today)


def _version(session, enrollment_id: int) -> int:
    return session.get(Enrollment, enrollment_id).version


@pytest.fixture(scope="module")
def planted(own_demo_db: dict) -> dict[str, Any]:
    return _plant(own_demo_db["path"])


def _open(own_app_as, role: str, page: str | None = None, ref: str | None = None, **state: Any) -> AppTest:
    """The app as ``role`` (its sidebar and home page checked), then ``page`` if given (?ref=… for a person)."""
    at = own_app_as(role)
    for key, value in state.items():
        at.session_state[key] = value
    if ref is not None:
        at.query_params["ref"] = ref
    at.run()
    check(at, f"{role} start")
    if page is not None:
        # AppTest runs only the page script from here on (no sidebar): a browser runs app.py too.
        at.switch_page(PAGE_FILES[page]).run()
    return at


PAGES_BY_ROLE = [
    (role, page) for role in ("admin", "township", "coordinator") for page in PAGE_FILES if page in ROLE_PAGES[role]
]


@pytest.mark.parametrize(("role", "page"), PAGES_BY_ROLE)
def test_every_page_shows_the_planted_payloads_only_escaped(own_app_as, planted, role, page):
    state: dict[str, Any] = {"my_visits_shown": 500, "my_visits_show": "all", "sched_worker_pick": planted["worker"]}
    ref = person_ref(planted["db"], planted["persons"][WORKER_NAME]) if page == "person" else None
    at = _open(own_app_as, role, page, ref, **state)
    shown = check(at, f"{role} {page}")
    if page == "my_visits":
        # Every name on the cards (the last payload's only enrollment has ended: no visit due).
        assert set(TEXTS[:-1]) <= shown


@pytest.mark.parametrize(("role", "area"), [("admin", COUNTY_NAME), ("township", TOWNSHIP_NAME)])
def test_the_sidebar_shows_the_users_area_escaped(own_app_as, planted, role, area):
    at = _open(own_app_as, role)
    assert any(area in shown_payloads(c.value) for c in at.sidebar.caption)


def test_the_person_file_of_every_payload_shows_it_as_typed(own_app_as, planted):
    for text, person_id in planted["persons"].items():
        at = _open(own_app_as, "admin", "person", person_ref(planted["db"], person_id))
        shown = check(at, f"person file of {text!r}")
        assert text in shown, text
        assert at.title[0].value == f"{ui.t('person_file.title')} · {ui.md(text)}"


def test_the_map_side_panel_shows_a_clicked_person_and_village_escaped(own_app_as, planted, monkeypatch):
    from ui import map_view

    for text in (WORKER_NAME, COUNTY_NAME, "<img src=x onerror=alert(1)>", "`", "{{ 7*7 }}"):
        person_id = planted["persons"][text]
        monkeypatch.setattr(map_view, "show_map", lambda m, t=text, p=person_id: f"{t}\n儿童 · 逾期未访\n#{p}")
        at = _open(own_app_as, "township", "map")
        shown = check(at, f"map panel of {text!r}")
        assert {text, TOWNSHIP_NAME, VILLAGE_NAME} <= shown, text
    monkeypatch.setattr(map_view, "show_map", lambda m: f"{VILLAGE_NAME}\n…\n{planted['village']}")
    at = _open(own_app_as, "admin", "map")
    assert VILLAGE_NAME in check(at, "map village panel")


def test_the_duty_button_of_a_worker_names_them_escaped(own_app_as, planted):
    at = own_app_as("township")
    at.run()
    at.switch_page(PAGE_FILES["assignments"]).run()
    check(at, "assignments")
    row = next(i for i, name in enumerate(at.dataframe[0].value.iloc[:, 0]) if name == WORKER_NAME)
    at.session_state["caseload_pick"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    assert WORKER_NAME in check(at, "caseload picked")
    assert any(WORKER_NAME in shown_payloads(b.label) for b in at.button if b.key == "worker_active")


def test_a_warning_about_an_assignment_names_the_worker_escaped(own_app_as, planted):
    at = own_app_as("township")
    at.run()
    at.switch_page(PAGE_FILES["assignments"]).run()
    at.session_state["asg_table"] = {"selection": {"rows": [0], "columns": []}}
    at.session_state["asg_village"] = planted["village"]
    at.session_state["asg_township"] = planted["township"]
    at.session_state["asg_group"] = "child"
    at.session_state["asg_fitting"] = False
    at.session_state["asg_target"] = planted["rehab"]
    at.run()
    check(at, "assign picked")
    # Warned before saving, by name, and saved only once confirmed.
    assert any(REHAB_NAME in shown_payloads(w.value) for w in at.warning)
    assert at.button(key="asg_apply").disabled
    at.checkbox(key=f"asg_misfit_ok_{planted['rehab']}").check().run()
    at.button(key="asg_apply").click().run()
    assert REHAB_NAME in check(at, "assign warning")
    assert any(REHAB_NAME in shown_payloads(w.value) for w in at.warning)


def test_messages_naming_a_county_or_an_existing_person_show_them_escaped(own_app_as, planted, own_demo_db):
    at = own_app_as("admin")
    at.run()
    at.switch_page(PAGE_FILES["person_new"]).run()
    at.text_input(key="new_name").input("新人")
    at.text_input(key="new_id").input("11010519491231002x")
    at.selectbox(key="new_village").set_value(planted["village"])
    at.number_input(key="new_lat").set_value(40.0)
    at.number_input(key="new_lon").set_value(100.0)
    at.button[-1].click().run()  # saved: the new file opens with the warning
    assert COUNTY_NAME in check(at, "created outside the county")
    assert any(COUNTY_NAME in shown_payloads(w.value) for w in at.warning)
    # The same warning after an edit of a payload person's file.
    person_id = planted["persons"][VILLAGE_NAME]
    at = _open(own_app_as, "admin", "person", person_ref(own_demo_db["path"], person_id))
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        form = f"edit_person_{person_id}_{session.get(Person, person_id).version}"
    at.number_input(key=f"{form}_lat").set_value(40.0)
    at.number_input(key=f"{form}_lon").set_value(100.0)
    next(b for b in at.button if b.label == "保存").click().run()
    assert COUNTY_NAME in check(at, "edited outside the county")
    assert any(COUNTY_NAME in shown_payloads(w.value) for w in at.warning)
    # The ID number of a payload person: the refusal names them.
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        taken = session.get(Person, planted["persons"][WORKER_NAME]).id_number
    at.switch_page(PAGE_FILES["person_new"]).run()
    at.text_input(key="new_name").input("重复")
    at.text_input(key="new_id").input(taken)
    at.selectbox(key="new_village").set_value(planted["village"])
    at.button[-1].click().run()
    assert WORKER_NAME in check(at, "duplicate refused")
    assert any(WORKER_NAME in shown_payloads(e.value) for e in at.error)


def test_the_admin_tabs_show_a_user_and_a_merge_plan_escaped(own_app_as, planted, own_demo_db):
    at = own_app_as("admin")
    at.run()
    at.switch_page(PAGE_FILES["admin"]).run()
    check(at, "admin")
    users = at.dataframe[0].value
    row = next(i for i, name in enumerate(users.iloc[:, 1]) if name == DISPLAY_NAME)
    at.session_state["admin_users_table"] = {"selection": {"rows": [row], "columns": []}}
    at.run()
    check(at, "admin user picked")
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        villages = session.scalars(
            select(Area.code)
            .where(Area.parent_code == planted["township"], Area.level == "village", Area.valid_to.is_(None))
            .order_by(Area.code)
        ).all()
        taken = set(session.scalars(select(Area.code).where(Area.parent_code == planted["township"])))
    new_code = next(c for c in (f"{planted['township'][:9]}{n:03d}" for n in range(900, 999)) if c not in taken)
    at.session_state["merge_level"] = "village"
    at.session_state["merge_sources"] = list(villages[1:3])
    at.session_state["merge_mode"] = "new"
    at.session_state["merge_new_code"] = new_code
    at.session_state["merge_new_name"] = NEW_AREA_NAME
    at.run()
    at.button(key="merge_preview").click().run()
    assert NEW_AREA_NAME in check(at, "merge plan")
