"""Collect: server metrics scraped from every replica, as time series, counters' growth, and the
connection and pool traces polled while the load runs.

May import: config, stack (and harness's base modules).
"""
