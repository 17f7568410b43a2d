"""民情日记 under AppTest: write, change on an old version, scope per role, search, timeline, hostile text."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import ui
from care.auth import scope_of
from care.domain import clock
from care.queries import diary as q
from care.services import diary as svc
from db.models import DiaryEntry, DiaryPerson, Person, User, Worker
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref

PAGE = "pages/diary.py"
HOSTILE = ("{{7*7}}", "<img src=x onerror=alert(1)>", "=1+1", "**bold**", "${alert(1)}")


def _texts(at) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _cells(at) -> str:
    return "\n".join(df.value.to_string() for df in at.dataframe)


def _open(at, lang: str | None = None):
    if lang:
        at.session_state["lang"] = lang
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _scope(db: dict, role: str):
    with reading(get_engine(str(db["path"]))) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"][role]["username"]))
        return scope_of(user)


def _add(db: dict, role: str, text: str, **kw) -> svc.Saved:
    with transaction(get_engine(str(db["path"]))) as session:
        return svc.add_entry(session, _scope(db, role), day=kw.pop("day", clock.today()), kind="heard", text=text, **kw)


def _own_person(db: dict) -> tuple[int, str]:
    with reading(get_engine(str(db["path"]))) as session:
        person_id, label = q.person_choices(session, _scope(db, "coordinator"), "")[0]
    return person_id, label.split(" · ")[0]


def _assert_inert(at) -> None:
    """No payload reaches a Markdown element unescaped (tables show it as typed)."""
    for element in (*at.markdown, *at.caption, *at.success, *at.error, *at.info):
        for payload in HOSTILE:
            assert payload not in str(element.value) or payload == ui.md(payload), (payload, element.value)
    assert "49" not in _texts(at)


@pytest.mark.parametrize(
    ("role", "lang", "title", "tabs"),
    [
        ("coordinator", "zh", "民情日记", ["写日记", "我的日记", "时间线"]),
        ("township", "zh", "民情日记", ["写日记", "查阅日记", "时间线"]),
        ("admin", "en", "Workers' diary", ["Write", "Search", "Timeline"]),
        ("county", "en", "Workers' diary", ["Search", "Timeline"]),
    ],
)
def test_each_role_opens_the_page_with_its_tabs_in_its_language(app_as, role, lang, title, tabs):
    at = _open(app_as(role), lang)
    assert at.title[0].value == title
    assert [t.label for t in at.tabs] == tabs


def test_a_coordinator_writes_an_entry_about_their_person_and_sees_it_as_typed(own_app_as, own_demo_db):
    person_id, _ = _own_person(own_demo_db)
    text = " ".join(HOSTILE)
    at = _open(own_app_as("coordinator"))
    at.text_area(key="diary_new_0_text").input(text)
    at.session_state["diary_new_0_persons"] = [person_id]
    at.run()
    at.button(key="diary_new_0_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "日记已保存" in _texts(at)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        entry = session.scalar(select(DiaryEntry).where(DiaryEntry.text == text))
        linked = session.scalars(select(DiaryPerson.person_id).where(DiaryPerson.entry_id == entry.id)).all()
    assert entry.worker_id == _scope(own_demo_db, "coordinator").worker_id and linked == [person_id]
    # The form starts empty again, and the list shows the text cell for cell.
    assert at.text_area(key="diary_new_1_text").value == ""
    shown = [df.value for df in at.dataframe if "内容" in df.value.columns]
    assert any(text in set(df["内容"]) for df in shown)
    _assert_inert(at)


def test_an_empty_or_future_entry_is_refused_with_its_reason(own_app_as, own_demo_db):
    at = _open(own_app_as("coordinator"))
    at.text_area(key="diary_new_0_text").input("   ")
    at.button(key="diary_new_0_save").click().run()
    assert "请填写日记内容" in _texts(at)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        assert session.scalar(select(DiaryEntry.id).where(DiaryEntry.text == "")) is None


def test_an_edit_on_an_old_version_is_refused_and_the_newer_entry_shown(own_app_as, own_demo_db):
    saved = _add(own_demo_db, "coordinator", "第一版日记")
    at = _open(own_app_as("coordinator"))
    at.session_state["diary_edit_choice"] = saved.id
    at.run()
    # Someone else saves first.
    with transaction(get_engine(str(own_demo_db["path"]))) as session:
        svc.update_entry(
            session,
            _scope(own_demo_db, "coordinator"),
            entry_id=saved.id,
            seen_version=1,
            day=clock.today(),
            kind="done",
            text="别处保存的第二版",
        )
    key = f"diary_edit_{saved.id}_1"
    at.text_area(key=f"{key}_text").input("基于旧版的修改")
    at.button(key=f"{key}_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已被他人修改" in _texts(at)
    assert "别处保存的第二版" in _cells(at)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        assert session.get(DiaryEntry, saved.id).text == "别处保存的第二版"
    # The form now holds the newer version: saving from it works.
    at.text_area(key=f"diary_edit_{saved.id}_2_text").input("第三版")
    at.button(key=f"diary_edit_{saved.id}_2_save").click().run()
    assert "日记已修改" in _texts(at)
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        assert session.get(DiaryEntry, saved.id).text == "第三版"


def test_a_coordinator_does_not_see_another_workers_entries(own_app_as, own_demo_db):
    mine = _scope(own_demo_db, "coordinator")
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        other = session.scalar(
            select(Worker.id).where(Worker.id != mine.worker_id, Worker.area_code.startswith(mine.prefix))
        )
    _add(own_demo_db, "township", "同事的日记不给别人看", worker_id=other)
    at = _open(own_app_as("coordinator"))
    assert "同事的日记不给别人看" not in _cells(at)
    township = _open(own_app_as("township"))
    assert "同事的日记不给别人看" in _cells(township)


def test_a_supervisor_searches_by_words_and_a_person_outside_is_counted_not_named(own_app_as, own_demo_db):
    engine = get_engine(str(own_demo_db["path"]))
    sup = _scope(own_demo_db, "township")
    person_id, name = _own_person(own_demo_db)
    saved = _add(own_demo_db, "coordinator", "寻找关键词：水井坏了", person_ids=[person_id])
    with transaction(engine) as session:
        outsider = session.scalar(
            select(Person).where(~Person.village_code.startswith(sup.prefix), Person.deleted.is_(False))
        )
        session.add(DiaryPerson(entry_id=saved.id, person_id=outsider.id))
    at = _open(own_app_as("township"))
    at.text_input(key="diary_q_text").input("水井").run()
    (table,) = [df.value for df in at.dataframe if "记录人" in df.value.columns]
    assert list(table["内容"]) == ["寻找关键词：水井坏了"]
    assert name in table["涉及对象"][0] and "另有 1 名对象（无权查看）" in table["涉及对象"][0]
    assert outsider.name not in _cells(at)
    at.text_input(key="diary_q_text").input("没有这样的字").run()
    assert "没有符合条件的日记" in _texts(at)
    # By date: the entry is today's, so a range ending yesterday finds nothing.
    at.text_input(key="diary_q_text").input("水井").run()
    at.date_input(key="diary_q_end").set_value(clock.today() - dt.timedelta(days=1)).run()
    assert "没有符合条件的日记" in _texts(at)


def test_the_timeline_lists_visits_and_entries_by_day(own_app_as, own_demo_db):
    _add(own_demo_db, "coordinator", "时间线上的日记", day=clock.today() - dt.timedelta(days=3))
    at = _open(own_app_as("coordinator"))
    (table,) = [df.value for df in at.dataframe if "类型" in df.value.columns]
    kinds = set(table["类型"])
    assert "日记" in kinds and "巡访" in kinds, kinds
    days = list(table["日期"])
    assert days == sorted(days)
    assert "时间线上的日记" in set(table["内容"])


def test_the_person_file_lists_the_entries_naming_the_person(own_app_as, own_demo_db):
    person_id, _ = _own_person(own_demo_db)
    _add(own_demo_db, "coordinator", "档案里能看到的日记 **bold**", person_ids=[person_id])
    at = own_app_as("coordinator")
    at.query_params["ref"] = person_ref(own_demo_db["path"], person_id)
    at.run()
    at.switch_page("pages/person.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.label.startswith("民情日记（") for e in at.expander)
    assert "档案里能看到的日记 **bold**" in _cells(at)


def test_a_supervisor_writes_for_a_chosen_worker_and_keeps_a_person_found_earlier(own_app_as, own_demo_db):
    engine = get_engine(str(own_demo_db["path"]))
    sup = _scope(own_demo_db, "township")
    with reading(engine) as session:
        worker_id = session.scalar(select(Worker.id).where(Worker.area_code.startswith(sup.prefix)).order_by(Worker.id))
        first, second = session.execute(
            select(Person.id, Person.name)
            .where(Person.village_code.startswith(sup.prefix), Person.deleted.is_(False))
            .order_by(Person.id)
            .limit(2)
        ).all()
    at = _open(own_app_as("township"))
    at.session_state["diary_new_0_worker"] = worker_id
    at.run()
    at.text_input(key="diary_new_0_persons_find").input(first[1]).run()
    at.session_state["diary_new_0_persons"] = [first[0]]
    at.run()
    # Looking for a second person keeps the first one chosen.
    at.text_input(key="diary_new_0_persons_find").input(second[1]).run()
    assert first[0] in at.multiselect(key="diary_new_0_persons").value
    at.text_area(key="diary_new_0_text").input("督导员代为记录").run()
    at.button(key="diary_new_0_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "日记已保存" in _texts(at)
    with reading(engine) as session:
        entry = session.scalar(select(DiaryEntry).where(DiaryEntry.text == "督导员代为记录"))
        linked = session.scalars(select(DiaryPerson.person_id).where(DiaryPerson.entry_id == entry.id)).all()
    assert entry.worker_id == worker_id and linked == [first[0]]
