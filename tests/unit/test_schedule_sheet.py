"""The printable weekly sheet: every stop listed, user text inert, Chinese in the PDF, a numbered map."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from care.domain import clock
from care.files.schedule_sheet import project, sheet_html, sheet_pdf, stops_svg, what_to_check
from care.queries.schedule import DayView, StopView, WeekPlan

MON = dt.date(2026, 6, 8)
EVIL = '<script>alert(1)</script>`${x}`=HYPERLINK("http://x")'


def _stop(seq, name, lat=26.46, lon=108.11, **kw):
    base = {
        "seq": seq,
        "person_id": seq,
        "name": name,
        "village": "羊排村",
        "address": "3组12号",
        "groups": ("child",),
        "risk": "high",
        "due_on": MON,
        "overdue": True,
        "lat": lat,
        "lon": lon,
        "open_needs": 0,
        "status": None,
    }
    base.update(kw)
    return StopView(**base)


@pytest.fixture
def plan():
    clock.freeze(dt.datetime(2026, 6, 10, 9))
    stops = [
        _stop(1, "张小花", groups=("child", "disabled"), open_needs=2),
        _stop(2, EVIL, lat=26.47, lon=108.12),
        _stop(3, "没有坐标的人", lat=None, lon=None),
    ]
    days = [
        DayView(MON + dt.timedelta(days=i), i == 1, 1, 3.4 if i == 0 else 0.0, stops if i == 0 else [])
        for i in range(5)
    ]
    return WeekPlan(1, "吴儿主", "child_director", "羊排村", (26.45, 108.10), MON, 8, days)


def test_the_html_sheet_lists_every_stop_and_shows_user_text_as_text(plan):
    page = sheet_html(plan, "zh", dt.date(2026, 6, 10))
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    for name in ("张小花", "没有坐标的人"):
        assert name in page
    assert "无坐标" in page  # the stop without coordinates is flagged
    assert "未办结需求 2 项" in page and "已逾期 2 天" in page
    assert page.count("<section class='day'>") == 5
    assert "已固定" in page  # Tuesday is fixed


def test_the_map_numbers_only_located_stops_and_marks_the_office(plan):
    svg = stops_svg(plan.office, plan.days[0].stops, "zh")
    assert re.findall(r">(\d+)</text>", svg) == ["1", "2"]
    assert svg.count("<rect") == 2  # the frame and the office


def test_projection_keeps_north_up_and_every_point_inside_the_box():
    xy = project([(26.0, 108.0), (26.1, 108.2), (26.05, 108.1)], 300, 200, 10)
    assert all(10 - 1e-6 <= x <= 290 + 1e-6 and 10 - 1e-6 <= y <= 190 + 1e-6 for x, y in xy)
    assert xy[1][1] < xy[0][1]  # further north is higher up


def test_the_pdf_sheet_holds_the_chinese_text_of_the_stops(plan):
    reader = PdfReader(io.BytesIO(sheet_pdf(plan, "zh", dt.date(2026, 6, 10))))
    assert len(reader.pages) == 1  # only Monday has visits
    # pypdf reads the CID font's two-byte codes with NUL separators; the characters are all there.
    text = reader.pages[0].extract_text().replace("\x00", "")
    for expected in ("巡访周表", "吴儿主", "张小花", "没有坐标的人", "重点查看"):
        assert expected in text


def _pdf_pages(plan, lang="zh"):
    reader = PdfReader(io.BytesIO(sheet_pdf(plan, lang, dt.date(2026, 6, 10))))
    return [re.sub(r"[\s\x00]+", "", page.extract_text()) for page in reader.pages]


def test_the_pdf_prints_only_days_with_visits_and_names_the_days_without(plan):
    plan.days[3].stops.append(_stop(4, "周四的人"))
    pages = _pdf_pages(plan)
    assert len(pages) == 2
    assert "周一06-08" in pages[0] and "周四06-11" in pages[1] and "周四的人" in pages[1]
    assert "以下日期没有安排巡访：周二06-09、周三06-10、周五06-12" in pages[0]
    assert not any("当天没有安排巡访" in page for page in pages)


def test_a_week_without_any_visit_prints_one_page_saying_so(plan):
    for day in plan.days:
        day.stops.clear()
    pages = _pdf_pages(plan, "en")
    assert len(pages) == 1
    assert "Novisitsplannedon:Mon06-08,Tue06-09,Wed06-10,Thu06-11,Fri06-12" in pages[0]


def test_the_sheet_speaks_english_when_asked(plan):
    page = sheet_html(plan, "en", dt.date(2026, 6, 10))
    assert "Patrol sheet" in page and "What to check" in page and "no coordinates" in page


@pytest.mark.parametrize(
    ("stop", "expected"),
    [
        (_stop(1, "a", groups=("elderly",), overdue=False), "身体健康、生活起居、居住安全"),
        (
            _stop(1, "a", groups=("child", "disabled"), overdue=False),
            "人身安全、监护落实、上学（寄宿）情况；康复进展、辅具使用、生活照料",
        ),
        (
            _stop(1, "a", groups=("disabled",), due_on=MON - dt.timedelta(days=5)),
            "康复进展、辅具使用、生活照料；已逾期 7 天",
        ),
    ],
)
def test_what_to_check_follows_the_groups_and_lateness(stop, expected):
    assert what_to_check(stop, "zh", dt.date(2026, 6, 10)) == expected
