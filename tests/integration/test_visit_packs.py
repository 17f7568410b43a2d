"""Offline visit packs: issued for the coordinator's week, results signed, checked and written all or nothing."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from care import audit
from care.cli import admin
from care.domain.errors import ValidationError
from care.files import visit_pack
from care.services.enrollments import exit_enrollment
from care.services.visit_packs import apply_results, check_results, issue_pack
from care.services.visits import record_visit
from db.models import Assignment, AuditEvent, Enrollment, Need, Visit, VisitPack
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

PIN = "730516"
NEXT_DAY = dt.datetime.combine(FIXTURE_TODAY + dt.timedelta(days=1), dt.time(10, 0))
VISITED = "2026-06-11T09:15:00"


@pytest.fixture
def pack(engine, world, freeze_clock):
    """coord_1's pack, issued on the fixture day and opened with the PIN; the clock then moves on a day."""
    with transaction(engine) as session:
        issued = issue_pack(session, world.scopes["coord_1"], pin=PIN)
    data = visit_pack.unseal(visit_pack.sealed_of(issued.html), PIN)
    freeze_clock(NEXT_DAY)
    return issued, data


def _enrollment_ids(data, person_id):
    stop = next(s for s in data["stops"] if s["person_id"] == person_id)
    return [e["id"] for e in stop["enrollments"]]


def _visit(data, person_id, **values):
    in_pack = any(s["person_id"] == person_id for s in data["stops"])
    return {
        "client_token": uuid.uuid4().hex,
        "person_id": person_id,
        "enrollment_ids": _enrollment_ids(data, person_id) if in_pack else [1],
        "status": "done",
        "mode": "home",
        "visited_at": VISITED,
        "findings": {},
        "notes": "",
        "cancel_reason": "",
        "need": None,
        "situation": None,
        **values,
    }


def _file(data, visits, key=None):
    return visit_pack.result_file(key or base64.b64decode(data["hmac_key"]), data["pack_id"], visits)


def _edited(payload: str) -> str:
    """The sealed payload with one bit of its ciphertext flipped (an edit made without the key)."""
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode("ascii")


def _count(engine, model, *where):
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _upload(engine, world, file, user="coord_1", resolutions=None):
    with transaction(engine) as session:
        return apply_results(session, world.scopes[user], data=file, resolutions=resolutions)


def _two_visits(world, data):
    return [
        _visit(data, world.persons["a1_child_w1"], status="not_met", mode="home"),
        _visit(
            data,
            world.persons["a1_child_disabled"],
            findings={"safety": "ok", "health": "fair", "health_note": "咳嗽"},
            notes="</script><script>alert(1)</script>",
            need={"kind": "medical", "department": "卫生院", "description": "复查"},
        ),
    ]


def test_a_pack_holds_only_the_coordinators_persons_names_only_in_the_ciphertext(engine, world, pack):
    issued, data = pack
    mine = {world.persons["a1_child_w1"], world.persons["a1_child_disabled"]}
    assert set(issued.person_ids) == mine
    assert {s["person_id"] for s in data["stops"]} == mine
    assert "测试a1_child_w1" not in issued.html and "测试" not in issued.html
    assert all("*" in s["id_masked"] for s in data["stops"])
    with reading(engine) as session:
        row = session.get(VisitPack, issued.pack_id)
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_pack.download"))
    assert row.worker_id == world.workers["w1"] and row.state == "issued"
    assert base64.b64decode(row.hmac_key) == base64.b64decode(data["hmac_key"])
    assert PIN not in json.dumps({"salt": row.salt, "key": row.hmac_key}) and PIN not in issued.html
    assert set(event.detail["person_ids"]) == mine and event.entity_id == issued.pack_id
    assert row.expires_at - row.created_at == dt.timedelta(days=visit_pack.PACK_DAYS)


def test_the_pack_refuses_a_trivial_pin_and_a_coordinator_without_a_worker_week(engine, world):
    with transaction(engine) as session, pytest.raises(ValidationError) as refused:
        issue_pack(session, world.scopes["coord_1"], pin="123456")
    assert refused.value.key == "pack.pin_trivial"
    with transaction(engine) as session, pytest.raises(ValidationError) as refused:
        issue_pack(session, world.scopes["township_a"], pin=PIN)
    assert refused.value.key == "pack.coordinator_only"
    assert _count(engine, VisitPack) == 0


