"""`harness drill backup-restore`: the checks from what a drill saw, and one real drill on the
local stack (PostgreSQL with WAL archiving, Redis, replicas, load)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from harness.drill import database as db
from harness.drill.backup_restore import DrillObjectives, DrillState, drill_checks
from harness.drill.writes import Ack
from harness.verify.check import Verdict
from tests.e2e.conftest import harness

T0 = 1_000_000.0


class Writer:
    def __init__(self, acks: list[Ack]) -> None:
        self.acks = acks

    def snapshot(self):  # noqa: ANN201
        return list(self.acks), []


def state(**changes) -> DrillState:
    tables = {t: {"rows": 10, "md5": "x"} for t in db.TABLES}
    found = DrillState(
        dump=db.DumpResult(Path("d.dump"), T0 + 20, 0.4, 1000, tables),
        disaster=db.Disaster(dt.datetime.now(dt.UTC), T0 + 44.99, T0 + 45,
                             "000000010000000000000004"),
        archived_seconds=0.5, recovery_steps={"replay_seconds": 2.0},
        database_back_at=T0 + 60, application_back_at=T0 + 63,
        restore_check=(1.0, dict(tables)), acked_before_disaster=200, acked_after_dump=100,
    )
    for key, value in changes.items():
        setattr(found, key, value)
    return found


def by_id(checks):
    return {c.id: c for c in checks}


def test_a_clean_drill_meets_the_seeds_objectives():
    checks = by_id(drill_checks(state(), Writer([]), DrillObjectives(), T0))
    assert checks["drill.rto.database"].observed == pytest.approx(15.0)
    assert checks["drill.rto.application"].observed == pytest.approx(18.0)
    assert checks["drill.rpo.database"].observed == 0.0
    assert "would have lost the 100 acknowledged after it" in checks["drill.rpo.database"].evidence
    assert all(c.verdict is Verdict.PASS for c in checks.values())


def test_lost_writes_set_the_rpo_and_a_wrong_restore_fails_integrity():
    lost = [{"ticket": 7, "acknowledged_s": 45 - 400.0}]
    wrong = {t: {"rows": 9, "md5": "y"} for t in db.TABLES}
    checks = by_id(drill_checks(state(lost=lost, restore_check=(1.0, wrong)), Writer([]),
                                DrillObjectives(), T0))
    assert checks["drill.rpo.database"].observed == pytest.approx(400.0)
    assert checks["drill.rpo.database"].verdict is Verdict.FAIL
    assert checks["drill.dump.integrity"].verdict is Verdict.FAIL
    assert "users, tickets, comments" in checks["drill.dump.integrity"].evidence


def test_a_drill_that_never_got_its_database_back_fails_rto():
    checks = by_id(drill_checks(state(database_back_at=None, application_back_at=None,
                                      restore_check=None, error="recovery failed"),
                                Writer([]), DrillObjectives(), T0))
    assert checks["drill.rto.database"].verdict is Verdict.FAIL
    assert checks["drill.rto.application"].verdict is Verdict.FAIL
    assert checks["drill.rpo.database"].verdict is Verdict.FAIL


def test_the_archive_command_quotes_for_the_shell_not_for_postgresql(tmp_path):
    archive = db.Archive(tmp_path / "w a l")
    assert "'" not in archive.archive_command
    assert '"' in archive.archive_command and "%p" in archive.archive_command
    assert db.archive_settings(archive)["archive_mode"] == "on"


@pytest.mark.integration
@pytest.mark.e2e
def test_a_drill_restores_the_database_and_measures_rto_and_rpo(tmp_path):
    reports = tmp_path / "reports"
    done = harness("drill", "backup-restore", "--scenario", "smoke", "--duration", "60s",
                   "--rto-application", "2m", "--report-dir", str(reports), "--run-id", "drill",
                   timeout=600)
    folder = reports / "drill"
    data = json.loads((folder / "results.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in data["checks"]}
    assert done.returncode == 0, (done.stderr[-2000:], data["checks"], data["notes"])
    assert verdicts == {"drill.rto.database": "pass", "drill.rto.application": "pass",
                        "drill.rpo.database": "pass", "drill.dump.integrity": "pass"}
    drill = data["extra"]["drill"]
    assert drill["writes"]["acknowledged_before_disaster"] > 20
    assert drill["writes"]["lost_count"] == 0  # PITR to just before the drop loses nothing
    assert (folder / "drill" / "servicedesk.dump").stat().st_size > 10_000
    assert (folder / "drill" / "base" / "base.tar.gz").exists()
    assert drill["artifacts"]["wal_segments"] >= 2
    steps = [row["step"] for row in drill["timeline"]]
    assert steps[0].startswith("base backup") and any("restored" in s for s in steps)
