"""Faults injected while the load runs (a scenario's `faults:`), and what each one did.

config (harness.config.faults) -> FaultInjector (a thread beside the load) -> FaultEvent records
-> checks (harness.verify.faults) and the report's `faults` section (harness.report.faults).

May import: config, stack (and harness's base modules).
"""
