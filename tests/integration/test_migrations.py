"""`alembic upgrade head` from the repository root builds the schema, and `alembic check` is clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from db.models import Base

ROOT = Path(__file__).resolve().parents[2]


def _alembic(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"CARE_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )


def test_alembic_upgrade_head_and_check_are_clean_on_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgraded = _alembic(url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    checked = _alembic(url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr


def test_the_migrated_schema_matches_the_models_on_every_database(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    assert diff == []
    assert set(Base.metadata.tables) <= tables


def test_each_existing_person_becomes_the_head_of_a_one_person_household(tmp_path):
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'before.db'}"
    assert _alembic(url, "upgrade", "0007").returncode == 0
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO areas (code, name, level) VALUES ('522699101201', '羊排村', 'village')"))
        for pid, address, lat in ((1, "一组 3 号", 26.4), (2, "", None), (7, "二组", 26.5)):
            conn.execute(
                text(
                    "INSERT INTO persons (id, ref, id_number, name, sex, birth_date, village_code, address, phone,"
                    " lat, lon, datum, status, notes, deleted, version, created_at, updated_at)"
                    " VALUES (:id, :ref, :idn, '甲', 'F', '2015-01-01', '522699101201', :address, '', :lat, :lon,"
                    " 'WGS84', 'active', '', :deleted, 1, '2025-03-04 10:00:00', '2025-03-04 10:00:00')"
                ),
                {
                    "id": pid,
                    "ref": f"ref{pid}",
                    "idn": f"52269920150101{pid:04d}",
                    "address": address,
                    "lat": lat,
                    "lon": None if lat is None else 108.1,
                    "deleted": pid == 7,
                },
            )
    upgraded = _alembic(url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    with engine.connect() as conn:
        households = conn.execute(text("SELECT id, village_code, address, lat FROM households ORDER BY id")).all()
        members = conn.execute(
            text("SELECT household_id, person_id, relation, start_date, end_date FROM household_members ORDER BY 1")
        ).all()
        persons = conn.execute(text("SELECT id, address, lat FROM persons ORDER BY id")).all()
    engine.dispose()
    assert [tuple(h) for h in households] == [
        (1, "522699101201", "一组 3 号", 26.4),
        (2, "522699101201", "", None),
        (7, "522699101201", "二组", 26.5),
    ]
    assert [tuple(m) for m in members] == [
        (1, 1, "head", "2025-03-04", None),
        (2, 2, "head", "2025-03-04", None),
        (7, 7, "head", "2025-03-04", None),
    ]
    assert [tuple(p) for p in persons] == [(1, "一组 3 号", 26.4), (2, "", None), (7, "二组", 26.5)]


def test_visits_with_their_links_and_needs_survive_the_upgrade_to_household_visits_and_back(tmp_path):
    """0010 rebuilds the visits table on SQLite: the rows pointing at visits must neither block it
    (foreign keys are on) nor be lost."""
    from sqlalchemy import create_engine, text

    url = f"sqlite:///{tmp_path / 'visits.db'}"
    assert _alembic(url, "upgrade", "0009").returncode == 0
    engine = create_engine(url)
    stamp = "'2025-03-04 10:00:00'"
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO areas (code, name, level) VALUES ('522699101201', '羊排村', 'village')"))
        conn.execute(
            text(
                "INSERT INTO persons (id, ref, id_number, name, sex, birth_date, village_code, address, phone,"
                " lat, lon, datum, status, notes, deleted, version, created_at, updated_at) VALUES (1, 'r1',"
                f" '522699201501010011', '甲', 'F', '2015-01-01', '522699101201', '', '', NULL, NULL, 'WGS84',"
                f" 'active', '', 0, 1, {stamp}, {stamp})"
            )
        )
        conn.execute(
            text(
                'INSERT INTO enrollments (id, person_id, "group", subtype, start_date, exit_note, risk_auto,'
                " risk_override_reason, risk, version, created_at, updated_at) VALUES (1, 1, 'child',"
                f" 'left_behind', '2025-03-04', '', 'low', '', 'low', 1, {stamp}, {stamp})"
            )
        )
        for vid in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO visits (id, person_id, status, visited_at, mode, findings, notes, follow_up,"
                    f" cancel_reason, version, created_at) VALUES ({vid}, 1, 'done', {stamp}, 'home', '{{}}',"
                    f" '入户', '', '', 1, {stamp})"
                )
            )
            conn.execute(text(f"INSERT INTO visit_enrollments (visit_id, enrollment_id) VALUES ({vid}, 1)"))
        conn.execute(
            text(
                "INSERT INTO needs (person_id, enrollment_id, visit_id, kind, department, description, status,"
                " opened_on, version) VALUES (1, 1, 2, 'medical', '', '看病', 'open', '2025-03-04', 1)"
            )
        )
    engine.dispose()
    upgraded = _alembic(url, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, notes, household_id FROM visits ORDER BY id")).all() == [
            (1, "入户", None),
            (2, "入户", None),
        ]
        assert conn.execute(text("SELECT visit_id FROM visit_enrollments ORDER BY 1")).scalars().all() == [1, 2]
        assert conn.execute(text("SELECT visit_id FROM needs")).scalars().all() == [2]
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
    engine.dispose()
    down = _alembic(url, "downgrade", "0009")
    assert down.returncode == 0, down.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM visits")).scalar() == 2
        assert conn.execute(text("SELECT count(*) FROM visit_enrollments")).scalar() == 2
    engine.dispose()


def test_after_the_migrations_the_apps_connections_enforce_foreign_keys_again(tmp_path):
    from sqlalchemy import text

    from db.migrate import upgrade
    from db.session import get_engine

    engine = get_engine(str(tmp_path / "fk.db"))
    upgrade(engine)
    upgrade(engine)  # nothing to do the second time: the connection is still handed back as it came
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_counties_migration_moves_the_settings_and_keys_every_row_by_county_and_back(engine):
    """0017 on a filled database, down and up again: the county settings go back to the installation's
    and return; every person's, enrollment's and visit's county is found again from its village."""
    from sqlalchemy import func, select, text

    from care.demo.build import build_demo
    from care.services.settings import put_setting
    from db.models import Area, Enrollment, Person, Visit, VisitEnrollment
    from db.session import reading, transaction

    build_demo(engine, residents=60, seed=3)
    with transaction(engine) as session:
        put_setting(session, "policy.phone_counts", "1", "522699000000")
        session.add(Area(code="522600000000", name="青山州", level="city"))
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    down = _alembic(url, "downgrade", "0016")
    assert down.returncode == 0, down.stderr
    with engine.connect() as conn:
        assert "county_code" not in {c["name"] for c in inspect(conn).get_columns("persons")}
        assert "county_settings" not in inspect(conn).get_table_names()
        phone = conn.execute(text("SELECT value FROM settings WHERE key = 'policy.phone_counts'")).scalar()
        levels = set(conn.execute(text("SELECT DISTINCT level FROM areas")).scalars())
    engine.dispose()
    assert phone == "1" and levels == {"county", "township", "village"}
    up = _alembic(url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    with reading(engine) as session:
        persons = session.execute(select(Person.village_code, Person.county_code)).all()
        assert persons and all(county == village[:6] + "000000" for village, county in persons)
        for model in (Enrollment, Visit):
            wrong = session.scalar(
                select(func.count())
                .select_from(model)
                .join(Person, Person.id == model.person_id)
                .where(model.county_code != Person.county_code)
            )
            assert wrong == 0
        # 0019 on the way up: each visit link takes its visit's county.
        links = session.execute(
            select(VisitEnrollment.county_code, Visit.county_code).join(Visit, Visit.id == VisitEnrollment.visit_id)
        ).all()
        assert links and all(link == visit != "" for link, visit in links)
        assert session.scalar(select(func.count()).select_from(Visit)) > 0
        moved = session.execute(
            text("SELECT county_code, value FROM county_settings WHERE key = 'policy.phone_counts'")
        )
        assert moved.all() == [("522699000000", "1")]
        assert session.execute(text("SELECT count(*) FROM settings WHERE key = 'policy.phone_counts'")).scalar() == 0
    engine.dispose()


def _visit_indexes(engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("visits")}


def test_the_counted_visits_index_and_the_links_county_go_down_and_up_again(engine):
    """0018 and 0019 down and up again: the county's visits index covers status, mode and
    (PostgreSQL) the id; visit links carry a county, with an index that leads with it."""
    from sqlalchemy import text

    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    assert _alembic(url, "downgrade", "0017").returncode == 0
    before = _visit_indexes(engine)
    assert before["ix_visits_county_visited_at"] == ["county_code", "visited_at"]
    assert "ix_visits_county_counted" not in before
    with engine.connect() as conn:
        assert "county_code" not in {c["name"] for c in inspect(conn).get_columns("visit_enrollments")}
    engine.dispose()
    up = _alembic(url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    after = _visit_indexes(engine)
    assert "ix_visits_county_visited_at" not in after
    assert after["ix_visits_county_counted"][:4] == ["county_code", "visited_at", "status", "mode"]
    with engine.connect() as conn:
        links = {ix["name"]: ix["column_names"] for ix in inspect(conn).get_indexes("visit_enrollments")}
    assert links["ix_visit_enrollments_county_visit"] == ["county_code", "visit_id", "enrollment_id"]
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            definition = conn.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_visits_county_counted'")
            ).scalar()
        assert "INCLUDE (id)" in str(definition)
    engine.dispose()


# --- every migration down and up again, one revision at a time --------------------------------


def _revisions() -> list[str]:
    """Every revision, newest first (the chain has no branches)."""
    from alembic.script import ScriptDirectory

    from db.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, script.get_heads()
    return [rev.revision for rev in script.walk_revisions()]


def _step(engine, direction: str) -> None:
    """One revision down (``-1``) or up (``+1``) on one connection of ``engine``, as db.migrate upgrades."""
    from alembic import command

    from db.migrate import alembic_config

    cfg = alembic_config()
    with engine.execution_options(care_write=True).connect() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if direction == "-1" else command.upgrade)(cfg, direction)
        conn.commit()


