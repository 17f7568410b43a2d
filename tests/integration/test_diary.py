"""民情日记: entries written, edited on the version seen and deleted; searches and timelines in scope."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from care.domain import clock
from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.queries import diary as q
from care.services import diary as svc
from db.models import AuditEvent, DiaryEntry, DiaryPerson, Visit
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
HOSTILE = ("{{7*7}}", "<img src=x onerror=alert(1)>", "=1+1", "**bold**", "${alert(1)}")


def _add(engine, scope, *, text="张奶奶说腿疼，已联系村医。", day=TODAY, kind="heard", persons=(), worker_id=None):
    with transaction(engine) as session:
        return svc.add_entry(
            session,
            scope,
            day=day,
            kind=kind,
            text=text,
            worker_id=worker_id,
            person_ids=persons,
            today=TODAY,
        )


def _update(engine, scope, saved, *, seen=None, text="改过的内容", persons=(), day=TODAY, kind="done"):
    with transaction(engine) as session:
        return svc.update_entry(
            session,
            scope,
            entry_id=saved.id,
            seen_version=saved.version if seen is None else seen,
            day=day,
            kind=kind,
            text=text,
            person_ids=persons,
            today=TODAY,
        )


def _search(engine, scope, **filters):
    with reading(engine) as session:
        return q.search(session, scope, **filters)


def _count(engine, model) -> int:
    with reading(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_a_coordinator_writes_an_entry_for_their_own_worker_about_their_own_person(engine, world):
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    saved = _add(engine, coord, text="  走访   羊排村\r\n\r\n\r\n  孩子  状态好  ", persons=[child, child])
    (row,) = _search(engine, coord)
    assert row.id == saved.id and row.worker_id == world.workers["w1"] and row.version == 1
    assert row.text == "走访 羊排村\n\n孩子 状态好"
    assert [p.id for p in row.persons] == [child] and row.hidden_persons == 0
    assert row.author == "coord_1" and row.kind == "heard"
    with reading(engine) as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "diary.create"))
    assert event.entity == "diary" and event.entity_id == str(saved.id)
    assert event.detail["new"]["persons"] == [child]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"text": "   \n\t  "}, "diary.error.text_required"),
        ({"text": "字" * 2001}, "diary.error.too_long"),
        ({"day": TODAY + dt.timedelta(days=1)}, "diary.error.future"),
        ({"kind": "gossip"}, "error.bad_choice"),
        ({"day": None}, "error.required"),
    ],
)
def test_bad_entries_are_refused_with_their_reason_and_nothing_is_written(engine, world, changes, key):
    with pytest.raises(ValidationError) as refused:
        _add(engine, world.scopes["coord_1"], **changes)
    assert refused.value.key == key
    assert _count(engine, DiaryEntry) == 0 and _count(engine, DiaryPerson) == 0


def test_a_text_of_exactly_2000_characters_is_kept_whole(engine, world):
    _add(engine, world.scopes["coord_1"], text="字" * 2000)
    (row,) = _search(engine, world.scopes["coord_1"])
    assert len(row.text) == 2000


def test_a_person_the_writer_may_not_see_refuses_the_whole_entry(engine, world):
    coord = world.scopes["coord_1"]
    # w2's child in the same village, a deleted person, and one of the other township.
    for other in ("a1_child_w2", "a1_deleted", "b1_child_w4"):
        with pytest.raises(ValidationError) as refused:
            _add(engine, coord, persons=[world.persons["a1_child_w1"], world.persons[other]])
        assert refused.value.key == "diary.error.person"
    assert _count(engine, DiaryEntry) == 0 and _count(engine, DiaryPerson) == 0


def test_who_may_write_for_which_worker(engine, world):
    coord = world.scopes["coord_1"]
    with pytest.raises(PermissionDenied):
        _add(engine, coord, worker_id=world.workers["w2"])
    with pytest.raises(PermissionDenied):
        _add(engine, world.scopes["county"], worker_id=world.workers["w1"])
    with pytest.raises(NotFound):
        _add(engine, world.scopes["township_a"], worker_id=world.workers["w4"])
    with pytest.raises(ValidationError) as no_worker:
        _add(engine, world.scopes["township_a"])
    assert no_worker.value.key == "diary.error.worker_required"
    saved = _add(engine, world.scopes["township_a"], worker_id=world.workers["w3"])
    admin = _add(engine, world.scopes["admin"], worker_id=world.workers["w4"])
    assert {r.id for r in _search(engine, world.scopes["admin"])} == {saved.id, admin.id}


def test_an_edit_on_an_old_version_is_refused_and_the_newer_text_is_kept(engine, world):
    coord = world.scopes["coord_1"]
    first = _add(engine, coord)
    second = _update(engine, coord, first, text="第二版")
    assert second.version == 2
    with pytest.raises(StaleRecord) as stale:
        _update(engine, coord, first, text="第三版（基于旧版）")
    assert stale.value.params == {"seen": 1, "now": 2} and stale.value.current["text"] == "第二版"
    (row,) = _search(engine, coord)
    assert (row.text, row.kind, row.version) == ("第二版", "done", 2)
    with pytest.raises(StaleRecord):
        with transaction(engine) as session:
            svc.delete_entry(session, coord, entry_id=first.id, seen_version=1)
    assert len(_search(engine, coord)) == 1


def test_a_coordinator_neither_sees_nor_edits_another_workers_entries(engine, world):
    theirs = _add(engine, world.scopes["coord_2"], persons=[world.persons["a1_child_w2"]])
    mine = _add(engine, world.scopes["coord_1"])
    coord = world.scopes["coord_1"]
    assert [r.id for r in _search(engine, coord)] == [mine.id]
    assert [r.id for r in _search(engine, coord, worker_id=world.workers["w2"])] == []
    with reading(engine) as session:
        assert q.entry(session, coord, theirs.id) is None
        assert q.timeline(session, coord, worker_id=world.workers["w2"], start=TODAY, end=TODAY) == []
    with pytest.raises(NotFound):
        _update(engine, coord, theirs)
    with pytest.raises(NotFound):
        with transaction(engine) as session:
            svc.delete_entry(session, coord, entry_id=theirs.id, seen_version=1)
    with reading(engine) as session:
        assert session.get(DiaryEntry, theirs.id).text == "张奶奶说腿疼，已联系村医。"


def test_a_supervisor_searches_by_words_person_worker_and_days_within_their_township(engine, world):
    child = world.persons["a1_child_w1"]
    old = _add(
        engine, world.scopes["coord_1"], text="三月的走访：孩子想念父母", day=dt.date(2026, 3, 2), persons=[child]
    )
    new = _add(engine, world.scopes["coord_1"], text="六月：帮孩子办好午餐补助", day=TODAY, kind="done")
    other = _add(engine, world.scopes["coord_2"], text="另一位儿童主任的日记", persons=[world.persons["a1_child_w2"]])
    elsewhere = _add(engine, world.scopes["coord_b"], text="西江镇的孩子", persons=[world.persons["b1_child_w4"]])
    sup = world.scopes["township_a"]
    assert [r.id for r in _search(engine, sup)] == [other.id, new.id, old.id]
    assert [r.id for r in _search(engine, sup, text="孩子")] == [new.id, old.id]
    assert [r.id for r in _search(engine, sup, person_id=child)] == [old.id]
    assert [r.id for r in _search(engine, sup, worker_id=world.workers["w2"])] == [other.id]
    assert [r.id for r in _search(engine, sup, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))] == [old.id]
    assert [r.id for r in _search(engine, sup, start=TODAY)] == [other.id, new.id]
    # Another township's entries and persons are not found, not even by naming them.
    assert _search(engine, sup, person_id=world.persons["b1_child_w4"]) == []
    assert _search(engine, sup, worker_id=world.workers["w4"]) == []
    assert {r.id for r in _search(engine, world.scopes["county"])} == {old.id, new.id, other.id, elsewhere.id}
    assert _search(engine, world.scopes["no_area"]) == []
    # A percent sign or underscore is a character, not a wildcard.
    assert _search(engine, sup, text="%") == [] and _search(engine, sup, text="_") == []


def test_linked_persons_the_viewer_may_not_see_are_counted_never_named(engine, world):
    both = [world.persons["a1_child_w1"], world.persons["a1_child_disabled"]]
    saved = _add(engine, world.scopes["township_a"], worker_id=world.workers["w3"], persons=both)
    # The supervisor sees both children of the rehab coordinator's entry.
    with reading(engine) as session:
        supervisor = q.entry(session, world.scopes["township_a"], saved.id)
    assert {p.id for p in supervisor.persons} == set(both) and supervisor.hidden_persons == 0
    # w1's entry names w1's child and, linked since, w2's child: w1's coordinator may see only the first.
    mine = _add(engine, world.scopes["coord_1"], persons=[world.persons["a1_child_w1"]])
    with transaction(engine) as session:
        session.add(DiaryPerson(entry_id=mine.id, person_id=world.persons["a1_child_w2"]))
    (row,) = _search(engine, world.scopes["coord_1"])
    assert [p.name for p in row.persons] == ["测试a1_child_w1"] and row.hidden_persons == 1
    # The coordinator's edit keeps the link they cannot see.
    _update(engine, world.scopes["coord_1"], mine, persons=[])
    with reading(engine) as session:
        kept = session.scalars(select(DiaryPerson.person_id).where(DiaryPerson.entry_id == mine.id)).all()
    assert kept == [world.persons["a1_child_w2"]]


def test_the_timeline_merges_visits_and_entries_in_date_order(engine, world):
    w1 = world.workers["w1"]
    child, hidden = world.persons["a1_child_w1"], world.persons["a1_child_w2"]
    with transaction(engine) as session:
        for person, at, notes in (
            (child, dt.datetime(2026, 6, 8, 10, 0), "上门看望"),
            (hidden, dt.datetime(2026, 6, 9, 15, 0), "代同事走访"),
            (child, dt.datetime(2026, 5, 1, 9, 0), "太早，不在范围内"),
        ):
            session.add(
                Visit(
                    person_id=person,
                    worker_id=w1,
                    status="done",
                    mode="home",
                    visited_at=at,
                    notes=notes,
                    created_at=clock.now(),
                )
            )
        session.add(Visit(person_id=child, worker_id=w1, status="planned", due_date=TODAY, created_at=clock.now()))
    _add(engine, world.scopes["coord_1"], text="写于六月九日", day=dt.date(2026, 6, 9), persons=[child])
    _add(engine, world.scopes["coord_1"], text="写于六月七日", day=dt.date(2026, 6, 7), kind="other")
    with reading(engine) as session:
        rows = q.timeline(session, world.scopes["coord_1"], worker_id=w1, start=dt.date(2026, 6, 1), end=TODAY)
        supervisor = q.timeline(session, world.scopes["township_a"], worker_id=w1, start=dt.date(2026, 6, 1), end=TODAY)
    assert [(r.day, r.kind) for r in rows] == [
        (dt.date(2026, 6, 7), "diary"),
        (dt.date(2026, 6, 8), "visit"),
        (dt.date(2026, 6, 9), "visit"),
        (dt.date(2026, 6, 9), "diary"),
    ]
    assert rows[1].summary == "上门看望" and [p.id for p in rows[1].persons] == [child]
    # The coordinator's colleague's child: counted, not named, and the notes about them not shown.
    assert rows[2].persons == () and rows[2].hidden_persons == 1 and rows[2].summary == ""
    assert rows[3].summary == "写于六月九日" and rows[0].entry_kind == "other"
    assert [p.name for p in supervisor[2].persons] == ["测试a1_child_w2"] and supervisor[2].summary == "代同事走访"


def test_a_deleted_entry_leaves_every_list_and_the_person_file(engine, world):
    coord = world.scopes["coord_1"]
    child = world.persons["a1_child_w1"]
    saved = _add(engine, coord, persons=[child])
    with reading(engine) as session:
        assert [r.id for r in q.person_diary(session, world.scopes["admin"], child)] == [saved.id]
        assert q.person_diary(session, world.scopes["coord_2"], child) == []
    with transaction(engine) as session:
        svc.delete_entry(session, coord, entry_id=saved.id, seen_version=1)
    assert _search(engine, coord) == []
    with reading(engine) as session:
        assert q.person_diary(session, world.scopes["admin"], child) == []
        assert session.get(DiaryEntry, saved.id).deleted is True
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "diary")).all()
    assert actions == ["diary.create", "diary.delete"]
    with pytest.raises(NotFound):
        _update(engine, coord, saved, seen=2)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_and_read_back_as_typed(engine, world, text):
    _add(engine, world.scopes["coord_1"], text=text)
    (row,) = _search(engine, world.scopes["township_a"], text=text)
    assert row.text == text
