"""The audit log for the admin: filters, paging, a formula-safe audited CSV, and the chain check command."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select, text

from care import audit, auth, services
from care.cli import admin
from care.domain.errors import PermissionDenied
from care.queries.audit_log import AuditFilter, audit_choices, audit_csv, audit_page, broken_links
from care.services.audit_log import export_audit_csv
from db.models import AuditEvent
from db.session import reading, transaction

ROOT = Path(__file__).resolve().parents[2]
HEADERS = ["序号", "时间", "用户", "操作", "对象类型", "记录编号", "结果", "详情"]


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _fail_login(engine, username: str) -> None:
    with transaction(engine) as session:
        auth.authenticate(session, username=username, password="nope")


def _view(engine, world, key: str, who: str = "township_a") -> None:
    with transaction(engine) as session:
        services.record_person_view(session, world.scopes[who], person_id=world.persons[key])


def test_the_filters_find_events_by_user_action_person_and_date(engine, world, freeze_clock):
    freeze_clock(dt.datetime(2026, 6, 11, 10, 0))
    _view(engine, world, "a1_child_w1")
    _view(engine, world, "a1_child_w2")
    freeze_clock(dt.datetime(2026, 6, 12, 10, 0))
    _view(engine, world, "a1_child_w1", who="admin")
    admin_scope = world.scopes["admin"]
    person = world.persons["a1_child_w1"]
    cases = {
        AuditFilter(action="person.view"): 3,
        AuditFilter(action="person.view", username="township_a"): 2,
        AuditFilter(action="person.view", person_id=person): 2,
        AuditFilter(action="person.view", start=dt.date(2026, 6, 12)): 1,
        AuditFilter(action="person.view", end=dt.date(2026, 6, 11)): 2,
        AuditFilter(person_id=person, start=dt.date(2026, 6, 11), end=dt.date(2026, 6, 11)): 1,
    }
    with reading(engine) as session:
        found = {flt: audit_page(session, admin_scope, flt).total for flt in cases}
        users, actions = audit_choices(session, admin_scope)
    assert found == cases
    assert {"township_a", "admin"} <= set(users) and "person.view" in actions


def test_the_log_pages_newest_first(engine, world):
    for n in range(7):
        _fail_login(engine, f"guess{n}")
    with reading(engine) as session:
        first = audit_page(session, world.scopes["admin"], AuditFilter(action="login"), page_size=3)
        last = audit_page(session, world.scopes["admin"], AuditFilter(action="login", page=99), page_size=3)
    assert (first.total, first.pages) == (7, 3)
    assert list(first.rows["username"]) == ["guess6", "guess5", "guess4"]
    assert (last.page, list(last.rows["username"])) == (3, ["guess0"])


@pytest.mark.parametrize("who", ["county", "township_a", "coord_1", "no_area"])
def test_only_the_admin_reads_the_log(engine, world, who):
    with reading(engine) as session:
        assert audit_page(session, world.scopes[who], AuditFilter()).total == 0
        assert broken_links(session, world.scopes[who]) is None
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        export_audit_csv(session, world.scopes[who], flt=AuditFilter(), headers=HEADERS)


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_the_csv_export_is_formula_safe_and_the_export_is_audited(engine, world, payload):
    # As a failed login records the username typed (the login form strips spaces, so record it directly).
    with transaction(engine) as session:
        audit.record(session, scope=None, username=payload, action="login", outcome="failure")
    with transaction(engine) as session:
        data = export_audit_csv(session, world.scopes["admin"], flt=AuditFilter(action="login"), headers=HEADERS)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == HEADERS
    assert [r[2] for r in rows[1:]] == ["'" + payload]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    with reading(engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.audit_csv"))
    assert event.detail["rows"] == 1
    assert event.detail["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_csv_holds_no_full_id_number(engine, world):
    with transaction(engine) as session:
        services.record_person_view(
            session, world.scopes["admin"], person_id=world.persons["a1_child_w1"], full_id=True
        )
    with reading(engine) as session:
        data, _ = audit_csv(session, world.scopes["admin"], AuditFilter(), HEADERS)
    assert not re.search(rb"(?<!\d)\d{17}[\dXx](?!\d)", data)


def test_the_check_command_passes_an_intact_log(engine, world, capsys):
    assert admin.main(["audit-verify", "--db", _url(engine)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^\d+ events checked, 0 broken, 0 checkpoint problems$", out, re.M)


def test_the_check_command_flags_a_row_edited_directly_in_the_database(engine, world, capsys):
    _fail_login(engine, "someone")
    _view(engine, world, "a1_child_w1")
    with reading(engine) as session:
        target = session.scalar(select(AuditEvent.id).where(AuditEvent.action == "login"))
    with transaction(engine) as session:
        session.execute(text("UPDATE audit_events SET username = 'someone_else' WHERE id = :id"), {"id": target})
    assert admin.main(["audit-verify", "--db", _url(engine)]) == 1
    out = capsys.readouterr().out
    assert f"broken link: event {target} " in out and "1 broken" in out
    with reading(engine) as session:
        assert broken_links(session, world.scopes["admin"]) == [target]


def test_a_row_deleted_from_the_middle_breaks_the_next_link(engine, world):
    for n in range(3):
        _fail_login(engine, f"x{n}")
    with reading(engine) as session:
        ids = list(session.scalars(select(AuditEvent.id).where(AuditEvent.action == "login").order_by(AuditEvent.id)))
    with transaction(engine) as session:
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": ids[1]})
    with reading(engine) as session:
        assert audit.verify_chain(session) == [ids[2]]


def test_no_code_deletes_or_rewrites_audit_events():
    """Kept at least 180 days: the app has no purge, and nothing updates an event once written."""
    pattern = re.compile(r"delete\(AuditEvent|update\(AuditEvent|DELETE FROM audit_events|UPDATE audit_events", re.I)
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("care", "db", "pages", "ui")
        for path in (ROOT / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def _checkpoint(engine, reason="test"):
    from care import audit_anchor

    with transaction(engine) as session:
        return audit_anchor.write_checkpoint(session, reason=reason)


def test_deleting_the_newest_events_after_a_checkpoint_is_reported(engine, world, capsys):
    for n in range(3):
        _fail_login(engine, f"tail{n}")
    _checkpoint(engine)
    assert admin.main(["audit-verify", "--db", _url(engine)]) == 0
    capsys.readouterr()
    # Cut the tail: what is left is still a valid hash chain.
    with transaction(engine) as session:
        last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": last - 1})
    with reading(engine) as session:
        assert audit.verify_chain(session) == []
    assert admin.main(["audit-verify", "--db", _url(engine)]) == 1
    out = capsys.readouterr().out
    assert "审计记录缺失" in out and "1 checkpoint problems" in out


def test_a_checkpoint_rewritten_without_the_key_is_reported(engine, world, capsys):
    _fail_login(engine, "a")
    _checkpoint(engine)
    _fail_login(engine, "b")
    # Someone deletes the newest event and "fixes" the checkpoint to match; they lack the key.
    with transaction(engine) as session:
        last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": last})
        session.execute(
            text("UPDATE audit_checkpoints SET event_count = event_count - 1, event_id = :id"), {"id": last - 1}
        )
    assert admin.main(["audit-verify", "--db", _url(engine)]) == 1
    assert "签名不符" in capsys.readouterr().out


def test_a_checkpoint_is_signed_every_hundred_events_without_being_asked(engine, world):
    from care import audit_anchor
    from db.models import AuditCheckpoint

    with reading(engine) as session:
        before = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0
    for n in range(audit_anchor.EVERY + 1):
        _fail_login(engine, f"many{n}")
    with reading(engine) as session:
        signed = session.scalars(select(AuditCheckpoint).where(AuditCheckpoint.reason == "every")).all()
    assert signed and all(c.event_id % audit_anchor.EVERY == 0 and c.event_id > before for c in signed)


def test_the_signing_key_is_not_in_the_database(engine, world, tmp_path, monkeypatch):
    from care import audit_anchor

    monkeypatch.delenv(audit_anchor.KEY_ENV, raising=False)
    monkeypatch.setenv(audit_anchor.KEY_FILE_ENV, str(tmp_path / "keys" / "signing"))
    _fail_login(engine, "k")
    cp = _checkpoint(engine)
    key = (tmp_path / "keys" / "signing").read_text().strip()
    assert len(key) == 64 and oct((tmp_path / "keys" / "signing").stat().st_mode & 0o777) == "0o600"
    with reading(engine) as session:
        dumped = " ".join(str(v) for row in session.execute(text("SELECT * FROM audit_checkpoints")) for v in row)
    assert key not in dumped and cp.mac in dumped
