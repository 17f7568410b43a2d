"""Every KPI of the month report on a small hand-made county whose figures are worked out below.

Month: March 2026; today: 15 April 2026; default intervals (child high 7 / medium 14, elderly
high 7 / low 90, disabled medium 30 / low 90); phone visits do not count unless a test says so.
All visits are done and at home unless said otherwise.

E1  P1 V1   child left_behind medium    2025-01-01 –             visits 02-25, 03-05, 03-19, 03-31 23:30
E2  P2 V1   child distressed high       2025-06-01 –             03-10 (joint with E3); a phone call 03-20
E3  P2 V1   disabled certified medium   2025-06-01 –             02-20, 03-10 (joint)
E4  P3 V1   elderly alone low           2026-03-15 – (new)       none; a phone call 03-20
E5  P4 V1   elderly empty_nest high     2024-01-01 – 03-10 died  02-27, 03-02
E6  P5 V1   child left_behind high      2025-01-01 –             02-28; not met 03-05; cancelled 03-06; 04-02
E7  P6 V1   child left_behind medium    2026-04-01 – (April)     none
E8  P7 V1   disabled uncertified low    2025-01-01 –             none; a rehab need resolved 03-20
E9  P8 V2   disabled uncertified medium 2025-01-01 –             02-14, 03-15
E10 P9 V1   child (person deleted)      2025-01-01 –             03-03
E11 P10 V2  disabled certified low      2025-01-01 –             01-10, 02-28 23:59, 04-01 00:05
"""

from __future__ import annotations

import datetime as dt
import pickle

import pandas as pd
import pytest

from care.domain import ids, policy
from care.domain.errors import ValidationError
from care.domain.reports import (
    ReportInputs,
    compute,
    counted_visits,
    id_problems,
    month_of,
    months_back,
    need_age_bucket,
    parse_month,
    prior_visits,
    trend_rates,
)
from care.files.exports import LIST_ORDER

D = dt.date
T1, T2 = "522699101000", "522699102000"
V1, V2 = "522699101201", "522699102201"
MARCH = parse_month("2026-03")
TODAY = D(2026, 4, 15)


def _id(birth: dt.date, serial: int, sex: str) -> str:
    seq = serial * 2 + (1 if sex == "M" else 0)
    first17 = f"522699{birth:%Y%m%d}{seq:03d}"
    return first17 + ids.check_digit(first17)


def _person(pid, village, birth, sex, *, lat=26.4, status="active", id_number=None):
    return {
        "person_id": pid,
        "name": f"对象{pid}",
        "id_number": id_number or _id(birth, pid, sex),
        "sex": sex,
        "birth_date": birth,
        "village_code": village,
        "phone": f"1380000{pid:04d}",
        "lat": lat,
        "lon": None if lat is None else 108.2,
        "status": status,
    }


def persons() -> pd.DataFrame:
    rows = [
        _person(1, V1, D(2015, 5, 1), "M"),
        _person(2, V1, D(2014, 2, 2), "F"),
        _person(3, V1, D(1950, 1, 5), "F", lat=None),
        _person(4, V1, D(1940, 1, 1), "M", lat=None, status="deceased"),
        _person(5, V1, D(2010, 3, 1), "M"),
        _person(6, V1, D(2020, 6, 6), "F"),
        _person(7, V1, D(1980, 11, 20), "M"),
        _person(8, V2, D(1975, 7, 7), "F", id_number="522699197507070162"),
        # The ID says born 1960-01-01; the register says 1961-01-01.
        _person(10, V2, D(1961, 1, 1), "M", id_number=_id(D(1960, 1, 1), 10, "M")),
    ]
    return pd.DataFrame(rows)


def _enr(eid, pid, group, subtype, risk, start, end=None, reason=None, due=None, last=None, **extra):
    return {
        "enrollment_id": eid,
        "person_id": pid,
        "group": group,
        "subtype": subtype,
        "risk": risk,
        "start_date": start,
        "end_date": end,
        "exit_reason": reason,
        "next_due_on": due,
        "last_visit_on": last,
        "certified": extra.get("certified", False),
        "rehab_needs": extra.get("rehab_needs", False),
        "assigned": extra.get("assigned", True),
    }