def test_results_are_written_with_their_need_and_counted_in_the_audit_log(engine, world, pack):
    issued, data = pack
    file = _file(data, _two_visits(world, data))
    assert b"script" not in file and "卫生院".encode() not in file and b"not_met" not in file
    applied = _upload(engine, world, file)
    assert (applied.written, applied.already, applied.conflicts) == (2, 0, 0)
    with reading(engine) as session:
        visits = session.scalars(select(Visit).where(Visit.client_token.is_not(None)).order_by(Visit.id)).all()
        need = session.scalar(select(Need))
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_pack.upload"))
        row = session.get(VisitPack, issued.pack_id)
    assert sorted(v.status for v in visits) == ["done", "not_met"]
    done = next(v for v in visits if v.status == "done")
    assert done.notes == "</script><script>alert(1)</script>" and done.findings["health_note"] == "咳嗽"
    assert done.visited_at == dt.datetime.fromisoformat(VISITED) and done.worker_id == world.workers["w1"]
    assert (need.kind, need.department, need.visit_id) == ("medical", "卫生院", done.id)
    assert (event.detail["written"], event.detail["visits"], event.detail["conflicts"]) == (2, 2, 0)
    assert row.state == "returned"


def test_the_same_result_file_twice_writes_nothing_the_second_time(engine, world, pack):
    _, data = pack
    file = _file(data, _two_visits(world, data))
    _upload(engine, world, file)
    before = (_count(engine, Visit), _count(engine, Need))
    again = _upload(engine, world, file)
    assert (again.written, again.already) == (0, 2)
    assert (_count(engine, Visit), _count(engine, Need)) == before


def _refusal(engine, world, file, user="coord_1"):
    before = _count(engine, Visit)
    with transaction(engine) as session, pytest.raises(ValidationError) as refused:
        apply_results(session, world.scopes[user], data=file)
    assert _count(engine, Visit) == before
    return refused.value.key


def test_an_edited_forged_or_unknown_result_file_is_refused(engine, world, pack):
    _, data = pack
    good = json.loads(_file(data, _two_visits(world, data)))
    edited = dict(good, payload=_edited(good["payload"]))
    assert _refusal(engine, world, json.dumps(edited).encode()) == "pack.bad_signature"
    forged = _file(data, _two_visits(world, data), key=b"x" * 32)
    assert _refusal(engine, world, forged) == "pack.bad_signature"
    unknown = visit_pack.result_file(b"k" * 32, "0" * 32, [])
    assert _refusal(engine, world, unknown) == "pack.unknown"
    assert _refusal(engine, world, b"\x89PNG not json") == "pack.result_not_json"
    other_pack = dict(good, pack_id="0" * 32)
    assert _refusal(engine, world, json.dumps(other_pack).encode()) == "pack.unknown"


def test_a_colleagues_upload_of_the_pack_is_refused_and_audited_as_denied(engine, world, pack):
    _, data = pack
    file = _file(data, _two_visits(world, data))
    with pytest.raises(ValidationError) as refused, audit.denials_survive(engine), transaction(engine) as session:
        apply_results(session, world.scopes["coord_2"], data=file)
    assert refused.value.key == "pack.foreign"
    assert _count(engine, AuditEvent, AuditEvent.action == "visit_pack.upload", AuditEvent.outcome == "denied") == 1
    assert _count(engine, Visit, Visit.client_token.is_not(None)) == 0


def test_results_are_taken_for_a_few_days_after_expiry_then_refused(engine, world, pack, freeze_clock):
    issued, data = pack
    file = _file(data, _two_visits(world, data))
    freeze_clock(issued.expires_at + dt.timedelta(days=visit_pack.RESULT_GRACE_DAYS, minutes=1))
    assert _refusal(engine, world, file) == "pack.result_expired"
    freeze_clock(issued.expires_at + dt.timedelta(days=visit_pack.RESULT_GRACE_DAYS - 1))
    assert _upload(engine, world, file).written == 2


def test_one_broken_visit_refuses_the_whole_file_and_each_problem_is_listed(engine, world, pack):
    _, data = pack
    visits = _two_visits(world, data)
    visits[1] |= {"status": "cancelled", "cancel_reason": ""}
    visits.append(_visit(data, world.persons["a1_child_w2"]))
    with reading(engine) as session:
        checked = check_results(session, world.scopes["coord_1"], data=_file(data, visits))
    keys = {(p.number, p.key) for p in checked.problems}
    assert (2, "visit.cancel_reason_required") in keys and (2, "visit.needs_need_visit") in keys
    assert (3, "pack.person_not_in_pack") in keys
    assert _refusal(engine, world, _file(data, visits)) == "pack.result_has_problems"


def test_a_visit_outside_the_packs_days_is_refused(engine, world, pack):
    _, data = pack
    early = [_visit(data, world.persons["a1_child_w1"], visited_at="2026-06-01T09:00:00")]
    with reading(engine) as session:
        checked = check_results(session, world.scopes["coord_1"], data=_file(data, early))
    assert [p.key for p in checked.problems] == ["pack.visit_outside_pack"]


