"""Hostile text in, every file out: each text of tests/hostile.py comes back exactly as typed, and inert.

Every text goes in through every way the app takes text: the person form (name, address, notes),
the person edit, a roster workbook import (all or nothing: a file with bad rows first), a visit
file import (visit notes), the area code-list import (village names) and user admin (display
names). Every file the app then gives out is built while watching for canaries: the standalone
map of the county and of each township, the report's CSV lists, workbook, PDF and print page,
the weekly patrol sheet (HTML and PDF), the audit log CSV, the import template and problems
CSV, and the backup. Names must read as typed; a text that starts like a formula must never be
a live formula in a spreadsheet; markup in a text must never become an element of a page.

World: the scope fixture plus township 东江镇 (522699103000), whose villages are named by the
texts, one village per text. Each text is also the name, address and notes of three children in
that township (one per entry path), all assigned to one child director whose week is planned.
The two halves of a split pair are neighbouring records in the same village.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import html
import io
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
from argon2 import PasswordHasher
from pypdf import PdfReader
from sqlalchemy import Engine, func, select

from care import auth, i18n
from care.cli import maps as care_maps
from care.cli import report as care_report
from care.domain import clock, ids
from care.files.exports import FORMULA_STARTS, LIST_ORDER, csv_bytes, inert, workbook_bytes
from care.files.report_pdf import report_html, report_pdf
from care.files.schedule_sheet import sheet_html, sheet_pdf
from care.imports import ImportReport, build_template, errors_csv, run_import
from care.queries.audit_log import COLUMNS as AUDIT_COLUMNS
from care.queries.audit_log import AuditFilter
from care.queries.person_file import person_file
from care.queries.schedule import week_plan
from care.queries.users import users_table
from care.scope import Scope
from care.services import users
from care.services.areas import import_area_codes
from care.services.assignments import assign_worker
from care.services.audit_log import export_audit_csv
from care.services.backup import create_backup
from care.services.enrollments import enroll
from care.services.persons import create_person, update_person
from care.services.schedule import generate_week
from db.models import Area, Enrollment, Person, Setting, User, Worker
from db.session import reading, transaction
from tests.conftest import _postgres_engine, _sqlite_engine
from tests.fixtures.scope import ScopeFixture, build_scope_fixture
from tests.hostile import PAYLOADS, all_texts, watching_canaries
from tests.integration.conftest import FIXTURE_TODAY

ROOT = Path(__file__).resolve().parents[2]
TEXTS = all_texts()
TODAY = FIXTURE_TODAY  # a Wednesday
MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
MONTH = "2026-05"
ENROLLED_ON = dt.date(2026, 1, 5)
VISITED_ON = "2026-05-06"

TOWNSHIP, TOWNSHIP_NAME = "522699103000", "东江镇"
VILLAGES = [f"522699103{201 + k:03d}" for k in range(len(TEXTS))]
PATHS = ("form", "edit", "roster")
PAIRS_FROM = len(PAYLOADS)  # TEXTS[PAIRS_FROM:] are the split pairs, first half then second
CHILD_FACTS = {"guardianship": "grandparent", "schooling": "primary"}
PASSWORD, NEW_PASSWORD = "Temp-Pass-2026", "Own-Secret-Word-77"
# Reports and maps are also made as a county official whose username itself starts like a formula.
EXPORTER = '=HYPERLINK("http://x","y")'

ROSTER_HEADERS = ["姓名", "公民身份号码", "村(社区)代码", "现住址", "联系电话", "经度", "纬度"]
ROSTER_HEADERS += ["关爱类别", "风险等级", "监护类型", "备注", "在册日期"]
VISIT_HEADERS = ["公民身份号码", "关爱类别", "巡访日期", "巡访状态", "巡访方式", "巡访人", "情况记录", "需求"]
REPORT_PAGE_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "table", "tr", "th", "td"}
REPORT_PAGE_TAGS |= {"svg", "text", "rect", "polyline", "circle", "img"}
SHEET_PAGE_TAGS = REPORT_PAGE_TAGS | {"section", "thead", "tbody"}


@dataclasses.dataclass(frozen=True)
class Planted:
    """The database with every text planted, and where each text went."""

    engine: Engine
    url: str
    world: ScopeFixture
    persons: dict[tuple[str, int], int]  # (entry path, text index) -> person id
    worker_id: int
    exporter: Scope
    rejected: ImportReport
    persons_after_rejected: int
    persons_before_rejected: int

    @property
    def admin(self) -> Scope:
        return self.world.scopes["admin"]


def home(k: int, path: str) -> int:
    """The village (index) where the person named TEXTS[k] lives.

    Its own village, except that both halves of a split pair live in one village: the first
    half's, or for the person form the second half's, so that every village has someone in it.
    """
    if k < PAIRS_FROM:
        return k
    first = k - (k - PAIRS_FROM) % 2
    return first + 1 if path == "form" else first


def id_number(batch: int, k: int) -> str:
    """A valid ID number of a child of the fixture county, unique per (batch, k)."""
    birth = dt.date(2013, 1, 1) + dt.timedelta(days=batch * 100 + k)
    body = f"522699{birth:%Y%m%d}{800 + k:03d}"
    return body + ids.check_digit(body)


def village_point(k: int) -> tuple[float, float]:
    return 26.30 + k * 0.002, 108.40


def person_point(k: int, path: str) -> tuple[float, float]:
    lat, lon = village_point(home(k, path))
    return round(lat + 0.0002 * (PATHS.index(path) + 1), 6), round(lon + 0.0001 * (k % 2), 6)


def expected_villages() -> dict[str, str]:
    return dict(zip(VILLAGES, TEXTS, strict=True))


# --- planting -----------------------------------------------------------------------------------


def _code_list() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["统计用区划代码", "名称", "纬度", "经度"])
    writer.writerow([TOWNSHIP, TOWNSHIP_NAME, "26.33", "108.42"])
    for k, (code, text) in enumerate(expected_villages().items()):
        writer.writerow([code, text, *village_point(k)])
    return out.getvalue().encode("utf-8-sig")


def _workbook(headers: list[str], rows: list[list[str]]) -> bytes:
    """An .xlsx as a user's Excel saves typed text: every cell a string cell, never a formula."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    sheet = book.add_worksheet()
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            if value != "":
                sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def _csv(headers: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([headers, *rows])
    return out.getvalue().encode("utf-8-sig")


def _roster_row(batch: int, k: int, text: str, group: str = "留守儿童") -> list[str]:
    lat, lon = person_point(k, "roster")
    village = VILLAGES[home(k, "roster")]
    return [text, id_number(batch, k), village, text, "", str(lon), str(lat), group, "", "祖辈监护", text, "2026-01-05"]


def _person_count(engine: Engine) -> int:
    with reading(engine) as session:
        return int(session.scalar(select(func.count()).select_from(Person)) or 0)


def _plant_persons(engine: Engine, admin: Scope) -> dict[tuple[str, int], int]:
    """The person form and the person edit: both services, for every text."""
    persons: dict[tuple[str, int], int] = {}
    with transaction(engine) as session:
        for path in ("form", "edit"):
            for k, text in enumerate(TEXTS):
                lat, lon = person_point(k, path)
                typed = {"name": text, "address": text, "notes": text} if path == "form" else {"name": f"待改{k}"}
                values = {"id_number": id_number(PATHS.index(path), k), "village_code": VILLAGES[home(k, path)]}
                saved = create_person(session, admin, values={**values, "lat": lat, "lon": lon, **typed})
                enroll(
                    session,
                    admin,
                    person_id=saved.id,
                    group="child",
                    subtype="left_behind",
                    start_date=ENROLLED_ON,
                    facts=CHILD_FACTS,
                )
                persons[path, k] = saved.id
    with transaction(engine) as session:
        for k, text in enumerate(TEXTS):
            update_person(
                session,
                admin,
                person_id=persons["edit", k],
                seen_version=1,
                values={"name": text, "address": text, "notes": text},
            )
    return persons


def _plant_imports(engine: Engine, admin: Scope) -> tuple[dict[tuple[str, int], int], ImportReport, int, int]:
    """A roster with bad rows (nothing written), the same roster without them, then its visits."""
    good = [_roster_row(PATHS.index("roster"), k, text) for k, text in enumerate(TEXTS)]
    # Bad rows: the care group cell holds the text, which names no group.
    bad = [_roster_row(len(PATHS), k, f"坏行{k}", group=text) for k, text in enumerate(TEXTS)]
    before = _person_count(engine)
    rejected = run_import(
        engine, admin, kind="roster", data=_workbook(ROSTER_HEADERS, good + bad), filename="名单.xlsx"
    )
    after_rejected = _person_count(engine)
    done = run_import(engine, admin, kind="roster", data=_workbook(ROSTER_HEADERS, good), filename="名单.xlsx")
    assert done.ok and done.committed == len(TEXTS), done.as_json()
    with reading(engine) as session:
        by_id = dict(session.execute(select(Person.id_number, Person.id)).all())
    persons = {("roster", k): by_id[id_number(PATHS.index("roster"), k)] for k in range(len(TEXTS))}
    visits = [
        [id_number(PATHS.index("roster"), k), "留守儿童", VISITED_ON, "已访", "上门", "", text, ""]
        for k, text in enumerate(TEXTS)
    ]
    recorded = run_import(engine, admin, kind="visits", data=_csv(VISIT_HEADERS, visits), filename="巡访.csv")
    assert recorded.ok and recorded.committed == len(TEXTS), recorded.as_json()
    return persons, rejected, before, after_rejected


def _plant_users(engine: Engine, world: ScopeFixture) -> Scope:
    """A township login per text (display name = the text) and the exporter, who set their password."""
    admin = world.scopes["admin"]
    with transaction(engine) as session:
        for k, text in enumerate(TEXTS):
            users.create_user(
                session,
                admin,
                username=f"hostile{k:02d}",
                display_name=text,
                role="township",
                area_code=TOWNSHIP,
                worker_id=None,
                password=PASSWORD,
            )
        made = users.create_user(
            session,
            admin,
            username=EXPORTER,
            display_name=EXPORTER,
            role="county",
            area_code=world.county,
            worker_id=None,
            password=PASSWORD,
        )
    with transaction(engine) as session:
        first = auth.scope_of(session.get(User, made.id))
        users.change_own_password(session, first, current=PASSWORD, new=NEW_PASSWORD, repeat=NEW_PASSWORD)
    with reading(engine) as session:
        return auth.scope_of(session.get(User, made.id))


def _plant_week(engine: Engine, admin: Scope) -> int:
    """One child director for the whole township, every enrollment theirs, the week planned."""
    with transaction(engine) as session:
        worker = Worker(name="东江儿主", kind="child_director", area_code=TOWNSHIP, office_lat=26.3, office_lon=108.39)
        session.add(worker)
        # Room for every household on the three days left in the week (Wednesday to Friday).
        session.add(Setting(key="policy.daily_limit", value=str(len(TEXTS) + 1)))
        session.flush()
        enrollments = session.scalars(
            select(Enrollment.id)
            .join(Person, Person.id == Enrollment.person_id)
            .where(Person.village_code.in_(VILLAGES))
        ).all()
        assign_worker(session, admin, worker_id=worker.id, seen=dict.fromkeys(enrollments))
        worker_id = worker.id
    with transaction(engine) as session:
        result = generate_week(session, admin, worker_id=worker_id, week_start=MONDAY)
    assert result.placed == len(TEXTS) * len(PATHS) and result.left == []
    return worker_id


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def planted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    """Every text through every entry path, once per database."""
    if request.param == "sqlite":
        engines = _sqlite_engine(tmp_path_factory.mktemp("hostile"))
    else:
        engines = _postgres_engine(request.getfixturevalue("postgres_admin"))
    engine = next(engines)
    clock.freeze(dt.datetime.combine(TODAY, dt.time(9)))
    # Nobody logs in with these passwords: a light hash keeps sixty-odd accounts quick.
    with pytest.MonkeyPatch.context() as patch, watching_canaries(tmp_path_factory.getbasetemp(), ROOT):
        patch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        with transaction(engine) as session:
            world = build_scope_fixture(session, today=TODAY)
        with transaction(engine) as session:
            areas = import_area_codes(session, world.scopes["admin"], data=_code_list())
        assert areas.errors == [] and areas.created == len(TEXTS) + 1
        persons = _plant_persons(engine, world.scopes["admin"])
        imported, rejected, before, after = _plant_imports(engine, world.scopes["admin"])
        exporter = _plant_users(engine, world)
        worker_id = _plant_week(engine, world.scopes["admin"])
    yield Planted(
        engine=engine,
        url=engine.url.render_as_string(hide_password=False),
        world=world,
        persons=persons | imported,
        worker_id=worker_id,
        exporter=exporter,
        rejected=rejected,
        persons_before_rejected=before,
        persons_after_rejected=after,
    )
    clock.freeze(None)
    next(engines, None)


@pytest.fixture(autouse=True)
def _today(freeze_clock) -> None:
    freeze_clock(TODAY)


def expected_persons(planted: Planted) -> dict[int, str]:
    """Person id -> the text that is their name (and address and notes)."""
    return {pid: TEXTS[k] for (_, k), pid in planted.persons.items()}


def expected_homes(planted: Planted) -> dict[int, str]:
    """Person id -> the name of their village."""
    return {pid: TEXTS[home(k, path)] for (path, k), pid in planted.persons.items()}


# --- reading what came out ------------------------------------------------------------------------


def _array(page: str, name: str) -> list[list[Any]]:
    """The rows of every ``<name>`` array in a map page's data document (its one JSON element)."""
    (document,) = re.findall(r'<script type="application/json" id="care-map-data">(.*?)</script>', page, re.S)
    found = [layer[name] for layer in json.loads(document)["layers"] if name in layer]
    assert found, f"no {name} array in the page"
    return [row for rows in found for row in rows]


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def assert_no_live_formula_in_csv(rows: list[list[str]]) -> None:
    """Every cell that would start a formula carries the leading ' that makes it text."""
    live = [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]
    assert live == [], f"cells a spreadsheet would run: {live[:5]}"


def uninert(cell: str) -> str:
    """The text a formula-safe cell stands for."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def column(rows: list[list[Any]], header: str) -> list[Any]:
    at = rows[0].index(header)
    return [row[at] for row in rows[1:]]


def _sheet_rows(sheet: Any) -> list[list[Any]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def assert_workbook_is_inert(book: Any) -> list[str]:
    """No formula anywhere; text that starts like one is a quoted string. Returns every string cell."""
    strings = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                    if cell.value.startswith(FORMULA_STARTS):
                        assert cell.data_type == "s" and cell.quotePrefix, f"{sheet.title}!{cell.coordinate}"
    return strings


class _Markup(HTMLParser):
    """The elements and attributes of a page, and the text inside <td> and <title> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.cells: list[str] = []
        self.titles: list[str] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes |= {name for name, _ in attrs}
        if tag in ("td", "title"):
            self._open = self.cells if tag == "td" else self.titles
            self._open.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "title"):
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[-1] += data


