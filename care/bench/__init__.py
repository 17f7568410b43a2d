"""Benchmarks for developers and evaluators (``python -m care.bench``); nothing the county runs imports them."""
