"""Stack backends: bring ServiceDesk up, hand back endpoints, bring it down.

May import: config (and harness's base modules).
"""
