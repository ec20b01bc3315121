"""How the report stage writes numbers, windows, durations and verdicts, once for every format.

The terminal table, summary.md, report.html and junit.xml all say "812 ms, must be ≤ 500 ms over
steady state 60–300 s" the same way because they all call these functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from harness.report.results import RunResult, RunStatus
from harness.verify.check import CheckResult, Verdict, Window

__all__ = [
    "MISSING",
    "STATUS_EXPLANATIONS",
    "STATUS_HEADLINES",
    "ReportedCheck",
    "checks_in_report_order",
    "format_duration",
    "format_number",
    "format_observed",
    "format_run_times",
    "format_seconds",
    "format_span",
    "format_threshold",
    "format_timestamp",
    "format_window",
    "is_partial",
    "partial_notice",
    "reason_and_evidence",
    "reported_checks",
    "scrub_text",
    "verdict_counts",
]

MISSING = "—"

STATUS_EXPLANATIONS = {
    RunStatus.PASSED: "every check passed",
    RunStatus.FAILED: "at least one check failed",
    RunStatus.INTERRUPTED: "the run was interrupted; this report is partial",
    RunStatus.ERROR: "the run stopped on an error; this report is partial",
    RunStatus.UNTRUSTED: "the load generator saturated; its latency checks prove nothing",
}
STATUS_HEADLINES = {
    status: f"{status.value.upper()}: {text}" for status, text in STATUS_EXPLANATIONS.items()
}

_COMPARISONS = {"<=": "≤", ">=": "≥", "<": "<", ">": ">", "==": "="}
_VERDICT_ORDER = {Verdict.FAIL: 0, Verdict.UNTRUSTED: 1, Verdict.PASS: 2, Verdict.SKIPPED: 3}

# scheme://user:password@host -> scheme://user:***@host ; scheme://token@host -> scheme://***@host
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s@]+)@")
_SECRET_QUERY = re.compile(
    r"(?P<key>[?&;](?:password|passwd|pwd|token|access_token|api_key|apikey|secret|key)=)"
    r"(?P<value>[^&;#\s\"'<>]+)",
    re.IGNORECASE,
)


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    user, sep, _password = userinfo.partition(":")
    masked = f"{user}:***" if sep else "***"
    return f"{match.group('scheme')}{masked}@"


def scrub_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove credentials from a text: URL user info, secret query parameters, known values."""
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _SECRET_QUERY.sub(lambda m: f"{m.group('key')}***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def format_number(value: float | None, unit: str = "") -> str:
    """A value with precision that suits its size: 1,234 / 812 / 45.3 / 3.25 / 0.042."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    magnitude = abs(value)
    if value == 0:
        text = "0"
    elif magnitude >= 100:
        text = f"{value:,.0f}"
    elif magnitude >= 10:
        text = f"{value:.1f}"
    elif magnitude >= 0.1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    if "." in text and "e" not in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def format_seconds(seconds: float) -> str:
    """Seconds since the load started, for windows and stage boundaries: "60", "12.5"."""
    return f"{seconds:.0f}" if float(seconds).is_integer() else f"{seconds:.1f}"


def format_duration(seconds: float) -> str:
    """A human duration: "42 s", "5 min 12 s", "1 h 0 min"."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def format_timestamp(epoch: float) -> str:
    """An epoch time as UTC ISO 8601 to the second (the run's own time, never 'now')."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_run_times(result: RunResult) -> tuple[str, str]:
    """When the run started (UTC) and how long it lasted, as the report's header says them."""
    return (format_timestamp(result.started_at),
            format_duration(result.ended_at - result.started_at))


def format_span(start: float, end: float) -> str:
    """A stretch of the run in seconds since the load started: "60–300 s"."""
    return f"{format_seconds(start)}–{format_seconds(end)} s"


def format_window(window: Window | None) -> str:
    if window is None:
        return MISSING
    return f"{window.label} {format_span(window.start, window.end)}"


def format_observed(check: CheckResult) -> str:
    return format_number(check.observed, check.unit)


def format_threshold(check: CheckResult) -> str:
    if check.threshold is None:
        return MISSING
    symbol = _COMPARISONS.get(check.comparison, check.comparison)
    return f"{symbol} {format_number(check.threshold, check.unit)}"


class ReportedCheck(NamedTuple):
    """One row of a report's check table: the check and its figures as every format says them."""

    check: CheckResult
    observed: str  # "812 ms"
    threshold: str  # "≤ 500 ms"
    window: str  # "steady state 60–300 s"


def reported_checks(checks: Iterable[CheckResult]) -> list[ReportedCheck]:
    """The check table's rows in report order (failures first), figures formatted."""
    return [
        ReportedCheck(c, format_observed(c), format_threshold(c), format_window(c.window))
        for c in checks_in_report_order(checks)
    ]


def reason_and_evidence(check: CheckResult) -> tuple[str, str]:
    """A check's skip reason and its evidence, each said once: a skip's reason is often its
    evidence, or part of it."""
    reason, evidence = check.reason or "", check.evidence
    if evidence == reason:
        return reason, ""
    if reason and reason in evidence:
        return "", evidence
    return reason, evidence


def checks_in_report_order(checks: Iterable[CheckResult]) -> list[CheckResult]:
    """Failures first, then untrusted, passes, skipped checks; stable within each verdict."""
    return sorted(checks, key=lambda c: _VERDICT_ORDER.get(c.verdict, 4))


def verdict_counts(checks: Iterable[CheckResult]) -> dict[Verdict, int]:
    counts = dict.fromkeys(Verdict, 0)
    for check in checks:
        counts[check.verdict] += 1
    return counts


def is_partial(result: RunResult) -> bool:
    return result.status in (RunStatus.INTERRUPTED, RunStatus.ERROR)


def partial_notice(result: RunResult) -> str | None:
    """The sentence every format leads with when the run did not finish, else None."""
    if not is_partial(result):
        return None
    ran = result.timeline[-1].t if result.timeline else 0.0
    planned = result.stages[-1].end if result.stages else None
    how = "was interrupted" if result.status is RunStatus.INTERRUPTED else "stopped on an error"
    if not ran:
        span = "before any load interval was recorded"
    elif planned:
        span = f"after {format_duration(ran)} of the {format_duration(planned)} planned"
    else:
        span = f"after {format_duration(ran)}"
    checks = "No checks were evaluated" if not result.checks else "The checks saw only that part"
    return (
        f"PARTIAL REPORT: the run {how} {span} (exit status {result.exit_status}). "
        f"Every number covers only the part that ran. {checks}."
    )
