"""The what-if table of a run that scaled: its recorded load replayed at other CPU targets.
harness.plan.replay computes it after the run; RunResult carries it (results.json `replay`) and
report.html and summary.md show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HEADER", "ReplayTable", "replay_markdown"]

HEADER = ("CPU target", "Peak replicas", "Replica-minutes", "Above target", "Scale events",
          "SLO breaches at fewer replicas")


@dataclass(frozen=True)
class ReplayTable:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplayTable:
        return cls(str(data["caption"]), tuple(str(h) for h in data["header"]),
                   tuple(tuple(str(cell) for cell in row) for row in data["rows"]))


def replay_markdown(table: ReplayTable) -> list[str]:
    lines = ["", "### What-if: other CPU targets", "", table.caption, "",
             "| " + " | ".join(table.header) + " |",
             "|" + "|".join("---" for _ in table.header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in table.rows]
    return lines
