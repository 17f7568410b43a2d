"""``python -m care.admin``: administration from the command line (the command is care/cli/admin.py)."""

from care.cli.admin import main

if __name__ == "__main__":
    raise SystemExit(main())