def enrollments() -> pd.DataFrame:
    rows = [
        _enr(1, 1, "child", "left_behind", "medium", D(2025, 1, 1), due=D(2026, 4, 14), last=D(2026, 3, 31)),
        _enr(2, 2, "child", "distressed", "high", D(2025, 6, 1), due=D(2026, 4, 20), last=D(2026, 3, 10)),
        _enr(
            3,
            2,
            "disabled",
            "certified",
            "medium",
            D(2025, 6, 1),
            due=D(2026, 4, 30),
            last=D(2026, 3, 10),
            certified=True,
        ),
        _enr(4, 3, "elderly", "alone", "low", D(2026, 3, 15), due=D(2026, 6, 13)),
        _enr(5, 4, "elderly", "empty_nest", "high", D(2024, 1, 1), D(2026, 3, 10), "died", last=D(2026, 3, 2)),
        _enr(
            6, 5, "child", "left_behind", "high", D(2025, 1, 1), due=D(2026, 4, 9), last=D(2026, 4, 2), assigned=False
        ),
        _enr(7, 6, "child", "left_behind", "medium", D(2026, 4, 1), due=D(2026, 4, 20)),
        _enr(8, 7, "disabled", "uncertified", "low", D(2025, 1, 1), due=D(2025, 4, 1), assigned=False),
        _enr(9, 8, "disabled", "uncertified", "medium", D(2025, 1, 1), due=D(2026, 4, 14), last=D(2026, 3, 15)),
        _enr(10, 9, "child", "left_behind", "low", D(2025, 1, 1), due=D(2026, 4, 1)),
        _enr(
            11,
            10,
            "disabled",
            "certified",
            "low",
            D(2025, 1, 1),
            due=D(2026, 4, 10),
            last=D(2026, 1, 10),
            certified=True,
        ),
    ]
    return pd.DataFrame(rows)


def _v(eid, at, status="done", mode="home"):
    return {"enrollment_id": eid, "visited_on": at, "status": status, "mode": mode}


def visits() -> pd.DataFrame:
    t = dt.datetime
    rows = [
        _v(1, t(2026, 2, 25, 10)),
        _v(1, t(2026, 3, 5, 10)),
        _v(1, t(2026, 3, 19, 10)),
        _v(1, t(2026, 3, 31, 23, 30)),
        _v(2, t(2026, 3, 10, 9)),
        _v(3, t(2026, 3, 10, 9)),
        _v(2, t(2026, 3, 20, 9), mode="phone"),
        _v(3, t(2026, 2, 20, 9)),
        _v(4, t(2026, 3, 20, 9), mode="phone"),
        _v(5, t(2026, 2, 27, 9)),
        _v(5, t(2026, 3, 2, 9)),
        _v(6, t(2026, 2, 28, 9)),
        _v(6, t(2026, 3, 5, 9), status="not_met"),
        _v(6, t(2026, 3, 6, 9), status="cancelled", mode=None),
        _v(6, t(2026, 4, 2, 9)),
        _v(9, t(2026, 2, 14, 9)),
        _v(9, t(2026, 3, 15, 9), mode="volunteer"),
        _v(10, t(2026, 3, 3, 9)),
        _v(11, t(2026, 1, 10, 9)),
        _v(11, t(2026, 2, 28, 23, 59), mode="third_party"),
        _v(11, t(2026, 4, 1, 0, 5)),
    ]
    return pd.DataFrame(rows)


def needs() -> pd.DataFrame:
    rows = [
        (1, 7, "rehab", "resolved", D(2026, 2, 1), D(2026, 3, 20)),
        (2, 1, "medical", "open", D(2026, 1, 10), None),
        (3, 5, "schooling", "open", D(2026, 3, 30), None),
        (4, 2, "subsidy", "resolved", D(2025, 8, 1), D(2026, 4, 5)),
        (5, 9, "medical", "open", D(2026, 3, 1), None),
    ]
    frame = pd.DataFrame(rows, columns=["need_id", "person_id", "kind", "need_status", "opened_on", "resolved_on"])
    frame["department"] = "民政办"
    return frame


def areas() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("522699000000", "青山县", "county", None, 26.4, 108.2),
            (T1, "丹江镇", "township", "522699000000", 26.45, 108.1),
            (T2, "西江镇", "township", "522699000000", 26.35, 108.3),
            (V1, "羊排村", "village", T1, 26.46, 108.11),
            (V2, "南猛村", "village", T2, 26.36, 108.31),
        ],
        columns=["code", "name", "level", "parent_code", "lat", "lon"],
    )


