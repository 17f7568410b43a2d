"""数据导入 page: kinds by role, problems listed with a CSV download, dry run, import and re-import."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from care.domain import ids
from db.models import Area, AuditEvent, Person, User
from db.session import get_engine, reading

PAGE = "pages/imports.py"
HEADERS = "姓名,公民身份号码,村(社区)代码,关爱类别,监护类型"


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "success", "info") for e in getattr(at, kind))


def _engine(demo_db):
    return get_engine(str(demo_db["path"]))


def _count(demo_db) -> int:
    with reading(_engine(demo_db)) as session:
        return int(session.scalar(select(func.count()).select_from(Person)))


def _village(demo_db) -> str:
    with reading(_engine(demo_db)) as session:
        area = session.scalar(
            select(User.area_code).where(User.username == demo_db["accounts"]["township"]["username"])
        )
        return session.scalar(
            select(Area.code).where(Area.level == "village", Area.parent_code == area).order_by(Area.code).limit(1)
        )


def _new_id(seq: int) -> str:
    body = f"522699{dt.date(2017, 2, 3):%Y%m%d}{900 + seq:03d}"
    return body + ids.check_digit(body)


def _upload(at, name: str, data: bytes, *, dry_run: bool = False):
    at.file_uploader[0].set_value((name, data, "text/csv"))
    at.run()
    if dry_run:
        at.toggle(key="import_dry_run").set_value(True).run()
    at.button[0].click().run()
    return at


def _open(app_as, role):
    at = app_as(role)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_supervisor_may_import_rosters_visits_and_service_records_and_download_a_template(app_as):
    at = _open(app_as, "township")
    assert at.title[0].value == "数据导入"
    assert at.radio(key="import_kind").options == ["对象台账（新增对象与在册类别）", "巡访记录", "服务台账"]
    assert any(b.label == "下载导入模板（.xlsx）" for b in at.get("download_button"))


def test_a_coordinator_may_import_visits_and_service_records_but_no_roster(app_as):
    at = _open(app_as, "coordinator")
    assert at.radio(key="import_kind").options == ["巡访记录", "服务台账"]


def test_the_import_button_waits_for_a_file(app_as):
    at = _open(app_as, "township")
    assert at.button[0].disabled


def test_a_file_with_a_bad_row_lists_every_problem_writes_nothing_and_offers_the_list(app_as, demo_db):
    before = _count(demo_db)
    village = _village(demo_db)
    bad = _new_id(1)[:-1] + ("0" if _new_id(1)[-1] != "0" else "1")
    text = f"{HEADERS}\r\n好人,{_new_id(2)},{village},留守儿童,祖辈监护\r\n坏人,{bad},{village},留守儿童,祖辈监护\r\n"
    at = _upload(_open(app_as, "township"), "名单.csv", text.encode("gbk"))
    assert "文件未导入：发现 1 处问题，没有写入任何记录" in _texts(at)
    table = at.dataframe[0].value
    assert list(table["行号"]) == ["3"] and list(table["列"]) == ["公民身份号码"]
    assert "校验位不正确" in table["原因"][0]
    assert any(b.label == "下载问题清单（CSV）" for b in at.get("download_button"))
    assert _count(demo_db) == before


def test_a_utf16_file_is_refused_with_how_to_save_it(app_as):
    text = f"{HEADERS}\r\n某人,1,2,留守儿童,祖辈监护\r\n"
    at = _upload(_open(app_as, "township"), "名单.csv", text.encode("utf-16"))
    assert "CSV UTF-8" in at.dataframe[0].value["原因"][0]
    assert at.dataframe[0].value["行号"][0] == "整个文件"


def test_a_dry_run_reports_what_would_be_written_and_writes_nothing(app_as, demo_db):
    before = _count(demo_db)
    text = f"{HEADERS}\r\n试查,{_new_id(3)},{_village(demo_db)},留守儿童,祖辈监护\r\n"
    at = _upload(_open(app_as, "township"), "名单.csv", text.encode("utf-8-sig"), dry_run=True)
    assert "检查通过：共 1 行，可写入 1 行" in _texts(at)
    assert _count(demo_db) == before


def test_an_import_writes_the_rows_and_the_same_file_again_writes_nothing(app_as, demo_db):
    before = _count(demo_db)
    text = f"{HEADERS}\r\n导入童,{_new_id(4)},{_village(demo_db)},留守儿童,祖辈监护\r\n".encode("utf-8-sig")
    at = _upload(_open(app_as, "township"), "名单.csv", text)
    assert "导入完成：共 1 行，写入 1 行" in _texts(at)
    assert _count(demo_db) == before + 1
    again = _upload(_open(app_as, "township"), "名单.csv", text)
    assert "本次没有写入任何记录" in _texts(again)
    assert _count(demo_db) == before + 1
    with reading(_engine(demo_db)) as session:
        events = session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "import.roster")).all()
    assert "success" in events
