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
  register at 16 or over; persons whose active enrollments have never had a counted visit; active
  workers with no current caseload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from care import areas, enums, policy
from care.errors import ValidationError

EPOCH = dt.date(1970, 1, 1)
NEED_AGE_BUCKETS = ((30, "d0_30"), (90, "d31_90"), (180, "d91_180"), (None, "d181_plus"))
REHAB_NEED_KINDS = ("rehab", "assistive_device")
TREND_MONTHS = 12
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK_BYTES = np.frombuffer(b"10X98765432", dtype=np.uint8)
_YMD_PLACES = 10 ** np.arange(7, -1, -1, dtype=np.int64)

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
# Columns every person list starts with (the page and exports label them).
LIST_PERSON_COLUMNS = ["person_id", "name", "id_number", "sex", "age", "phone", "township", "village", "lat", "lon"]


@dataclass(frozen=True)
class Month:
    """A calendar month: ``label`` 'YYYY-MM', its first and last day."""

    label: str
    first: dt.date
    last: dt.date


def parse_month(text: str, *, today: dt.date | None = None) -> Month:
    """'YYYY-MM' as a Month; refuses other shapes and months after ``today``'s."""
    found = _MONTH.match(str(text).strip())
    if not found or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise ValidationError("rpt.bad_month", field="month", value=str(text)[:20])
    month = month_of(dt.date(int(found.group(1)), int(found.group(2)), 1))
    if today is not None and month.first > today:
        raise ValidationError("rpt.future_month", field="month", value=month.label)
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
    """A column of dates (or datetimes, or None) as float day numbers (NaN for empty)."""
    stamps = pd.to_datetime(values, errors="coerce")
    out = (stamps - pd.Timestamp(EPOCH)).dt.days
    return out.astype("float64")


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
        ok_check = _ID_CHECK_BYTES[(digits @ _ID_WEIGHTS) % 11] == raw[:, 17]
        valid_date = pd.to_datetime(good.str.slice(6, 14), format="%Y%m%d", errors="coerce").notna().to_numpy()
        coded = digits[:, 6:14] @ _YMD_PLACES
        stamps = pd.to_datetime(births[shaped_mask], errors="coerce")
        given = (stamps.dt.year * 10_000 + stamps.dt.month * 100 + stamps.dt.day).to_numpy(dtype="float64")
        given_sex = sexes[shaped_mask].astype(object).to_numpy()
        sex_ok = np.where(digits[:, 16] % 2 == 1, given_sex == "M", given_sex == "F")
        disagree = (coded != given) | ~sex_ok
        out[shaped] = np.where(~(ok_check & valid_date), "invalid", np.where(disagree, "mismatch", ""))
    return pd.Series(out, index=id_numbers.index, dtype=object)


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
    lists: dict[str, pd.DataFrame] = field(default_factory=dict)
    map_points: pd.DataFrame = field(default_factory=pd.DataFrame)


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


def listed_mask(enrollments: pd.DataFrame, month: Month) -> pd.Series:
    """Enrollments active on any day of ``month``."""
    start = _days(enrollments["start_date"])
    end = _days(enrollments["end_date"])
    return (start <= day_number(month.last)) & (end.isna() | (end >= day_number(month.first)))


def visited_in(enrollment_ids: pd.Series, counted: pd.DataFrame, month: Month) -> pd.Series:
    """For each enrollment id: has a counted visit in the calendar month."""
    in_month = counted[(counted["day"] >= day_number(month.first)) & (counted["day"] <= day_number(month.last))]
    return enrollment_ids.isin(set(in_month["enrollment_id"]))


def on_time(listed: pd.DataFrame, counted: pd.DataFrame, inputs: ReportInputs) -> pd.Series:
    """Per listed enrollment: True (never overdue in its window), False, or NA (empty window)."""
    month, today = inputs.month, inputs.today
    frame = pd.DataFrame(
        {
            "enrollment_id": listed["enrollment_id"].to_numpy(),
            "start": _days(listed["start_date"]).to_numpy(),
            "end": _days(listed["end_date"]).to_numpy(),
            "interval": _intervals(listed, inputs.intervals),
        }
    )
    frame["ws"] = np.maximum(frame["start"], day_number(month.first))
    frame["we"] = np.minimum(frame["end"].fillna(np.inf), min(day_number(month.last), day_number(today)))
    visits = counted.merge(frame[["enrollment_id", "ws", "we", "start"]], on="enrollment_id")
    before = pd.concat([visits.loc[visits["day"] < visits["ws"], ["enrollment_id", "day"]], inputs.prior])
    prior = before.groupby("enrollment_id")["day"].max()
    frame["base"] = np.maximum(frame["start"], frame["enrollment_id"].map(prior).fillna(-np.inf))
    inside = visits[(visits["day"] >= visits["ws"]) & (visits["day"] <= visits["we"])]
    inside = inside[["enrollment_id", "day"]].sort_values(["enrollment_id", "day"])
    inside = inside.merge(frame[["enrollment_id", "base", "interval"]], on="enrollment_id")
    previous = inside.groupby("enrollment_id")["day"].shift(1)
    inside["gap"] = inside["day"] - previous.fillna(inside["base"])
    late_at_visit = set(inside.loc[inside["gap"] > inside["interval"], "enrollment_id"])
    last_inside = inside.groupby("enrollment_id")["day"].max()
    last_seen = np.maximum(frame["base"], frame["enrollment_id"].map(last_inside).fillna(-np.inf))
    late_at_end = (frame["we"] - last_seen) > frame["interval"]
    result = ~(late_at_end | frame["enrollment_id"].isin(late_at_visit))
    out = pd.Series(result.to_numpy(), index=listed.index, dtype="boolean")
    out[(frame["ws"] > frame["we"]).to_numpy()] = pd.NA
    return out


