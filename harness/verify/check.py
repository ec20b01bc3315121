"""A check's verdict and its evidence, the unit every report and exit status is built from."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from harness.status import ExitStatus

__all__ = [
    "CheckResult",
    "Verdict",
    "Window",
    "exit_status_for",
    "fault_check_id",
    "fault_checks",
    "judged",
    "skipped",
]


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    # The window's numbers were partly made by a saturated load generator: neither a pass nor a
    # fail of the system (harness.load.health).
    UNTRUSTED = "untrusted"


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


def judged(check_id: str, title: str, observed: float | None, threshold: float | None, unit: str,
           window: Window | None, evidence: str, *, at_most: bool = True, digits: int = 3,
           unmeasured: Verdict = Verdict.SKIPPED) -> CheckResult:
    """Pass when `observed` is at most (`at_most`) or at least `threshold`, else fail; with
    nothing observed or no threshold, `unmeasured` (skipped: the evidence is the reason)."""
    comparison = "<=" if at_most else ">="
    if observed is None or threshold is None:
        reason = evidence if unmeasured is Verdict.SKIPPED else None
        return CheckResult(check_id, title, unmeasured, None, threshold, unit, comparison, window,
                           evidence, reason)
    ok = observed <= threshold if at_most else observed >= threshold
    return CheckResult(check_id, title, Verdict.PASS if ok else Verdict.FAIL,
                       round(observed, digits), threshold, unit, comparison, window, evidence)


def skipped(check_id: str, title: str, reason: str, *, threshold: float | None = None,
            unit: str = "", comparison: str = "<=", window: Window | None = None) -> CheckResult:
    """A check that could not be judged, and why (the reason is its evidence too)."""
    return CheckResult(check_id, title, Verdict.SKIPPED, None, threshold, unit, comparison, window,
                       reason, reason)


def fault_check_id(fault: str, aspect: str) -> str:
    """The id of one of a fault's checks, `faults.<fault>.<aspect>` (aspect: "recovery",
    "availability", "failed-requests", ...). The scenario's schema keeps dots out of fault names,
    so `fault_checks` finds a fault's checks again from the id alone."""
    return f"faults.{fault}.{aspect}"


def fault_checks(checks: Iterable[CheckResult], fault: str) -> dict[str, CheckResult]:
    """One fault's checks by aspect: the inverse of `fault_check_id`."""
    prefix = fault_check_id(fault, "")
    return {c.id.removeprefix(prefix): c for c in checks if c.id.startswith(prefix)}


def exit_status_for(checks: Iterable[CheckResult]) -> ExitStatus:
    """1 when a check failed; else 3 when a check is untrusted (the load generator, a
    dependency, could not deliver an honest measurement: the run proved nothing); else 0."""
    verdicts = {c.verdict for c in checks}
    if Verdict.FAIL in verdicts:
        return ExitStatus.CHECK_FAILED
    if Verdict.UNTRUSTED in verdicts:
        return ExitStatus.STACK_FAILED
    return ExitStatus.OK
