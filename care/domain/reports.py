"""County monthly figures (统计报表): pure arithmetic on plain tables, no database and no UI.

Definitions (the page and the workbook say the same):

- **Listed in a month** (在册): an enrollment active on any day of the calendar month, i.e.
  ``start_date <= month end`` and (``end_date`` empty or ``end_date >= month start``), of a person
  not deleted. A person in two groups is listed once in each group; person totals count them once.
- **Counted visit**: status ``done`` and a mode that resets the clock (home, third party, volunteer;
  phone or video only when the county's policy says phone visits count), see ``policy.counts``.
  Not-met, cancelled and planned visits never count. A visit counts for the enrollments it is linked
  to (``visit_enrollments``), by the calendar day of ``visited_at``.
- **Monthly visit rate** of a group (月探访率): listed enrollments of the group with at least one
  counted visit in the calendar month ÷ listed enrollments of the group.
- **On time** in a month: the enrollment was overdue on no day of its window (from the later of
  the month start and the enrollment start to the earliest of the month end, the exit and today).
  It is overdue on day *d* when *d* minus its last counted visit before *d* (or its start, when that
  is later or there is none) exceeds the policy interval of its group and risk. On-time rate =
  on-time ÷ listed enrollments with a non-empty window.
- **Overdue now**: active enrollments whose next due date is before today.
- **High risk, not visited**: listed high-risk enrollments without a counted visit in the month.
- **Nobody assigned**: active enrollments without an assignment whose end date is empty.
- **Needs open** at the month end (or today, if earlier): opened by then and not resolved by then,
  by kind and by how long they have been open. **Resolved**: resolved in the month.
- **Rehabilitation service coverage** (康复服务覆盖率): served ÷ (listed disabled enrollments with a
  certificate + listed uncertified disabled enrollments with rehab needs, i.e. rehab needs written
  in the file or a rehab / assistive-device need open during the month). **Served**: in that
  denominator and either visited (counted) in the month or with a rehab / assistive-device need
  resolved in the month.
- **Data quality** (as of today, active persons): no home coordinates; an ID number that fails the
  GB 11643 check or disagrees with the recorded sex or birth date; children still on the children's
  register at or over their sub-type's age limit (the county's, else 16 for 留守, 18 for 困境 and
  事实无人抚养); persons whose active enrollments have never had a counted visit; active
  workers with no current caseload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from care.domain import areas, enums, ids, policy
from care.domain.errors import ValidationError

EPOCH = dt.date(1970, 1, 1)
NEED_AGE_BUCKETS = ((30, "d0_30"), (90, "d31_90"), (180, "d91_180"), (None, "d181_plus"))
REHAB_NEED_KINDS = ("rehab", "assistive_device")
TREND_MONTHS = 12
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

ENROLLMENT_COLUMNS = [
    "enrollment_id",
    "person_id",
    "group",
    "subtype",
    "risk",
    "start_date",
    "end_date",
    "exit_reason",
    "next_due_on",
    "last_visit_on",
    "certified",
    "rehab_needs",
    "assigned",
]
PERSON_COLUMNS = [
    "person_id",
    "name",
    "id_number",
    "sex",
    "birth_date",
    "village_code",
    "phone",
    "lat",
    "lon",
    "status",
]
VISIT_COLUMNS = ["enrollment_id", "visited_on", "status", "mode"]
NEED_COLUMNS = ["need_id", "person_id", "kind", "need_status", "opened_on", "resolved_on", "department"]
WORKER_COLUMNS = ["worker_id", "name", "kind", "area_code", "caseload"]
AREA_COLUMNS = ["code", "name", "level", "parent_code", "lat", "lon"]
BOUNDARY_COLUMNS = ["code", "level", "boundary"]
# The count columns of the figures by area (a total adds them up) and, for each rate column, the
# numerator and denominator it divides (a total divides their sums).
AREA_COUNT_COLUMNS = (
    "persons_listed",
    "enrollments_listed",
    "overdue_now",
    "high_risk_unvisited",
    "unassigned",
    "needs_open",
)
AREA_RATE_PARTS = {
    "visit_rate": ("visited", "listed"),
    **{f"visit_rate_{g}": (f"visited_{g}", f"listed_{g}") for g in enums.GROUPS},
    "on_time_rate": ("on_time", "judged"),
}
# Columns every person list starts with (the page and exports label them).
LIST_PERSON_COLUMNS = ["person_id", "name", "id_number", "sex", "age", "phone", "township", "village", "lat", "lon"]


@dataclass(frozen=True)
class Month:
    """A calendar month: ``label`` 'YYYY-MM', its first and last day."""

    label: str
    first: dt.date
    last: dt.date


@dataclass(frozen=True)
class ServiceSheets:
    """The service figures as the workbook carries them: (catalog key, value) pairs, the month's
    deliveries by service and by provider, and the lists behind them by name."""

    kpis: list[tuple[str, Any]]
    by_service: pd.DataFrame
    by_provider: pd.DataFrame
    lists: dict[str, pd.DataFrame]


# The household figures by area (queries.reports.household_table) that add up across areas.
HOUSEHOLD_COUNT_COLUMNS = ("households_covered", "multi_group", "children", "children_guardian_in_care")


def parse_month(text: str, *, today: dt.date | None = None) -> Month:
    """'YYYY-MM' as a Month; refuses other shapes and months after ``today``'s."""
    found = _MONTH.match(str(text).strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise ValidationError("report.bad_month", field="month", value=str(text)[:20])
    month = month_of(dt.date(int(found.group(1)), int(found.group(2)), 1))
    if today is not None and month.first > today:
        raise ValidationError("report.future_month", field="month", value=month.label)
    return month


def month_of(day: dt.date) -> Month:
    """The calendar month holding ``day``."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return Month(first.strftime("%Y-%m"), first, following - dt.timedelta(days=1))


def months_back(month: Month, count: int) -> list[Month]:
    """The ``count`` months ending with ``month``, oldest first."""
    found = [month]
    while len(found) < count:
        found.append(month_of(found[-1].first - dt.timedelta(days=1)))
    return found[::-1]


def rate(part: float, whole: float) -> float | None:
    """part ÷ whole, or None when there is nothing to divide by."""
    return None if not whole else float(part) / float(whole)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01 (how the tables below compare dates)."""
    return (day - EPOCH).days


def _days(values: pd.Series) -> pd.Series:
    """A column of dates (or datetimes, or ISO text, or None) as float day numbers (NaN for empty).

    A numeric column holds day numbers already (read so from the database). numpy reads ISO text
    and date objects in one pass; anything it refuses (text that is not a date, NaN) goes through
    pandas, which turns the unreadable into NaN.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64")
    try:
        stamps = np.array(values.to_numpy(dtype=object), dtype="datetime64[D]")
    except (TypeError, ValueError):
        stamps = pd.to_datetime(values, errors="coerce").to_numpy(dtype="datetime64[D]")
    out = stamps.astype("int64").astype("float64")
    out[np.isnat(stamps)] = np.nan
    return pd.Series(out, index=values.index)


def need_age_bucket(days_open: int) -> str:
    """'d0_30', 'd31_90', 'd91_180' or 'd181_plus' for a need open this many days."""
    for limit, name in NEED_AGE_BUCKETS:
        if limit is None or days_open <= limit:
            return name
    return NEED_AGE_BUCKETS[-1][1]


def id_problems(id_numbers: pd.Series, sexes: pd.Series, births: pd.Series) -> pd.Series:
    """Per person: '' (fine), 'invalid' (shape or check digit) or 'mismatch' (sex or birth date differ)."""
    text = id_numbers.fillna("").astype(str).str.strip().str.upper()
    shaped_mask = text.str.fullmatch(r"[0-9]{17}[0-9X]", case=True).fillna(False).astype(bool)
    shaped = shaped_mask.to_numpy()
    out = np.full(len(text), "invalid", dtype=object)
    if shaped.any():
        good = text[shaped_mask]
        # One byte per character: 18 ASCII characters per row.
        raw = np.array(good.tolist(), dtype="S18").view(np.uint8).reshape(-1, 18)
        digits = raw[:, :17].astype(np.int64) - 48
        ok_check = ids.check_bytes(digits) == raw[:, 17]
        coded, valid_date = _coded_birth_days(digits)
        given = _days(births[shaped_mask]).to_numpy()
        given_sex = sexes[shaped_mask].astype(object).to_numpy()
        sex_ok = np.where(digits[:, 16] % 2 == 1, given_sex == "M", given_sex == "F")
        disagree = (coded != given) | ~sex_ok
        out[shaped] = np.where(~(ok_check & valid_date), "invalid", np.where(disagree, "mismatch", ""))
    return pd.Series(out, index=id_numbers.index, dtype=object)


def _coded_birth_days(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The birth date coded in ID digits 7–14 (YYYYMMDD) as a day number, and whether it is a real
    calendar date from 1800 on."""
    year = digits[:, 6:10] @ np.array([1000, 100, 10, 1])
    month = digits[:, 10:12] @ np.array([10, 1])
    day = digits[:, 12:14] @ np.array([10, 1])
    months = (year - 1970) * 12 + np.clip(month, 1, 12) - 1
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype("int64")
    following = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype("int64")
    valid = (year >= 1800) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= following - first)
    return (first + day - 1).astype("float64"), valid


