"""Collect: server metrics scraped from every replica, as time series.

May import: config, stack (and harness's base modules).
"""
