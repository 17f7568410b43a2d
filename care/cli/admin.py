"""Administration from the command line: ``python -m care.admin create-user ...``.

The password is read from standard input (never an argument, so it stays out of shell history
and the process list): ``printf '%s\\n' "$PW" | python -m care.admin create-user ...``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from care import i18n
from care.cli import audit_check, backup
from care.cli import pack as pack_cli
from care.domain import enums
from care.domain.errors import CareError
from care.domain.tiles import TIANDITU_KEY_ENV
from care.services.maps import set_tiles_as_operator
from care.services.setup import add_county as add
from care.services.users import create_user_as_operator
from db.migrate import upgrade
from db.session import get_engine, transaction


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat: "):
            raise SystemExit("The two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def create_user(args: argparse.Namespace) -> int:
    """Create a login with a role and area; prints the new user's id."""
    engine = get_engine(args.db)
    upgrade(engine)
    password = _read_password()
    try:
        with transaction(engine) as session:
            saved = create_user_as_operator(
                session,
                username=args.username,
                password=password,
                role=args.role,
                area_code=args.area,
                worker_id=args.worker_id,
                must_change_password=args.must_change,
            )
            print(saved.id)
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    return 0


def set_tiles(args: argparse.Namespace) -> int:
    """Store the basemap the app and every map export use; refused values store nothing."""
    engine = get_engine(args.db)
    upgrade(engine)
    try:
        with transaction(engine) as session:
            tiles = set_tiles_as_operator(
                session, value=args.value, tianditu_key=os.environ.get(TIANDITU_KEY_ENV), county_code=args.county
            )
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    print(i18n.t("map.basemap.set", args.lang, value=args.value.strip(), kind=tiles.kind))
    return 0


def add_county(args: argparse.Namespace) -> int:
    """Another county in this database, under its city and province, with its first administrator."""
    engine = get_engine(args.db)
    upgrade(engine)
    password = _read_password()
    try:
        with transaction(engine) as session:
            add(
                session,
                county_code=args.code,
                county_name=args.name,
                username=args.admin,
                password=password,
                city_name=args.city_name or "",
                province_name=args.province_name or "",
            )
    except CareError as error:
        print(error.message(args.lang), file=sys.stderr)
        return 2
    print(i18n.t("setup.county_added", args.lang, code=args.code, username=args.admin))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the sub-command."""
    parser = argparse.ArgumentParser(prog="python -m care.admin")
    parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of messages")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create a login (password read from stdin)")
    create.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=enums.ROLES)
    create.add_argument("--area", help="12-digit area code of the user's scope")
    create.add_argument("--worker-id", type=int, help="the worker a coordinator acts as")
    create.add_argument("--must-change", action="store_true", help="force a password change at first login")
    tiles = sub.add_parser("set-tiles", help="set the basemap: none, osm, tianditu, amap or a tile URL with {z}")
    tiles.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    tiles.add_argument("--county", help="the county's own basemap (default: every county without its own)")
    tiles.add_argument("value")
    county = sub.add_parser("add-county", help="another county and its first administrator (password from stdin)")
    county.add_argument("--db", help="database URL or SQLite file (default: CARE_DATABASE_URL)")
    county.add_argument("--code", required=True, help="the county's 12-digit division code")
    county.add_argument("--name", required=True, help="the county's name")
    county.add_argument("--admin", required=True, help="username of its first administrator")
    county.add_argument("--city-name", help="name of its city, when the city is not in the database yet")
    county.add_argument("--province-name", help="name of its province, when not in the database yet")
    audit_check.add_parser(sub)
    backup.add_parsers(sub)
    pack_cli.add_parsers(sub)
    args = parser.parse_args(argv)
    commands = {"create-user": create_user, "audit-verify": audit_check.verify, "set-tiles": set_tiles}
    commands |= {"add-county": add_county}
    commands |= {"backup": backup.run_backup, "restore": backup.run_restore}
    commands |= {"visit-pack": pack_cli.write_pack, "visit-results": pack_cli.import_results}
    return commands[args.command](args)
