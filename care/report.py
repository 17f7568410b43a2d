"""``python -m care.report``: write a month's report workbook (the command is care/cli/report.py)."""

from care.cli.report import main

if __name__ == "__main__":
    raise SystemExit(main())
