"""Which run `harness plan` reads when none is named: the newest step run in reports/."""

from __future__ import annotations

import json
from pathlib import Path

from harness.errors import UsageError

__all__ = ["newest_step_run"]


def newest_step_run(reports_dir: Path, scenario: str = "stress") -> Path:
    """The newest run folder of `scenario` (by started_at) under `reports_dir`."""
    best: tuple[float, Path] | None = None
    for results in reports_dir.glob("*/results.json"):
        if results.parent.is_symlink():
            continue
        try:
            data = json.loads(results.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        try:  # a malformed results.json is not a candidate; naming it, plan reads it strictly
            users = {stage.get("users") for stage in data.get("stages", [])}
            if data.get("scenario") != scenario or len(users) < 2:
                continue
            started = float(data.get("started_at", 0.0))
        except (AttributeError, TypeError, ValueError):
            continue
        if best is None or started > best[0]:
            best = (started, results.parent)
    if best is None:
        raise UsageError(f"plan: no {scenario} run in {reports_dir}; run `harness run --scenario "
                         f"{scenario}` first or name a step run")
    return best[1]
