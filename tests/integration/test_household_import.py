"""Roster import with 户号 / 户主身份证号 / 与户主关系: rows grouped into households, all or nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from care.imports import run_import
from care.services import households
from db.models import Enrollment, Household, HouseholdMember, Person
from db.session import reading
from tests.fixtures.scope import fixture_id_number
from tests.integration.test_imports import as_csv, counts, new_id

HEADERS = [
    "姓名",
    "公民身份号码",
    "村(社区)代码",
    "关爱类别",
    "监护类型",
    "居住方式",
    "生活自理能力",
    "户号",
    "户主身份证号",
    "与户主关系",
]
GRANNY = new_id(dt.date(1950, 2, 2), 1)
GRANDSON = new_id(dt.date(2016, 3, 1), 2)
GRANDDAUGHTER = new_id(dt.date(2018, 5, 1), 3)


def imported(engine, scope, rows):
    return run_import(engine, scope, kind="roster", data=as_csv(HEADERS, rows), filename="名单.csv")


def _members(engine, id_numbers):
    with reading(engine) as session:
        rows = session.execute(
            select(Person.id_number, HouseholdMember.household_id, HouseholdMember.relation, Household.hukou_no)
            .join(HouseholdMember, HouseholdMember.person_id == Person.id)
            .join(Household, Household.id == HouseholdMember.household_id)
            .where(Person.id_number.in_(id_numbers), HouseholdMember.end_date.is_(None))
        ).all()
    return {number: (hid, relation, hukou) for number, hid, relation, hukou in rows}


def _family_rows(village, hukou="520101001", head=GRANNY):
    return [
        ["王奶奶", GRANNY, village, "留守老人", "", "与亲属同住", "部分自理", hukou, head, "户主"],
        ["王小明", GRANDSON, village, "留守儿童", "祖辈监护", "", "", hukou, head, "孙子"],
        ["王小红", GRANDDAUGHTER, village, "留守儿童", "祖辈监护", "", "", hukou, "", "孙女"],
    ]


def test_rows_with_one_hukou_number_become_one_household_with_its_head_and_relations(engine, world):
    report = imported(engine, world.scopes["township_a"], _family_rows(world.village_a1))
    assert report.ok, report.as_json("zh")
    found = _members(engine, [GRANNY, GRANDSON, GRANDDAUGHTER])
    assert len({hid for hid, _, _ in found.values()}) == 1
    assert {n: (r, h) for n, (_, r, h) in found.items()} == {
        GRANNY: ("head", "520101001"),
        GRANDSON: ("grandchild", "520101001"),
        GRANDDAUGHTER: ("grandchild", "520101001"),
    }
    assert len(report.created["households"]) == 1
    with reading(engine) as session:
        risks = session.scalars(
            select(Enrollment.risk)
            .join(Person, Person.id == Enrollment.person_id)
            .where(Person.id_number.in_([GRANDSON, GRANDDAUGHTER]))
        ).all()
        # The two grandchildren's first one-person households ended; nothing else is left behind.
        empty = session.scalar(
            select(func.count(Household.id)).where(
                Household.ended_on.is_(None),
                ~Household.id.in_(select(HouseholdMember.household_id).where(HouseholdMember.end_date.is_(None))),
            )
        )
    # Their only adult at home is 76: both are high risk by the family rule.
    assert risks == ["high", "high"]
    assert empty == 0
    # Importing the same file again changes nothing.
    again = imported(engine, world.scopes["township_a"], _family_rows(world.village_a1))
    assert again.ok and again.unchanged == 3 and _members(engine, [GRANNY, GRANDSON, GRANDDAUGHTER]) == found


def test_a_child_joins_the_household_of_a_registered_head_named_by_id_number(engine, world):
    with reading(engine) as session:
        elder = session.get(Person, world.persons["a1_elder_unassigned"])
        before = households.household_of_person(session, elder.id)
    rows = [["李小宝", GRANDSON, world.village_a1, "留守儿童", "祖辈监护", "", "", "", elder.id_number, "孙子"]]
    report = imported(engine, world.scopes["township_a"], rows)
    assert report.ok, report.as_json("zh")
    found = _members(engine, [GRANDSON, elder.id_number])
    assert found[GRANDSON][0] == found[elder.id_number][0] == before
    assert found[elder.id_number][1] == "head" and found[GRANDSON][1] == "grandchild"


def test_a_household_across_two_villages_two_heads_or_an_unknown_head_is_refused_and_nothing_is_written(engine, world):
    before = counts(engine)
    rows = _family_rows(world.village_a1)
    rows[2][2] = world.village_a2
    rows[1][9] = "户主"  # a second head, while the 户主身份证号 names the grandmother
    stranger = fixture_id_number(dt.date(1960, 1, 1), 99, "M")
    rows.append(
        ["赵某", new_id(dt.date(2015, 1, 1), 4), world.village_a1, "留守儿童", "祖辈监护", "", "", "", stranger, ""]
    )
    rows.append(
        ["钱某", new_id(dt.date(2015, 2, 1), 5), world.village_a1, "留守儿童", "祖辈监护", "", "", "", "", "子女"]
    )
    report = imported(engine, world.scopes["township_a"], rows)
    assert not report.ok
    assert counts(engine) == before
    errors = {(e["row"], e["column"]): e["reason"] for e in report.as_json("zh")["errors"]}
    assert "同一村" in errors[(4, "户号")]
    assert "一户只能有一位户主" in errors[(3, "与户主关系")]
    assert "既不在本文件中" in errors[(5, "户主身份证号")] and stranger not in errors[(5, "户主身份证号")]
    assert "无法知道是哪一户" in errors[(6, "与户主关系")]


def test_an_unknown_relation_is_refused_naming_the_allowed_ones(engine, world):
    rows = _family_rows(world.village_a1)
    rows[1][9] = "表哥"
    report = imported(engine, world.scopes["township_a"], rows)
    assert not report.ok
    [error] = report.as_json("zh")["errors"]
    assert error["column"] == "与户主关系" and "孙子女" in error["reason"]