def person_id_problems(persons: pd.DataFrame) -> pd.Series:
    """``id_problems`` of a persons table (id_number, sex, birth_date)."""
    return id_problems(persons["id_number"], persons["sex"], persons["birth_date"])


def ages(births: pd.Series, on: dt.date) -> pd.Series:
    """Full years reached on ``on`` for a column of birth dates."""
    stamps = pd.to_datetime(births, errors="coerce")
    years = on.year - stamps.dt.year
    before = (stamps.dt.month > on.month) | ((stamps.dt.month == on.month) & (stamps.dt.day > on.day))
    return (years - before.astype(int)).astype("Int64")


@dataclass
class ReportInputs:
    """The plain tables one month's report is computed from (see the module docstring)."""

    month: Month
    today: dt.date
    area_code: str
    enrollments: pd.DataFrame
    persons: pd.DataFrame
    visits: pd.DataFrame
    needs: pd.DataFrame
    workers: pd.DataFrame
    areas: pd.DataFrame
    intervals: Mapping[tuple[str, str], int]
    phone_counts: bool
    # Last counted visit before the month start per enrollment (enrollment_id, day): the month's
    # visits alone cannot tell whether its first days were already overdue.
    prior: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"enrollment_id": [], "day": []}))
    # Age limit of each child sub-type in the county (see care.services.age_limits).
    child_age_limits: Mapping[str, int] = field(default_factory=lambda: dict(enums.CHILD_AGE_LIMITS))
    # Stored outlines (GeoJSON text) of the report's area and the areas one level below it.
    boundaries: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUNDARY_COLUMNS))


@dataclass
class MonthReport:
    """Every figure of one month and area, with the lists behind them."""

    month: Month
    today: dt.date
    area_code: str
    kpis: dict[str, Any]
    by_area: pd.DataFrame
    registers: pd.DataFrame
    movement: pd.DataFrame
    visit_rates: pd.DataFrame
    needs_open: pd.DataFrame
    needs_resolved: pd.DataFrame
    rehab: dict[str, Any]
    quality: pd.DataFrame
    lists: ReportLists | CombinedLists
    map_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    # Per row of ``by_area`` (area_code): the numerator and denominator of each rate (AREA_RATE_PARTS).
    by_area_parts: pd.DataFrame = field(default_factory=pd.DataFrame)
    map_boundaries: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BOUNDARY_COLUMNS))


