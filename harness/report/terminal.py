"""What a run prints when the load has ended: a verdict a person reads in five seconds.

At any width: the verdict line; one line of headline numbers against their SLO; one line per
check that did not pass (failed, untrusted, skipped), cut to the terminal's width at its end so an
id is never broken; the headroom line; the path of report.html last. `verbose` adds every check
with its full evidence, wrapped at words. No line carries trailing spaces.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text

from harness.report.formatting import (
    MISSING,
    STATUS_HEADLINES,
    checks_in_report_order,
    format_number,
    format_observed,
    format_threshold,
    format_window,
    partial_notice,
    verdict_counts,
)
from harness.report.results import RunResult, RunStatus
from harness.verify.check import CheckResult, Verdict
from harness.verify.headroom import Headroom

__all__ = [
    "STATUS_STYLES",
    "VERDICT_STYLES",
    "check_line",
    "headline_numbers",
    "headroom_line",
    "joined_ids",
    "print_verdict",
]

VERDICT_STYLES = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red", Verdict.SKIPPED: "yellow",
                  Verdict.UNTRUSTED: "bold magenta"}
VERDICT_TAGS = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.SKIPPED: "SKIP",
                Verdict.UNTRUSTED: "UNTR"}  # four letters, so the ids line up
STATUS_STYLES = {
    RunStatus.PASSED: "bold green",
    RunStatus.FAILED: "bold red",
    RunStatus.INTERRUPTED: "bold yellow",
    RunStatus.ERROR: "bold red",
    RunStatus.UNTRUSTED: "bold magenta",
}
SEPARATOR = " · "


def _wrapped(text: str, width: int, indent: str = "") -> list[str]:
    """Lines of at most `width`, broken between words only (an id or a URL stays whole) and
    without trailing spaces (rich's own wrapping keeps the space it broke at)."""
    return textwrap.wrap(" ".join(text.split()), width, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [""]


def _verdict_lines(result: RunResult, width: int) -> list[Text]:
    """'PASSED: every check passed (exit 0) · 21 passed, 2 skipped'."""
    style = STATUS_STYLES[result.status]
    lines = [Text(line, style=style) for line in _wrapped(
        f"{STATUS_HEADLINES[result.status]} (exit {result.exit_status})", width)]
    if result.checks:
        counts = verdict_counts(result.checks)
        summary = ", ".join(f"{counts[v]} {name}" for v, name in (
            (Verdict.PASS, "passed"), (Verdict.FAIL, "failed"),
            (Verdict.UNTRUSTED, "untrusted"), (Verdict.SKIPPED, "skipped")) if counts[v])
        if len(lines[-1]) + len(SEPARATOR) + len(summary) <= width:
            lines[-1].append(SEPARATOR + summary, style="default")
        else:
            lines.append(Text(summary))
    return lines


def _check(result: RunResult, check_id: str) -> CheckResult | None:
    return next((c for c in result.checks if c.id == check_id), None)


def _against(name: str, check: CheckResult | None, fallback: float | None, unit: str,
             short: bool) -> str:
    """'p95 4.73 ms ≤ 250 ms' (short: 'p95 4.73 ≤ 250 ms') from the check (the numbers its
    verdict was given on), else the steady-state value alone."""
    value = check.observed if check is not None and check.observed is not None else fallback
    if check is None or check.threshold is None:
        return f"{name} {format_number(value, unit)}"
    if short:
        return f"{name} {format_number(value)} {format_threshold(check)}"
    return f"{name} {format_number(value, unit)} {format_threshold(check)}"


def headline_numbers(result: RunResult, short: bool = False) -> list[str]:
    """The run's numbers against their SLO, steady state (what the checks judged).

    `short` drops words and spaces for a narrow terminal; the numbers stay the same.
    """
    steady = result.steady
    judged = steady.judged if steady is not None else None
    requests = f"{result.totals.requests:,} {'req' if short else 'requests'}"
    rps = format_number(steady.rps, "req/s") if steady is not None else MISSING
    parts = [requests, rps if short else f"{rps} steady"]
    parts.append(_against("err" if short else "errors", _check(result, "slo.error-rate"),
                          steady.error_percent if steady is not None else None, "%", short))
    for name in ("p95", "p99"):
        parts.append(_against(name, _check(result, f"slo.latency.{name}"),
                              judged.percentile(name) if judged is not None else None, "ms",
                              short))
    return parts


def _fit(parts: Sequence[str], width: int) -> list[str]:
    """Parts joined by ' · ', folded between parts (never inside one) when wider than width."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(SEPARATOR) + len(part) <= width:
            lines[-1] += SEPARATOR + part
        else:
            lines.append(part)
    return lines


def _numbers_lines(result: RunResult, width: int) -> list[str]:
    if not result.totals.requests:
        return ["no requests were recorded"]
    for short in (False, True):
        lines = _fit(headline_numbers(result, short), width)
        if len(lines) == 1:
            return lines
    return lines


def _cut(text: str, room: int) -> str:
    """`text` on one line of `room` characters, cut at a word with '…' (no number or id left
    half-printed)."""
    text = " ".join(text.split())
    if len(text) <= room:
        return text
    cut = text[: max(room - 1, 0)]
    if text[len(cut)] != " ":
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "…"


def check_line(check: CheckResult, width: int, ident: str | None = None) -> Text:
    """'FAIL slo.latency.p99 690 ms ≤ 300 ms: p99 reached …', cut with '…' at `width`.
    `ident` replaces the id (several skipped checks with one reason share a line)."""
    line = Text()
    line.append(VERDICT_TAGS[check.verdict], style=VERDICT_STYLES[check.verdict])
    line.append(" ")
    line.append(ident or check.id, style="cyan")
    line.append(":")
    if check.verdict is Verdict.SKIPPED:
        detail = check.reason or check.evidence or "no reason given"
    else:
        detail = f"{format_observed(check)} (must be {format_threshold(check)})"
        detail += f": {check.evidence}" if check.evidence else ""
    line.append(f" {_cut(detail, width - len(line) - 1)}")
    line.truncate(width, overflow="ellipsis")
    return line


def joined_ids(ids: Sequence[str]) -> str:
    """'autoscaling.scale-up-slo.{p95,p99,error-rate}' for ids under one dotted prefix, else
    the ids joined by commas; every id stays whole."""
    if len(ids) == 1:
        return ids[0]
    heads = {i.rsplit(".", 1)[0] for i in ids}
    if len(heads) == 1 and all("." in i for i in ids):
        return f"{heads.pop()}.{{{','.join(i.rsplit('.', 1)[1] for i in ids)}}}"
    return ", ".join(ids)


def _grouped(checks: Sequence[CheckResult]) -> list[tuple[CheckResult, str]]:
    """(check, id text) per line: skipped checks that share a reason share a line."""
    lines: list[tuple[CheckResult, list[str]]] = []
    by_reason: dict[str, list[str]] = {}
    for check in checks:
        reason = check.reason or check.evidence
        if check.verdict is Verdict.SKIPPED and reason in by_reason:
            by_reason[reason].append(check.id)
            continue
        ids = [check.id]
        if check.verdict is Verdict.SKIPPED:
            by_reason[reason] = ids
        lines.append((check, ids))
    return [(check, joined_ids(ids)) for check, ids in lines]


_SHORT_NAMES = {"hpa.cpu": "HPA on CPU", "hpa.memory": "HPA on memory",
                "pool.saturation": "a pool saturated", "server.connections": "server connections"}


def headroom_line(headroom: Headroom | None) -> str | None:
    """One line from the run's headroom record: the request rate and load multiple at which
    each threshold the load did not reach would be (summary.md and report.html give the basis)."""
    if headroom is None or not headroom.limits:
        return None
    parts = []
    for limit in headroom.limits:
        name = _SHORT_NAMES.get(limit.id, limit.id)
        if limit.rate is None:
            parts.append(f"{name} not reached by load")
        else:
            multiple = f"{format_number(limit.multiple, '×')}" if limit.multiple else ""
            if limit.extrapolated:
                multiple = f"{multiple}, extrapolated" if multiple else "extrapolated"
            multiple = f" ({multiple})" if multiple else ""
            parts.append(f"{name} at {format_number(limit.rate, 'req/s')}{multiple}")
    rate = format_number(headroom.steady.request_rate, "req/s")
    return f"headroom from {rate}: {SEPARATOR.join(parts)}"


def _evidence(check: CheckResult, width: int) -> list[Text]:
    """The check's title, window and whole evidence, indented under its line."""
    indent = " " * 5
    lines = [Text(line, style="dim") for line in _wrapped(
        f"{check.title}; {format_window(check.window)}", width, indent)]
    # a skipped check's reason is its line already; its evidence only when it says more
    if check.evidence and check.evidence != check.reason:
        lines += [Text(line) for line in _wrapped(check.evidence, width, indent)]
    return lines


def print_verdict(result: RunResult, console: Console, report: Path | None = None, *,
                  verbose: bool = False) -> None:
    """The verdict line, the numbers against their SLO, the checks that did not pass (every
    check with its evidence when `verbose`), the generator advice, the partial-run notice, the
    headroom line, and `report` (report.html, when one was written) last."""
    width = max(console.width, 20)
    lines: list[Text] = []
    notice = partial_notice(result)
    if notice:
        lines += [Text(line, style="yellow") for line in _wrapped(notice, width)]
    lines += _verdict_lines(result, width)
    lines += [Text(line) for line in _numbers_lines(result, width)]
    shown = checks_in_report_order(
        result.checks if verbose else [c for c in result.checks if c.verdict is not Verdict.PASS])
    if verbose:
        for check in shown:
            lines.append(check_line(check, width))
            lines += _evidence(check, width)
    else:
        lines += [check_line(check, width, ident) for check, ident in _grouped(shown)]
    if result.generator is not None and result.generator.advice:
        style = "magenta" if result.generator.saturated else "dim"
        lines += [Text(line, style=style) for line in _wrapped(result.generator.advice, width)]
    headroom = headroom_line(result.headroom)
    if headroom:  # one line, cut at a word (whole with --verbose)
        lines += ([Text(line) for line in _wrapped(headroom, width)] if verbose
                  else [Text(_cut(headroom, width))])
    if report is not None:
        lines += [Text(line, style="underline") for line in _wrapped(f"Report: {report}", width)]
    for line in lines:
        console.print(line, no_wrap=True, overflow="ellipsis", highlight=False)
