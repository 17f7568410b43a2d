"""我的巡访 with a household: one card and one form for the members due, a visit saved per member."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from care.auth import scope_of
from care.domain import clock
from care.queries.visits import HouseholdItem, VisitItem, my_week
from care.services import households
from db.models import Household, Need, User, Visit
from db.session import get_engine, reading, transaction


def _scope(db: dict, role: str):
    with reading(get_engine(str(db["path"]))) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"][role]["username"]))
        return scope_of(user)


def _week(db: dict):
    with reading(get_engine(str(db["path"]))) as session:
        return my_week(session, _scope(db, "coordinator"), clock.today())


@pytest.fixture(scope="module")
def household(own_demo_db) -> HouseholdItem:
    """Two of the coordinator's persons still to visit, of one village, made one household (the
    second joins the first's as its head's grandchild), if the demo has none already."""
    found = [i for i in _week(own_demo_db).items if isinstance(i, HouseholdItem) and i.state != "done"]
    if not found:
        alone = [i for i in _week(own_demo_db).items if isinstance(i, VisitItem) and i.state != "done"]
        pair = next((a, b) for n, a in enumerate(alone) for b in alone[n + 1 :] if a.village == b.village)
        engine = get_engine(str(own_demo_db["path"]))
        with transaction(engine) as session:
            township = _scope(own_demo_db, "township")
            hid = households.household_of_person(session, pair[0].person_id)
            households.add_member(
                session,
                township,
                household_id=hid,
                seen_version=session.get(Household, hid).version,
                person_id=pair[1].person_id,
                relation="grandchild",
            )
        found = [i for i in _week(own_demo_db).items if isinstance(i, HouseholdItem) and i.state != "done"]
    assert found, "a household of two or more of the coordinator's persons is due this week"
    return found[0]


def _visits(db: dict, person_id: int) -> int:
    with reading(get_engine(str(db["path"]))) as session:
        return int(session.scalar(select(func.count()).select_from(Visit).where(Visit.person_id == person_id)))


def _texts(at) -> str:
    return "\n".join(str(e.value) for kind in ("error", "warning", "success", "info") for e in getattr(at, kind))


def _open(own_app_as):
    at = own_app_as("coordinator")
    at.run()
    at.switch_page("pages/my_visits.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _form(at, item: HouseholdItem) -> str:
    at.button(key=f"record_household_{item.household_id}").click().run()
    token = at.session_state[f"household_visit_token_{item.household_id}"]
    return f"household_{item.household_id}_{item.version}_{token[:8]}"


def _submit(at, key: str):
    return next(b for b in at.button if b.form_id == key).click().run()


def test_a_household_is_one_card_with_every_member_due_and_one_form(own_app_as, household):
    at = _open(own_app_as)
    shown = "\n".join(str(m.value) for m in at.markdown)
    assert all(p.name in shown for p in household.people)
    keys = {b.key for b in at.button}
    assert f"record_household_{household.household_id}" in keys
    assert not keys & {f"record_{p.person_id}" for p in household.people}, "one form for the house, not one each"


def test_one_form_saves_a_visit_per_member_one_not_met_one_with_a_need_all_text_inert(
    own_app_as, own_demo_db, household
):
    first, second = household.people[0], household.people[1]
    before = {p.person_id: _visits(own_demo_db, p.person_id) for p in household.people}
    at = _open(own_app_as)
    key = _form(at, household)
    at.checkbox(key=f"{key}_{second.person_id}_missed").check()
    at.selectbox(key=f"{key}_{first.person_id}_need_kind").set_value("medical")
    at.text_input(key=f"{key}_{first.person_id}_need_text").input("=1+1 <b>x</b> {{7*7}} 需要助医")
    at.text_area(key=f"{key}_notes").input("{{ 7*7 }} 一家人都在")
    _submit(at, key)
    assert not at.exception, [e.value for e in at.exception]
    texts = _texts(at)
    assert "已保存" in texts, texts
    assert second.name in texts, "the member not met is named: their due date stays"
    assert {p.person_id: _visits(own_demo_db, p.person_id) for p in household.people} == {
        pid: n + 1 for pid, n in before.items()
    }
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        latest = {
            pid: session.execute(
                select(Visit.status, Visit.household_id, Visit.household_visit, Visit.notes)
                .where(Visit.person_id == pid)
                .order_by(Visit.id.desc())
                .limit(1)
            ).one()
            for pid in before
        }
        needs = session.scalars(select(Need.description).where(Need.person_id == first.person_id)).all()
    assert latest[first.person_id].status == "done" and latest[second.person_id].status == "not_met"
    assert {v.household_id for v in latest.values()} == {household.household_id}
    assert len({v.household_visit for v in latest.values()}) == 1, "the member visits are linked as one call"
    assert latest[first.person_id].notes.startswith("{{ 7*7 }}"), "stored as typed, never evaluated"
    assert "=1+1 <b>x</b> {{7*7}} 需要助医" in needs
    states = {p.person_id: p.state for p in _week(own_demo_db).persons}
    assert states[first.person_id] == "done"
    assert states[second.person_id] != "done"
