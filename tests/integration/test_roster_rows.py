"""Roster rows as county lists write them: villages by name, every problem of a row, registered persons."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from care.domain import ids
from care.imports import roster as roster_sheet
from care.imports import run_import
from care.imports.template import build_template
from db.models import Area, Enrollment, Person
from db.session import reading, transaction
from tests.integration.test_imports import as_csv, counts, new_id

HEADERS = ["姓名", "公民身份号码", "村(社区)代码", "乡镇(街道)", "关爱类别", "监护类型"]


def row(name: str, seq: int, village: str, township: str = "", group: str = "留守儿童", guardianship: str = "祖辈监护"):
    return [name, new_id(dt.date(2016, 3, 1), seq), village, township, group, guardianship]


def imported(engine, scope, rows, headers=HEADERS):
    return run_import(engine, scope, kind="roster", data=as_csv(headers, rows), filename="名单.csv")


def villages_of(engine, names) -> dict[str, str]:
    with reading(engine) as session:
        found = session.execute(select(Person.name, Person.village_code).where(Person.name.in_(names))).all()
    return dict(found)


def add_village(engine, code: str, name: str, parent: str) -> None:
    with transaction(engine) as session:
        session.add(Area(code=code, name=name, level="village", parent_code=parent, lat=26.3, lon=108.3))


def test_a_village_is_found_by_its_stored_name_its_short_name_and_with_its_township_before_it(engine, world):
    written = ["羊排村村民委员会", "羊排村", "羊排", "丹江镇羊排村", " 丹江镇 / 羊排 ", "羊排村"]
    rows = [row(f"名童{i}", i, v) for i, v in enumerate(written)]
    rows[-1][3] = "丹江镇"  # the township in its own column
    report = imported(engine, world.scopes["township_a"], rows)
    assert report.ok, report.as_json()
    assert set(villages_of(engine, [r[0] for r in rows]).values()) == {world.village_a1}


def test_a_name_two_villages_share_is_refused_with_both_and_the_township_column_tells_them_apart(engine, world):
    twin = world.village_b1[:9] + "299"
    add_village(engine, twin, "羊排村", world.village_b1[:9] + "000")
    before = counts(engine)
    report = imported(engine, world.scopes["admin"], [row("同名童", 1, "羊排村")])
    assert not report.ok and counts(engine) == before
    [error] = report.as_json("zh")["errors"]
    assert error["column"] == "村(社区)代码"
    assert "2 个村" in error["reason"] and world.village_a1 in error["reason"] and twin in error["reason"]
    assert "丹江镇" in error["reason"] and "西江镇" in error["reason"]

    report = imported(engine, world.scopes["admin"], [row("同名童", 1, "羊排村", "西江镇")])
    assert report.ok, report.as_json()
    assert villages_of(engine, ["同名童"]) == {"同名童": twin}


def test_within_a_township_the_other_townships_namesake_is_not_a_candidate(engine, world):
    add_village(engine, world.village_b1[:9] + "299", "羊排村", world.village_b1[:9] + "000")
    report = imported(engine, world.scopes["township_a"], [row("本镇童", 1, "羊排")])
    assert report.ok, report.as_json()
    assert villages_of(engine, ["本镇童"]) == {"本镇童": world.village_a1}


def test_an_unknown_name_is_quoted_back_with_the_closest_village_and_its_code(engine, world):
    report = imported(engine, world.scopes["township_a"], [row("错名童", 1, "羊排新村")])
    [error] = report.as_json("zh")["errors"]
    assert "羊排新村" in error["reason"] and "羊排村" in error["reason"] and world.village_a1 in error["reason"]
    report = imported(engine, world.scopes["township_a"], [row("错名童", 1, "完全不存在")])
    [error] = report.as_json("zh")["errors"]
    assert "完全不存在" in error["reason"] and world.village_a1 not in error["reason"]


def test_a_code_of_another_length_or_another_township_is_refused_naming_the_value(engine, world):
    cases = [world.village_a1 + "1", world.village_a1[:9]]
    report = imported(engine, world.scopes["township_a"], [row(f"码童{i}", i, c) for i, c in enumerate(cases)])
    reasons = [e["reason"] for e in report.as_json("zh")["errors"]]
    assert len(reasons) == 2 and all(c in r for c, r in zip(cases, reasons, strict=True))
    report = imported(engine, world.scopes["admin"], [row("码童", 5, world.village_a1, "西江镇")])
    [error] = report.as_json("zh")["errors"]
    assert world.village_a1 in error["reason"] and "羊排村" in error["reason"]


def test_an_unknown_township_is_refused_with_a_close_one(engine, world):
    report = imported(engine, world.scopes["admin"], [row("镇童", 1, "羊排村", "丹江乡镇")])
    [error] = report.as_json("zh")["errors"]
    assert error["column"] == "乡镇(街道)" and "丹江镇" in error["reason"]


def test_every_problem_of_a_row_is_listed_in_column_order(engine, world):
    bad_id = new_id(dt.date(2016, 3, 1), 9)
    bad_id = bad_id[:-1] + ("1" if bad_id[-1] != "1" else "2")
    rows = [["", bad_id, "不存在村", "", "留守儿童", "不知道"], row("好童", 2, "羊排村")]
    before = counts(engine)
    report = imported(engine, world.scopes["township_a"], rows)
    assert not report.ok and counts(engine) == before
    found = [(e.row, e.column) for e in report.errors]
    assert found == [(2, "姓名"), (2, "公民身份号码"), (2, "村(社区)代码"), (2, "监护类型")]


def test_a_filled_column_of_another_group_and_a_bad_fact_are_both_reported(engine, world):
    headers = [*HEADERS, "残疾类别", "风险等级"]
    rows = [[*row("混童", 1, "羊排村", guardianship=""), "视力残疾", "很高"]]
    report = imported(engine, world.scopes["township_a"], rows, headers)
    assert {e.column for e in report.errors} == {"监护类型", "残疾类别", "风险等级"}


def test_a_registered_person_whose_row_disagrees_is_reported_and_nothing_is_written(engine, world):
    with reading(engine) as session:
        elder = session.get(Person, world.persons["a1_elder_unassigned"])
        enrolled = session.scalars(select(Enrollment.group).where(Enrollment.person_id == elder.id)).all()
    assert "disabled" not in enrolled
    headers = ["姓名", "公民身份号码", "村(社区)代码", "联系电话", "关爱类别", "残疾类别", "残疾等级"]
    other = world.village_a2 if elder.village_code != world.village_a2 else world.village_a1
    rows = [[elder.name + "改", elder.id_number, other, "", "残疾人", "视力残疾", "二级"]]
    before = counts(engine)
    report = imported(engine, world.scopes["township_a"], rows, headers)
    assert not report.ok and counts(engine) == before
    errors = {e["column"]: e["reason"] for e in report.as_json("zh")["errors"]}
    assert set(errors) == {"姓名", "村(社区)代码"}
    assert elder.name in errors["姓名"] and elder.name + "改" in errors["姓名"]
    assert other in errors["村(社区)代码"] and elder.village_code in errors["村(社区)代码"]

    rows[0][:3] = [elder.name, elder.id_number, elder.village_code]
    report = imported(engine, world.scopes["township_a"], rows, headers)
    assert report.ok and report.committed == 1, report.as_json()


def test_the_template_example_is_in_the_users_county_and_refused_if_left_in(engine, world):
    with transaction(engine) as session:
        data = build_template(session, world.scopes["township_a"], kind="roster")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    example = sheet["B2"].value
    assert example[:6] == world.village_a1[:6] and ids.parse_id_number(example, check_region=False).number == example
    assert sheet["C2"].value == world.village_a1
    before = counts(engine)
    report = run_import(engine, world.scopes["township_a"], kind="roster", data=data, filename="模板.xlsx")
    assert [(e.row, e.key) for e in report.errors][:1] == [(2, "import.example_row")]
    assert counts(engine) == before


@pytest.mark.parametrize("region", ["522631", "110101"])
def test_the_example_number_of_any_county_is_recognised_and_a_real_one_is_not(region):
    today = dt.date(2026, 12, 5)
    example = roster_sheet.example_id(region, today)
    assert example.startswith(region) and roster_sheet.is_example_id(example)
    assert roster_sheet.is_example_id(roster_sheet.LEGACY_EXAMPLE_ID)
    body = f"{region}20180101001"
    assert not roster_sheet.is_example_id(body + ids.check_digit(body))
