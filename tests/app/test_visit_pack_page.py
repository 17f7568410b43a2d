"""我的巡访's offline pack in AppTest: PIN rules, the pack made and offered, result files checked and imported."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

from sqlalchemy import func, select

from care.domain import clock
from care.files import visit_pack
from db.models import Assignment, AuditEvent, Enrollment, User, Visit, VisitPack
from db.session import get_engine, reading

PIN = "730516"


def _open(own_app_as):
    at = own_app_as("coordinator")
    at.run()
    at.switch_page("pages/my_visits.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _make(at, pin, again=None):
    at.text_input(key="visit_pack_pin").input(pin)
    at.text_input(key="visit_pack_pin2").input(again if again is not None else pin)
    next(b for b in at.button if b.label == "生成巡访包").click().run()
    return at


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "success", "info") for e in getattr(at, kind))


def _pack_row(own_demo_db):
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        return session.scalar(select(VisitPack).order_by(VisitPack.created_at.desc()).limit(1))


def test_a_trivial_or_mistyped_pin_makes_no_pack(own_app_as, own_demo_db):
    at = _make(_open(own_app_as), "111111")
    assert "太容易" in _texts(at)
    at = _make(at, "730516", "730517")
    assert "不一致" in _texts(at)
    assert _pack_row(own_demo_db) is None


def test_a_good_pin_makes_the_pack_and_offers_it_for_download(own_app_as, own_demo_db):
    at = _make(_open(own_app_as), PIN)
    assert not at.exception
    assert "巡访包已生成" in _texts(at)
    row = _pack_row(own_demo_db)
    assert row is not None and row.person_ids
    html = at.session_state["visit_pack_file"][0].decode("utf-8")
    data = visit_pack.unseal(visit_pack.sealed_of(html), PIN)
    assert data["pack_id"] == row.id


def _result(own_demo_db, *, key=None):
    row = _pack_row(own_demo_db)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == own_demo_db["accounts"]["coordinator"]["username"]))
        assert row.worker_id == user.worker_id
    pid = row.person_ids[0]
    with reading(engine) as session:
        enrollment = session.scalar(
            select(Enrollment.id)
            .join(Assignment, Assignment.enrollment_id == Enrollment.id)
            .where(Enrollment.person_id == pid, Assignment.worker_id == row.worker_id, Enrollment.end_date.is_(None))
        )
    when = (clock.now() - dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    visit = {
        "client_token": uuid.uuid4().hex,
        "person_id": pid,
        "enrollment_ids": [enrollment],
        "status": "not_met",
        "mode": "home",
        "visited_at": when.isoformat(),
        "findings": {},
        "notes": "{{7*7}} <b>x</b>",
        "cancel_reason": "",
        "need": None,
        "situation": None,
    }
    return visit_pack.result_file(key or base64.b64decode(row.hmac_key), row.id, [visit])


def _edited(payload: str) -> str:
    """The sealed payload with one bit of its ciphertext flipped (an edit made without the key)."""
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def _upload(at, data):
    at.file_uploader[0].set_value(("results.json", data, "application/json"))
    at.run()
    return at


def test_a_result_file_is_checked_then_imported_once(own_app_as, own_demo_db):
    at = _make(_open(own_app_as), PIN)
    file = _result(own_demo_db)
    at = _upload(at, file)
    assert "新记录 1 条" in "\n".join(str(m.value) for m in at.markdown)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        before = session.scalar(select(func.count()).select_from(Visit))
    at.button(key="visit_pack_confirm_0").click().run()
    assert not at.exception
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == before + 1
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_pack.upload"))
    assert event.detail["written"] == 1
    at = _upload(at, file)
    assert "已导入过 1 条" in "\n".join(str(m.value) for m in at.markdown)
    at.button(key="visit_pack_confirm_1").click().run()
    assert "都已导入过" in _texts(at)
    with reading(engine) as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == before + 1


def test_an_edited_result_file_is_refused_in_the_users_language_and_audited(own_app_as, own_demo_db):
    at = _make(_open(own_app_as), PIN)
    outer = json.loads(_result(own_demo_db))
    outer["payload"] = _edited(outer["payload"])
    at = _upload(at, json.dumps(outer).encode("utf-8"))
    assert "签名不符" in _texts(at)
    assert not [b for b in at.button if b.key and b.key.startswith("visit_pack_confirm")]
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        refused = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "visit_pack.upload", AuditEvent.outcome == "failure")
        )
    assert refused == 1
