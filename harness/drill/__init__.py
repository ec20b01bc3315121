"""Disaster-recovery drills on the `local` stack while load runs (`harness drill ...`).

backup-restore: the seed's backup strategy (pg_dump -Fc, continuous WAL archiving, point-in-time
recovery) performed for real, with the achieved RTO and RPO measured against the seed's
objectives.

May import: config, faults, load, report, stack, verify (and harness's base modules).
"""
