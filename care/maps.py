"""``python -m care.maps export``: write a standalone HTML map of an area (the command is care/cli/maps.py)."""

from care.cli.maps import main

if __name__ == "__main__":
    raise SystemExit(main())
