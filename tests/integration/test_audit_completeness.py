"""Every audited action, performed once, leaves exactly one audit event, with no full ID or phone in it.

One row per action: (name, expected action, expected outcome, act). ``act(engine, world)`` does
the action the way the app does (one write transaction; a refusal goes through
``audit.denials_survive`` like ``ui.write``). Actions built later are one row each.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from care import audit, auth, services
from care.domain import policy
from care.domain.errors import CareError
from care.files.exports import ExportMeta, csv_bytes, record_export
from care.imports import run_import
from care.queries.audit_log import AuditFilter
from care.services import users
from care.services.areas import import_area_codes, merge_areas
from care.services.assignments import assign_worker, set_worker_active
from care.services.audit_log import export_audit_csv
from care.services.maps import record_map_export
from care.services.needs import move_need, raise_need
from care.services.schedule import fix_day, generate_week
from care.services.visit_policy import save_policy
from care.services.visits import record_visit, update_visit
from db.models import AuditEvent, Enrollment, Need, Person, ScheduleDay, User, Visit
from db.session import reading, transaction
from tests.fixtures.scope import ScopeFixture, fixture_id_number

PASSWORD = "Known-Pass-2026"
FULL_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")
FULL_PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
Act = Callable[[Any, ScopeFixture], None]


def _write(engine, fn: Callable[[Any], Any]) -> None:
    """One write as the app makes it: a refusal is audited after the rollback, and swallowed here."""
    try:
        with audit.denials_survive(engine), transaction(engine) as session:
            fn(session)
    except CareError:
        pass


def _person(engine, world: ScopeFixture, key: str = "a1_child_w1") -> Person:
    with reading(engine) as session:
        return session.get(Person, world.persons[key])


def _enrollment(engine, world: ScopeFixture, key: str = "a1_child_w1") -> Enrollment:
    with reading(engine) as session:
        return session.scalar(select(Enrollment).where(Enrollment.person_id == world.persons[key]))


def _login_user(engine, username: str = "township_a") -> None:
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == username))
        user.password_hash = auth.hash_password(PASSWORD)


def _authenticate(password: str, username: str = "township_a") -> Act:
    def act(engine, world):
        with transaction(engine) as session:
            auth.authenticate(session, username=username, password=password)

    return act


def _prepare_lockout(engine, world):
    _login_user(engine)
    for _ in range(auth.MAX_FAILURES - 1):
        _authenticate("wrong")(engine, world)


def _prepare_locked(engine, world):
    _prepare_lockout(engine, world)
    _authenticate("wrong")(engine, world)


def _logout(engine, world):
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == "township_a"))
        token = auth.start_session(session, user=user)
    with transaction(engine) as session:
        auth.end_session(session, token=token)


def _view(full_id: bool, key: str = "a1_child_w1", who: str = "township_a") -> Act:
    def act(engine, world):
        _write(
            engine,
            lambda s: services.record_person_view(s, world.scopes[who], person_id=world.persons[key], full_id=full_id),
        )

    return act


def _create_person(engine, world):
    values = {
        "id_number": fixture_id_number(dt.date(1948, 5, 6), 60, "F"),
        "name": "新老人",
        "village_code": world.village_a1,
        "phone": "13912345678",
    }
    _write(engine, lambda s: services.create_person(s, world.scopes["township_a"], values=values))


def _update_person(engine, world):
    person = _person(engine, world)
    _write(
        engine,
        lambda s: services.update_person(
            s,
            world.scopes["township_a"],
            person_id=person.id,
            seen_version=person.version,
            values={"phone": "13711112222", "address": "新地址"},
        ),
    )


def _delete_person(engine, world):
    person = _person(engine, world)
    _write(
        engine,
        lambda s: services.soft_delete_person(
            s, world.scopes["township_a"], person_id=person.id, seen_version=person.version, reason="重复"
        ),
    )


def _restore_person(engine, world):
    person = _person(engine, world, "a1_deleted")
    _write(
        engine,
        lambda s: services.restore_person(
            s, world.scopes["township_a"], person_id=person.id, seen_version=person.version
        ),
    )


def _enroll(engine, world):
    _write(
        engine,
        lambda s: services.enroll(
            s,
            world.scopes["township_a"],
            person_id=world.persons["a1_elder_unassigned"],
            group="disabled",
            subtype="uncertified",
            start_date=dt.date(2026, 6, 1),
            facts={"category": 4, "grade": 3},
        ),
    )


def _update_enrollment(engine, world):
    e = _enrollment(engine, world)
    _write(
        engine,
        lambda s: services.update_enrollment(
            s,
            world.scopes["township_a"],
            enrollment_id=e.id,
            seen_version=e.version,
            subtype=e.subtype,
            facts={"guardianship": "relative", "schooling": "primary", "guardian_phone": "13600001111"},
        ),
    )


def _exit_enrollment(engine, world):
    e = _enrollment(engine, world)
    _write(
        engine,
        lambda s: services.exit_enrollment(
            s,
            world.scopes["township_a"],
            enrollment_id=e.id,
            seen_version=e.version,
            reason="parent_returned",
            end_date=dt.date(2026, 6, 9),
        ),
    )


def _assign(engine, world):
    e = _enrollment(engine, world, "a1_elder_unassigned")
    _write(
        engine,
        lambda s: assign_worker(s, world.scopes["township_a"], worker_id=world.workers["w1"], seen={e.id: None}),
    )


def _visit(engine, world):
    e = _enrollment(engine, world)
    _write(
        engine,
        lambda s: record_visit(
            s,
            world.scopes["coord_1"],
            person_id=world.persons["a1_child_w1"],
            enrollment_ids=[e.id],
            status="done",
            mode="home",
            visited_at=dt.datetime(2026, 6, 10, 8, 30),
            notes="监护人电话 13800001111，身份证见档案",
        ),
    )


def _import_roster(engine, world):
    id_number = fixture_id_number(dt.date(1950, 2, 2), 40, "F")
    header = "姓名,公民身份号码,村(社区)代码,关爱类别,联系电话\n"
    data = header + f"王奶奶,{id_number},{world.village_a1},空巢老人,13912345678\n"
    report = run_import(
        engine, world.scopes["township_a"], kind="roster", data=data.encode("utf-8-sig"), filename="名单.csv"
    )
    assert report.committed == 1


def _prepare_visit(engine, world):
    _visit(engine, world)


def _update_visit(engine, world):
    with reading(engine) as session:
        visit = session.scalar(select(Visit).order_by(Visit.id.desc()))
    _write(
        engine,
        lambda s: update_visit(
            s,
            world.scopes["coord_1"],
            visit_id=visit.id,
            seen_version=visit.version,
            status="done",
            mode="home",
            visited_at=visit.visited_at,
            notes="补充：监护人 13800001111 已联系",
        ),
    )


def _raise_need(engine, world):
    _write(
        engine,
        lambda s: raise_need(
            s, world.scopes["township_a"], person_id=world.persons["a1_child_w1"], kind="schooling", description="助学"
        ),
    )


def _move_need(engine, world):
    with reading(engine) as session:
        need = session.scalar(select(Need).order_by(Need.id.desc()))
    _write(
        engine,
        lambda s: move_need(
            s, world.scopes["township_a"], need_id=need.id, seen_version=need.version, status="in_progress"
        ),
    )


def _import_visits(engine, world):
    id_number = _person(engine, world).id_number
    data = "公民身份号码,关爱类别,巡访日期,巡访状态,巡访方式,巡访人,情况记录\n"
    data += f"{id_number},留守儿童,2026-06-09,已访,上门,,电话 13912345678 联系过\n"
    report = run_import(engine, world.scopes["coord_1"], kind="visits", data=data.encode("utf-8-sig"), filename="v.csv")
    assert report.committed == 1, report.as_json()


def _change_policy(engine, world):
    intervals = {**policy.DEFAULT_INTERVALS, ("child", "low"): 21}
    _write(
        engine,
        lambda s: save_policy(
            s,
            world.scopes["admin"],
            county_code=world.county,
            intervals=intervals,
            phone=False,
            limit=8,
            seen_version=1,
        ),
    )


def _plan_week(engine, world):
    _write(
        engine,
        lambda s: generate_week(
            s, world.scopes["township_a"], worker_id=world.workers["w1"], week_start=dt.date(2026, 6, 10)
        ),
    )


def _fix_day(engine, world):
    day = dt.date(2026, 6, 10)
    with reading(engine) as session:
        row = session.scalar(select(ScheduleDay).where(ScheduleDay.day == day))
    _write(
        engine,
        lambda s: fix_day(
            s, world.scopes["township_a"], worker_id=world.workers["w1"], day=day, fixed=True, seen_version=row.version
        ),
    )


def _worker_away(engine, world):
    _write(
        engine, lambda s: set_worker_active(s, world.scopes["township_a"], worker_id=world.workers["w2"], active=False)
    )


def _import_areas(engine, world):
    data = f"代码,名称\n{world.township_a[:9]}209,新建村\n".encode("utf-8-sig")
    _write(engine, lambda s: import_area_codes(s, world.scopes["admin"], data=data))


def _merge_villages(engine, world):
    sources = [world.village_a1, world.village_a2]
    _write(engine, lambda s: merge_areas(s, world.scopes["admin"], sources=sources, target=world.village_a1))


def _report_export(fmt: str, who: str = "county", unmasked: bool = False) -> Act:
    def act(engine, world):
        meta = ExportMeta(world.county, "青山县", "2026-06", who, dt.datetime(2026, 6, 10, 9), unmasked=unmasked)
        frame = pd.DataFrame({"id_number": [_person(engine, world).id_number], "phone": ["13800001111"]})
        data = csv_bytes(frame, "zh", unmasked=unmasked)
        reason = "民政部门核对名单 13800001111" if unmasked else ""
        _write(
            engine,
            lambda s: record_export(
                s, scope=world.scopes[who], fmt=fmt, data=data, rows=1, meta=meta, what="overdue", reason=reason
            ),
        )

    return act


def _map_export(engine, world):
    with transaction(engine) as session:
        record_map_export(session, world.scopes["township_a"], area_code=world.township_a, detail={"points": 6})


def _audit_export(engine, world):
    _write(engine, lambda s: export_audit_csv(s, world.scopes["admin"], flt=AuditFilter(), headers=list("abcdefgh")))


def _user(engine, username: str) -> User:
    with reading(engine) as session:
        return session.scalar(select(User).where(User.username == username))


def _create_user(engine, world):
    _write(
        engine,
        lambda s: users.create_user(
            s,
            world.scopes["admin"],
            username="new_login",
            display_name="",
            role="county",
            area_code=world.county,
            worker_id=None,
            password=PASSWORD,
        ),
    )


def _change_role(engine, world):
    user = _user(engine, "township_b")
    _write(
        engine,
        lambda s: users.change_access(
            s, world.scopes["admin"], user_id=user.id, seen_version=user.version, role="county", area_code=world.county
        ),
    )


def _set_active(active: bool) -> Act:
    def act(engine, world):
        user = _user(engine, "township_b")
        _write(
            engine,
            lambda s: users.set_active(
                s, world.scopes["admin"], user_id=user.id, seen_version=user.version, active=active
            ),
        )

    return act


def _deactivate_township_b(engine, world):
    _set_active(False)(engine, world)


def _reset_password(engine, world):
    user = _user(engine, "township_b")
    _write(
        engine,
        lambda s: users.reset_password(
            s, world.scopes["admin"], user_id=user.id, seen_version=user.version, password=PASSWORD
        ),
    )


def _change_own_password(engine, world):
    _login_user(engine)
    with transaction(engine) as session:
        scope = auth.scope_of(session.scalar(select(User).where(User.username == "township_a")))
    _write(
        engine,
        lambda s: users.change_own_password(
            s, scope, current=PASSWORD, new="Brand-New-Pass-1", repeat="Brand-New-Pass-1"
        ),
    )


def _denied_create(engine, world):
    values = {
        "id_number": fixture_id_number(dt.date(1948, 5, 6), 61, "M"),
        "name": "x",
        "village_code": world.village_a1,
    }
    _write(engine, lambda s: services.create_person(s, world.scopes["coord_1"], values=values))


def _denied_user_manage(engine, world):
    user = _user(engine, "coord_1")
    _write(
        engine,
        lambda s: users.reset_password(
            s, world.scopes["township_a"], user_id=user.id, seen_version=user.version, password=PASSWORD
        ),
    )


def _denied_import(engine, world):
    run_import(engine, world.scopes["county"], kind="roster", data=b"x", filename="x.csv")


def _nothing(engine, world):
    return None


# (name, prepare, act, expected action, expected outcome)
ROWS: list[tuple[str, Act, Act, str, str]] = [
    ("login success", lambda e, w: _login_user(e), _authenticate(PASSWORD), "login", "success"),
    ("login failure", lambda e, w: _login_user(e), _authenticate("wrong"), "login", "failure"),
    ("login of an unknown user", _nothing, _authenticate("x", "nobody_here"), "login", "failure"),
    ("login lockout", _prepare_lockout, _authenticate("wrong"), "login", "lockout"),
    ("login while locked", _prepare_locked, _authenticate(PASSWORD), "login", "locked"),
    ("logout", _nothing, _logout, "logout", "success"),
    ("person-file view", _nothing, _view(False), "person.view", "success"),
    ("full ID view", _nothing, _view(True), "person.view_full_id", "success"),
    ("person create", _nothing, _create_person, "person.create", "success"),
    ("person update (old -> new)", _nothing, _update_person, "person.update", "success"),
    ("soft delete", _nothing, _delete_person, "person.delete", "success"),
    ("restore", _nothing, _restore_person, "person.restore", "success"),
    ("enroll", _nothing, _enroll, "enrollment.create", "success"),
    ("enrollment update", _nothing, _update_enrollment, "enrollment.update", "success"),
    ("enrollment exit", _nothing, _exit_enrollment, "enrollment.exit", "success"),
    ("assignment change", _nothing, _assign, "assignment.change", "success"),
    ("visit record", _nothing, _visit, "visit.record", "success"),
    ("roster import", _nothing, _import_roster, "import.roster", "success"),
    ("visit update (old -> new)", _prepare_visit, _update_visit, "visit.update", "success"),
    ("need raised", _nothing, _raise_need, "need.create", "success"),
    ("need moved", _raise_need, _move_need, "need.update", "success"),
    ("visit import", _nothing, _import_visits, "import.visits", "success"),
    ("visit policy change", _nothing, _change_policy, "policy.change", "success"),
    ("week planned", _nothing, _plan_week, "schedule.generate", "success"),
    ("planned day fixed", _plan_week, _fix_day, "schedule.fix_day", "success"),
    ("worker marked away", _nothing, _worker_away, "worker.active", "success"),
    ("area code list import", _nothing, _import_areas, "area.import", "success"),
    ("villages merged", _nothing, _merge_villages, "area.merge", "success"),
    ("report workbook export", _nothing, _report_export("xlsx"), "export.xlsx", "success"),
    ("report list CSV export", _nothing, _report_export("csv", "township_a"), "export.csv", "success"),
    ("report PDF export", _nothing, _report_export("pdf"), "export.pdf", "success"),
    ("unmasked export with a reason", _nothing, _report_export("xlsx", unmasked=True), "export.xlsx", "success"),
    ("denied: unmasked export", _nothing, _report_export("xlsx", "township_a", True), "export.unmasked", "denied"),
    ("map export", _nothing, _map_export, "map.export", "success"),
    ("audit log export", _nothing, _audit_export, "export.audit_csv", "success"),
    ("permission change: create login", _nothing, _create_user, "user.create", "success"),
    ("permission change: role and area", _nothing, _change_role, "user.change_role", "success"),
    ("permission change: deactivate", _nothing, _set_active(False), "user.deactivate", "success"),
    ("permission change: reactivate", _deactivate_township_b, _set_active(True), "user.reactivate", "success"),
    ("permission change: reset password", _nothing, _reset_password, "user.reset_password", "success"),
    ("own password change", _nothing, _change_own_password, "user.change_password", "success"),
    ("denied: role may not create", _nothing, _denied_create, "person.create", "denied"),
    ("denied: full ID without the right", _nothing, _view(True, who="coord_1"), "person.view_full_id", "denied"),
    ("denied: person outside scope", _nothing, _view(False, "b1_child_w4"), "person.view", "denied"),
    ("denied: tampered person id", _nothing, _view(False, "a1_child_w1", "coord_2"), "person.view", "denied"),
    ("denied: user management", _nothing, _denied_user_manage, "user.manage", "denied"),
    ("denied: import", _nothing, _denied_import, "import.roster", "denied"),
]


def _events_after(engine, last_id: int) -> list[AuditEvent]:
    with reading(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)))


def _text_of(event: AuditEvent) -> str:
    return " ".join(
        [event.username, event.action, event.entity, event.entity_id, json.dumps(event.detail, ensure_ascii=False)]
    )


@pytest.mark.parametrize(("name", "prepare", "act", "action", "outcome"), ROWS, ids=[r[0] for r in ROWS])
def test_each_action_leaves_exactly_one_event_without_a_full_id_or_phone(
    engine, world, name, prepare, act, action, outcome
):
    prepare(engine, world)
    with reading(engine) as session:
        last = int(session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0))))
    act(engine, world)
    events = _events_after(engine, last)
    assert sorted((e.action, e.outcome) for e in events) == [(action, outcome)], name
    for event in events:
        text = _text_of(event)
        assert not FULL_ID.search(text) and not FULL_PHONE.search(text), text
    with reading(engine) as session:
        assert audit.verify_chain(session) == []


def test_an_update_event_holds_the_old_and_the_new_values(engine, world):
    _update_person(engine, world)
    with reading(engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "person.update"))
    assert event.detail["old"]["address"] != event.detail["new"]["address"] == "新地址"
    assert event.detail["new"]["phone"] == "137****2222"


def test_no_event_the_scope_fixture_wrote_holds_a_full_id_or_phone(engine, world):
    with reading(engine) as session:
        events = list(session.scalars(select(AuditEvent)))
    assert events
    assert [e.id for e in events if FULL_ID.search(_text_of(e)) or FULL_PHONE.search(_text_of(e))] == []