def inputs(**changes) -> ReportInputs:
    values = {
        "month": MARCH,
        "today": TODAY,
        "area_code": "522699000000",
        "enrollments": enrollments(),
        "persons": persons(),
        "visits": visits(),
        "needs": needs(),
        "workers": pd.DataFrame(
            [(1, "吴儿主", "child_director", V1, 3), (2, "李康复", "rehab_coordinator", T2, 0)],
            columns=["worker_id", "name", "kind", "area_code", "caseload"],
        ),
        "areas": areas(),
        "intervals": dict(policy.DEFAULT_INTERVALS),
        "phone_counts": False,
    }
    values.update(changes)
    return ReportInputs(**values)


@pytest.fixture(scope="module")
def report():
    return compute(inputs())


def _ids(frame: pd.DataFrame, column: str = "person_id") -> list[int]:
    return sorted(int(v) for v in frame[column])


def test_listed_counts_enrollments_active_on_any_day_of_the_month_and_persons_once(report):
    # E1–E6, E8, E9, E11: E7 starts in April, E10's person is deleted.
    assert report.kpis["enrollments_listed"] == 9
    assert report.kpis["persons_listed"] == 8
    assert sorted(report.lists["listed"]["group"].value_counts().items()) == [
        ("child", 3),
        ("disabled", 4),
        ("elderly", 2),
    ]


def test_new_and_exited_count_starts_and_ends_inside_the_month_with_reasons(report):
    assert report.kpis["new"] == 1 and report.kpis["exited"] == 1
    assert _ids(report.lists["new"]) == [3]
    movement = report.movement.set_index(["change", "group", "reason"])["count"].to_dict()
    assert movement == {("new", "elderly", ""): 1, ("exited", "elderly", "died"): 1}


def test_monthly_visit_rate_counts_only_done_in_person_visits_inside_the_calendar_month(report):
    rates = report.visit_rates.set_index("group")
    # child E1 E2 visited, E6 only not-met/cancelled/April; elderly E5 yes, E4 phone only;
    # disabled E3 E9 yes, E8 none, E11 only 28 Feb 23:59 and 1 Apr 00:05.
    assert rates.loc["child", ["listed", "visited"]].tolist() == [3, 2]
    assert rates.loc["elderly", ["listed", "visited"]].tolist() == [2, 1]
    assert rates.loc["disabled", ["listed", "visited"]].tolist() == [4, 2]
    assert report.kpis["visit_rate"] == pytest.approx(5 / 9)
    assert report.kpis["visit_rate_child"] == pytest.approx(2 / 3)
    assert report.kpis["visit_rate_elderly"] == pytest.approx(1 / 2)
    assert report.kpis["visit_rate_disabled"] == pytest.approx(2 / 4)
    assert _ids(report.lists["not_visited"], "person_id") == [3, 5, 7, 10]


def test_phone_visits_count_when_the_policy_says_so():
    with_phones = compute(inputs(phone_counts=True))
    # E4's call on 20 March now counts; E2 was already visited in person.
    assert with_phones.kpis["visit_rate"] == pytest.approx(6 / 9)
    assert with_phones.kpis["visit_rate_elderly"] == pytest.approx(2 / 2)


def test_on_time_means_no_day_in_the_window_beyond_the_interval(report):
    listed = report.lists["listed"].set_index(["person_id", "group"])["on_time"]
    expected = {
        (1, "child"): True,  # 02-25 → 03-05 (8) → 03-19 (14) → 03-31 (12), all ≤ 14
        (2, "child"): False,  # high (7): nothing since the 2025-06-01 start until 03-10
        (2, "disabled"): True,  # 02-20 → 03-10 (18) → 03-31 (21), all ≤ 30
        (3, "elderly"): True,  # starts 03-15, 16 days to month end ≤ 90
        (4, "elderly"): False,  # 03-02 → exit 03-10 is 8 days > 7
        (5, "child"): False,  # 02-28 → 03-31 is 31 > 7 (not-met and cancelled do not count)
        (7, "disabled"): False,  # never visited since 2025-01-01, > 90
        (8, "disabled"): True,  # 02-14 → 03-15 (29) → 03-31 (16), ≤ 30
        (10, "disabled"): True,  # 02-28 23:59 → 03-31 is 31 ≤ 90
    }
    assert {k: bool(v) for k, v in listed.items()} == expected
    assert report.kpis["on_time_rate"] == pytest.approx(5 / 9)
    assert _ids(report.lists["late"]) == [2, 4, 5, 7]


