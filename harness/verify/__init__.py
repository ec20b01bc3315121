"""Verify: turn collected evidence into checks, each a verdict with its numbers.

May import: calibrate, collect, config, faults, load, stack (and harness's base modules).
"""
