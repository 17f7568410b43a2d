"""Roster and visit imports on a real database: every rule per row, all or nothing, nothing twice."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import threading

import openpyxl
import pytest
from sqlalchemy import func, select

from care.domain import ids
from care.imports import run_import
from care.imports.template import build_template
from db.models import AuditEvent, Enrollment, Need, Person, Visit
from db.session import reading

ROSTER_HEADERS = [
    "姓名",
    "公民身份号码",
    "村(社区)代码",
    "现住址",
    "联系电话",
    "经度",
    "纬度",
    "关爱类别",
    "风险等级",
    "监护类型",
]
VISIT_HEADERS = ["公民身份号码", "关爱类别", "巡访日期", "巡访状态", "巡访方式", "巡访人", "情况记录", "需求"]


def new_id(birth: dt.date, seq: int) -> str:
    """A valid ID number from the fixture county that the fixture does not use."""
    body = f"522699{birth:%Y%m%d}{600 + seq:03d}"
    return body + ids.check_digit(body)


def as_csv(headers, rows, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([headers, *rows])
    return out.getvalue().encode(encoding)


def as_xlsx(headers, rows) -> bytes:
    book = openpyxl.Workbook()
    for row in [headers, *rows]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def child(name, id_number, village, guardianship="祖辈监护", risk=""):
    return [name, id_number, village, "一组", "13800138000", "108.11", "26.46", "留守儿童", risk, guardianship]


def counts(engine) -> dict[str, int]:
    with reading(engine) as session:
        return {
            model.__name__: int(session.scalar(select(func.count()).select_from(model)))
            for model in (Person, Enrollment, Visit, Need)
        }


def import_events(engine, action) -> list[AuditEvent]:
    with reading(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def roster(world, n=3):
    a1 = world.village_a1
    return [child(f"新童{i}", new_id(dt.date(2016, 1, 1) + dt.timedelta(days=i), i), a1) for i in range(n)]


def test_a_good_roster_creates_every_person_and_enrollment_with_one_import_event(engine, world):
    rows = roster(world)
    rows[1][8] = "高"  # the list says high where the rules say low: kept as an override with a reason
    report = run_import(
        engine, world.scopes["township_a"], kind="roster", data=as_csv(ROSTER_HEADERS, rows), filename="名单.csv"
    )
    assert report.ok, report.as_json()
    assert (report.rows, report.committed, report.unchanged) == (3, 3, 0)
    with reading(engine) as session:
        made = session.execute(
            select(Person.name, Enrollment.group, Enrollment.risk, Enrollment.risk_override_reason)
            .join(Enrollment, Enrollment.person_id == Person.id)
            .where(Person.name.like("新童%"))
            .order_by(Person.name)
        ).all()
    assert [(m.name, m.group) for m in made] == [("新童0", "child"), ("新童1", "child"), ("新童2", "child")]
    assert made[1].risk == "high" and made[1].risk_override_reason
    events = import_events(engine, "import.roster")
    assert len(events) == 1 and events[0].detail["rows"] == 3 and len(events[0].detail["file_sha256"]) == 64


def test_one_bad_row_writes_nothing_and_every_bad_row_is_listed_by_row_column_and_reason(engine, world):
    before = counts(engine)
    rows = roster(world, 4)
    rows[1][1] = rows[1][1][:-1] + ("1" if rows[1][1][-1] != "1" else "2")  # wrong check digit: spreadsheet row 3
    rows[3][2] = world.village_b1  # another township's village: row 5
    report = run_import(
        engine, world.scopes["township_a"], kind="roster", data=as_csv(ROSTER_HEADERS, rows), filename="名单.csv"
    )
    assert not report.ok and report.committed == 0
    found = report.as_json("zh")["errors"]
    assert found == [
        {"row": 3, "column": "公民身份号码", "reason": "公民身份号码校验位不正确，请对照身份证核实。"},
        {"row": 5, "column": "村(社区)代码", "reason": "该村不在您的辖区内。"},
    ]
    assert report.as_json("en")["errors"][1]["reason"] == "That village is outside your area."
    assert counts(engine) == before
    assert [e.outcome for e in import_events(engine, "import.roster")] == ["failure"]


def test_importing_the_same_roster_twice_writes_nothing_the_second_time(engine, world):
    data = as_xlsx(ROSTER_HEADERS, roster(world))
    first = run_import(engine, world.scopes["admin"], kind="roster", data=data, filename="名单.xlsx")
    after_first = counts(engine)
    second = run_import(engine, world.scopes["admin"], kind="roster", data=data, filename="名单.xlsx")
    assert first.committed == 3
    assert second.ok and (second.committed, second.new, second.unchanged) == (0, 0, 3)
    assert second.summary_key() == "import.summary_nothing_new"
    assert counts(engine) == after_first
    assert len(import_events(engine, "import.roster")) == 1


def test_a_roster_row_for_a_registered_person_in_a_new_group_only_enrolls_them(engine, world):
    with reading(engine) as session:
        elder = session.get(Person, world.persons["a1_elder_unassigned"])
    row = [elder.name, elder.id_number, elder.village_code, "", "", "", "", "残疾人", "", ""]
    headers = [*ROSTER_HEADERS, "残疾类别", "残疾等级"]
    report = run_import(
        engine,
        world.scopes["township_a"],
        kind="roster",
        data=as_csv(headers, [[*row, "视力", "三级"]]),
        filename="a.csv",
    )
    assert report.ok and report.committed == 1, report.as_json()
    with reading(engine) as session:
        groups = session.scalars(select(Enrollment.group).where(Enrollment.person_id == elder.id)).all()
        persons = session.scalar(select(func.count()).select_from(Person).where(Person.id_number == elder.id_number))
    assert sorted(groups) == ["disabled", "elderly"] and persons == 1


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("wrong_check_digit", "id.bad_check_digit"),
        ("5.22699E+17", "id.excel_scientific"),
        ("trailing_000", "id.excel_lost_digits"),
        ("52269920160101", "id.bad_length"),
    ],
)
def test_id_pitfalls_are_reported_against_the_id_column(engine, world, cell, key):
    good = new_id(dt.date(2016, 1, 1), 1)
    if cell == "wrong_check_digit":
        cell = good[:-1] + ("3" if good[-1] != "3" else "4")
    elif cell == "trailing_000":
        cell = good[:15] + "000"
    row = child("甲", cell, world.village_a1)
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_csv(ROSTER_HEADERS, [row]), filename="a.csv"
    )
    assert [(e.row, e.column, e.key) for e in report.errors] == [(2, "公民身份号码", key)]


def test_an_id_number_in_a_numeric_excel_cell_is_refused_not_fixed(engine, world):
    row = child("甲", float(new_id(dt.date(2016, 1, 1), 1)[:17] + "0"), world.village_a1)
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_xlsx(ROSTER_HEADERS, [row]), filename="a.xlsx"
    )
    assert [(e.row, e.column, e.key) for e in report.errors] == [(2, "公民身份号码", "id.excel_number")]
    assert counts(engine)["Person"] == 7


def test_full_width_digits_and_a_lower_case_x_are_normalised_and_accepted(engine, world):
    number = next(new_id(dt.date(2015, 5, 5), s) for s in range(100) if new_id(dt.date(2015, 5, 5), s).endswith("X"))
    typed = number[:-1].translate({ord(d): 0xFF10 + int(d) for d in "0123456789"}) + "x"
    report = run_import(
        engine,
        world.scopes["admin"],
        kind="roster",
        data=as_csv(ROSTER_HEADERS, [child("乙", typed, world.village_a1)]),
        filename="a.csv",
    )
    assert report.ok, report.as_json()
    with reading(engine) as session:
        assert session.scalar(select(Person.id_number).where(Person.name == "乙")) == number


def test_the_same_id_twice_in_a_file_is_reported_against_the_first_row(engine, world):
    rows = roster(world, 2)
    rows.append(list(rows[0]))
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_csv(ROSTER_HEADERS, rows), filename="a.csv"
    )
    assert [(e.row, e.key, e.params) for e in report.errors] == [(4, "import.duplicate_in_file", {"other": 2})]


def test_a_person_registered_in_another_township_is_refused_without_saying_where(engine, world):
    with reading(engine) as session:
        theirs = session.get(Person, world.persons["a1_child_w1"])
    row = child(theirs.name, theirs.id_number, world.village_b1)
    report = run_import(
        engine, world.scopes["township_b"], kind="roster", data=as_csv(ROSTER_HEADERS, [row]), filename="a.csv"
    )
    assert [(e.column, e.key, e.params) for e in report.errors] == [("公民身份号码", "person.duplicate_elsewhere", {})]


def test_a_column_of_another_group_is_refused_rather_than_dropped(engine, world):
    row = ["丙", new_id(dt.date(1950, 3, 3), 2), world.village_a1, "", "", "", "", "独居老人", "", "祖辈监护"]
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_csv(ROSTER_HEADERS, [row]), filename="a.csv"
    )
    assert [(e.column, e.key) for e in report.errors] == [("监护类型", "import.column_not_for_group")]


def test_a_coordinator_may_not_import_a_roster_and_the_attempt_is_audited(engine, world):
    report = run_import(
        engine, world.scopes["coord_1"], kind="roster", data=as_csv(ROSTER_HEADERS, roster(world)), filename="a.csv"
    )
    assert [(e.row, e.key) for e in report.errors] == [(0, "error.permission_denied")]
    assert [e.outcome for e in import_events(engine, "import.roster")] == ["denied"]
    assert counts(engine)["Person"] == 7


def test_a_dry_run_checks_every_row_and_writes_nothing(engine, world):
    before = counts(engine)
    report = run_import(
        engine,
        world.scopes["admin"],
        kind="roster",
        data=as_csv(ROSTER_HEADERS, roster(world)),
        filename="a.csv",
        dry_run=True,
    )
    assert report.ok and report.new == 3 and report.committed == 0
    assert counts(engine) == before and import_events(engine, "import.roster") == []


# --- visits -------------------------------------------------------------------------------------


def id_of(engine, world, key) -> str:
    with reading(engine) as session:
        return session.get(Person, world.persons[key]).id_number


def due_of(engine, world, key, group) -> dt.date | None:
    with reading(engine) as session:
        return session.scalar(
            select(Enrollment.next_due_on).where(
                Enrollment.person_id == world.persons[key], Enrollment.group == group, Enrollment.end_date.is_(None)
            )
        )


def test_visit_rows_are_written_with_their_needs_and_move_the_next_due_date(engine, world):
    number = id_of(engine, world, "a1_child_w1")
    rows = [[number, "留守儿童", "2026-06-05", "已访", "上门", "", "孩子在家", "就学：午餐补助；医疗：复查视力"]]
    report = run_import(
        engine, world.scopes["township_a"], kind="visits", data=as_csv(VISIT_HEADERS, rows), filename="v.csv"
    )
    assert report.ok and report.committed == 1, report.as_json()
    assert due_of(engine, world, "a1_child_w1", "child") == dt.date(2026, 7, 5)  # low-risk child: 30 days
    with reading(engine) as session:
        visit = session.scalar(select(Visit).where(Visit.person_id == world.persons["a1_child_w1"]))
        needs = session.scalars(select(Need.kind).where(Need.visit_id == visit.id).order_by(Need.kind)).all()
    assert (visit.status, visit.mode, visit.worker_id) == ("done", "home", world.workers["w1"])
    assert visit.visited_at == dt.datetime(2026, 6, 5) and needs == ["medical", "schooling"]
    events = import_events(engine, "import.visits")
    assert len(events) == 1 and events[0].detail["committed"] == 1


def test_a_not_met_visit_is_recorded_but_does_not_move_the_due_date(engine, world):
    before = due_of(engine, world, "a1_child_w1", "child")
    rows = [[id_of(engine, world, "a1_child_w1"), "", "2026-06-05", "未遇", "上门", "", "家中无人", ""]]
    report = run_import(
        engine, world.scopes["admin"], kind="visits", data=as_csv(VISIT_HEADERS, rows), filename="v.csv"
    )
    assert report.ok and report.committed == 1
    assert due_of(engine, world, "a1_child_w1", "child") == before


def test_importing_the_same_visits_twice_writes_nothing_the_second_time(engine, world):
    rows = [
        [id_of(engine, world, "a1_child_w1"), "儿童", "2026/6/1", "已访", "电话", "", "", ""],
        [id_of(engine, world, "a2_disabled_w3"), "残疾人", "2026年6月2日", "已访", "上门", "李康复", "", "康复"],
    ]
    data = as_xlsx(VISIT_HEADERS, rows)
    first = run_import(engine, world.scopes["admin"], kind="visits", data=data, filename="v.xlsx")
    after = counts(engine)
    second = run_import(engine, world.scopes["admin"], kind="visits", data=data, filename="v.xlsx")
    assert first.committed == 2
    assert second.ok and (second.committed, second.unchanged) == (0, 2)
    assert counts(engine) == after


def test_every_visit_rule_applies_to_every_row_and_one_bad_row_writes_nothing(engine, world):
    before = counts(engine)
    child_id = id_of(engine, world, "a1_child_w1")
    rows = [
        [child_id, "", "2026-06-05", "已访", "上门", "", "", ""],  # good
        [child_id, "", "2026-06-11", "已访", "上门", "", "", ""],  # in the future
        [child_id, "", "2025-01-01", "已访", "上门", "", "", ""],  # before the enrollment started
        [child_id, "", "2026-06-04", "已取消", "", "", "", ""],  # cancelled without a reason
        [child_id, "", "2026-06-03", "已访", "", "", "", ""],  # done without a mode
        [id_of(engine, world, "a1_child_disabled"), "", "2026-06-05", "已访", "上门", "", "", ""],  # which group?
        [new_id(dt.date(2016, 1, 1), 1), "", "2026-06-05", "已访", "上门", "", "", ""],  # nobody we know
        [child_id, "", "2026-06-02", "走亲戚", "上门", "", "", ""],  # unknown status
        [child_id, "", "2026-06-02", "已访", "上门", "张三", "", ""],  # unknown worker
        [child_id, "", "", "已取消", "", "", "下雨", ""],  # no date
    ]
    report = run_import(
        engine, world.scopes["admin"], kind="visits", data=as_csv(VISIT_HEADERS, rows), filename="v.csv"
    )
    got = [(e.row, e.column, e.key) for e in report.errors]
    assert got == [
        (3, "巡访日期", "visit.in_future"),
        (4, "巡访日期", "visit.before_start"),
        (5, "情况记录", "visit.cancel_reason_required"),
        (6, "巡访方式", "visit.mode_required"),
        (7, "关爱类别", "import.group_needed"),
        (8, "公民身份号码", "import.person_not_found"),
        (9, "巡访状态", "import.bad_choice"),
        (10, "巡访人", "import.worker_unknown"),
        (11, "巡访日期", "import.required"),
    ]
    assert counts(engine) == before


def test_a_coordinator_imports_visits_only_for_the_enrollments_assigned_to_them(engine, world):
    rows = [
        [id_of(engine, world, "a1_child_w1"), "", "2026-06-05", "已访", "上门", "", "", ""],
        [id_of(engine, world, "a1_child_w2"), "", "2026-06-05", "已访", "上门", "", "", ""],  # a colleague's
        [id_of(engine, world, "a1_child_disabled"), "残疾人", "2026-06-05", "已访", "上门", "", "", ""],  # w3's group
        [id_of(engine, world, "a1_child_w1"), "", "2026-06-04", "已访", "上门", "杨儿主", "", ""],  # not themselves
    ]
    report = run_import(
        engine, world.scopes["coord_1"], kind="visits", data=as_csv(VISIT_HEADERS, rows), filename="v.csv"
    )
    assert [(e.row, e.key) for e in report.errors] == [
        (3, "import.person_not_found"),
        (4, "import.no_enrollment"),
        (5, "import.worker_unknown"),
    ]
    ok = run_import(
        engine, world.scopes["coord_1"], kind="visits", data=as_csv(VISIT_HEADERS, rows[:1]), filename="v.csv"
    )
    assert ok.ok and ok.committed == 1
    with reading(engine) as session:
        assert session.scalar(select(Visit.worker_id)) == world.workers["w1"]


def test_the_template_has_the_headers_an_example_row_and_only_the_users_villages(engine, world):
    from db.session import transaction

    with transaction(engine) as session:
        data = build_template(session, world.scopes["township_a"], kind="roster")
    book = openpyxl.load_workbook(io.BytesIO(data))
    first, villages = book.worksheets
    headers = [c.value for c in first[1]]
    assert headers[:3] == ["姓名", "公民身份号码", "村(社区)代码"] and "备注" in headers
    assert first["B2"].value and first["B2"].data_type == "s" and first.column_dimensions["B"].number_format == "@"
    assert [c.value for c in villages[1]] == ["村(社区)代码", "村(社区)名称", "乡镇(街道)"]
    assert [(r[0], r[1]) for r in villages.iter_rows(min_row=2, values_only=True)] == [
        (world.village_a1, "羊排村"),
        (world.village_a2, "乌东村"),
    ]


def test_the_template_example_row_is_refused_if_left_in(engine, world):
    from db.session import transaction

    with transaction(engine) as session:
        data = build_template(session, world.scopes["admin"], kind="visits")
    report = run_import(engine, world.scopes["admin"], kind="visits", data=data, filename="模板.xlsx")
    assert [(e.row, e.key) for e in report.errors][:1] == [(2, "import.example_row")]


def test_the_command_prints_the_json_report_as_its_last_line(engine, world, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "名单.csv"
    path.write_bytes(as_csv(ROSTER_HEADERS, roster(world, 2)))
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "care.imports", "roster", str(path), "--db", url, "--as", "township_a", "--dry-run"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"] is True and report["rows"] == 2 and report["committed"] == 0 and report["errors"] == []
    assert counts(engine)["Person"] == 7


def test_an_imported_visit_completes_a_planned_one_instead_of_adding_another(engine, world):
    from db.session import transaction

    with transaction(engine) as session:
        session.add(
            Visit(
                person_id=world.persons["a1_child_w1"],
                worker_id=world.workers["w1"],
                due_date=dt.date(2026, 6, 8),
                status="planned",
                version=1,
                created_at=dt.datetime(2026, 6, 1, 8, 0),
                findings={},
            )
        )
    rows = [[id_of(engine, world, "a1_child_w1"), "", "2026-06-09", "已访", "上门", "", "", ""]]
    report = run_import(
        engine, world.scopes["admin"], kind="visits", data=as_csv(VISIT_HEADERS, rows), filename="v.csv"
    )
    assert report.ok and report.committed == 1
    with reading(engine) as session:
        visits = session.execute(select(Visit.status, Visit.version, Visit.due_date)).all()
    assert visits == [("done", 2, dt.date(2026, 6, 8))]


ENCODED_ROWS = [
    ["龙小凤", new_id(dt.date(2016, 4, 4), 40), "", "老屋基组，“石板路”旁", "", "", "", "留守儿童", "", "祖辈监护"],
    ["杨秀英", new_id(dt.date(2015, 9, 9), 41), "", "新寨组 3 号；靠河边", "", "", "", "困境儿童", "", "亲友监护"],
]


def _stored(engine) -> list[tuple[str, str, str]]:
    with reading(engine) as session:
        return session.execute(
            select(Person.name, Person.id_number, Person.address)
            .where(Person.name.in_(["龙小凤", "杨秀英"]))
            .order_by(Person.name)
        ).all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_the_same_roster_in_utf8_utf8_bom_gbk_and_gb18030_stores_the_same_rows(engine, world, encoding):
    rows = [[r[0], r[1], world.village_a1, *r[3:]] for r in ENCODED_ROWS]
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_csv(ROSTER_HEADERS, rows, encoding), filename="a.csv"
    )
    assert report.ok and report.committed == 2, report.as_json()
    assert _stored(engine) == sorted((r[0], r[1], r[3]) for r in ENCODED_ROWS)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])
def test_a_utf16_roster_is_refused_and_nothing_is_written(engine, world, encoding):
    rows = [[r[0], r[1], world.village_a1, *r[3:]] for r in ENCODED_ROWS]
    report = run_import(
        engine, world.scopes["admin"], kind="roster", data=as_csv(ROSTER_HEADERS, rows, encoding), filename="a.csv"
    )
    assert [(e.row, e.key) for e in report.errors] == [(0, "import.csv_encoding")]
    assert _stored(engine) == []


def _bomb() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types>spreadsheetml</Types>")
        archive.writestr("xl/worksheets/sheet1.xml", b"<x>" + b" " * (30 * 1024 * 1024) + b"</x>")
    return buffer.getvalue()


def _with_member(name: str, data: bytes) -> bytes:
    import zipfile

    source = as_xlsx(ROSTER_HEADERS, [])
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.namelist():
            new.writestr(item, old.read(item))
        new.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("payload", "name", "key"),
    [
        ("bomb", "名单.xlsx", "import.file_bomb"),
        ("macro", "名单.xlsx", "import.file_macro"),
        ("encrypted", "名单.xlsx", "import.file_encrypted"),
        ("oversize", "名单.csv", "import.file_too_large"),
    ],
)
def test_dangerous_files_are_refused_whole_and_the_refusal_is_audited(engine, world, payload, name, key):
    from care.imports import files

    data = {
        "bomb": _bomb,
        "macro": lambda: _with_member("xl/vbaProject.bin", b"vba"),
        "encrypted": lambda: files.OLE_MAGIC + b"\0" * 512 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512,
        "oversize": lambda: as_csv(ROSTER_HEADERS, roster(world)) + b" " * files.MAX_FILE_BYTES,
    }[payload]()
    before = counts(engine)
    report = run_import(engine, world.scopes["admin"], kind="roster", data=data, filename=name)
    assert [(e.row, e.key) for e in report.errors] == [(0, key)]
    assert counts(engine) == before
    event = import_events(engine, "import.roster")[-1]
    assert event.outcome == "failure" and event.detail["file_sha256"] == report.file_sha256


@pytest.mark.parametrize(
    ("cell", "error"),
    [
        ("2026-01-15", None),
        ("2026年7月1日", "enrollment.start_in_future"),
        ("2015-12-31", "enrollment.start_before_birth"),
    ],
)
def test_a_paper_register_keeps_its_enrollment_date_so_earlier_visits_can_follow(engine, world, cell, error):
    rows = [[*roster(world, 1)[0], cell]]
    report = run_import(
        engine,
        world.scopes["township_a"],
        kind="roster",
        data=as_csv([*ROSTER_HEADERS, "在册日期"], rows),
        filename="纸质台账.csv",
    )
    if error is not None:
        assert [(e.row, e.column, e.key) for e in report.errors] == [(2, "在册日期", error)]
        assert report.committed == 0
        return
    assert report.ok, report.as_json()
    with reading(engine) as session:
        start = session.scalar(select(Enrollment.start_date).join(Person).where(Person.id_number == rows[0][1]))
    assert start == dt.date(2026, 1, 15)
    # A visit from the paper list, after the enrollment date but before the import, is accepted.
    visits = [[rows[0][1], "留守儿童", "2026-02-03", "已访", "上门", "", "补录", ""]]
    report = run_import(
        engine, world.scopes["township_a"], kind="visits", data=as_csv(VISIT_HEADERS, visits), filename="v.csv"
    )
    assert report.ok and report.committed == 1, report.as_json()


def test_two_imports_of_the_same_visits_at_once_record_them_once(engine, world):
    rows = [
        [id_of(engine, world, "a1_child_w1"), "儿童", "2026-06-03", "已访", "上门", "", "", ""],
        [id_of(engine, world, "a2_disabled_w3"), "残疾人", "2026-06-04", "已访", "上门", "李康复", "", ""],
    ]
    data = as_csv(VISIT_HEADERS, rows)
    before = counts(engine)
    # Each import waits after its duplicate check for the other to finish its own check. Imports
    # that take turns never meet there (the first waits out the timeout, writes and commits).
    checked = threading.Barrier(2, timeout=3)

    def at_the_end_of_the_check(done: int, written: int, total: int) -> None:
        if written == 0 and done == total:
            with contextlib.suppress(threading.BrokenBarrierError):
                checked.wait()

    reports = []

    def run() -> None:
        reports.append(
            run_import(
                engine,
                world.scopes["admin"],
                kind="visits",
                data=data,
                filename="v.csv",
                progress=at_the_end_of_the_check,
            )
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.ok, r.committed, r.unchanged) for r in reports) == [(True, 0, 2), (True, 2, 0)]
    after = counts(engine)
    assert after["Visit"] == before["Visit"] + 2
    assert len(import_events(engine, "import.visits")) == 1
