"""Report: results.json, summary.md, report.html and junit.xml in reports/<run-id>/.

May import: calibrate, collect, config, faults, load, stack, verify (and harness's base modules).
"""
