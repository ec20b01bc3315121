"""Exports of a run for notebooks and other tools: per interval and request name, plus the
replica series, as CSV or Parquet (`harness export`).

May import: compare, load, report (and harness's base modules).
"""
