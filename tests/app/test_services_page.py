"""服务清单 under AppTest: the list in force, a change previewed before it is saved, providers and pairings."""

from __future__ import annotations

from sqlalchemy import select

from care.auth import scope_of
from db.models import Enrollment, Pairing, Person, Provider, ServiceItem, User
from db.session import get_engine, reading

PAGE = "pages/services.py"
HOSTILE = "{{7*7}}<img src=x onerror=alert(1)>"


def _texts(at) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "info", "warning", "error", "success")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def _open(at):
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_everyone_who_opens_the_page_sees_the_demo_list_and_only_the_admin_can_change_it(app_as):
    county = _open(app_as("county"))
    table = county.dataframe[0].value
    assert {"助餐", "康复训练", "课业辅导"} <= set(table["服务名称"])
    assert not [s for s in county.selectbox if s.key == "svc_choice"]
    admin = _open(app_as("admin"))
    assert [s for s in admin.selectbox if s.key == "svc_choice"]
    assert "与当前版本相同" not in _texts(admin)  # a new service starts empty: nothing to compare


def test_the_admin_sees_who_gains_eligibility_before_the_change_is_saved(own_app_as, own_demo_db):
    at = _open(own_app_as("admin"))
    at.selectbox(key="svc_choice").set_value("meal").run()
    assert "与当前版本相同" in _texts(at)
    # Widen 助餐 from elderly living alone to any elderly: the preview counts who gains it.
    (living,) = [m for m in at.multiselect if m.key and m.key.startswith("svc_l_")]
    living.set_value([]).run()
    assert not at.exception
    text = _texts(at)
    assert "新增" in text and "调整前符合条件" in text
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        before = session.scalars(select(ServiceItem.eligibility).where(ServiceItem.code == "meal")).all()
    assert before == [{"living": ["alone"]}]
    (save,) = [b for b in at.button if b.key and b.key.startswith("svc_save_")]
    save.click().run()
    assert not at.exception
    assert "已保存" in _texts(at)
    with reading(engine) as session:
        rows = session.scalars(select(ServiceItem).where(ServiceItem.code == "meal").order_by(ServiceItem.id)).all()
    # Saved from today: the same day's row is the new version (the demo's row started a year ago and is closed).
    assert [r.eligibility for r in rows] == [{"living": ["alone"]}, {}]
    assert rows[0].valid_to is not None and rows[1].valid_to is None


def test_a_township_adds_a_provider_with_a_hostile_name_and_it_is_shown_as_text(own_app_as, own_demo_db):
    at = _open(own_app_as("township"))
    form_inputs = [t for t in at.text_input if t.label == "名称"]
    form_inputs[0].input(HOSTILE)
    (submit,) = [b for b in at.button if b.label == "保存服务提供方"]
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        saved = session.scalar(select(Provider).where(Provider.name == HOSTILE))
    assert saved is not None and saved.kind == "department"
    shown = [df for df in at.dataframe if "名称" in df.value.columns]
    assert any(HOSTILE in set(df.value["名称"]) for df in shown)
    assert "49" not in "".join(str(m.value) for m in at.markdown if "7*7" in str(m.value))


def test_a_township_pairs_a_volunteer_with_a_child_found_by_name(own_app_as, own_demo_db):
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        user = session.scalar(select(User).where(User.username == own_demo_db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        paired = set(session.scalars(select(Pairing.person_id)))
        person = session.scalar(
            select(Person)
            .where(Person.village_code.startswith(scope.prefix), Person.deleted.is_(False), Person.id.not_in(paired))
            .where(Person.id.in_(select(Enrollment.person_id).where(Enrollment.end_date.is_(None))))
            .order_by(Person.id)
        )
    at = _open(own_app_as("township"))
    at.text_input(key="svc_pair_find").input(person.name).run()
    box = at.selectbox(key="svc_pair_person")
    assert box.options and all(person.name in o for o in box.options)
    # AppTest formats an option twice when a format_func is set: choose through the widget's state.
    at.session_state["svc_pair_person"] = person.id
    at.run()
    at.button(key="svc_pair_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "已为" in _texts(at)
    with reading(engine) as session:
        made = session.scalars(select(Pairing.person_id).where(Pairing.person_id.not_in(paired))).all()
    assert len(made) == 1
    with reading(engine) as session:
        assert session.get(Person, made[0]).name == person.name
