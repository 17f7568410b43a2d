"""The region code of an ID number on the register: GB/T 2260 codes, and the database's own counties."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from care import services
from care.domain import ids
from care.domain.errors import ValidationError
from care.imports import run_import
from care.services.persons import CountyRegions
from db.models import Area, Person
from db.session import reading, transaction
from tests.fixtures.scope import fixture_id_number

ROSTER_HEADERS = ["姓名", "公民身份号码", "村(社区)代码", "现住址", "经度", "纬度", "关爱类别", "监护类型"]


def number(region: str, birth: dt.date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ids.check_digit(body)


def _create(engine, world, id_number: str, name: str = "地区码"):
    with transaction(engine) as session:
        return services.create_person(
            session,
            world.scopes["township_a"],
            values={
                "id_number": id_number,
                "name": name,
                "village_code": world.village_a2,
                "lat": 26.44,
                "lon": 108.09,
            },
        )


def _names(engine, name: str) -> list[str]:
    with reading(engine) as session:
        return list(session.scalars(select(Person.id_number).where(Person.name == name)))


def test_the_fixture_county_is_a_code_only_the_database_knows(engine, world):
    assert "522699" not in ids.known_regions()
    with reading(engine) as session:
        regions = CountyRegions(session)
        assert "522699" in regions
        assert "522698" not in regions
        assert "522699101" not in regions  # a township's prefix is not a county
        assert session.get(Area, "522699000000") is not None


def test_a_person_of_the_county_defined_in_the_database_is_registered(engine, world):
    id_number = fixture_id_number(dt.date(2012, 5, 6), 41, "F")
    _create(engine, world, id_number)
    assert _names(engine, "地区码") == [id_number]


@pytest.mark.parametrize("region", ["310225", "110104", "132102"])
def test_a_person_under_an_abolished_code_is_registered(engine, world, region):
    id_number = number(region, dt.date(1950, 3, 4), 21)
    _create(engine, world, id_number)
    assert _names(engine, "地区码") == [id_number]


@pytest.mark.parametrize("region", ["999999", "522698", "520000"])
def test_a_region_neither_gbt2260_nor_the_database_knows_is_refused_and_nothing_is_written(engine, world, region):
    with pytest.raises(ValidationError) as error:
        _create(engine, world, number(region, dt.date(2012, 5, 6), 40))
    assert (error.value.key, error.value.params) == ("id.unknown_region", {"region": region})
    assert region in error.value.message("zh")
    assert _names(engine, "地区码") == []


def test_a_stored_number_with_an_unknown_region_does_not_block_other_edits(engine, world):
    pid = world.persons["a1_child_w1"]
    with transaction(engine) as session:  # a number registered before regions were checked
        person = session.get(Person, pid)
        old = "999999" + person.id_number[6:17]
        old += ids.check_digit(old)
        person.id_number = old
    with reading(engine) as session:
        seen = session.get(Person, pid).version
    with transaction(engine) as session:
        services.update_person(
            session, world.scopes["coord_1"], person_id=pid, seen_version=seen, values={"address": "新地址"}
        )
    with reading(engine) as session:
        person = session.get(Person, pid)
        assert (person.address, person.id_number) == ("新地址", old)
        seen = person.version
    with pytest.raises(ValidationError) as error, transaction(engine) as session:
        services.update_person(
            session,
            world.scopes["township_a"],
            person_id=pid,
            seen_version=seen,
            values={"id_number": "999998" + old[6:17] + ids.check_digit("999998" + old[6:17])},
        )
    assert error.value.key == "id.unknown_region"


def _child(name: str, id_number: str, village: str) -> list[str]:
    return [name, id_number, village, "一组", "108.11", "26.46", "留守儿童", "祖辈监护"]


def _roster(rows) -> bytes:
    lines = [",".join(ROSTER_HEADERS), *(",".join(row) for row in rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def test_a_roster_row_with_an_unknown_region_is_refused_and_the_county_code_is_accepted(engine, world):
    a1 = world.village_a1
    good = _child("本县人", fixture_id_number(dt.date(2016, 1, 1), 300, "M"), a1)
    abolished = _child("南汇人", number("310225", dt.date(2015, 3, 3), 31), a1)
    bad = _child("无此地", number("999999", dt.date(2016, 1, 2), 31), a1)
    report = run_import(
        engine, world.scopes["township_a"], kind="roster", data=_roster([good, abolished, bad]), filename="名单.csv"
    )
    assert not report.ok and report.committed == 0
    assert [(e["row"], e["column"]) for e in report.as_json("en")["errors"]] == [(4, "公民身份号码")]
    assert "999999" in report.as_json("zh")["errors"][0]["reason"]
    report = run_import(
        engine, world.scopes["township_a"], kind="roster", data=_roster([good, abolished]), filename="名单.csv"
    )
    assert report.ok, report.as_json()
    assert report.committed == 2
    assert _names(engine, "南汇人") == [abolished[1]]


def test_a_visit_row_for_an_unknown_region_is_reported_as_nobody_registered(engine, world):
    data = io.StringIO()
    data.write("公民身份号码,关爱类别,巡访日期,巡访状态,巡访方式,巡访人\r\n")
    data.write(f"{number('999999', dt.date(2016, 1, 2), 31)},留守儿童,2026-06-01,已完成,上门,\r\n")
    report = run_import(
        engine, world.scopes["township_a"], kind="visits", data=data.getvalue().encode("utf-8-sig"), filename="v.csv"
    )
    assert not report.ok
    keys = [e.key for e in report.errors]
    assert "id.unknown_region" not in keys and keys
