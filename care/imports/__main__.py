"""``python -m care.imports``: import a roster, visits or services file (the command is care/cli/imports.py)."""

from care.cli.imports import main

if __name__ == "__main__":
    raise SystemExit(main())
