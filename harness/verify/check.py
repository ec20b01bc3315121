"""A check's verdict and its evidence, the unit every report and exit status is built from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from harness.status import ExitStatus

__all__ = ["CheckResult", "Verdict", "Window", "exit_status_for"]


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Window:
    """The stretch of the run a check looked at, in seconds since the load started."""

    start: float
    end: float
    label: str  # "steady state", "whole run", "sliding 30s"


@dataclass(frozen=True)
class CheckResult:
    id: str  # stable, dotted: "slo.latency.p95", "slo.group.read.p99", "pool.max-in-use"
    title: str
    verdict: Verdict
    observed: float | None
    threshold: float | None
    unit: str  # "ms", "%", "req/s", "replicas", "connections"
    comparison: str  # "<=" or ">=": how observed must relate to threshold to pass
    window: Window | None
    evidence: str  # a sentence with the numbers that decided the verdict
    reason: str | None = None  # why it was skipped

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS


def exit_status_for(checks: Iterable[CheckResult]) -> ExitStatus:
    failed = any(c.verdict is Verdict.FAIL for c in checks)
    return ExitStatus.CHECK_FAILED if failed else ExitStatus.OK
