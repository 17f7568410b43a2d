"""The synthetic demo county or city (``python -m care.demo``); nothing the county runs imports it."""