def _current(engine) -> str | None:
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _schema(engine) -> dict[str, tuple]:
    """Each table's columns, primary key, indexes, foreign keys, unique and check constraints, as reflected."""
    with engine.connect() as conn:
        found = inspect(conn)
        return {
            table: (
                sorted(
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in found.get_columns(table)
                ),
                tuple(found.get_pk_constraint(table)["constrained_columns"]),
                sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in found.get_indexes(table)),
                sorted(
                    (f["name"], tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                    for f in found.get_foreign_keys(table)
                ),
                sorted((u["name"], tuple(u["column_names"])) for u in found.get_unique_constraints(table)),
                sorted((c["name"], str(c["sqltext"])) for c in found.get_check_constraints(table)),
            )
            for table in found.get_table_names()
            if table != "alembic_version"
        }


def _rows(engine) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        tables = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()) for t in tables}


@pytest.mark.slow
def test_every_migration_goes_down_and_up_again_one_at_a_time_on_a_filled_database(engine):
    """From head down to the first revision one step at a time over the rows of a small demo, then
    back up one step at a time: no downgrade loses a row of a table it keeps, no upgrade loses one,
    and each revision comes back with the schema it had on the way down. Then the first revision's
    own downgrade to an empty database, `alembic upgrade head` from nothing, and `alembic check`."""
    from sqlalchemy import func, select

    from care.demo.build import build_demo
    from db.models import Person

    build_demo(engine, residents=60, seed=3)
    revisions = _revisions()  # newest first
    assert _current(engine) == revisions[0]
    rows = _rows(engine)
    assert rows["persons"] == 60 and rows["visits"] > 0 and rows["households"] > 0, rows
    schemas = {revisions[0]: _schema(engine)}
    for revision in revisions[1:]:
        _step(engine, "-1")
        assert _current(engine) == revision
        schemas[revision] = _schema(engine)
        kept = _rows(engine)
        assert kept == {t: rows[t] for t in kept}, f"the downgrade to {revision} lost rows"
    first = set(schemas[revisions[-1]])  # the tables of the first revision, there all the way up
    for revision in reversed(revisions[:-1]):
        _step(engine, "+1")
        assert _current(engine) == revision
        assert _schema(engine) == schemas[revision], f"the upgrade to {revision} builds another schema"
        kept = _rows(engine)
        assert {t: kept[t] for t in first} == {t: rows[t] for t in first}, f"the upgrade to {revision} lost rows"
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Person)) == 60

    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    down = _alembic(url, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert _current(engine) is None
    assert _schema(engine) == {}
    engine.dispose()
    up = _alembic(url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert _schema(engine) == schemas[revisions[0]]
    engine.dispose()
    checked = _alembic(url, "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No new upgrade operations detected" in checked.stdout + checked.stderr
