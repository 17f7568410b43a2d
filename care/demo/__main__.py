"""``python -m care.demo``: build the synthetic demo county or city (care/demo/build.py)."""

from care.demo.build import main

if __name__ == "__main__":
    raise SystemExit(main())
