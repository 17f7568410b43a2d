"""Reads: scoped selects returning plain data (DataFrames and small dataclasses) for pages."""
