"""Compare a run with a baseline, metric by metric, and keep the history of runs it needs.

May import: config, load, report (and harness's base modules).
"""
