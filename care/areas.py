"""``python -m care.areas``: import a county's area codes and boundaries (the command is care/cli/areas.py)."""

from care.cli.areas import main

if __name__ == "__main__":
    raise SystemExit(main())