def test_the_prior_visit_can_come_from_the_prior_table_instead_of_the_visit_list():
    all_visits = visits()
    in_march = all_visits[all_visits["visited_on"] >= dt.datetime(2026, 3, 1)]
    prior = prior_visits(counted_visits(all_visits, phone_counts=False), MARCH.first)
    split = compute(inputs(visits=in_march, prior=prior))
    assert split.kpis == compute(inputs()).kpis


def test_overdue_now_high_risk_unvisited_and_unassigned(report):
    assert report.kpis["overdue_now"] == 5  # E1 E6 E8 E9 E11 due before 04-15; E5 ended; E10 deleted
    assert _ids(report.lists["overdue"]) == [1, 5, 7, 8, 10]
    assert _ids(report.lists["high_risk_unvisited"]) == [5]
    assert _ids(report.lists["unassigned"]) == [5, 7]


def test_needs_open_at_month_end_by_kind_and_age_and_resolved_in_the_month(report):
    assert report.kpis["needs_open"] == 3  # N2 N3 N4 (N4 resolved only in April; N5's person deleted)
    assert report.kpis["needs_resolved"] == 1  # N1
    table = report.needs_open.set_index("kind")
    assert table.loc["medical", "d31_90"] == 1  # 80 days at 03-31
    assert table.loc["schooling", "d0_30"] == 1  # 1 day
    assert table.loc["subsidy", "d181_plus"] == 1  # 242 days
    assert int(table["total"].sum()) == 3
    assert report.needs_resolved.set_index("kind").loc["rehab", "count"] == 1


def test_rehab_coverage_is_served_over_certified_plus_uncertified_with_needs(report):
    # Denominator: E3, E11 certified; E8 uncertified with a rehab need open in March. E9 has none.
    # Served: E3 (visited), E8 (rehab need resolved 03-20); E11 neither.
    assert report.rehab == {
        "certified": 2,
        "uncertified_with_needs": 1,
        "denominator": 3,
        "served": 2,
        "rate": pytest.approx(2 / 3),
    }
    assert _ids(report.lists["rehab"]) == [2, 7, 10]


def test_data_quality_checks(report):
    quality = dict(zip(report.quality["check"], report.quality["count"], strict=True))
    assert quality == {
        "no_coordinates": 1,  # P3 (P4 is deceased)
        "bad_id": 2,  # P8 wrong check digit, P10 birth date disagrees
        "aged_out": 1,  # P5 turned 16 on 2026-03-01
        "never_visited": 3,  # P3 P6 P7
        "idle_workers": 1,
    }
    assert dict(zip(report.lists["bad_id"]["person_id"], report.lists["bad_id"]["id_problem"], strict=True)) == {
        8: "invalid",
        10: "mismatch",
    }


def test_lists_run_by_township_village_then_name_as_text(report):
    # 丹江镇 (丹 U+4E39) before 西江镇 (西 U+897F); in 南猛村 "对象10" sorts before "对象8".
    assert report.lists["listed"]["person_id"].tolist() == [1, 2, 2, 3, 4, 5, 7, 10, 8]
    for name, frame in report.lists.items():
        if "township" in frame.columns:
            keys = list(zip(frame["township"], frame["village"], frame["name"], frame["person_id"], strict=True))
            assert keys == sorted(keys), name


def test_figures_by_township(report):
    rows = report.by_area.set_index("area_code")
    assert rows.loc[
        T1, ["persons_listed", "enrollments_listed", "overdue_now", "unassigned", "needs_open"]
    ].tolist() == [
        6,
        7,
        3,
        2,
        3,
    ]
    assert rows.loc[T1, "visit_rate"] == pytest.approx(4 / 7)
    assert rows.loc[T1, "on_time_rate"] == pytest.approx(3 / 7)
    assert rows.loc[T2, "visit_rate"] == pytest.approx(1 / 2)
    assert rows.loc[T2, "on_time_rate"] == pytest.approx(1.0)
    assert rows.loc[T2, "overdue_now"] == 2


def test_a_township_report_breaks_down_by_village():
    township = compute(inputs(area_code=T1))
    assert township.by_area["area_code"].tolist() == [V1]


