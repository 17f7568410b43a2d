"""The county's service list: versions by effective date, the eligibility preview, providers, pairings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from care.domain.errors import NotFound, PermissionDenied, StaleRecord, ValidationError
from care.domain.service_rules import Eligibility
from care.queries import service_list as q
from care.services import service_list as svc
from db.models import AuditEvent, Pairing, ServiceItem
from db.session import reading, transaction
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY
HOSTILE = "{{7*7}}<img src=x onerror=alert(1)>"


def _values(**changes) -> svc.ServiceInput:
    base = {
        "code": "tutoring",
        "name": "课业辅导",
        "group": "child",
        "provider_kinds": ("volunteer",),
        "times": 4,
        "period": "month",
        "eligibility": Eligibility(),
        "note": "",
    }
    return svc.ServiceInput(**{**base, **changes})


def _save(engine, scope, values, effective=TODAY, seen=None):
    with transaction(engine) as session:
        return svc.save_service(session, scope, values=values, effective=effective, seen_version=seen, today=TODAY)


def test_a_change_from_a_later_day_keeps_the_old_version_for_the_days_before(engine, world):
    admin = world.scopes["admin"]
    first = _save(engine, admin, _values())
    later = TODAY + dt.timedelta(days=30)
    _save(engine, admin, _values(times=8, name=HOSTILE), effective=later, seen=first.version)
    with reading(engine) as session:
        today_list = q.service_list(session, TODAY, world.county)
        next_month = q.service_list(session, later, world.county)
        history = q.service_history(session, "tutoring", world.county)
    assert [(r.times, r.name) for r in today_list] == [(4, "课业辅导")]
    assert [(r.times, r.name) for r in next_month] == [(8, HOSTILE)]
    assert [(r.valid_from, r.valid_to) for r in history] == [(TODAY, later - dt.timedelta(days=1)), (later, None)]
    with reading(engine) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "service.save")).all()
    assert len(events) == 2 and events[1].detail["old"]["times"] == 4 and events[1].detail["new"]["times"] == 8


def test_a_stale_edit_a_past_day_and_a_taken_code_are_refused_with_nothing_written(engine, world):
    admin = world.scopes["admin"]
    first = _save(engine, admin, _values())
    _save(engine, admin, _values(times=6), effective=TODAY + dt.timedelta(days=5), seen=first.version)
    with pytest.raises(StaleRecord):
        _save(engine, admin, _values(times=7), effective=TODAY + dt.timedelta(days=9), seen=first.version)
    with pytest.raises(ValidationError) as past:
        _save(engine, admin, _values(code="bath", group="elderly"), effective=TODAY - dt.timedelta(days=1))
    assert past.value.key == "service.error.past"
    with pytest.raises(ValidationError) as taken:
        _save(engine, admin, _values())
    assert taken.value.key == "service.error.code_taken"
    with reading(engine) as session:
        assert session.scalars(select(ServiceItem.times).order_by(ServiceItem.id)).all() == [4, 6]


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"code": "Meal!"}, "service.error.code"),
        ({"name": "  "}, "error.required"),
        ({"provider_kinds": ()}, "service.error.no_provider_kind"),
        ({"times": 0}, "service.error.times"),
        ({"eligibility": Eligibility(self_care=("none",))}, "service.error.other_group"),
        ({"eligibility": Eligibility(min_age=12, max_age=6)}, "service.error.age_range"),
        ({"eligibility": Eligibility(subtypes=("alone",))}, "service.error.bad_condition"),
    ],
)
def test_bad_services_are_refused_with_their_reason(engine, world, changes, key):
    with pytest.raises(ValidationError) as refused:
        _save(engine, world.scopes["admin"], _values(**changes))
    assert refused.value.key == key
    with reading(engine) as session:
        assert session.scalar(select(ServiceItem.id)) is None


def test_only_the_admin_keeps_the_list(engine, world):
    with pytest.raises(PermissionDenied):
        _save(engine, world.scopes["township_a"], _values())


def test_the_preview_counts_who_gains_and_loses_eligibility_before_anything_is_saved(engine, world):
    admin = world.scopes["admin"]
    # Of the fixture's children only the distressed one has no guardian; two live with grandparents.
    first = _save(engine, admin, _values(eligibility=Eligibility(guardianship=("none",))))
    with reading(engine) as session:
        everyone = {f.enrollment_id for f, _ in q.enrollment_facts(session, admin, "child", TODAY)}
        wider = svc.preview_service(
            session,
            admin,
            code="tutoring",
            values=_values(eligibility=Eligibility(guardianship=("none", "grandparent"))),
            today=TODAY,
        )
        ending = svc.preview_service(session, admin, code="tutoring", values=None, today=TODAY)
    assert wider.before == 1 and wider.lost == 0
    grandparents = [pid for key, pid in world.persons.items() if key in ("a1_child_w1", "b1_child_w4")]
    assert wider.gained == len(grandparents) and wider.after == 1 + len(grandparents)
    assert sorted(wider.gained_names) == sorted(f"测试{k}" for k in ("a1_child_w1", "b1_child_w4"))
    assert sum(g for _, g, _ in wider.by_township) == wider.gained
    assert ending.before == 1 and ending.after == 0 and ending.lost == 1
    assert len(everyone) >= 4
    # A township supervisor's preview would count only their area: the list is the admin's to preview.
    with reading(engine) as session, pytest.raises(PermissionDenied):
        svc.preview_service(session, world.scopes["township_a"], code="tutoring", values=None, today=TODAY)
    with reading(engine) as session:
        assert session.get(ServiceItem, first.id).valid_to is None


def test_a_service_taken_off_the_list_is_gone_from_that_day_and_cannot_be_ended_twice(engine, world):
    admin = world.scopes["admin"]
    first = _save(engine, admin, _values())
    off = TODAY + dt.timedelta(days=10)
    with transaction(engine) as session:
        ended = svc.end_service(session, admin, code="tutoring", effective=off, seen_version=first.version, today=TODAY)
    with reading(engine) as session:
        assert [r.code for r in q.service_list(session, off - dt.timedelta(days=1), world.county)] == ["tutoring"]
        assert q.service_list(session, off, world.county) == []
    with transaction(engine) as session, pytest.raises(ValidationError):
        svc.end_service(session, admin, code="tutoring", effective=off, seen_version=ended.version, today=TODAY)


def test_the_default_list_is_put_in_place_once(engine, world):
    with transaction(engine) as session:
        assert svc.seed_default_services(session, valid_from=TODAY, county_code=world.county) == len(
            svc.DEFAULT_SERVICES
        )
        assert svc.seed_default_services(session, valid_from=TODAY, county_code=world.county) == 0
    with reading(engine) as session:
        names = [r.name for r in q.service_list(session, TODAY, world.county)]
    assert "助餐" in names and "康复训练" in names and "监护指导" in names


def _provider(engine, scope, **changes):
    values = svc.ProviderInput(
        **{"kind": "volunteer", "name": "青年志愿者队", "area_code": changes.pop("area_code"), **changes}
    )
    with transaction(engine) as session:
        return svc.save_provider(session, scope, values=values)


def test_providers_stay_in_their_area_and_a_township_sees_the_countys_own(engine, world):
    with transaction(engine) as session:
        svc.seed_default_services(session, valid_from=TODAY, county_code=world.county)
    county_dept = _provider(engine, world.scopes["admin"], area_code=world.county, kind="department", name="民政局")
    mine = _provider(
        engine, world.scopes["township_a"], area_code=world.township_a, name=HOSTILE, services=("tutoring",)
    )
    with pytest.raises(ValidationError) as outside:
        _provider(engine, world.scopes["township_a"], area_code=world.township_b)
    assert outside.value.key == "service.error.area"
    with pytest.raises(ValidationError) as unknown:
        _provider(engine, world.scopes["township_a"], area_code=world.township_a, services=("nothing",))
    assert unknown.value.key == "service.error.unknown_service"
    with reading(engine) as session:
        seen_a = q.providers(session, world.scopes["township_a"])
        seen_b = q.providers(session, world.scopes["township_b"])
    assert set(seen_a["id"]) == {county_dept.id, mine.id}
    assert set(seen_b["id"]) == {county_dept.id}
    assert HOSTILE in set(seen_a["name"])
    # Township A cannot change the county's department.
    values = svc.ProviderInput("department", "改名", world.county)
    with transaction(engine) as session, pytest.raises((NotFound, ValidationError)):
        svc.save_provider(
            session, world.scopes["township_a"], values=values, provider_id=county_dept.id, seen_version=1
        )


def test_a_pairing_links_a_volunteer_to_a_person_once_and_ends_on_a_day(engine, world):
    township = world.scopes["township_a"]
    partner = _provider(engine, township, area_code=world.township_a)
    team = _provider(engine, township, area_code=world.township_a, kind="mutual_aid", name="互助队")
    child = world.persons["a1_child_w1"]
    with transaction(engine) as session:
        made = svc.pair(session, township, person_id=child, provider_id=partner.id, start_date=TODAY, today=TODAY)
    with transaction(engine) as session, pytest.raises(ValidationError) as twice:
        svc.pair(session, township, person_id=child, provider_id=partner.id, start_date=TODAY, today=TODAY)
    assert twice.value.key == "service.error.already_paired"
    with transaction(engine) as session, pytest.raises(ValidationError) as kind:
        svc.pair(session, township, person_id=child, provider_id=team.id, start_date=TODAY, today=TODAY)
    assert kind.value.key == "service.error.pairing_kind"
    # Someone outside the township is not found at all.
    with transaction(engine) as session, pytest.raises(NotFound):
        svc.pair(
            session,
            township,
            person_id=world.persons["b1_child_w4"],
            provider_id=partner.id,
            start_date=TODAY,
            today=TODAY,
        )
    with reading(engine) as session:
        assert list(q.pairings(session, township, TODAY)["person_id"]) == [child]
        assert q.pairings(session, world.scopes["township_b"], TODAY).empty
    end = TODAY + dt.timedelta(days=3)
    with transaction(engine) as session:
        svc.end_pairing(session, township, pairing_id=made.id, end_date=end, seen_version=1)
    with transaction(engine) as session, pytest.raises(StaleRecord):
        svc.end_pairing(session, township, pairing_id=made.id, end_date=end, seen_version=1)
    with reading(engine) as session:
        assert session.get(Pairing, made.id).end_date == end
        assert q.pairings(session, township, end + dt.timedelta(days=1)).empty
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity == "pairing")).all()
    assert actions == ["pairing.create", "pairing.end"]