def counted_visits(visits: pd.DataFrame, *, phone_counts: bool) -> pd.DataFrame:
    """The visits that count (``policy.counts``), one row per enrollment and day: enrollment_id, day.

    A frame without ``status`` and ``mode`` columns was filtered by the same rule when read.
    """
    modes = list(policy.COUNTED_MODES_IN_PERSON) + (["phone"] if phone_counts else [])
    if "status" not in visits.columns:
        # Read with the same rule in SQL already: every row counts.
        keep = pd.Series(True, index=visits.index)
    else:
        keep = (visits["status"].astype(object) == "done") & visits["mode"].astype(object).isin(modes)
    done = pd.DataFrame(
        {"enrollment_id": visits.loc[keep, "enrollment_id"], "day": _days(visits.loc[keep, "visited_on"])}
    )
    return done.dropna(subset=["day"]).drop_duplicates().astype({"enrollment_id": "int64"})


def prior_visits(counted: pd.DataFrame, before: dt.date) -> pd.DataFrame:
    """Each enrollment's last counted visit before ``before``: enrollment_id, day."""
    earlier = counted[counted["day"] < day_number(before)]
    return earlier.groupby("enrollment_id", as_index=False)["day"].max()


def listed_mask(start: pd.Series, end: pd.Series, month: Month) -> pd.Series:
    """Enrollments active on any day of ``month``, from their start and end day numbers."""
    return (start <= day_number(month.last)) & (end.isna() | (end >= day_number(month.first)))


def visited_in(enrollment_ids: pd.Series, counted: pd.DataFrame, month: Month) -> pd.Series:
    """For each enrollment id: has a counted visit in the calendar month."""
    in_month = counted[(counted["day"] >= day_number(month.first)) & (counted["day"] <= day_number(month.last))]
    return enrollment_ids.isin(in_month["enrollment_id"].unique())


def on_time(listed: pd.DataFrame, counted: pd.DataFrame, inputs: ReportInputs) -> pd.Series:
    """Per listed enrollment: True (never overdue in its window), False, or NA (empty window).

    Each enrollment's base is the later of its start and its last counted visit before the window
    (from the visits given or ``inputs.prior``). It was overdue on some day of the window when a
    visit inside came more than the interval after the one before it (or the base), or when the
    window ends more than the interval after the last of them.
    """
    month, today = inputs.month, inputs.today
    ids = listed["enrollment_id"].to_numpy(dtype="int64")
    start = listed["start_day"].to_numpy(dtype="float64")
    end = listed["end_day"].fillna(np.inf).to_numpy(dtype="float64")
    interval = _intervals(listed, inputs.intervals)
    ws = np.maximum(start, day_number(month.first))
    we = np.minimum(end, min(day_number(month.last), day_number(today)))
    visits = pd.concat([counted[["enrollment_id", "day"]], inputs.prior[["enrollment_id", "day"]]])
    row = pd.Index(ids).get_indexer(visits["enrollment_id"].to_numpy(dtype="int64"))
    day = visits["day"].to_numpy(dtype="float64")
    row, day = row[row >= 0], day[row >= 0]
    # The base: start, or the last visit before the window when later.
    base = start.copy()
    before = day < ws[row]
    np.fmax.at(base, row[before], day[before])
    # Visits inside the window, in order per enrollment; each gap from the one before (or the base).
    inside = (day >= ws[row]) & (day <= we[row])
    row, day = row[inside], day[inside]
    order = np.lexsort((day, row))
    row, day = row[order], day[order]
    first_of_row = np.ones(len(row), dtype=bool)
    first_of_row[1:] = row[1:] != row[:-1]
    previous = np.where(first_of_row, base[row], np.concatenate(([0.0], day[:-1])))
    late = np.zeros(len(ids), dtype=bool)
    late[row[(day - previous) > interval[row]]] = True
    last_seen = base.copy()
    np.fmax.at(last_seen, row, day)
    late |= (we - last_seen) > interval
    out = pd.Series(~late, index=listed.index, dtype="boolean")
    out[ws > we] = pd.NA
    return out


def _intervals(listed: pd.DataFrame, intervals: Mapping[tuple[str, str], int]) -> np.ndarray:
    keys = pd.MultiIndex.from_arrays([listed["group"].astype(object), listed["risk"].astype(object)])
    table = pd.Series(intervals)
    values: np.ndarray = table.reindex(keys).to_numpy(dtype="float64")
    return values


def child_area(village_codes: pd.Series, area_code: str) -> pd.Series:
    """The area one level below the report's area that each village lies in (the village itself below a township)."""
    level = areas.level_of(area_code)
    if level == "county":
        return village_codes.str.slice(0, 9) + "000"
    return village_codes


def _person_view(persons: pd.DataFrame, area_names: Mapping[str, str], today: dt.date) -> pd.DataFrame:
    """Persons with age, township and village names, in the order of every list (township,
    village, name, id) and indexed by person id."""
    view = persons.copy()
    view["age"] = ages(view["birth_date"], today)
    view["township"] = (view["village_code"].str.slice(0, 9) + "000").map(area_names).fillna("")
    view["village"] = view["village_code"].map(area_names).fillna("")
    view = view.sort_values(["township", "village", "name", "person_id"])
    view.index = pd.Index(view["person_id"].to_numpy())
    return view


def _with_person(frame: pd.DataFrame, people: pd.DataFrame, extra: list[str]) -> pd.DataFrame:
    """The rows of a list with the person's columns first, in the persons' order (see _person_view)."""
    ids = frame["person_id"].to_numpy()
    found = people[LIST_PERSON_COLUMNS].reindex(ids)
    found["person_id"] = ids
    merged = pd.concat([found.reset_index(drop=True), frame[extra].reset_index(drop=True)], axis=1)
    rank = people.index.get_indexer(ids)
    rank[rank < 0] = len(people)
    return merged.iloc[np.argsort(rank, kind="stable")].reset_index(drop=True)