def markup(page: str, allowed: set[str]) -> _Markup:
    """The page parsed; it may hold only the page's own kinds of element, and no event handler."""
    parsed = _Markup()
    parsed.feed(page)
    parsed.close()
    assert parsed.tags <= allowed, f"elements from the data: {parsed.tags - allowed}"
    assert not any(name.startswith("on") for name in parsed.attributes), parsed.attributes
    for text in TEXTS:
        if "<" in text:
            assert text not in page, f"raw markup in the page: {text}"
    return parsed


def flat(text: str) -> str:
    return re.sub(r"[\s\x00]+", "", text)


def pdf_text(data: bytes) -> str:
    """The PDF's text without whitespace (pypdf pads this font's two-byte codes with NULs)."""
    return flat("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


# --- what was stored ---------------------------------------------------------------------------------


def test_every_entry_path_stored_every_text_exactly_as_typed(planted):
    engine, admin = planted.engine, planted.admin
    with reading(engine) as session:
        stored = {
            pid: (name, address, notes)
            for pid, name, address, notes in session.execute(
                select(Person.id, Person.name, Person.address, Person.notes).where(Person.village_code.in_(VILLAGES))
            )
        }
        villages = dict(session.execute(select(Area.code, Area.name).where(Area.parent_code == TOWNSHIP)).all())
        visit_notes = {
            k: [v["notes"] for v in person_file(session, admin, planted.persons["roster", k], TODAY).visits]
            for k in range(len(TEXTS))
        }
        display = dict(zip(*(users_table(session, admin)[c] for c in ("username", "display_name")), strict=True))
    assert stored == {pid: (text, text, text) for pid, text in expected_persons(planted).items()}
    assert villages == expected_villages()
    assert visit_notes == {k: [text] for k, text in enumerate(TEXTS)}
    assert {k: display[f"hostile{k:02d}"] for k in range(len(TEXTS))} == dict(enumerate(TEXTS))


def test_a_roster_with_bad_rows_wrote_nothing_and_its_problems_file_is_inert(planted, tmp_path):
    report = planted.rejected
    assert not report.ok and report.committed == 0
    assert planted.persons_after_rejected == planted.persons_before_rejected
    with watching_canaries(tmp_path, ROOT):
        rows = _csv_rows(errors_csv(report, "zh"))
    assert_no_live_formula_in_csv(rows)
    reasons = [uninert(cell) for cell in column(rows, rows[0][2])]
    for text in TEXTS:
        # The message quotes the cell's first 30 characters.
        assert any(f"“{text[:30]}”" in reason for reason in reasons), text


# --- the standalone map -------------------------------------------------------------------------------


def _export_map(planted: Planted, area: str, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    argv = ["export", "--db", planted.url, "--area", area, "--out", str(out), "--as", EXPORTER]
    assert care_maps.main(argv) == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["area"] == area and summary["user"] == EXPORTER
    page = out.read_text(encoding="utf-8")
    for text in TEXTS:
        if "<" in text:
            assert text not in page, f"raw markup in the map page: {text}"
    return page


def test_the_county_map_names_every_village_as_typed(planted, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CARE_MAP_TILES", "none")
    with watching_canaries(tmp_path, ROOT):
        page = _export_map(planted, planted.world.county, tmp_path / "county.html", capsys)
    shown = {}
    for row in _array(page, "rows"):
        tooltip = row[4]
        code = re.search(r"<small>(\d{12})</small>", tooltip).group(1)
        name = re.match(r"<b>([^<]*)</b>（([^<]*)）", tooltip)
        shown[code] = (html.unescape(name.group(1)), html.unescape(name.group(2)))
    assert {code: shown[code] for code in VILLAGES} == {
        code: (text, TOWNSHIP_NAME) for code, text in expected_villages().items()
    }
    labels = sorted(html.unescape(label[2]) for label in _array(page, "labels"))
    assert labels == sorted(["丹江镇", "西江镇", TOWNSHIP_NAME])


@pytest.mark.parametrize("township", ["a", "b", "hostile"])
def test_each_township_map_shows_every_person_and_village_as_typed(planted, tmp_path, capsys, monkeypatch, township):
    monkeypatch.setenv("CARE_MAP_TILES", "none")
    code = {"a": planted.world.township_a, "b": planted.world.township_b, "hostile": TOWNSHIP}[township]
    with watching_canaries(tmp_path, ROOT):
        page = _export_map(planted, code, tmp_path / f"{code}.html", capsys)
    persons = {row[3]: html.unescape(row[4]) for row in _array(page, "rows")}
    labels = [html.unescape(label[2]) for label in _array(page, "labels")]
    if township != "hostile":
        assert persons and all(name.startswith("测试") for name in persons.values())
        return
    assert persons == expected_persons(planted)
    assert sorted(labels) == sorted([TOWNSHIP_NAME, *TEXTS])


# --- the month report -----------------------------------------------------------------------------------


def _report(planted: Planted, area: str | None, scope: Scope | None = None):
    return care_report.read(planted.engine, scope or planted.exporter, month=MONTH, area=area, today=TODAY)


def test_every_list_as_csv_names_each_person_and_village_as_typed_and_inert(planted, tmp_path):
    report, _, _ = _report(planted, TOWNSHIP)
    files = {}
    with watching_canaries(tmp_path, ROOT):
        for name in LIST_ORDER:
            files[name] = _csv_rows(csv_bytes(report.lists[name], "zh"))
        files["listed_unmasked"] = _csv_rows(csv_bytes(report.lists["listed"], "zh", unmasked=True))
    for rows in files.values():
        assert_no_live_formula_in_csv(rows)
    for name in ("listed", "listed_unmasked", "overdue"):
        rows = files[name]
        assert Counter(column(rows, "姓名")) == Counter(inert(t) for t in expected_persons(planted).values()), name
        assert Counter(column(rows, "村")) == Counter(inert(t) for t in expected_homes(planted).values()), name
    assert {uninert(cell) for cell in column(files["listed"], "姓名")} == set(TEXTS)


@pytest.mark.parametrize("area", ["county", "township"])
def test_the_workbook_holds_every_name_as_a_string_never_a_formula(planted, tmp_path, area):
    report, trend, meta = _report(planted, TOWNSHIP if area == "township" else None)
    with watching_canaries(tmp_path, ROOT):
        data, _ = workbook_bytes(report, trend, meta, "zh")
    book = openpyxl.load_workbook(io.BytesIO(data))
    strings = assert_workbook_is_inert(book)
    assert set(TEXTS) <= set(strings)
    assert any(EXPORTER in s for s in strings)  # the title block names who made the file
    overdue = book[i18n.t("report.sheet.list", "zh", name=i18n.t("report.list.overdue", "zh"))]
    names = column(_sheet_rows(overdue), "姓名")
    assert Counter(n for n in names if not n.startswith("测试")) == Counter(expected_persons(planted).values())


def test_the_monthly_workbook_command_writes_the_same_inert_workbook(planted, tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    argv = ["--db", planted.url, "--month", MONTH, "--area", TOWNSHIP, "--out", str(out), "--as", EXPORTER]
    with watching_canaries(tmp_path, ROOT):
        assert care_report.main(argv) == 0, capsys.readouterr().err
    strings = assert_workbook_is_inert(openpyxl.load_workbook(out))
    assert set(TEXTS) <= set(strings)


def _village_reports() -> list[str]:
    """The villages whose names try each engine once: one of each kind of payload."""
    kinds = ("{{ 7*7 }}", "{% raw %}", "{#", "<img src=x onerror=alert(1)>", "`${alert(1)}`", "# heading", "=1+1")
    return [VILLAGES[TEXTS.index(text)] for text in kinds if text in TEXTS]


@pytest.mark.parametrize("area", [None, TOWNSHIP, *_village_reports()], ids=lambda a: a or "county")
def test_the_print_page_and_pdf_show_area_names_as_typed_and_no_markup(planted, tmp_path, area):
    report, trend, meta = _report(planted, area)
    with watching_canaries(tmp_path, ROOT):
        page = report_html(report, trend, meta, "zh")
        pdf = pdf_text(report_pdf(report, trend, meta, "zh"))
    parsed = markup(page, REPORT_PAGE_TAGS)
    assert parsed.titles[0].startswith(meta.area_name) and EXPORTER in html.unescape(page)
    assert flat(meta.area_name) in pdf
    names = expected_villages()
    shown = {names[code] for code in report.by_area["area_code"] if code in names}
    for text in shown:
        assert text in parsed.cells, text
        assert flat(text) in pdf, text
    if area == TOWNSHIP:
        assert shown == set(TEXTS)
        assert set(TEXTS) <= set(parsed.titles)  # the small map's village dots


# --- the weekly patrol sheet ------------------------------------------------------------------------------


def test_the_patrol_sheet_lists_every_household_as_typed(planted, tmp_path):
    with reading(planted.engine) as session:
        plan = week_plan(session, planted.admin, worker_id=planted.worker_id, week_start=MONDAY, today=TODAY)
    with watching_canaries(tmp_path, ROOT):
        page = sheet_html(plan, "zh", TODAY)
        pdf = pdf_text(sheet_pdf(plan, "zh", TODAY))
    markup(page, SHEET_PAGE_TAGS)
    rows = [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)
    ]
    stops = Counter((cells[1], cells[2]) for cells in rows if cells)
    homes = expected_homes(planted)
    assert stops == Counter((text, f"{homes[pid]} {text}") for pid, text in expected_persons(planted).items())
    for text in TEXTS:
        assert flat(text) in pdf, text


# --- the audit log, the import template and the backup ------------------------------------------------


def test_the_audit_export_keeps_every_text_and_runs_no_formula(planted, tmp_path):
    with watching_canaries(tmp_path, ROOT), transaction(planted.engine) as session:
        data = export_audit_csv(session, planted.admin, flt=AuditFilter(), headers=AUDIT_COLUMNS)
    rows = _csv_rows(data)
    assert_no_live_formula_in_csv(rows)
    events = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert inert(EXPORTER) in {e["username"] for e in events}
    details = {e["action"]: [] for e in events}
    for event in events:
        details[event["action"]].append(json.loads(event["detail"]))
    created = Counter(d["new"]["name"] for d in details["person.create"] if d["new"]["village_code"] in VILLAGES)
    # The person form, and the persons that were then edited (created as 待改…).
    assert created == Counter(TEXTS) + Counter(f"待改{k}" for k in range(len(TEXTS)))
    for field in ("name", "address", "notes"):
        assert Counter(d["new"][field] for d in details["person.update"]) == Counter(TEXTS), field
    assert EXPORTER in {d["username"] for d in details["user.create"]}


def test_the_import_template_lists_every_village_as_plain_text(planted, tmp_path):
    with watching_canaries(tmp_path, ROOT), reading(planted.engine) as session:
        data = build_template(session, planted.admin, kind="roster")
    book = openpyxl.load_workbook(io.BytesIO(data))
    formulas = [c for s in book.worksheets for row in s.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == []
    listed = {row[0]: row[1] for row in book.worksheets[1].iter_rows(min_row=2, values_only=True)}
    assert {code: listed[code] for code in VILLAGES} == expected_villages()


def test_the_backup_holds_every_text_as_typed(planted, tmp_path):
    with watching_canaries(tmp_path, ROOT):
        summary = create_backup(planted.url, planted.admin, folder=tmp_path)
    assert summary.integrity == "ok" and summary.counts["persons"] == _person_count(planted.engine)
    if summary.kind != "sqlite":
        return
    with contextlib.closing(sqlite3.connect(summary.path)) as copy:
        names = Counter(
            name for (name,) in copy.execute("SELECT name FROM persons WHERE village_code LIKE '522699103%'")
        )
    assert names == Counter(expected_persons(planted).values())