def test_trends_give_each_months_rate():
    frame = trend_rates(enrollments(), counted_visits(visits(), phone_counts=False), months_back(MARCH, 2))
    rows = frame.set_index(["month", "group"])
    # trend_rates gets the enrollments as read (the query leaves out deleted persons; here E10 stays).
    # March: E1–E6 E8–E11 listed, visited E1 E2 E3 E5 E9 E10.
    # February: E1 E2 E3 E5 E6 E8 E9 E10 E11 listed, visited E1 (02-25) E3 E5 E6 E9 E11 (02-28 23:59).
    assert rows.loc[("2026-03", "all"), ["listed", "visited"]].tolist() == [10, 6]
    assert rows.loc[("2026-02", "all"), ["listed", "visited"]].tolist() == [9, 6]


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2026-02", D(2026, 2, 1), D(2026, 2, 28)),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29)),
        ("2025-12", D(2025, 12, 1), D(2025, 12, 31)),
    ],
)
def test_a_month_runs_from_its_first_to_its_last_day(text, first, last):
    month = parse_month(text)
    assert (month.first, month.last) == (first, last)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "26-01", "", "2026/03", "1999-01"])
def test_a_malformed_month_is_refused(text):
    with pytest.raises(ValidationError) as caught:
        parse_month(text)
    assert caught.value.key == "report.bad_month"


def test_a_future_month_is_refused():
    with pytest.raises(ValidationError) as caught:
        parse_month("2026-05", today=TODAY)
    assert caught.value.key == "report.future_month"


def test_months_back_counts_backwards_over_a_year_end():
    assert [m.label for m in months_back(month_of(D(2026, 2, 10)), 4)] == ["2025-11", "2025-12", "2026-01", "2026-02"]


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "d0_30"), (30, "d0_30"), (31, "d31_90"), (90, "d31_90"), (91, "d91_180"), (181, "d181_plus")],
)
def test_need_age_buckets(days, bucket):
    assert need_age_bucket(days) == bucket


@pytest.mark.parametrize(
    ("number", "sex", "birth", "problem"),
    [
        ("11010519491231002X", "F", D(1949, 12, 31), ""),
        ("110105194912310021", "F", D(1949, 12, 31), "invalid"),
        ("11010519491231002X", "M", D(1949, 12, 31), "mismatch"),
        ("11010519491231002X", "F", D(1950, 1, 1), "mismatch"),
        ("11010519491331002X", "F", D(1949, 12, 31), "invalid"),
        # A leap day is a date in 2000, not in 1949; 31 April never is (check digits right).
        ("110105200002290021", "F", D(2000, 2, 29), ""),
        ("110105194902290029", "F", D(1949, 3, 1), "invalid"),
        ("11010519490431002X", "F", D(1949, 5, 1), "invalid"),
        ("1101051949123100", "F", D(1949, 12, 31), "invalid"),
        ("", "F", D(1949, 12, 31), "invalid"),
        # Full-width digits are not an ID number's digits.
        ("１１010519491231002X", "F", D(1949, 12, 31), "invalid"),
    ],
)
def test_id_problems_flag_invalid_and_disagreeing_numbers(number, sex, birth, problem):
    if problem != "invalid" and len(number) == 18:
        assert ids.check_digit(number[:17]) == number[17]
    found = id_problems(pd.Series([number]), pd.Series([sex]), pd.Series([birth]))
    assert found.tolist() == [problem]


def test_an_exit_without_a_reason_is_counted_as_other():
    frame = enrollments()
    frame.loc[frame["enrollment_id"] == 5, "exit_reason"] = None
    movement = compute(inputs(enrollments=frame)).movement
    assert movement[movement["change"] == "exited"][["group", "reason", "count"]].values.tolist() == [
        ["elderly", "other", 1]
    ]


def test_every_list_counts_what_it_holds_and_survives_the_page_cache():
    # The page caches reports pickled and shows counts before building any list.
    fresh = pickle.loads(pickle.dumps(compute(inputs())))
    assert not fresh.lists._built
    counts = {name: fresh.lists.count(name) for name in fresh.lists}
    assert not fresh.lists._built
    assert counts == {name: len(frame) for name, frame in fresh.lists.items()}
    assert counts["listed"] == 9 and counts["late"] == 4 and counts["unassigned"] == 2
    assert set(fresh.lists) == set(LIST_ORDER)


def test_dates_read_as_day_numbers_are_shown_as_dates():
    frame = enrollments()
    for column in ("start_date", "end_date", "next_due_on", "last_visit_on"):
        days = pd.to_datetime(frame[column]) - pd.Timestamp("1970-01-01")
        frame[column] = days.dt.days.astype("float64")
    numeric = compute(inputs(enrollments=frame))
    assert numeric.kpis == compute(inputs()).kpis
    shown = numeric.lists["listed"].set_index(["person_id", "group"])
    assert shown.loc[(3, "elderly"), "start_date"] == dt.date(2026, 3, 15)
    assert shown.loc[(3, "elderly"), "end_date"] is None
