"""summary.md: the run on one page of Markdown, for a pull request, a chat message or a CI log.

Verdict first, then the checks (failures first), the requests per name, the stages, the errors
and the notes. Every number is formatted by harness.report.formatting, as in the other formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from harness.report.formatting import (
    STATUS_HEADLINES,
    checks_in_report_order,
    format_duration,
    format_number,
    format_observed,
    format_seconds,
    format_threshold,
    format_timestamp,
    format_window,
    partial_notice,
    verdict_counts,
)
from harness.report.results import RequestStats, RunResult
from harness.verify.check import Verdict

__all__ = ["render_summary"]

_VERDICT_LABELS = {Verdict.PASS: "PASS", Verdict.FAIL: "**FAIL**", Verdict.SKIPPED: "skipped",
                   Verdict.UNTRUSTED: "**UNTRUSTED**"}


class Code(str):
    """Text shown as inline code: an id, a request name."""


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, HTML-looking text made literal, one line."""
    text = " ".join(str(value).split())
    if isinstance(value, Code):
        fence = "``" if "`" in text else "`"
        return f"{fence}{text.replace('|', chr(92) + '|')}{fence}"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]], right: set[int]) -> list[str]:
    aligns = ["---:" if i in right else "---" for i in range(len(header))]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(aligns) + " |",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _headline(result: RunResult) -> list[str]:
    counts = verdict_counts(result.checks)
    lines = [f"# {STATUS_HEADLINES[result.status]}", ""]
    notice = partial_notice(result)
    if notice:
        lines += [f"> **{notice}**", ""]
    lines += [
        f"- Run: `{result.run_id}`",
        f"- Scenario: `{result.scenario}`"
        + (f": {result.scenario_description}" if result.scenario_description else ""),
        f"- Stack: `{result.stack}`",
        f"- Started: {format_timestamp(result.started_at)}, "
        f"duration {format_duration(result.ended_at - result.started_at)}",
        f"- Exit status: {result.exit_status}",
        f"- Checks: {counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
        f"{counts[Verdict.SKIPPED]} skipped",
    ]
    totals = result.totals
    if totals.requests:
        lines.append(
            f"- Requests: {totals.requests:,} ({format_number(totals.rps, 'req/s')}), "
            f"{format_number(totals.error_percent, '%')} failed, "
            f"p50 {format_number(totals.latency.p50_ms, 'ms')}, "
            f"p95 {format_number(totals.latency.p95_ms, 'ms')}, "
            f"p99 {format_number(totals.latency.p99_ms, 'ms')}"
        )
    return lines


def _checks(result: RunResult) -> list[str]:
    lines = ["", "## Checks", ""]
    if not result.checks:
        lines.append("No checks were evaluated.")
        return lines
    rows = []
    for check in checks_in_report_order(result.checks):
        evidence = check.evidence
        if check.verdict is Verdict.SKIPPED and check.reason:
            evidence = f"skipped: {check.reason}" + (f". {evidence}" if evidence else "")
        rows.append(
            (
                _VERDICT_LABELS[check.verdict],
                Code(check.id),
                check.title,
                format_observed(check),
                format_threshold(check),
                format_window(check.window),
                evidence,
            )
        )
    header = ("Verdict", "Check", "Title", "Observed", "Threshold", "Window", "Evidence")
    return lines + _table(header, rows, right={3, 4})


def _stats_row(name: str, stats: RequestStats) -> tuple[object, ...]:
    lat = stats.latency
    return (
        name,
        f"{stats.requests:,}",
        f"{stats.failures:,}",
        format_number(stats.error_percent, "%"),
        format_number(stats.rps),
        format_number(lat.p50_ms),
        format_number(lat.p95_ms),
        format_number(lat.p99_ms),
    )


def _requests(result: RunResult) -> list[str]:
    lines = ["", "## Requests", ""]
    if not result.per_request and not result.totals.requests:
        lines.append("No requests were recorded.")
        return lines
    header = ("Name", "Requests", "Failures", "Errors", "req/s", "p50 ms", "p95 ms", "p99 ms")
    rows: list[tuple[object, ...]] = [
        _stats_row(Code(name), s) for name, s in sorted(result.per_request.items())
    ]
    rows += [_stats_row(f"group: {name}", s) for name, s in sorted(result.groups.items())]
    rows.append(_stats_row("**all requests**", result.totals))
    return lines + _table(header, rows, right=set(range(1, 8)))


def _stages(result: RunResult) -> list[str]:
    lines = ["", "## Stages", ""]
    if not result.stages:
        lines.append("The scenario has no stages.")
        return lines
    rows = [
        (
            stage.index,
            stage.name,
            f"{format_seconds(stage.start)}–{format_seconds(stage.end)} s",
            stage.users,
            "yes" if stage.steady else "",
        )
        for stage in result.stages
    ]
    return lines + _table(("#", "Stage", "Window", "Users", "Steady"), rows, right={0, 3})


def _errors(result: RunResult) -> list[str]:
    lines = ["", "## Errors", ""]
    if not result.errors:
        lines.append("No request failed." if result.totals.requests else "None recorded.")
        return lines
    rows = [
        (Code(e.name), e.error, f"{e.occurrences:,}")
        for e in sorted(result.errors, key=lambda e: (-e.occurrences, e.name, e.error))
    ]
    return lines + _table(("Request", "Error", "Occurrences"), rows, right={2})


def _notes(result: RunResult) -> list[str]:
    lines: list[str] = []
    if result.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in result.notes]
    if result.extra:
        lines += ["", "## More in report.html and results.json", ""]
        for key in sorted(result.extra):
            value = result.extra[key]
            if isinstance(value, dict):
                parts = [
                    f"{k} ({len(v)} rows)" if isinstance(v, list) else str(k)
                    for k, v in sorted(value.items())
                ]
                lines.append(f"- `{key}`: " + ", ".join(parts))
            else:
                lines.append(f"- `{key}`")
    return lines


def render_summary(result: RunResult) -> str:
    lines = _headline(result)
    lines += _checks(result)
    lines += _requests(result)
    lines += _stages(result)
    lines += _errors(result)
    lines += _notes(result)
    return "\n".join(lines) + "\n"
