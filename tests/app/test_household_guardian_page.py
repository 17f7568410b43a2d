"""The person file's household home location, a child's guardian chosen from the household, and the
disability certificate number masked: driven through the page, in Chinese and English."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

import ui
from care import services
from care.auth import scope_of
from care.domain import ids
from care.services import households
from db.models import Area, ChildDetails, DisabledDetails, Enrollment, Household, Person, User
from db.session import get_engine, reading, transaction
from tests.app.conftest import person_ref
from tests.fixtures.scope import fixture_id_number

HOSTILE = "{{7*7}}<img src=x onerror=alert(1)>"


def _family(db: dict, serial: int) -> dict[str, int]:
    """A left-behind child with a 76-year-old grandparent (hostile name, a place of their own) at home."""
    engine = get_engine(str(db["path"]))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        village = session.scalar(
            select(Area.code).where(Area.level == "village", Area.code.startswith(scope.prefix)).order_by(Area.code)
        )
        start = dt.date.today() - dt.timedelta(days=30)
        child = services.create_person(
            session,
            scope,
            values={
                "id_number": fixture_id_number(dt.date(2016, 4, 1), serial, "F"),
                "name": "监护测儿童",
                "village_code": village,
            },
        ).id
        services.enroll(
            session,
            scope,
            person_id=child,
            group="child",
            subtype="left_behind",
            start_date=start,
            facts={"guardianship": "grandparent", "schooling": "primary"},
        )
        elder = services.create_person(
            session,
            scope,
            values={
                "id_number": fixture_id_number(dt.date(1950, 2, 3), serial + 1, "M"),
                "name": HOSTILE,
                "village_code": village,
                "lat": 26.5,
                "lon": 108.5,
            },
        ).id
        hid = households.household_of_person(session, child)
        households.add_member(
            session,
            scope,
            household_id=hid,
            seen_version=session.get(Household, hid).version,
            person_id=elder,
            relation="grandparent",
        )
    return {"child": child, "elder": elder, "household": hid}


def _open(at_factory, db, pid, lang="zh"):
    at = at_factory("township")
    if lang != "zh":
        at.session_state["lang"] = lang
    at.query_params["ref"] = person_ref(db["path"], pid)
    at.run()
    at.switch_page("pages/person.py").run()
    assert not at.exception
    return at


def _child_enrollment(db, pid) -> Enrollment:
    with reading(get_engine(str(db["path"]))) as session:
        enrollment = session.scalars(select(Enrollment).where(Enrollment.person_id == pid)).one()
        session.expunge(enrollment)
    return enrollment


def _page_text(at) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "text", "title") for e in getattr(at, kind))


def test_a_guardian_chosen_from_the_household_is_saved_and_shown_as_a_link_with_age_and_70_plus(
    own_app_as, own_demo_db
):
    family = _family(own_demo_db, 710)
    enrollment = _child_enrollment(own_demo_db, family["child"])
    at = _open(own_app_as, own_demo_db, family["child"])
    form = f"edit_enrollment_{enrollment.id}_{enrollment.version}"
    member = at.selectbox(key=f"{form}_gmember")
    assert member.label == "从家庭成员中选择"
    assert member.value is None
    assert member.options[1] == f"{HOSTILE}（祖父母，76 岁）"
    member.set_value(family["elder"])
    next(b for b in at.button if b.form_id == form).click().run()
    assert not at.exception
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        details = session.get(ChildDetails, enrollment.id)
        risk = session.get(Enrollment, enrollment.id).risk
    assert (details.guardian_person_id, details.guardian_name) == (family["elder"], HOSTILE)
    assert risk == "high"
    block = [m.value for m in at.markdown if "监护人（家庭成员）" in str(m.value)]
    assert len(block) == 1 and "76 岁" in block[0] and "70 岁以上" in block[0]
    # The name is data: escaped for markdown wherever it is drawn, never read as markup or a template.
    assert ui.md(HOSTILE) in block[0]
    assert not re.search(r"(?<!\\)<img", _page_text(at))
    at.button(key=f"pf_guardian_{enrollment.id}").click().run()
    assert not at.exception
    assert at.query_params["ref"] == person_ref(own_demo_db["path"], family["elder"])


def test_the_home_location_saved_on_the_card_moves_the_child_and_the_grandparent_keeps_their_own(
    own_app_as, own_demo_db
):
    family = _family(own_demo_db, 720)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        version = session.get(Household, family["household"]).version
    at = _open(own_app_as, own_demo_db, family["child"])
    table = next(d.value for d in at.dataframe if "与户主关系" in d.value.columns)
    assert dict(zip(table["与户主关系"], table["位置"], strict=True)) == {"户主": "无位置", "祖父母": "自有位置"}
    hid = family["household"]
    at.number_input(key=f"hh_lat_{hid}_{version}").set_value(26.431)
    at.number_input(key=f"hh_lon_{hid}_{version}").set_value(108.171)
    next(b for b in at.button if b.form_id == f"hh_edit_{hid}_{version}").click().run()
    assert not at.exception
    assert "家庭户已保存。" in [s.value for s in at.success] + [w.value.split(" ")[0] for w in at.warning]
    with reading(engine) as session:
        child, elder = session.get(Person, family["child"]), session.get(Person, family["elder"])
    assert (child.lat, child.lon) == (26.431, 108.171)
    assert (elder.lat, elder.lon) == (26.5, 108.5)
    table = next(d.value for d in at.dataframe if "与户主关系" in d.value.columns)
    assert dict(zip(table["与户主关系"], table["位置"], strict=True)) == {"户主": "同家庭位置", "祖父母": "自有位置"}


def test_a_home_location_outside_china_is_refused_in_chinese_and_nothing_moves(own_app_as, own_demo_db):
    family = _family(own_demo_db, 730)
    engine = get_engine(str(own_demo_db["path"]))
    with reading(engine) as session:
        version = session.get(Household, family["household"]).version
    at = _open(own_app_as, own_demo_db, family["child"])
    hid = family["household"]
    at.number_input(key=f"hh_lat_{hid}_{version}").set_value(10.0)
    at.number_input(key=f"hh_lon_{hid}_{version}").set_value(10.0)
    next(b for b in at.button if b.form_id == f"hh_edit_{hid}_{version}").click().run()
    assert any("中国境内" in e.value or "境" in e.value for e in at.error), [e.value for e in at.error]
    with reading(engine) as session:
        assert session.get(Household, hid).version == version
        assert session.get(Person, family["child"]).lat is None


def test_the_guardian_choice_and_the_location_column_speak_english(own_app_as, own_demo_db):
    family = _family(own_demo_db, 740)
    enrollment = _child_enrollment(own_demo_db, family["child"])
    at = _open(own_app_as, own_demo_db, family["child"], lang="en")
    member = at.selectbox(key=f"edit_enrollment_{enrollment.id}_{enrollment.version}_gmember")
    assert member.label == "Choose from the household"
    assert member.options[0] == "None (the name typed above)"
    table = next(d.value for d in at.dataframe if "Relation to the head" in d.value.columns)
    assert set(table["Location"]) == {"No location", "Own location"}


def _certified(db: dict, serial: int) -> tuple[int, str]:
    engine = get_engine(str(db["path"]))
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == db["accounts"]["township"]["username"]))
        scope = scope_of(user)
        village = session.scalar(
            select(Area.code).where(Area.level == "village", Area.code.startswith(scope.prefix)).order_by(Area.code)
        )
        number = fixture_id_number(dt.date(1981, 3, 3), serial, "M")
        pid = services.create_person(
            session, scope, values={"id_number": number, "name": "持证测试", "village_code": village}
        ).id
        services.enroll(
            session,
            scope,
            person_id=pid,
            group="disabled",
            subtype="certified",
            start_date=dt.date.today() - dt.timedelta(days=10),
            facts={"certificate_no": number + "42", "rehab_needs": ""},
        )
    return pid, number + "42"


def test_the_certificate_number_is_masked_unless_the_whole_id_is_shown_and_an_empty_box_keeps_it(
    own_app_as, own_demo_db
):
    pid, certificate = _certified(own_demo_db, 750)
    enrollment = _child_enrollment(own_demo_db, pid)
    at = _open(own_app_as, own_demo_db, pid)
    facts = next(d.value for d in at.dataframe if "项目" in d.value.columns or "事项" in d.value.columns)
    shown = "\n".join(str(v) for v in facts.to_numpy().ravel())
    assert ids.mask_certificate(certificate) in shown and certificate not in shown
    form = f"edit_enrollment_{enrollment.id}_{enrollment.version}"
    box = at.text_input(key=f"{form}_cert")
    assert box.value == "" and box.placeholder == ids.mask_certificate(certificate)
    assert not any(certificate in str(t.value) for t in at.text_input)
    # Saving with the box left empty keeps the number.
    at.text_input(key=f"{form}_rehab").input("需要轮椅")
    next(b for b in at.button if b.form_id == form).click().run()
    assert not at.exception
    with reading(get_engine(str(own_demo_db["path"]))) as session:
        details = session.get(DisabledDetails, enrollment.id)
    assert (details.certificate_no, details.rehab_needs) == (certificate, "需要轮椅")
    # The audited whole-ID toggle shows it in full, in the file and in the form.
    at.toggle(key=f"full_id_{pid}").set_value(True).run()
    facts = next(d.value for d in at.dataframe if "项目" in d.value.columns or "事项" in d.value.columns)
    assert certificate in "\n".join(str(v) for v in facts.to_numpy().ravel())
    assert any(t.value == certificate for t in at.text_input)


def test_the_reports_households_tab_shows_the_figures_by_township(own_app_as, own_demo_db):
    at = own_app_as("county")
    at.run()
    at.switch_page("pages/reports.py").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "两类及以上对象同户" in d.value.columns)
    assert list(table.columns) == [
        "区域",
        "有成员在册的家庭户",
        "两类及以上对象同户",
        "在册儿童",
        "同户成年人也在册的儿童",
        "同户成年人在册儿童占比",
    ]
    assert len(table) == own_demo_db["summary"]["townships"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["有成员在册的家庭户"] == f"{int(table['有成员在册的家庭户'].sum()):,}"