def _colleague_visits(engine, world) -> int:
    """The supervisor records a visit to a person of the pack after it was made; that person's id."""
    pid = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        enrollment = session.scalar(select(Enrollment.id).where(Enrollment.person_id == pid))
        record_visit(
            session,
            world.scopes["township_a"],
            person_id=pid,
            enrollment_ids=[enrollment],
            status="done",
            mode="phone",
            visited_at=NEXT_DAY - dt.timedelta(hours=2),
        )
    return pid


def test_a_colleagues_visit_meanwhile_is_a_conflict_written_only_as_resolved(engine, world, pack):
    _, data = pack
    pid = _colleague_visits(engine, world)
    file = _file(data, _two_visits(world, data))
    with reading(engine) as session:
        checked = check_results(session, world.scopes["coord_1"], data=file)
    assert [(v.visit.person_id, v.conflict) for v in checked.conflicts] == [(pid, "visited")]
    assert _refusal(engine, world, file) == "pack.conflicts_unresolved"
    token = checked.conflicts[0].visit.client_token
    discarded = _upload(engine, world, file, resolutions={token: "discard"})
    assert (discarded.written, discarded.discarded, discarded.conflicts) == (1, 1, 1)
    assert _count(engine, Visit, Visit.client_token == token) == 0


def test_a_recorded_anyway_conflict_is_written(engine, world, pack):
    _, data = pack
    _colleague_visits(engine, world)
    visits = _two_visits(world, data)
    applied = _upload(engine, world, _file(data, visits), resolutions={visits[0]["client_token"]: "record"})
    assert applied.written == 2 and _count(engine, Visit, Visit.client_token == visits[0]["client_token"]) == 1


def test_an_exited_or_reassigned_person_can_only_be_discarded(engine, world, pack):
    _, data = pack
    exited, moved = world.persons["a1_child_w1"], world.persons["a1_child_disabled"]
    with transaction(engine) as session:
        e = session.scalar(select(Enrollment).where(Enrollment.person_id == exited))
        exit_enrollment(
            session,
            world.scopes["township_a"],
            enrollment_id=e.id,
            seen_version=e.version,
            reason="other",
            end_date=FIXTURE_TODAY,
            note="迁居外省",
        )
        child = session.scalar(select(Enrollment).where(Enrollment.person_id == moved, Enrollment.group == "child"))
        current = session.scalar(select(Assignment).where(Assignment.enrollment_id == child.id))
        current.end_date = FIXTURE_TODAY
        session.add(Assignment(enrollment_id=child.id, worker_id=world.workers["w2"], start_date=FIXTURE_TODAY))
    visits = _two_visits(world, data)
    file = _file(data, visits)
    with reading(engine) as session:
        checked = check_results(session, world.scopes["coord_1"], data=file)
    assert sorted(v.conflict for v in checked.conflicts) == ["exited", "reassigned"]
    record_anyway = {v["client_token"]: "record" for v in visits}
    assert _refusal_with(engine, world, file, record_anyway) == "pack.conflicts_unresolved"
    applied = _upload(engine, world, file, resolutions={v["client_token"]: "discard" for v in visits})
    assert (applied.written, applied.discarded) == (0, 2)


def _refusal_with(engine, world, file, resolutions):
    with transaction(engine) as session, pytest.raises(ValidationError) as refused:
        apply_results(session, world.scopes["coord_1"], data=file, resolutions=resolutions)
    return refused.value.key


def test_the_command_line_writes_the_pack_and_imports_its_results(
    engine, world, tmp_path, monkeypatch, capsys, freeze_clock
):
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "pack.html"
    monkeypatch.setattr("sys.stdin", io.StringIO(PIN + "\n"))
    assert admin.main(["visit-pack", "--db", url, "--user", "coord_1", "--out", str(out)]) == 0
    written = json.loads(capsys.readouterr().out.splitlines()[-1])
    data = visit_pack.unseal(visit_pack.sealed_of(out.read_text(encoding="utf-8")), PIN)
    assert written["pack_id"] == data["pack_id"] and written["persons"] == 2
    freeze_clock(NEXT_DAY)
    results = tmp_path / "results.json"
    results.write_bytes(_file(data, _two_visits(world, data)))
    args = ["visit-results", "--db", url, "--user", "coord_1", str(results)]
    assert admin.main([*args, "--apply"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["written"] == 2
    outer = json.loads(results.read_bytes())
    results.write_text(json.dumps(dict(outer, payload=_edited(outer["payload"]))), encoding="utf-8")
    assert admin.main(args) == 2
    assert "签名不符" in capsys.readouterr().err
