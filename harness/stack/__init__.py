"""Stack backends: bring ServiceDesk up, hand back endpoints, bring it down. Also theirs: the
capabilities they hand out (replica set, PostgreSQL, Redis, a cluster's Deployment), the replica
controller, the HPA algorithm with its scaling trace, and a rolling update's arithmetic.

May import: config, validate (and harness's base modules).
"""
