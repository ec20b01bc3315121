"""summary.md: the run on one page of Markdown, for a pull request, a chat message or a CI log.

Verdict first, then the checks (failures first), the requests per name, the stages, the errors
and the notes. Every number is formatted by harness.report.formatting, as in the other formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from harness.load.health import limits_text, priority_text
from harness.report.calibration import calibration_rows, calibration_sentence
from harness.report.formatting import (
    MISSING,
    STATUS_HEADLINES,
    format_number,
    format_run_times,
    format_span,
    partial_notice,
    reason_and_evidence,
    reported_checks,
    verdict_counts,
)
from harness.report.replay import replay_markdown
from harness.report.results import RequestStats, RunResult
from harness.report.rollouts import rollout_lines
from harness.report.scaling import pool_sentence, read_capacity, scaling_sentences
from harness.verify.check import Verdict

__all__ = ["render_summary"]

_VERDICT_LABELS = {Verdict.PASS: "PASS", Verdict.FAIL: "**FAIL**", Verdict.SKIPPED: "skipped",
                   Verdict.UNTRUSTED: "**UNTRUSTED**"}


# Where Markdown would see HTML: an entity reference (&amp; &#38;) or the start of a tag.
_ENTITY_OR_TAG = re.compile(r"&(?=#?\w+;)|<(?=[A-Za-z/!?])")


class Code(str):
    """Text shown as inline code: an id, a request name."""


def _cell(value: object) -> str:
    """A Markdown table cell: pipes escaped, HTML-looking text made literal, one line."""
    text = " ".join(str(value).split())
    if isinstance(value, Code):
        fence = "``" if "`" in text else "`"
        return f"{fence}{text.replace('|', chr(92) + '|')}{fence}"
    # Backslash escapes (CommonMark) only where Markdown would read HTML: the raw file stays
    # readable ("p95 & p99", not "p95 &amp; p99").
    text = _ENTITY_OR_TAG.sub(lambda m: "\\" + m.group(0), text)
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
    started, duration = format_run_times(result)
    lines = [f"# {STATUS_HEADLINES[result.status]}", ""]
    notice = partial_notice(result)
    if notice:
        lines += [f"> **{notice}**", ""]
    lines += [
        f"- Run: `{result.run_id}`",
        f"- Scenario: `{result.scenario}`"
        + (f": {result.scenario_description}" if result.scenario_description else ""),
        f"- Stack: `{result.stack}`",
        *(["- Tags: " + ", ".join(f"`{k}={v}`" for k, v in sorted(result.tags.items()))]
          if result.tags else []),
        f"- Started: {started}, duration {duration}",
        f"- Exit status: {result.exit_status}",
        f"- Checks: {counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
        f"{counts[Verdict.SKIPPED]} skipped"
        + (f", {counts[Verdict.UNTRUSTED]} untrusted (the load generator saturated)"
           if counts[Verdict.UNTRUSTED] else ""),
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
    for check, observed, threshold, window in reported_checks(result.checks):
        evidence = check.evidence
        if check.verdict is Verdict.SKIPPED and check.reason:
            said = [part for part in reason_and_evidence(check) if part]
            evidence = "skipped: " + ". ".join(said)
        rows.append(
            (
                _VERDICT_LABELS[check.verdict],
                Code(check.id),
                check.title,
                observed,
                threshold,
                window,
                evidence,
            )
        )
    header = ("Verdict", "Check", "Title", "Observed", "Threshold", "Window", "Evidence")
    return lines + _table(header, rows, right={3, 4})


def _stats_row(name: str, stats: RequestStats, corrected: bool = False) -> tuple[object, ...]:
    lat = stats.latency
    row: tuple[object, ...] = (
        name,
        f"{stats.requests:,}",
        f"{stats.failures:,}",
        format_number(stats.error_percent, "%"),
        format_number(stats.rps),
        format_number(lat.p50_ms),
        format_number(lat.p95_ms),
        format_number(lat.p99_ms),
    )
    if corrected:
        fixed = stats.corrected
        row += tuple(format_number(getattr(fixed, f"{q}_ms")) if fixed else MISSING
                     for q in ("p50", "p95", "p99"))
    return row


def _requests(result: RunResult) -> list[str]:
    lines = ["", "## Requests", ""]
    if not result.per_request and not result.totals.requests:
        lines.append("No requests were recorded.")
        return lines
    corrected = result.totals.corrected is not None
    header: tuple[str, ...] = (
        "Name", "Requests", "Failures", "Errors", "req/s", "p50 ms", "p95 ms", "p99 ms"
    )
    if corrected:
        # wrk2's two views: from the actual send, and from the intended send time
        lines += ["Latency from each request's actual send, and (corrected) from its intended "
                  "send time in the arrival-rate stages, where a stalled system shows.", ""]
        header += ("p50 corrected", "p95 corrected", "p99 corrected")
    rows: list[tuple[object, ...]] = [
        _stats_row(Code(name), s, corrected) for name, s in sorted(result.per_request.items())
    ]
    rows += [
        _stats_row(f"group: {name}", s, corrected) for name, s in sorted(result.groups.items())
    ]
    rows.append(_stats_row("**all requests**", result.totals, corrected))
    return lines + _table(header, rows, right=set(range(1, len(header))))


def _generator(result: RunResult) -> list[str]:
    health = result.generator
    if health is None or not health.generators:
        return []
    how = (f"A Locust master and {health.workers} workers" if health.workers
           else "One load process")
    lines = ["", "## Load generator", "",
             f"{how}; saturated in {health.saturated_intervals} of {health.intervals} intervals "
             f"({limits_text()}); {priority_text(health.generators)}."]
    if health.intended_rps is not None:
        lines[-1] += (f" Arrival rate: {format_number(health.achieved_rps, 'req/s')} sent of "
                      f"{format_number(health.intended_rps, 'req/s')} due.")
    if health.advice:
        lines += ["", f"> **{health.advice}**"]
    rows = [
        (g.generator, format_number(g.peak_cpu_percent, "%"),
         format_number(g.mean_cpu_percent, "%"), format_number(g.loop_lag_p50_ms, "ms"),
         format_number(g.loop_lag_p99_ms, "ms"), format_number(g.peak_rss_mb, "MB"),
         g.priority,
         format_number(g.mean_cpu_wait_percent, "%"), g.saturated_intervals)
        for g in health.generators
    ]
    header = ("Generator", "Peak CPU", "Mean CPU", "Loop lag median (worst)",
              "Loop lag p99 (worst)", "Peak RSS", "Priority", "Waited for a core (mean)",
              "Saturated intervals")
    return lines + [""] + _table(header, rows, right=set(range(1, 9)))


def _stages(result: RunResult) -> list[str]:
    lines = ["", "## Stages", ""]
    if not result.stages:
        lines.append("The scenario has no stages.")
        return lines
    rated = any(stage.rate for stage in result.stages)
    rows = [
        (
            stage.index,
            stage.name,
            format_span(stage.start, stage.end),
            stage.users,
            *((format_number(stage.rate, "req/s") if stage.rate else MISSING,) if rated else ()),
            "yes" if stage.steady else "",
        )
        for stage in result.stages
    ]
    header = ("#", "Stage", "Window", "Users", *(("Arrival rate",) if rated else ()), "Steady")
    return lines + _table(header, rows, right={0, 3, 4} if rated else {0, 3})


def _calibration(result: RunResult) -> list[str]:
    if result.calibration is None:
        return []
    rows = calibration_rows(result.calibration)
    header = tuple(rows[0]) if rows else ()
    return (["", "## Calibration", "", calibration_sentence(result.calibration), ""]
            + _table(header, [tuple(r.values()) for r in rows], right={1, 2, 3}))


def _scaling(result: RunResult) -> list[str]:
    """The autoscaler in a paragraph, and the connections' peaks against their limits."""
    capacity = read_capacity(result)
    scaling, connections, pools = capacity.scaling, capacity.connections, capacity.pools
    if scaling is None and connections is None and pools is None:
        return []
    lines = ["", "## Scaling and connections", ""]
    if scaling is not None:
        lines.append(" ".join(scaling_sentences(scaling)))
    if connections is not None:
        text = f"Server connections (pg_stat_activity): peak {connections.peak}"
        if connections.limit is not None:
            text += f" of {format_number(connections.limit)}"
            if connections.max_connections is not None and connections.reserved is not None:
                text += (f" (max_connections {connections.max_connections} − "
                         f"{connections.reserved} reserved)")
        lines += ["", text + "."]
    if pools is not None:
        lines += ["", pool_sentence(pools)]
    if result.replay is not None:
        lines += replay_markdown(result.replay)
    return lines


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


def _headroom(result: RunResult) -> list[str]:
    """Each threshold the run did not cross, as the request rate that would reach it."""
    if result.headroom is None:
        return []
    intro, *rest = result.headroom.lines()
    return ["", "## Headroom", "", f"{intro}:", "", *(f"- {line}" for line in rest)]


def _rollouts(result: RunResult) -> list[str]:
    rows = result.extra.get("rollouts")
    if not rows:
        return []
    return ["", "## Rollouts", "", *(f"- {line}" for line in rollout_lines(rows))]


def render_summary(result: RunResult) -> str:
    lines = _headline(result)
    lines += _checks(result)
    lines += _rollouts(result)
    lines += _requests(result)
    lines += _stages(result)
    lines += _calibration(result)
    lines += _scaling(result)
    lines += _headroom(result)
    lines += _generator(result)
    lines += _errors(result)
    lines += _notes(result)
    return "\n".join(lines) + "\n"
