"""Capacity planning from a step (stress) run: knee, replicas, connections, memory and cost.

May import: compare, config, load, report, stack, validate, verify (and harness's base modules).
"""
