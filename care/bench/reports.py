"""Report benchmarks on the county (read only: nothing is written to the database).

``county_kpis``: every figure of last month for the whole county, as the page reads it (targets
under 2 s on SQLite); ``county_trends``: the 12-month visit-rate trend; ``county_workbook``: the
report, the trend and the whole workbook (target under 20 s); ``naive_pandas``: the same figures
computed the naive way, loading the tables whole into pandas, checked equal to ``county_kpis``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from care.bench.common import last_month, line, timed, user_scope
from care.domain import areas, clock
from care.domain.reports import ReportInputs, compute, parse_month
from care.files import charts
from care.files.exports import ExportMeta, workbook_bytes
from care.queries.policy import phone_counts, policy_intervals
from care.queries.reports import area_outlines, check_area, month_report, report_areas, report_meta, trends
from care.queries.settings import county_of_area
from db.models import Assignment, DisabledDetails, Enrollment, Need, Person, Visit, VisitEnrollment, Worker
from db.session import reading


def _table(session: Any, model: Any, *columns: Any) -> pd.DataFrame:
    stmt = select(*columns) if columns else select(*model.__table__.columns)
    return pd.read_sql(stmt, session.connection())


def naive_inputs(engine: Engine, scope: Any, month: str) -> ReportInputs:
    """ReportInputs built by loading whole tables and filtering them in pandas."""
    chosen = parse_month(month)
    with reading(engine) as session:
        code = check_area(session, scope, None)
        prefix = areas.prefix_of(code)
        people = _table(session, Person)
        enr = _table(session, Enrollment)
        details = _table(session, DisabledDetails)
        assignments = _table(session, Assignment)
        visits = _table(session, Visit, Visit.id, Visit.status, Visit.mode, Visit.visited_at)
        links = _table(session, VisitEnrollment)
        needs = _table(session, Need)
        workers = _table(session, Worker)
        county = county_of_area(code)
        intervals, phones = policy_intervals(session, county), phone_counts(session, county)
        area_rows = report_areas(session, scope)
    people = people[people["village_code"].str.startswith(prefix) & ~people["deleted"].astype(bool)]
    people = people.rename(columns={"id": "person_id"})
    enr = enr[enr["person_id"].isin(people["person_id"])].rename(columns={"id": "enrollment_id"})
    enr = enr.merge(details, how="left", left_on="enrollment_id", right_on="enrollment_id")
    enr["certified"] = enr["certificate_no"].fillna("").astype(str).str.len() > 0
    enr["rehab_needs"] = enr["rehab_needs"].fillna("").astype(str).str.len() > 0
    enr["assigned"] = enr["enrollment_id"].isin(assignments.loc[assignments["end_date"].isna(), "enrollment_id"])
    linked = links.merge(visits.rename(columns={"id": "visit_id", "visited_at": "visited_on"}), on="visit_id")
    needs = needs[needs["person_id"].isin(people["person_id"])].rename(
        columns={"id": "need_id", "status": "need_status"}
    )
    live = assignments[assignments["end_date"].isna()].merge(
        enr.loc[enr["end_date"].isna(), ["enrollment_id"]], on="enrollment_id"
    )
    workers = workers[workers["area_code"].str.startswith(prefix) & workers["active"].astype(bool)]
    workers = workers.rename(columns={"id": "worker_id"})
    workers["caseload"] = workers["worker_id"].map(live["worker_id"].value_counts()).fillna(0).astype(int)
    return ReportInputs(
        month=chosen,
        today=clock.today(),
        area_code=code,
        enrollments=enr,
        persons=people,
        visits=linked[["enrollment_id", "visited_on", "status", "mode"]],
        needs=needs,
        workers=workers,
        areas=area_rows[area_rows["code"].str.startswith(prefix)],
        intervals=intervals,
        phone_counts=phones,
    )


def bench_reports(engine: Engine, n: int) -> Iterator[dict[str, Any]]:
    """county_kpis, county_trends, county_choropleth, county_workbook and naive_pandas (see the module docstring)."""
    county = user_scope(engine, "county")
    month = last_month()
    today = clock.today()

    def kpis() -> Any:
        with reading(engine) as session:
            return month_report(session, county, month=month, area_code=None, today=today)

    times, report = timed(kpis, repeat=5)
    yield line(
        "reports", "county_kpis", n, times, month=month, target_s=2, enrollments=report.kpis["enrollments_listed"]
    )

    def trend() -> Any:
        with reading(engine) as session:
            return trends(session, county, month=month, area_code=None, today=today)

    start = time.perf_counter()
    trend()
    yield line("reports", "county_trends", n, [time.perf_counter() - start], month=month)

    def choropleth() -> Any:
        # What the overview's map costs once the month's report is read: the outlines and the chart.
        rows = report.by_area.to_dict("records")
        with reading(engine) as session:
            outlines = area_outlines(session, county, [str(r["area_code"]) for r in rows])
        shapes = charts.map_areas(rows, outlines, "visit_rate")
        return charts.choropleth(shapes, figure="visit_rate", title="visit_rate", no_data="-").to_dict()

    times, spec = timed(choropleth, repeat=5)
    yield line("reports", "county_choropleth", n, times, areas=len(spec["data"]["values"]), target_s=0.5)

    def workbook() -> tuple[bytes, int]:
        with reading(engine) as session:
            built = month_report(session, county, month=month, area_code=None, today=today)
            history = trends(session, county, month=month, area_code=None, today=today)
            facts = report_meta(session, county, built.area_code)
        meta = ExportMeta(built.area_code, facts["area_name"], month, county.username, clock.now())
        return workbook_bytes(built, history, meta)

    start = time.perf_counter()
    data, rows = workbook()
    yield line("reports", "county_workbook", n, [time.perf_counter() - start], target_s=20, rows=rows, bytes=len(data))

    start = time.perf_counter()
    naive = compute(naive_inputs(engine, county, month))
    seconds = time.perf_counter() - start
    same = naive.kpis == report.kpis
    yield line("reports", "naive_pandas", n, [seconds], same_kpis=same)
