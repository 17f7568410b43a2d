"""数据导入 in Chromium: a supervisor uploads a file with a bad row, then the corrected file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from care.domain import ids
from db.models import Area, Person, User
from db.session import get_engine, reading
from tests.e2e.conftest import DemoServer, expect, login, open_page, rerun_mark, shot, wait_idle

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.e2e
HEADERS = "姓名,公民身份号码,村(社区)代码,现住址,关爱类别,监护类型"


def _village_and_count(server: DemoServer) -> tuple[str, int]:
    with reading(get_engine(str(server.db_path))) as session:
        area = session.scalar(select(User.area_code).where(User.username == server.accounts["township"][0]))
        village = session.scalar(select(Area.code).where(Area.parent_code == area).order_by(Area.code).limit(1))
        return village, int(session.scalar(select(func.count()).select_from(Person)))


def _count(server: DemoServer) -> int:
    with reading(get_engine(str(server.db_path))) as session:
        return int(session.scalar(select(func.count()).select_from(Person)))


def _id(seq: int) -> str:
    body = f"522699{dt.date(2016, 8, 8):%Y%m%d}{950 + seq:03d}"
    return body + ids.check_digit(body)


def _upload(page: Page, path: Path) -> None:
    # The file is sent first; the run that shows it is asked for once it has arrived.
    mark = rerun_mark(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    wait_idle(page, since=mark)
    page.get_by_role("button", name="开始导入").click()
    wait_idle(page)


def test_a_supervisor_imports_a_roster_after_fixing_the_row_the_page_pointed_at(
    page: Page, demo_server: DemoServer, tmp_path: Path
) -> None:
    village, before = _village_and_count(demo_server)
    good = [
        f"<b>加粗</b>张=1,{_id(1)},{village},一组,留守儿童,祖辈监护",
        f"李四,{_id(2)},{village},二组,留守儿童,亲友监护",
    ]
    bad = f"王五,{_id(3)[:-1]}{'1' if _id(3)[-1] != '1' else '2'},{village},三组,留守儿童,祖辈监护"
    first = tmp_path / "名单.csv"
    first.write_bytes("\r\n".join([HEADERS, *good, bad]).encode("gbk"))

    login(page, demo_server, "township")
    open_page(page, "数据导入")
    expect(page.get_by_role("heading", name="数据导入")).to_be_visible()
    expect(page.get_by_role("button", name="下载导入模板（.xlsx）")).to_be_visible()
    _upload(page, first)
    expect(page.get_by_text("文件未导入：发现 1 处问题，没有写入任何记录")).to_be_visible()
    expect(page.get_by_role("button", name="下载问题清单（CSV）")).to_be_visible()
    shot(page, "imports_rejected")
    assert _count(demo_server) == before

    fixed = tmp_path / "名单_改.csv"
    fixed.write_bytes("\r\n".join([HEADERS, *good, bad.replace(bad.split(",")[1], _id(3))]).encode("utf-8-sig"))
    _upload(page, fixed)
    expect(page.get_by_text("导入完成：共 3 行，写入 3 行")).to_be_visible()
    shot(page, "imports_done")
    assert _count(demo_server) == before + 3
    # The name is stored and shown as typed: no markup, no formula.
    with reading(get_engine(str(demo_server.db_path))) as session:
        assert session.scalar(select(func.count()).select_from(Person).where(Person.name == "<b>加粗</b>张=1")) == 1
