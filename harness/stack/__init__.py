"""Stack backends: bring ServiceDesk up, hand back endpoints, bring it down.

May import: config, validate (and harness's base modules).
"""
