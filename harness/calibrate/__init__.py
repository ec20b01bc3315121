"""Load in the units the thresholds use: replica CPU per request, and rates sized from it.

May import: collect, config, load, stack (and harness's base modules).
"""
