"""The command-line tools: create-user reads the password from stdin; the bench prints JSON lines."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from care import auth
from care.demo.build import build_demo
from db.models import AuditEvent, User
from db.session import get_engine, reading

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | (env or {}),
        check=False,
    )


def test_create_user_takes_the_password_from_stdin_and_never_from_the_arguments(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=50, seed=2)
    done = _run(
        "care.admin",
        "create-user",
        "--db",
        str(db),
        "--username",
        "xiang.li",
        "--role",
        "township",
        "--area",
        "522699101000",
        stdin="Long-Secret-42\n",
    )
    assert done.returncode == 0, done.stderr
    with reading(get_engine(str(db))) as session:
        user = session.scalar(select(User).where(User.username == "xiang.li"))
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "user.create")))
    assert user.role == "township" and user.area_code == "522699101000"
    assert auth.verify_password(user.password_hash, "Long-Secret-42")
    assert "Long-Secret-42" not in user.password_hash and len(events) == 1
    assert "Long-Secret-42" not in json.dumps(events[0].detail, ensure_ascii=False)


def test_create_user_refuses_a_taken_username_with_a_message(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=50, seed=2)
    done = _run(
        "care.admin",
        "create-user",
        "--db",
        str(db),
        "--username",
        "admin",
        "--role",
        "admin",
        "--area",
        "522699000000",
        stdin="Long-Secret-42\n",
    )
    assert done.returncode == 2 and "已存在" in done.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--role", "coordinator"], "须关联"),
        (["--role", "coordinator", "--area", "522699101000"], "须关联"),
        (["--role", "township", "--area", "522699999000"], "有效行政区划"),
        (["--role", "township", "--area", "522699101000"], ""),
    ],
)
def test_create_user_follows_the_users_page_rules(tmp_path, extra, message):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=50, seed=2)
    done = _run("care.admin", "create-user", "--db", str(db), "--username", "new_one", *extra, stdin="Long-Secret-42\n")
    with reading(get_engine(str(db))) as session:
        created = session.scalar(select(User).where(User.username == "new_one"))
    if extra[-1] == "522699101000" and extra[1] == "township":
        assert done.returncode == 0 and created is not None
        return
    assert done.returncode == 2 and created is None, done.stderr
    assert message in done.stderr


def test_the_registers_bench_prints_one_json_line_per_case(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=300, seed=4)
    done = _run("care.bench", "--db", str(db), "--only", "registers")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["case"] for line in lines} >= {"register_query", "person_file"}
    for line in lines:
        assert line["bench"] == "registers" and line["n"] == 300 and line["seconds"] > 0


def test_a_map_export_is_a_standalone_offline_file_and_is_audited(tmp_path):
    db = tmp_path / "care.db"
    summary = build_demo(get_engine(str(db)), residents=300, seed=4)
    township_out, county_out = tmp_path / "township.html", tmp_path / "county.html"
    township = _run(
        "care.maps",
        "export",
        "--db",
        str(db),
        "--area",
        "522699101000",
        "--out",
        str(township_out),
        "--as",
        "township",
        env={"CARE_MAP_TILES": "none"},
    )
    county = _run(
        "care.maps",
        "export",
        "--db",
        str(db),
        "--area",
        summary["county_code"],
        "--out",
        str(county_out),
        env={"CARE_MAP_TILES": "none"},
    )
    assert township.returncode == 0 and county.returncode == 0, township.stderr + county.stderr
    assert json.loads(township.stdout)["persons"] > 0 and json.loads(county.stdout)["villages"] > 0
    for out in (township_out, county_out):
        page = out.read_text(encoding="utf-8")
        assert "L.map" in page and "leaflet" in page.lower()
        # Nothing is loaded from elsewhere: no remote script, stylesheet or image (links may stay).
        assert not re.search(r"<(script|img|iframe)[^>]+src=[\"']https?:", page)
        assert not re.search(r"<link[^>]+href=[\"']https?:", page)
        assert "/app/static/" not in page
    with reading(get_engine(str(db))) as session:
        audited = list(session.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "map.export")))
    assert sorted(audited) == sorted(["522699101000", summary["county_code"]])


def test_a_map_export_outside_the_users_area_is_refused(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=100, seed=4)
    done = _run(
        "care.maps",
        "export",
        "--db",
        str(db),
        "--area",
        "522699102000",
        "--out",
        str(tmp_path / "x.html"),
        "--as",
        "township",
    )
    assert done.returncode == 2 and not (tmp_path / "x.html").exists()
    with reading(get_engine(str(db))) as session:
        denied = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [(e.username, e.action, e.entity_id) for e in denied] == [("township", "map.export", "522699102000")]


def _basemap_meta(page: str) -> str:
    found = re.search(r'<meta name="caremap-basemap" content="([^"]*)">', page)
    assert found, "the file does not say which basemap it needs"
    return found.group(1)


def test_a_map_export_uses_the_servers_stored_basemap_and_says_which_servers_it_needs(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=60, seed=6)
    no_env = {"CARE_MAP_TILES": ""}
    bad = _run("care.admin", "set-tiles", "--db", str(db), "javascript:alert(1)", env=no_env)
    assert bad.returncode == 2 and "底图设置无法识别" in bad.stderr
    stored = _run("care.admin", "set-tiles", "--db", str(db), "http://tiles.intranet/{z}/{x}/{y}.png", env=no_env)
    assert stored.returncode == 0, stored.stderr
    out = tmp_path / "map.html"
    done = _run("care.maps", "export", "--db", str(db), "--area", "522699101000", "--out", str(out), env=no_env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert (summary["tiles"], summary["tiles_from"], summary["tiles_hosts"]) == (
        "custom",
        "setting",
        ["tiles.intranet"],
    )
    page = out.read_text(encoding="utf-8")
    assert _basemap_meta(page) == "custom tiles.intranet"
    assert "tile.openstreetmap.org" not in page
    assert "需要能访问 tiles.intranet" in page and 'id="care-basemap-note"' in page
    with reading(get_engine(str(db))) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "settings.tiles")).all()
    assert [(e.detail["before"], e.detail["after"]) for e in events] == [
        (None, "http://tiles.intranet/{z}/{x}/{y}.png")
    ]


def test_a_map_export_with_nothing_configured_warns_and_tiles_none_fetches_nothing(tmp_path):
    db = tmp_path / "care.db"
    build_demo(get_engine(str(db)), residents=60, seed=6)
    default_out, none_out = tmp_path / "osm.html", tmp_path / "none.html"
    args = ("care.maps", "export", "--db", str(db), "--area", "522699101000", "--lang", "en")
    default = _run(*args, "--out", str(default_out), env={"CARE_MAP_TILES": ""})
    assert default.returncode == 0 and "No basemap is configured" in default.stderr
    assert _basemap_meta(default_out.read_text(encoding="utf-8")) == "osm tile.openstreetmap.org"
    bare = _run(*args, "--out", str(none_out), "--tiles", "none", env={"CARE_MAP_TILES": "osm"})
    assert bare.returncode == 0 and not bare.stderr, bare.stderr
    page = none_out.read_text(encoding="utf-8")
    assert _basemap_meta(page) == "none" and "tile.openstreetmap.org" not in page
    assert "No basemap (the tile setting is none)" in page
    refused = _run(*args, "--out", str(tmp_path / "x.html"), "--tiles", "tianditu", env={"CARE_TIANDITU_KEY": ""})
    assert refused.returncode == 2 and not (tmp_path / "x.html").exists()