def _intervals(listed: pd.DataFrame, intervals: Mapping[tuple[str, str], int]) -> np.ndarray:
    keys = pd.MultiIndex.from_arrays([listed["group"].astype(object), listed["risk"].astype(object)])
    table = pd.Series(intervals)
    return table.reindex(keys).to_numpy(dtype="float64")


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


def compute(inputs: ReportInputs) -> MonthReport:
    """Every figure of the month report from the plain tables in ``inputs``."""
    month, today = inputs.month, inputs.today
    names = dict(zip(inputs.areas["code"], inputs.areas["name"], strict=True))
    prefix = areas.prefix_of(inputs.area_code)
    people = _person_view(inputs.persons[inputs.persons["village_code"].str.startswith(prefix)], names, today)
    counted = counted_visits(inputs.visits, phone_counts=inputs.phone_counts)
    enr = inputs.enrollments[inputs.enrollments["person_id"].isin(people.index)].copy()
    # Few distinct values: categories filter and group much faster than text columns.
    enr = enr.astype(dict.fromkeys(("group", "subtype", "risk", "exit_reason"), "category"))
    enr["village_code"] = enr["person_id"].map(people["village_code"]).astype("category")
    enr["area"] = child_area(enr["village_code"], inputs.area_code)
    enr["listed"] = listed_mask(enr, month)
    enr["active"] = enr["end_date"].isna()
    enr["visited"] = visited_in(enr["enrollment_id"], counted, month)
    enr["on_time"] = pd.Series(pd.NA, index=enr.index, dtype="boolean")
    listed = enr[enr["listed"]]
    enr.loc[listed.index, "on_time"] = on_time(listed, counted, inputs)
    due = _days(enr["next_due_on"])
    enr["overdue"] = enr["active"] & (due < day_number(today))
    enr["high_unvisited"] = enr["listed"] & (enr["risk"] == "high") & ~enr["visited"]
    enr["unassigned"] = enr["active"] & ~enr["assigned"].astype(bool)
    start, end = _days(enr["start_date"]), _days(enr["end_date"])
    first, last = day_number(month.first), day_number(month.last)
    enr["new"] = (start >= first) & (start <= last)
    enr["exited"] = (end >= first) & (end <= last)
    listed = enr[enr["listed"]]

    needs = _needs(inputs, people)
    rehab, rehab_list = _rehab(listed, inputs.needs, month)
    quality, quality_lists = _quality(enr, people, inputs.workers, names, today)
    lists = _lists(enr, people, needs)
    lists.update(quality_lists)
    lists["rehab"] = _with_person(rehab_list, people, ["served", "certified", "rehab_needs", "visited"])

    rates = _visit_rates(listed)
    totals = rates[rates["group"] == "all"].iloc[0]
    kpis: dict[str, Any] = {
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
        "needs_open": len(lists["needs_open"]),
        "needs_resolved": len(lists["needs_resolved"]),
        "rehab_coverage": rehab["rate"],
        **{f"quality_{k}": int(v) for k, v in zip(quality["check"], quality["count"], strict=True)},
    }
    return MonthReport(
        month=month,
        today=today,
        area_code=inputs.area_code,
        kpis=kpis,
        by_area=_by_area(enr, needs, names, _child_codes(inputs.areas, inputs.area_code)),
        registers=_registers(listed),
        movement=_movement(enr),
        visit_rates=rates,
        needs_open=_needs_table(lists["needs_open"], "age_bucket", [b for _, b in NEED_AGE_BUCKETS]),
        needs_resolved=_needs_table(lists["needs_resolved"], None, ["count"]),
        rehab=rehab,
        quality=quality,
        lists=lists,
        map_points=_map_points(enr, inputs.areas),
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
    counts = listed.groupby(["group", "subtype", "risk"]).size().rename("count").reset_index()
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


def _needs(inputs: ReportInputs, people: pd.DataFrame) -> dict[str, pd.DataFrame]:
    month, today = inputs.month, inputs.today
    as_of = day_number(min(month.last, today))
    needs = inputs.needs[inputs.needs["person_id"].isin(people["person_id"])].copy()
    opened, resolved = _days(needs["opened_on"]), _days(needs["resolved_on"])
    needs["days_open"] = (as_of - opened).astype("Int64")
    open_now = (opened <= as_of) & ~(resolved <= as_of)
    needs["age_bucket"] = [need_age_bucket(int(d)) for d in needs["days_open"].fillna(0)]
    in_month = (resolved >= day_number(month.first)) & (resolved <= day_number(month.last))
    extra = ["need_id", "kind", "need_status", "department", "opened_on", "resolved_on", "days_open", "age_bucket"]
    return {
        "needs_open": _with_person(needs[open_now], people, extra),
        "needs_resolved": _with_person(needs[in_month], people, extra),
    }


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
    enr: pd.DataFrame, people: pd.DataFrame, workers: pd.DataFrame, names: Mapping[str, str], today: dt.date
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    active_people = people[people["status"] == "active"].copy()
    no_coords = active_people[active_people["lat"].isna() | active_people["lon"].isna()]
    active_people["id_problem"] = id_problems(
        active_people["id_number"], active_people["sex"], active_people["birth_date"]
    )
    bad_id = active_people[active_people["id_problem"] != ""]
    active = enr[enr["active"]]
    child_ages = active[active["group"] == "child"]["person_id"].map(people.set_index("person_id")["age"])
    aged_out = active[(active["group"] == "child") & (child_ages >= enums.CHILD_AGE_LIMIT).fillna(False)]
    seen = set(active.loc[active["last_visit_on"].notna(), "person_id"])
    never_ids = sorted(set(active["person_id"]) - seen)
    idle = workers[workers["caseload"] == 0].copy()
    idle["area"] = idle["area_code"].map(names).fillna("")
    idle = idle.rename(columns={"kind": "worker_kind"})
    lists = {
        "no_coordinates": _with_person(no_coords[["person_id"]], people, []),
        "bad_id": _with_person(bad_id[["person_id", "id_problem"]], people, ["id_problem"]),
        "aged_out": _with_person(aged_out[["person_id", "enrollment_id", "start_date"]], people, ["start_date"]),
        "never_visited": _with_person(pd.DataFrame({"person_id": never_ids}), people, []),
        "idle_workers": idle[["worker_id", "name", "worker_kind", "area"]].sort_values(["area", "name"]),
    }
    quality = pd.DataFrame(
        {"check": list(lists), "count": [len(frame) for frame in lists.values()]},
    )
    return quality, lists


def _lists(enr: pd.DataFrame, people: pd.DataFrame, needs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    extra = ["group", "subtype", "risk", "start_date", "end_date", "next_due_on", "last_visit_on"]
    listed = enr[enr["listed"]]
    found = {
        "listed": _with_person(listed, people, [*extra, "visited", "on_time"]),
        "not_visited": _with_person(listed[~listed["visited"]], people, extra),
        "late": _with_person(listed[listed["on_time"].eq(False).fillna(False)], people, extra),
        "new": _with_person(enr[enr["new"]], people, extra),
        "exited": _with_person(enr[enr["exited"]], people, [*extra, "exit_reason"]),
        "overdue": _with_person(enr[enr["overdue"]], people, extra),
        "high_risk_unvisited": _with_person(enr[enr["high_unvisited"]], people, extra),
        "unassigned": _with_person(enr[enr["unassigned"]], people, extra),
    }
    found.update(needs)
    return found


def _child_codes(area_rows: pd.DataFrame, area_code: str) -> list[str]:
    """The current areas one level below the report's area (the village itself for a village)."""
    if areas.level_of(area_code) == "village":
        return [area_code]
    current = area_rows["current"].astype(bool) if "current" in area_rows.columns else True
    return sorted(area_rows.loc[(area_rows["parent_code"] == area_code) & current, "code"])


def _by_area(
    enr: pd.DataFrame, needs: dict[str, pd.DataFrame], names: Mapping[str, str], children: list[str]
) -> pd.DataFrame:
    codes = sorted(set(children) | set(enr["area"]))
    if not codes:
        return pd.DataFrame()
    listed = enr[enr["listed"]]
    by = listed.groupby("area", observed=True)
    judged = listed[listed["on_time"].notna()]
    out = pd.DataFrame(index=pd.Index(codes, name="area_code"))
    out["area"] = [names.get(c, c) for c in codes]
    out["persons_listed"] = by["person_id"].nunique()
    out["enrollments_listed"] = by.size()
    out["visit_rate"] = by["visited"].sum() / by.size()
    for group in enums.GROUPS:
        mine = listed[listed["group"] == group].groupby("area", observed=True)["visited"]
        out[f"visit_rate_{group}"] = mine.sum() / mine.size()
    on_time = judged.groupby("area", observed=True)["on_time"]
    out["on_time_rate"] = on_time.sum().astype(float) / on_time.size()
    counts = enr.groupby("area", observed=True)[["overdue", "high_unvisited", "unassigned"]].sum()
    out = out.join(counts.rename(columns={"high_unvisited": "high_risk_unvisited", "overdue": "overdue_now"}))
    person_area = dict(zip(enr["person_id"], enr["area"], strict=False))
    out["needs_open"] = needs["needs_open"]["person_id"].map(person_area).value_counts()
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
    return out[columns].reset_index()


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
