"""Child age limits on a real database: enrolling, the age-out list, the report and the county setting."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from care import services
from care.domain.errors import PermissionDenied, StaleRecord, ValidationError
from care.queries.home import age_out_list
from care.queries.policy import SETTING_LIMITS, child_age_limits
from care.queries.reports import month_report
from care.queries.settings import setting_value
from care.services.age_limits import age_limit_settings, preview_age_limits, save_age_limits
from db.models import AuditEvent
from db.session import reading, transaction
from tests.fixtures.scope import fixture_id_number
from tests.integration.conftest import FIXTURE_TODAY

TODAY = FIXTURE_TODAY  # 2026-06-10
SIXTEEN_TODAY = dt.date(2010, 6, 10)
SEVENTEEN = dt.date(2009, 1, 5)
EIGHTEEN_TOMORROW = dt.date(2008, 6, 11)


def _person(engine, world, birth, seq):
    values = {
        "id_number": fixture_id_number(birth, seq, "F"),
        "name": f"儿童{seq}",
        "village_code": world.village_a2,
        "lat": 26.44,
        "lon": 108.09,
    }
    with transaction(engine) as session:
        return services.create_person(session, world.scopes["township_a"], values=values).id


def _enroll(engine, world, person_id, subtype):
    with transaction(engine) as session:
        return services.enroll(
            session,
            world.scopes["township_a"],
            person_id=person_id,
            group="child",
            subtype=subtype,
            start_date=TODAY,
            facts={"guardianship": "grandparent"},
        ).id


def _save(engine, world, limits, seen=None):
    with transaction(engine) as session:
        version = age_limit_settings(session, world.county).version if seen is None else seen
        return save_age_limits(session, world.scopes["admin"], limits=limits, seen_version=version, today=TODAY)


def test_a_child_in_difficulty_of_16_enrolls_and_a_left_behind_child_of_16_is_refused(engine, world):
    distressed = _person(engine, world, SIXTEEN_TODAY, 51)
    assert _enroll(engine, world, distressed, "distressed")
    left_behind = _person(engine, world, SIXTEEN_TODAY, 52)
    with pytest.raises(ValidationError) as error:
        _enroll(engine, world, left_behind, "left_behind")
    assert error.value.key == "enrollment.child_too_old.left_behind"
    assert "须未满 16 周岁" in error.value.message("zh")


@pytest.mark.parametrize(
    ("subtype", "birth", "ok"),
    [
        ("unsupported", EIGHTEEN_TOMORROW, True),
        ("unsupported", dt.date(2008, 6, 10), False),
        ("left_behind", dt.date(2010, 6, 11), True),
    ],
)
def test_enrolling_on_the_boundary_days(engine, world, subtype, birth, ok):
    pid = _person(engine, world, birth, 53)
    if ok:
        assert _enroll(engine, world, pid, subtype)
    else:
        with pytest.raises(ValidationError) as error:
            _enroll(engine, world, pid, subtype)
        assert error.value.key == f"enrollment.child_too_old.{subtype}"


def test_each_enrollment_ages_out_at_its_own_sub_types_limit_on_the_home_list(engine, world):
    soon_16 = _person(engine, world, dt.date(2010, 7, 23), 54)
    _enroll(engine, world, soon_16, "left_behind")
    seventeen = _person(engine, world, SEVENTEEN, 55)
    _enroll(engine, world, seventeen, "distressed")
    with reading(engine) as session:
        listed = age_out_list(session, world.scopes["township_a"], TODAY)
    rows = {int(r.person_id): r for r in listed.itertuples()}
    assert rows[soon_16].limit == 16 and rows[soon_16].ages_out_on == dt.date(2026, 7, 23)
    # 17 and a child in difficulty: not due until the 18th birthday, beyond 90 days.
    assert seventeen not in rows
    with reading(engine) as session:
        later = age_out_list(session, world.scopes["township_a"], TODAY, within_days=365)
    row = later.set_index("person_id").loc[seventeen]
    assert row["limit"] == 18 and row["ages_out_on"] == dt.date(2027, 1, 5)


def test_a_lower_county_limit_is_previewed_saved_audited_and_then_followed(engine, world):
    seventeen = _person(engine, world, SEVENTEEN, 56)
    _enroll(engine, world, seventeen, "distressed")
    limits = {"left_behind": 16, "distressed": 16, "unsupported": 18}
    with reading(engine) as session:
        before = age_limit_settings(session, world.county)
        preview = preview_age_limits(session, world.scopes["admin"], limits=limits, today=TODAY)
    by = preview.by_subtype.set_index("subtype")
    assert by.loc["distressed", "moved_out"] == preview.moved_out >= 1
    assert by.loc["distressed", "limit_now"] == 18 and by.loc["distressed", "limit_new"] == 16
    assert preview.back_in == 0
    with reading(engine) as session:
        assert child_age_limits(session, world.county)["distressed"] == 18  # a preview changes nothing

    version = _save(engine, world, limits)
    assert version == before.version + 1
    with reading(engine) as session:
        assert json.loads(setting_value(session, SETTING_LIMITS, world.county))["distressed"] == 16
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "child_age.change")).one()
        listed = age_out_list(session, world.scopes["township_a"], TODAY)
        report = month_report(session, world.scopes["admin"], month="2026-06", area_code=None, today=TODAY)
    assert event.outcome == "success" and event.detail["limits"] == {"distressed": [18, 16]}
    assert event.detail["moved_out"] == preview.moved_out
    assert seventeen in set(listed["person_id"])
    assert seventeen in set(report.lists["aged_out"]["person_id"])
    assert report.kpis["quality_aged_out"] >= 1

    # New enrollments follow the county's limit.
    other = _person(engine, world, SEVENTEEN, 57)
    with pytest.raises(ValidationError) as error:
        _enroll(engine, world, other, "distressed")
    assert "困境儿童须未满 16 周岁" in error.value.message("zh")


def test_the_reports_count_a_child_in_difficulty_of_17_as_on_the_register_not_aged_out(engine, world):
    seventeen = _person(engine, world, SEVENTEEN, 58)
    _enroll(engine, world, seventeen, "distressed")
    with reading(engine) as session:
        report = month_report(session, world.scopes["admin"], month="2026-06", area_code=None, today=TODAY)
    assert seventeen not in set(report.lists["aged_out"]["person_id"])


@pytest.mark.parametrize("bad", [13, 19, 16.5, "16", None])
def test_nonsense_limits_are_refused_and_nothing_is_stored(engine, world, bad):
    with pytest.raises(ValidationError) as error:
        _save(engine, world, {"left_behind": bad, "distressed": 18, "unsupported": 18})
    assert error.value.key == "age_limit.bad.left_behind"
    with reading(engine) as session:
        assert setting_value(session, SETTING_LIMITS, world.county) is None
        assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "child_age.change")) is None


def test_a_save_over_someone_elses_change_is_refused(engine, world):
    _save(engine, world, {"left_behind": 15, "distressed": 18, "unsupported": 18})
    with pytest.raises(StaleRecord):
        _save(engine, world, {"left_behind": 14, "distressed": 18, "unsupported": 18}, seen=1)
    with reading(engine) as session:
        assert child_age_limits(session, world.county)["left_behind"] == 15


def test_only_the_administrator_changes_the_limits(engine, world):
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        save_age_limits(
            session,
            world.scopes["township_a"],
            limits={"left_behind": 14, "distressed": 18, "unsupported": 18},
            seen_version=1,
            today=TODAY,
        )
