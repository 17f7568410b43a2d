"""``python -m care.bench``: the benchmarks (care/bench/run.py)."""

from care.bench.run import main

if __name__ == "__main__":
    raise SystemExit(main())