def _people_in(persons: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The persons living under the area prefix, indexed by person id."""
    people = persons[persons["village_code"].str.startswith(prefix)]
    return people.set_index(pd.Index(people["person_id"].to_numpy()), drop=False)


def _enrollment_facts(inputs: ReportInputs, people: pd.DataFrame, counted: pd.DataFrame) -> pd.DataFrame:
    """The people's enrollments with every per-enrollment fact of the month (listed, visited, on time, late ...)."""
    month, today = inputs.month, inputs.today
    enr = inputs.enrollments[inputs.enrollments["person_id"].isin(people.index)].copy()
    # Few distinct values: categories filter and group much faster than text columns.
    enr = enr.astype(dict.fromkeys(("group", "subtype", "risk", "exit_reason"), "category"))
    enr["village_code"] = enr["person_id"].map(people["village_code"]).astype("category")
    enr["area"] = child_area(enr["village_code"], inputs.area_code)
    enr["start_day"], enr["end_day"] = _days(enr["start_date"]), _days(enr["end_date"])
    enr["listed"] = listed_mask(enr["start_day"], enr["end_day"], month)
    enr["active"] = enr["end_date"].isna()
    enr["visited"] = visited_in(enr["enrollment_id"], counted, month)
    enr["on_time"] = pd.Series(pd.NA, index=enr.index, dtype="boolean")
    listed = enr[enr["listed"]]
    enr.loc[listed.index, "on_time"] = on_time(listed, counted, inputs)
    due = _days(enr["next_due_on"])
    enr["overdue"] = enr["active"] & (due < day_number(today))
    enr["high_unvisited"] = enr["listed"] & (enr["risk"] == "high") & ~enr["visited"]
    enr["unassigned"] = enr["active"] & ~enr["assigned"].astype(bool)
    start, end = enr["start_day"], enr["end_day"]
    first, last = day_number(month.first), day_number(month.last)
    enr["new"] = (start >= first) & (start <= last)
    enr["exited"] = (end >= first) & (end <= last)
    enr["not_visited"] = enr["listed"] & ~enr["visited"]
    enr["late"] = enr["on_time"].eq(False).fillna(False).astype(bool)
    return enr


def _kpis(
    enr: pd.DataFrame,
    listed: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    open_needs: pd.DataFrame,
    resolved_needs: pd.DataFrame,
    rehab: dict[str, Any],
    quality: pd.DataFrame,
) -> dict[str, Any]:
    """The month's headline figures, by name."""
    totals = rates[rates["group"] == "all"].iloc[0]
    return {
        "persons_listed": int(listed["person_id"].nunique()),
        "enrollments_listed": len(listed),
        "new": int(enr["new"].sum()),
        "exited": int(enr["exited"].sum()),
        "visit_rate": totals["rate"],
        "on_time_rate": totals["on_time_rate"],
        **{f"visit_rate_{g}": rates.loc[rates["group"] == g, "rate"].iloc[0] for g in enums.GROUPS},
        "overdue_now": int(enr["overdue"].sum()),
        "high_risk_unvisited": int(enr["high_unvisited"].sum()),
        "unassigned": int(enr["unassigned"].sum()),
        "needs_open": len(open_needs),
        "needs_resolved": len(resolved_needs),
        "rehab_coverage": rehab["rate"],
        **{f"quality_{k}": int(v) for k, v in zip(quality["check"], quality["count"], strict=True)},
    }


def compute(inputs: ReportInputs) -> MonthReport:
    """Every figure of the month report from the plain tables in ``inputs``."""
    month, today = inputs.month, inputs.today
    names = dict(zip(inputs.areas["code"], inputs.areas["name"], strict=True))
    prefix = areas.prefix_of(inputs.area_code)
    people = _people_in(inputs.persons, prefix)
    counted = counted_visits(inputs.visits, phone_counts=inputs.phone_counts)
    enr = _enrollment_facts(inputs, people, counted)
    listed = enr[enr["listed"]]

    needs = _needs(inputs, people)
    rehab, rehab_rows = _rehab(listed, inputs.needs, month)
    quality, quality_rows = _quality(enr, people, inputs.workers, names, today, inputs.child_age_limits)
    lists = ReportLists(enr, people, needs, names, today, {"rehab": rehab_rows, **quality_rows})

    rates = _visit_rates(listed)
    open_needs, resolved_needs = needs[needs["open_now"]], needs[needs["resolved_in_month"]]
    kpis = _kpis(enr, listed, rates, open_needs=open_needs, resolved_needs=resolved_needs, rehab=rehab, quality=quality)
    by_area, by_area_parts = _by_area(enr, open_needs, names, _child_codes(inputs.areas, inputs.area_code))
    return MonthReport(
        month=month,
        today=today,
        area_code=inputs.area_code,
        kpis=kpis,
        by_area=by_area,
        registers=_registers(listed),
        movement=_movement(enr),
        visit_rates=rates,
        needs_open=_needs_table(open_needs, "age_bucket", [b for _, b in NEED_AGE_BUCKETS]),
        needs_resolved=_needs_table(resolved_needs, None, ["count"]),
        rehab=rehab,
        quality=quality,
        lists=lists,
        map_points=_map_points(enr, inputs.areas),
        by_area_parts=by_area_parts,
        map_boundaries=_boundaries(inputs.boundaries, prefix),
    )


def _visit_rates(listed: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for group in (*enums.GROUPS, "all"):
        part = listed if group == "all" else listed[listed["group"] == group]
        judged = part["on_time"].dropna()
        rows.append(
            {
                "group": group,
                "listed": len(part),
                "visited": int(part["visited"].sum()),
                "rate": rate(int(part["visited"].sum()), len(part)),
                "on_time_listed": len(judged),
                "on_time": int(judged.astype(bool).sum()),
                "on_time_rate": rate(int(judged.astype(bool).sum()), len(judged)),
            }
        )
    return pd.DataFrame(rows)


def _registers(listed: pd.DataFrame) -> pd.DataFrame:
    return _in_register_order(listed.groupby(["group", "subtype", "risk"]).size().rename("count").reset_index())


def _in_register_order(counts: pd.DataFrame) -> pd.DataFrame:
    """The register's rows by group (the catalog's order), sub-type, then risk (high first)."""
    order = {g: i for i, g in enumerate(enums.GROUPS)}
    counts["_g"] = counts["group"].map(order)
    counts["_r"] = counts["risk"].map(enums.RISK_ORDER)
    return counts.sort_values(["_g", "subtype", "_r"]).drop(columns=["_g", "_r"]).reset_index(drop=True)


def _movement(enr: pd.DataFrame) -> pd.DataFrame:
    new = enr[enr["new"]].groupby("group").size().rename("count").reset_index()
    new["change"], new["reason"] = "new", ""
    exited = enr[enr["exited"]].copy()
    exited["reason"] = exited["exit_reason"].astype(object).fillna("other")
    out = exited.groupby(["group", "reason"]).size().rename("count").reset_index()
    out["change"] = "exited"
    columns = ["change", "group", "reason", "count"]
    return pd.concat([new[columns], out[columns]], ignore_index=True)


def _needs(inputs: ReportInputs, people: pd.DataFrame) -> pd.DataFrame:
    """The area's needs with days open, age bucket, and flags: open at the month end (or today),
    resolved in the month."""
    month, today = inputs.month, inputs.today
    as_of = day_number(min(month.last, today))
    needs = inputs.needs[inputs.needs["person_id"].isin(people.index)].copy()
    opened, resolved = _days(needs["opened_on"]), _days(needs["resolved_on"])
    needs["days_open"] = (as_of - opened).astype("Int64")
    needs["open_now"] = ((opened <= as_of) & ~(resolved <= as_of)).to_numpy(dtype=bool)
    needs["age_bucket"] = [need_age_bucket(int(d)) for d in needs["days_open"].fillna(0)]
    in_month = (resolved >= day_number(month.first)) & (resolved <= day_number(month.last))
    needs["resolved_in_month"] = in_month.to_numpy(dtype=bool)
    return needs


def _needs_table(needs: pd.DataFrame, column: str | None, columns: list[str]) -> pd.DataFrame:
    rows = []
    for kind in enums.NEED_KINDS:
        part = needs[needs["kind"] == kind]
        if column is None:
            rows.append({"kind": kind, "count": len(part)})
        else:
            rows.append({"kind": kind, **{c: int((part[column] == c).sum()) for c in columns}, "total": len(part)})
    return pd.DataFrame(rows)


def _rehab(listed: pd.DataFrame, needs: pd.DataFrame, month: Month) -> tuple[dict[str, Any], pd.DataFrame]:
    disabled = listed[listed["group"] == "disabled"].copy()
    rehab = needs[needs["kind"].isin(REHAB_NEED_KINDS)]
    opened, resolved = _days(rehab["opened_on"]), _days(rehab["resolved_on"])
    first, last = day_number(month.first), day_number(month.last)
    open_in_month = set(rehab.loc[(opened <= last) & (resolved.isna() | (resolved >= first)), "person_id"])
    resolved_in_month = set(rehab.loc[(resolved >= first) & (resolved <= last), "person_id"])
    disabled["certified"] = disabled["certified"].astype(bool)
    disabled["rehab_needs"] = disabled["rehab_needs"].astype(bool) | disabled["person_id"].isin(open_in_month)
    base = disabled[disabled["certified"] | disabled["rehab_needs"]].copy()
    base["served"] = base["visited"].astype(bool) | base["person_id"].isin(resolved_in_month)
    certified = int(base["certified"].sum())
    uncertified = int(len(base) - certified)
    served = int(base["served"].sum())
    summary = {
        "certified": certified,
        "uncertified_with_needs": uncertified,
        "denominator": certified + uncertified,
        "served": served,
        "rate": rate(served, certified + uncertified),
    }
    return summary, base[["person_id", "served", "certified", "rehab_needs", "visited"]]


def _quality(
    enr: pd.DataFrame,
    people: pd.DataFrame,
    workers: pd.DataFrame,
    names: Mapping[str, str],
    today: dt.date,
    age_limits: Mapping[str, int],
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The data-quality counts, with the rows behind each (person_id and the columns a list adds)."""
    active_people = (people["status"] == "active").to_numpy(dtype=bool)
    located = people["lat"].notna().to_numpy() & people["lon"].notna().to_numpy()
    no_coords = people.loc[active_people & ~located, ["person_id"]]
    checked = people.loc[active_people]
    problems = checked["id_problem"] if "id_problem" in checked.columns else person_id_problems(checked)
    bad_id = pd.DataFrame({"person_id": checked["person_id"], "id_problem": problems})
    bad_id = bad_id[bad_id["id_problem"] != ""]
    active = enr[enr["active"]]
    children = active[active["group"] == "child"]
    child_ages = ages(children["person_id"].map(people["birth_date"]), today)
    limits = {**enums.CHILD_AGE_LIMITS, **age_limits}
    child_limits = children["subtype"].astype(str).map(limits).astype("Int64")
    aged_out = children[(child_ages >= child_limits).fillna(False).to_numpy(dtype=bool)]
    ids = active["person_id"]
    never_ids = np.unique(ids[~ids.isin(ids[active["last_visit_on"].notna()])].to_numpy(dtype="int64"))
    idle = workers[workers["caseload"] == 0].copy()
    idle["area"] = idle["area_code"].map(names).fillna("")
    idle = idle.rename(columns={"kind": "worker_kind"})
    rows = {
        "no_coordinates": no_coords[["person_id"]],
        "bad_id": bad_id,
        "aged_out": aged_out[["person_id", "enrollment_id", "start_date"]],
        "never_visited": pd.DataFrame({"person_id": pd.Series(never_ids, dtype="int64")}),
        "idle_workers": idle[["worker_id", "name", "worker_kind", "area"]].sort_values(["area", "name"]),
    }
    quality = pd.DataFrame({"check": list(rows), "count": [len(frame) for frame in rows.values()]})
    return quality, rows


_ENROLLMENT_EXTRA = ["group", "subtype", "risk", "start_date", "end_date", "next_due_on", "last_visit_on"]
# Lists of enrollments: the flag column that selects them and the columns shown after the person's.
_ENROLLMENT_LISTS = {
    "listed": ("listed", [*_ENROLLMENT_EXTRA, "visited", "on_time"]),
    "not_visited": ("not_visited", _ENROLLMENT_EXTRA),
    "late": ("late", _ENROLLMENT_EXTRA),
    "new": ("new", _ENROLLMENT_EXTRA),
    "exited": ("exited", [*_ENROLLMENT_EXTRA, "exit_reason"]),
    "overdue": ("overdue", _ENROLLMENT_EXTRA),
    "high_risk_unvisited": ("high_unvisited", _ENROLLMENT_EXTRA),
    "unassigned": ("unassigned", _ENROLLMENT_EXTRA),
}
_NEED_LISTS = {"needs_open": "open_now", "needs_resolved": "resolved_in_month"}
_NEED_EXTRA = ["need_id", "kind", "need_status", "department", "opened_on", "resolved_on", "days_open", "age_bucket"]
# Other lists: rows kept whole; those with a person_id get the person's columns first.
_ROW_EXTRA = {
    "rehab": ["served", "certified", "rehab_needs", "visited"],
    "no_coordinates": [],
    "bad_id": ["id_problem"],
    "aged_out": ["start_date"],
    "never_visited": [],
}


_ENROLLMENT_DATES = ("start_date", "end_date", "next_due_on", "last_visit_on")


def _dates_shown(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Date columns read as day numbers, as dates again (empty stays empty)."""
    for name in columns:
        if name in frame.columns and pd.api.types.is_float_dtype(frame[name].dtype):
            days = frame[name].to_numpy(dtype="float64")
            empty = np.isnan(days)
            shown = np.where(empty, 0, days).astype("int64").astype("datetime64[D]").astype(object)
            shown[empty] = None
            frame[name] = pd.Series(shown, index=frame.index, dtype=object)
    return frame


class ReportLists(Mapping[str, pd.DataFrame]):
    """The lists behind the figures, by name, each built when first read.

    A county's lists run to 100,000 rows each and the page shows one at a time, so building them
    all would cost more than every figure together; ``count`` gives a list's length without
    building it. Holds only frames, so a report can be cached (pickled) whole.
    """

    def __init__(
        self,
        enrollments: pd.DataFrame,
        persons: pd.DataFrame,
        needs: pd.DataFrame,
        names: Mapping[str, str],
        today: dt.date,
        rows: Mapping[str, pd.DataFrame],
    ) -> None:
        self._enrollments = enrollments
        self._persons = persons
        self._needs = needs
        self._names = dict(names)
        self._today = today
        self._rows = dict(rows)
        self._built: dict[str, pd.DataFrame] = {}
        self._people: pd.DataFrame | None = None
        self._names_order = [*_ENROLLMENT_LISTS, *_NEED_LISTS, *self._rows]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names_order)

    def __len__(self) -> int:
        return len(self._names_order)

    def count(self, name: str) -> int:
        """Rows in list ``name`` (KeyError for an unknown name)."""
        if name in _ENROLLMENT_LISTS:
            return int(self._enrollments[_ENROLLMENT_LISTS[name][0]].sum())
        if name in _NEED_LISTS:
            return int(self._needs[_NEED_LISTS[name]].sum())
        return len(self._rows[name])

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._built:
            self._built[name] = _dates_shown(self._build(name), _ENROLLMENT_DATES)
        return self._built[name]

    def _build(self, name: str) -> pd.DataFrame:
        if name in _ENROLLMENT_LISTS:
            flag, extra = _ENROLLMENT_LISTS[name]
            return _with_person(self._enrollments[self._enrollments[flag]], self._view(), extra)
        if name in _NEED_LISTS:
            return _with_person(self._needs[self._needs[_NEED_LISTS[name]]], self._view(), _NEED_EXTRA)
        rows = self._rows[name]
        if name not in _ROW_EXTRA:
            return rows
        return _with_person(rows, self._view(), _ROW_EXTRA[name])

    def _view(self) -> pd.DataFrame:
        if self._people is None:
            self._people = _person_view(self._persons, self._names, self._today)
        return self._people


def _child_codes(area_rows: pd.DataFrame, area_code: str) -> list[str]:
    """The current areas one level below the report's area (the village itself for a village)."""
    if areas.level_of(area_code) == "village":
        return [area_code]
    current = area_rows["current"].astype(bool) if "current" in area_rows.columns else True
    return sorted(area_rows.loc[(area_rows["parent_code"] == area_code) & current, "code"])


def _by_area(
    enr: pd.DataFrame, open_needs: pd.DataFrame, names: Mapping[str, str], children: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The figures by area and, per area, the numerators and denominators of its rates."""
    codes = sorted(set(children) | set(enr["area"].unique()))
    if not codes:
        return pd.DataFrame(), pd.DataFrame()
    listed = enr[enr["listed"]]
    # Counts to divide, summed per area in one pass: listed and visited per group, judged and on time.
    parts = {"n": np.ones(len(listed), dtype="int64"), "visited": listed["visited"].to_numpy(dtype=bool)}
    for group in enums.GROUPS:
        mine = (listed["group"] == group).to_numpy(dtype=bool)
        parts[f"n_{group}"], parts[f"visited_{group}"] = mine, mine & parts["visited"]
    parts["judged"] = listed["on_time"].notna().to_numpy(dtype=bool)
    parts["on_time"] = listed["on_time"].eq(True).fillna(False).to_numpy(dtype=bool)
    sums = pd.DataFrame(parts, index=listed.index).groupby(listed["area"], observed=True).sum()
    out = pd.DataFrame(index=pd.Index(codes, name="area_code"))
    out["area"] = [names.get(c, c) for c in codes]
    out["persons_listed"] = listed.groupby("area", observed=True)["person_id"].nunique()
    out["enrollments_listed"] = sums["n"]
    out["visit_rate"] = sums["visited"] / sums["n"]
    for group in enums.GROUPS:
        out[f"visit_rate_{group}"] = sums[f"visited_{group}"] / sums[f"n_{group}"].where(sums[f"n_{group}"] > 0)
    out["on_time_rate"] = sums["on_time"] / sums["judged"].where(sums["judged"] > 0)
    counts = enr.groupby("area", observed=True)[["overdue", "high_unvisited", "unassigned"]].sum()
    out = out.join(counts.rename(columns={"high_unvisited": "high_risk_unvisited", "overdue": "overdue_now"}))
    person_area = enr.drop_duplicates("person_id").set_index("person_id")["area"]
    out["needs_open"] = open_needs["person_id"].map(person_area).value_counts()
    for column in (
        "persons_listed",
        "enrollments_listed",
        "overdue_now",
        "high_risk_unvisited",
        "unassigned",
        "needs_open",
    ):
        out[column] = out[column].fillna(0).astype(int)
    rates = ["visit_rate", *(f"visit_rate_{g}" for g in enums.GROUPS), "on_time_rate"]
    out[rates] = out[rates].astype(object).where(out[rates].notna(), None)
    columns = ["area", "persons_listed", "enrollments_listed", *rates[:-1], "on_time_rate"]
    columns += ["overdue_now", "high_risk_unvisited", "unassigned", "needs_open"]
    named = {"n": "listed", **{f"n_{g}": f"listed_{g}" for g in enums.GROUPS}}
    parts_columns = [name for pair in AREA_RATE_PARTS.values() for name in pair]
    rate_parts = sums.rename(columns=named).reindex(index=out.index, columns=parts_columns).fillna(0).astype(int)
    return out[columns].reset_index(), rate_parts.reset_index()


def by_area_total(report: MonthReport) -> dict[str, Any] | None:
    """The total row of the figures by area: counts summed, each rate its summed numerator ÷ its
    summed denominator (never an average of the rows' rates); None when there are no rows."""
    if report.by_area.empty:
        return None
    total: dict[str, Any] = {c: int(report.by_area[c].sum()) for c in AREA_COUNT_COLUMNS}
    parts = report.by_area_parts
    for column, (part, whole) in AREA_RATE_PARTS.items():
        total[column] = rate(int(parts[part].sum()), int(parts[whole].sum())) if not parts.empty else None
    return total


def household_total(households: pd.DataFrame) -> dict[str, Any] | None:
    """The total row of the household figures by area: counts summed, the share of children with a
    guardian in care their sum ÷ the children's sum; None when there are no rows."""
    if households.empty:
        return None
    total: dict[str, Any] = {c: int(households[c].sum()) for c in HOUSEHOLD_COUNT_COLUMNS}
    total["guardian_in_care_rate"] = rate(total["children_guardian_in_care"], total["children"])
    return total


def _boundaries(boundaries: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The stored outlines inside the report's area, the area's own first."""
    inside = boundaries[boundaries["code"].astype(str).str.startswith(prefix) & boundaries["boundary"].notna()]
    order = {level: i for i, level in enumerate(enums.AREA_LEVELS)}
    rank = inside["level"].astype(object).map(order).fillna(len(order))
    return inside.assign(_rank=rank).sort_values(["_rank", "code"]).drop(columns="_rank").reset_index(drop=True)


def _map_points(enr: pd.DataFrame, area_rows: pd.DataFrame) -> pd.DataFrame:
    """One point per village: centroid, persons listed and the share of active enrollments overdue."""
    listed = enr[enr["listed"]]
    persons = listed.groupby("village_code")["person_id"].nunique()
    active = enr[enr["active"]]
    overdue = active.groupby("village_code")["overdue"].mean()
    villages = area_rows[area_rows["level"] == "village"].set_index("code")
    out = pd.DataFrame({"persons": persons, "overdue_share": overdue}).fillna(0)
    out = out.join(villages[["name", "lat", "lon"]], how="inner").dropna(subset=["lat", "lon"])
    return out.reset_index(names="code")


def trend_rates(enrollments: pd.DataFrame, counted: pd.DataFrame, months: list[Month]) -> pd.DataFrame:
    """Monthly visit rate per group (and all) for each month: month, group, listed, visited, rate."""
    start = _days(enrollments["start_date"]).to_numpy()
    end = _days(enrollments["end_date"]).to_numpy()
    ids = enrollments["enrollment_id"].to_numpy()
    groups = enrollments["group"].astype(object).to_numpy()
    visit_ids, visit_days = counted["enrollment_id"].to_numpy(), counted["day"].to_numpy()
    rows = []
    for month in months:
        first, last = day_number(month.first), day_number(month.last)
        listed = (start <= last) & (np.isnan(end) | (end >= first))
        seen = np.isin(ids, visit_ids[(visit_days >= first) & (visit_days <= last)])
        for group in (*enums.GROUPS, "all"):
            mask = listed if group == "all" else listed & (groups == group)
            n, v = int(mask.sum()), int((seen & mask).sum())
            rows.append({"month": month.label, "group": group, "listed": n, "visited": v, "rate": rate(v, n)})
    return pd.DataFrame(rows)


# --- areas above a county: the sum of its parts ---------------------------------------------------


class CombinedLists(Mapping[str, pd.DataFrame]):
    """The lists of an area above the counties: each part's list, one after the other (in code order)."""

    def __init__(self, parts: Sequence[ReportLists | CombinedLists]) -> None:
        self._parts = list(parts)
        self._names = list(self._parts[0]) if self._parts else []
        self._built: dict[str, pd.DataFrame] = {}

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def count(self, name: str) -> int:
        """Rows in list ``name``, without building it."""
        return sum(part.count(name) for part in self._parts)

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._built:
            frames = [part[name] for part in self._parts]
            self._built[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
        return self._built[name]


def _summed(frames: Sequence[pd.DataFrame], keys: list[str], order: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """The rows of ``frames`` added up by ``keys`` (every other column a count), in the parts' order
    of first appearance, then by ``order``'s listed values."""
    filled = [f for f in frames if not f.empty]
    if not filled:
        return frames[0].iloc[0:0].copy() if frames else pd.DataFrame()
    joined = pd.concat(filled, ignore_index=True)
    summed = joined.groupby(keys, sort=False, observed=True, dropna=False).sum(numeric_only=True).reset_index()
    for key, values in order.items():
        rank = {v: i for i, v in enumerate(values)}
        summed = summed.assign(**{f"_{key}": summed[key].map(rank)})
    sort = [f"_{k}" for k in order]
    if sort:
        summed = summed.sort_values(sort, kind="stable").drop(columns=sort)
    return summed[[c for c in frames[0].columns if c in summed.columns]].reset_index(drop=True)


def _rates_of(visit_rates: pd.DataFrame) -> pd.DataFrame:
    out = visit_rates.copy()
    out["rate"] = [rate(v, n) for v, n in zip(out["visited"], out["listed"], strict=True)]
    out["on_time_rate"] = [rate(v, n) for v, n in zip(out["on_time"], out["on_time_listed"], strict=True)]
    return out


def combine(
    area_code: str,
    month: Month,
    today: dt.date,
    parts: Sequence[tuple[str, str, MonthReport]],
    boundaries: pd.DataFrame | None = None,
) -> MonthReport:
    """The report of a city or a province from its counties' (or cities') own reports, ``parts`` as
    (code, name, report) in code order: every count is the parts' sum and every rate its summed
    numerator ÷ its summed denominator, so a part's row is exactly that part's own report."""
    reports = [r for _, _, r in parts]
    group_order = {"group": [*enums.GROUPS, "all"]}
    visit_rates = _rates_of(_summed([r.visit_rates for r in reports], ["group"], group_order))
    rehab_keys = ("certified", "uncertified_with_needs", "denominator", "served")
    rehab: dict[str, Any] = {k: sum(int(r.rehab[k]) for r in reports) for k in rehab_keys}
    rehab["rate"] = rate(rehab["served"], rehab["denominator"])
    quality = _summed([r.quality for r in reports], ["check"], {})
    totals = visit_rates.set_index("group")
    summed_keys = [k for k, v in (reports[0].kpis.items() if reports else []) if isinstance(v, int)]
    kpis: dict[str, Any] = {k: sum(int(r.kpis[k]) for r in reports) for k in summed_keys}
    kpis["visit_rate"] = totals.at["all", "rate"] if "all" in totals.index else None
    kpis["on_time_rate"] = totals.at["all", "on_time_rate"] if "all" in totals.index else None
    for group in enums.GROUPS:
        kpis[f"visit_rate_{group}"] = totals.at[group, "rate"] if group in totals.index else None
    kpis["rehab_coverage"] = rehab["rate"]
    kpis = {k: kpis[k] for k in (reports[0].kpis if reports else kpis)}
    rows, rate_parts = [], []
    for code, name, report in parts:
        total = by_area_total(report) or dict.fromkeys((*AREA_COUNT_COLUMNS, *AREA_RATE_PARTS), None)
        rows.append({"area_code": code, "area": name, **total})
        sums = report.by_area_parts.drop(columns="area_code", errors="ignore").sum(numeric_only=True)
        rate_parts.append({"area_code": code, **{c: int(v) for c, v in sums.items()}})
    columns = list(reports[0].by_area.columns) if reports and not reports[0].by_area.empty else None
    by_area = pd.DataFrame(rows)
    if columns is not None:
        by_area = by_area[columns]
    if not by_area.empty:
        # As a county's rows: a rate with nothing to divide is None, not NaN.
        rates = list(AREA_RATE_PARTS)
        by_area[rates] = by_area[rates].astype(object).where(by_area[rates].notna(), None)
    return MonthReport(
        month=month,
        today=today,
        area_code=area_code,
        kpis=kpis,
        by_area=by_area,
        registers=_in_register_order(_summed([r.registers for r in reports], ["group", "subtype", "risk"], {})),
        movement=_summed([r.movement for r in reports], ["change", "group", "reason"], {"change": ["new", "exited"]}),
        visit_rates=visit_rates,
        needs_open=_summed([r.needs_open for r in reports], ["kind"], {"kind": enums.NEED_KINDS}),
        needs_resolved=_summed([r.needs_resolved for r in reports], ["kind"], {"kind": enums.NEED_KINDS}),
        rehab=rehab,
        quality=quality,
        lists=CombinedLists([r.lists for r in reports]),
        map_points=pd.concat([r.map_points for r in reports], ignore_index=True) if reports else pd.DataFrame(),
        by_area_parts=pd.DataFrame(rate_parts),
        map_boundaries=boundaries if boundaries is not None else pd.DataFrame(columns=BOUNDARY_COLUMNS),
    )
