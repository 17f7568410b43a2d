"""The month report read from a real database (SQLite and PostgreSQL): scope, figures, audit, CLI.

World: the scope fixture at 2026-06-10 (enrollments started 2025-11-22), plus May 2026 visits:
a1_child_w1 at home on 05-10; one home visit on 05-20 covering both of a1_child_disabled's
enrollments; a phone call to b1_child_w4 on 05-12 (phones do not count); a not-met visit to
a1_elder_unassigned on 05-15; a home visit to the deleted person on 05-05.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select, update

from care.demo.common import COUNTY_CODE as FIXTURE_COUNTY
from care.domain.errors import NotFound, PermissionDenied, ValidationError
from care.files.exports import ExportMeta, record_export, workbook_bytes
from care.queries.policy import policy_intervals
from care.queries.reports import check_area, month_report, report_areas, trends
from db.models import Area, AuditEvent, Enrollment, Need, Visit, VisitEnrollment
from db.session import reading, transaction

TODAY = dt.date(2026, 6, 10)
ROOT = Path(__file__).resolve().parents[2]


def _visit(session, person_id, enrollment_ids, at, status="done", mode="home"):
    visit = Visit(
        person_id=person_id,
        status=status,
        visited_at=at,
        mode=mode,
        created_at=at,
        findings={},
        notes="",
    )
    session.add(visit)
    session.flush()
    for eid in enrollment_ids:
        session.add(VisitEnrollment(visit_id=visit.id, enrollment_id=eid))


@pytest.fixture
def may(engine, world):
    """The world with the May visits and needs of the module docstring."""
    with transaction(engine) as session:
        by_person = {}
        for eid, pid, group in session.execute(select(Enrollment.id, Enrollment.person_id, Enrollment.group)):
            by_person.setdefault(pid, {})[group] = eid
        p = world.persons
        _visit(session, p["a1_child_w1"], [by_person[p["a1_child_w1"]]["child"]], dt.datetime(2026, 5, 10, 10))
        both = list(by_person[p["a1_child_disabled"]].values())
        _visit(session, p["a1_child_disabled"], both, dt.datetime(2026, 5, 20, 10))
        b1 = [by_person[p["b1_child_w4"]]["child"]]
        _visit(session, p["b1_child_w4"], b1, dt.datetime(2026, 5, 12, 10), mode="phone")
        elder = [by_person[p["a1_elder_unassigned"]]["elderly"]]
        _visit(session, p["a1_elder_unassigned"], elder, dt.datetime(2026, 5, 15, 10), status="not_met")
        _visit(session, p["a1_deleted"], [by_person[p["a1_deleted"]]["child"]], dt.datetime(2026, 5, 5, 10))
        for key, kind in (("a1_child_w1", "medical"), ("a1_deleted", "schooling"), ("b1_child_w4", "subsidy")):
            session.add(Need(person_id=p[key], kind=kind, status="open", opened_on=dt.date(2026, 5, 1)))
    return world


def _report(engine, scope, area=None, month="2026-05"):
    with reading(engine) as session:
        return month_report(session, scope, month=month, area_code=area, today=TODAY)


def test_the_county_sees_both_townships_and_never_the_deleted_person(engine, may):
    report = _report(engine, may.scopes["county"])
    assert report.kpis["enrollments_listed"] == 7
    assert report.kpis["persons_listed"] == 6
    assert report.kpis["visit_rate"] == pytest.approx(3 / 7)
    assert report.kpis["visit_rate_child"] == pytest.approx(2 / 4)
    assert report.kpis["visit_rate_disabled"] == pytest.approx(1 / 2)
    assert report.kpis["visit_rate_elderly"] == 0
    assert report.kpis["unassigned"] == 1
    assert report.kpis["needs_open"] == 2
    assert sorted(report.by_area["area_code"]) == [may.township_a, may.township_b]
    assert may.persons["a1_deleted"] not in set(report.lists["listed"]["person_id"])


def test_a_township_supervisor_sees_only_their_township_by_village(engine, may):
    report = _report(engine, may.scopes["township_a"])
    assert report.kpis["enrollments_listed"] == 6
    assert report.kpis["visit_rate"] == pytest.approx(3 / 6)
    assert sorted(report.by_area["area_code"]) == [may.village_a1, may.village_a2]
    assert may.persons["b1_child_w4"] not in set(report.lists["listed"]["person_id"])
    other = _report(engine, may.scopes["township_b"])
    assert other.kpis["enrollments_listed"] == 1 and other.kpis["visit_rate"] == 0


def test_the_county_can_drill_down_to_a_village(engine, may):
    report = _report(engine, may.scopes["county"], area=may.village_a2)
    assert report.kpis["enrollments_listed"] == 1
    assert report.by_area["area_code"].tolist() == [may.village_a2]


@pytest.mark.parametrize(
    ("user", "area", "error"),
    [
        ("coord_1", None, PermissionDenied),
        ("township_a", "522699102000", NotFound),
        ("township_a", "522699000000", NotFound),
        ("county", "522699999000", NotFound),
        ("county", "52269910", ValidationError),
        ("no_area", None, ValidationError),
    ],
)
def test_areas_outside_scope_or_unknown_are_refused(engine, may, user, area, error):
    with pytest.raises(error), reading(engine) as session:
        check_area(session, may.scopes[user], area)


def test_a_merged_area_is_no_longer_offered_or_accepted(engine, may):
    with transaction(engine) as session:
        session.execute(
            update(Area)
            .where(Area.code == may.village_a2)
            .values(valid_to=dt.date(2026, 1, 1), replaced_by=may.village_a1)
        )
    with reading(engine) as session:
        codes = set(report_areas(session, may.scopes["county"])["code"])
        assert may.village_a2 not in codes and may.village_a1 in codes
        with pytest.raises(NotFound):
            check_area(session, may.scopes["county"], may.village_a2)
    # A person not yet moved off the old code still counts in the township, under the old name.
    report = _report(engine, may.scopes["township_a"])
    assert report.kpis["enrollments_listed"] == 6
    assert dict(zip(report.by_area["area_code"], report.by_area["area"], strict=True)) == {
        may.village_a1: "羊排村",
        may.village_a2: "乌东村",
    }


def _outline(lon: float, lat: float) -> str:
    ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def test_the_report_map_gets_the_outlines_of_its_area_and_the_areas_below_only(engine, may):
    every = (may.county, may.township_a, may.township_b, may.village_a1, may.village_a2, may.village_b1)
    with transaction(engine) as session:
        for k, code in enumerate(every):
            session.execute(update(Area).where(Area.code == code).values(boundary=_outline(108 + 0.1 * k, 26.3)))
    county = _report(engine, may.scopes["county"])
    assert county.map_boundaries["code"].tolist() == [may.county, may.township_a, may.township_b]
    assert county.map_boundaries["boundary"].tolist() == [_outline(108 + 0.1 * k, 26.3) for k in range(3)]
    township = _report(engine, may.scopes["township_a"])
    assert township.map_boundaries["code"].tolist() == [may.township_a, may.village_a1, may.village_a2]
    village = _report(engine, may.scopes["county"], area=may.village_b1)
    assert village.map_boundaries["code"].tolist() == [may.village_b1]
    # A merged-away village's outline is no longer drawn.
    with transaction(engine) as session:
        session.execute(update(Area).where(Area.code == may.village_a2).values(valid_to=dt.date(2026, 1, 1)))
    assert _report(engine, may.scopes["township_a"]).map_boundaries["code"].tolist() == [
        may.township_a,
        may.village_a1,
    ]


def test_the_workbook_total_row_matches_the_areas_read_from_the_database(engine, may):
    report = _report(engine, may.scopes["county"])
    meta = ExportMeta("522699000000", "青山县", "2026-05", "county", dt.datetime(2026, 6, 10, 9))
    sheet = openpyxl.load_workbook(io.BytesIO(workbook_bytes(report, None, meta)[0]))["概览"]
    last = [c.value for c in sheet[sheet.max_row]]
    assert last[0] == "合计"
    head = [c.value for c in sheet[sheet.max_row - len(report.by_area) - 1]]
    total = dict(zip(head, last, strict=True))
    assert total["在册人次"] == report.kpis["enrollments_listed"] == report.by_area["enrollments_listed"].sum()
    assert total["月探访率"] == pytest.approx(report.kpis["visit_rate"])


def test_a_future_month_is_refused(engine, may):
    with pytest.raises(ValidationError):
        _report(engine, may.scopes["county"], month="2026-07")


def test_trends_end_with_the_chosen_month(engine, may):
    with reading(engine) as session:
        frame = trends(session, may.scopes["county"], month="2026-05", area_code=None, today=TODAY)
    assert list(dict.fromkeys(frame["month"]))[-1] == "2026-05" and frame["month"].nunique() == 12
    may_all = frame[(frame["month"] == "2026-05") & (frame["group"] == "all")].iloc[0]
    assert (may_all["listed"], may_all["visited"]) == (7, 3)
    before = frame[(frame["month"] == "2025-10") & (frame["group"] == "all")].iloc[0]
    assert before["listed"] == 0


def test_an_export_is_audited_with_row_count_and_file_hash(engine, may):
    scope = may.scopes["county"]
    report = _report(engine, scope)
    meta = ExportMeta("522699000000", "青山县", "2026-05", scope.username, dt.datetime(2026, 6, 10, 9))
    data, rows = workbook_bytes(report, None, meta)
    unmasked = ExportMeta(**{**meta.__dict__, "unmasked": True})
    with transaction(engine) as session:
        record_export(session, scope=scope, fmt="xlsx", data=data, rows=rows, meta=meta, what="report")
        record_export(
            session, scope=scope, fmt="csv", data=b"x", rows=1, meta=unmasked, what="overdue", reason="省厅核查 2026"
        )
    with reading(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action.like("export.%")).order_by(AuditEvent.id))
        found = [(e.action, e.username, e.entity_id, e.detail) for e in events]
    assert found[0][:3] == ("export.xlsx", "county", "522699000000")
    assert found[0][3]["rows"] == rows and found[0][3]["sha256"] == hashlib.sha256(data).hexdigest()
    assert found[0][3]["masked"] is True and "reason" not in found[0][3]
    assert found[1][0] == "export.csv" and found[1][3]["masked"] is False and found[1][3]["reason"] == "省厅核查 2026"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book["概览"]["A1"].value == "青山县 2026-05 统计报表"


def test_a_township_may_not_record_an_unmasked_export(engine, may):
    scope = may.scopes["township_a"]
    meta = ExportMeta("522699101000", "丹江镇", "2026-05", scope.username, dt.datetime(2026, 6, 10), unmasked=True)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        record_export(
            session, scope=scope, fmt="xlsx", data=b"x", rows=1, meta=meta, what="report", reason="想看看全部"
        )


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "care.report", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_command_line_writes_the_workbook_and_audits_it(engine, may, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "may.xlsx"
    done = _cli("--db", url, "--month", "2026-05", "--area", may.township_a, "--out", str(out), "--as", "county")
    assert done.returncode == 0, done.stderr
    line = json.loads(done.stdout.strip().splitlines()[-1])
    assert line["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    book = openpyxl.load_workbook(out)
    assert book["概览"]["A1"].value.startswith("青山县 丹江镇")
    with reading(engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.xlsx"))
    assert event.username == "county" and event.detail["sha256"] == line["sha256"]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_command_line_refuses_a_bad_month_or_an_area_outside_the_user(engine, may, tmp_path):
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "x.xlsx"
    bad = _cli("--db", url, "--month", "2026-13", "--out", str(out), "--as", "county")
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr
    outside = _cli("--db", url, "--month", "2026-05", "--area", may.township_b, "--out", str(out), "--as", "township_a")
    assert outside.returncode == 2 and "不在您的辖区" in outside.stderr
    assert not out.exists()
    with reading(engine) as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    # One event with who, what and which area; the bad month is a typing error, not an access.
    assert [(e.username, e.action, e.entity, e.entity_id) for e in denied] == [
        ("township_a", "report.view", "area", may.township_b)
    ]


def _child_enrollment(engine, person_id):
    with reading(engine) as session:
        eid, risk = session.execute(
            select(Enrollment.id, Enrollment.risk).where(Enrollment.person_id == person_id, Enrollment.group == "child")
        ).one()
        return eid, policy_intervals(session, FIXTURE_COUNTY)[("child", risk)]


@pytest.mark.parametrize(("april_visit", "late"), [(True, False), (False, True)])
def test_the_last_visit_before_the_month_decides_whether_its_first_days_were_on_time(engine, world, april_visit, late):
    # May visits every `interval` days from interval - 1 days in: on time only if a visit on
    # 30 April began the count (otherwise it runs from the start in November, long overdue).
    person = world.persons["a1_child_w1"]
    eid, interval = _child_enrollment(engine, person)
    day = dt.date(2026, 5, 1) + dt.timedelta(days=interval - 2)
    days = [dt.date(2026, 4, 30)] if april_visit else []
    while day <= dt.date(2026, 5, 31):
        days.append(day)
        day += dt.timedelta(days=interval)
    with transaction(engine) as session:
        # A phone call and a not-met visit the day before the month never count.
        _visit(session, person, [eid], dt.datetime(2026, 4, 30, 18), mode="phone")
        _visit(session, person, [eid], dt.datetime(2026, 4, 30, 19), status="not_met")
        for when in days:
            _visit(session, person, [eid], dt.datetime.combine(when, dt.time(10)))
    report = _report(engine, world.scopes["county"])
    assert (person in set(report.lists["late"]["person_id"])) is late
    assert person not in set(report.lists["not_visited"]["person_id"])


def test_trends_mark_each_month_with_a_counted_visit_once(engine, world):
    person = world.persons["a1_child_w1"]
    eid, _ = _child_enrollment(engine, person)
    with transaction(engine) as session:
        _visit(session, person, [eid], dt.datetime(2026, 3, 2, 9))
        _visit(session, person, [eid], dt.datetime(2026, 3, 30, 9))
        _visit(session, person, [eid], dt.datetime(2026, 4, 1, 0, 5), mode="phone")
        _visit(session, person, [eid], dt.datetime(2026, 5, 31, 23, 50))
    with reading(engine) as session:
        frame = trends(session, world.scopes["county"], month="2026-05", area_code=None, today=TODAY)
    child = frame[frame["group"] == "child"].set_index("month")["visited"]
    assert child[["2026-02", "2026-03", "2026-04", "2026-05"]].tolist() == [0, 1, 0, 1]
