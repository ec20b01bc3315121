"""The terminal verdict: a few lines, none wider than the terminal, ids never broken."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from harness.report.formatting import format_number
from harness.report.terminal import (
    VERDICT_STYLES,
    check_line,
    headline_numbers,
    headroom_line,
    joined_ids,
    print_verdict,
)
from harness.verify.check import CheckResult, Verdict, Window

REPORT = Path("reports/20260921-141320-failed/report.html")


def _printed(result, width=200, report=None, verbose=False) -> list[str]:
    console = Console(record=True, width=width, color_system=None)
    print_verdict(result, console, report, verbose=verbose)
    return console.export_text().splitlines()


def _long_check() -> CheckResult:
    return CheckResult(
        "autoscaling.scale-down-stabilization", "Scale-down only after the stabilization window",
        Verdict.SKIPPED, None, 300.0, "s", ">=", Window(0, 45.7, "whole run"), "",
        reason="no scale-down happened, so the stabilization window was never put to the test "
        "by this run's load",
    )


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize("kind", ["passed", "failed", "interrupted"])
def test_every_line_fits_without_trailing_spaces(result_factory, kind, width):
    result = result_factory(kind)
    result = replace(result, checks=(*result.checks, _long_check()))
    lines = _printed(result, width, REPORT)
    assert all(len(line) <= width for line in lines), lines
    assert all(line == line.rstrip() for line in lines)
    for check in result.checks:
        if check.verdict is not Verdict.PASS:  # each on one line, whole
            assert any(f" {check.id}: " in line for line in lines), (check.id, lines)


def _smoke_like(result):
    """A passing run with the skips a smoke run has: several share one reason."""
    skip = result.checks[-1]
    same = "no scale-up to judge it: utilization stayed below the target"
    extra = [replace(skip, id=f"autoscaling.scale-up-slo.{k}", reason=same)
             for k in ("p95", "p99", "error-rate")]
    extra += [replace(skip, id="autoscaling.scale-up", reason="utilization never rose above "
                      "target + 10% (highest ratio 0.09 of target)"),
              replace(skip, id="autoscaling.scale-down-stabilization",
                      reason="no scale-down happened"),
              replace(skip, id="slo.drift.p95", reason="5 slices of 5 s; a trend needs 8")]
    return replace(result, checks=(*result.checks, *extra))


@pytest.mark.parametrize("width", [60, 80])
def test_a_passing_smoke_like_run_fits_in_twelve_lines(result_factory, width):
    lines = _printed(_smoke_like(result_factory("passed")), width, REPORT)
    assert len(lines) <= 12, lines
    assert all(len(line) <= width and line == line.rstrip() for line in lines)
    grouped = [line for line in lines if "autoscaling.scale-up-slo.{p95,p99,error-rate}:" in line]
    assert len(grouped) == 1 and grouped[0].split(": ", 1)[1].startswith("no")
    verbose = _printed(_smoke_like(result_factory("passed")), width, REPORT, verbose=True)
    assert sum(" autoscaling.scale-up-slo." in line for line in verbose) == 3  # one each


def test_joined_ids_keep_every_id_whole():
    assert joined_ids(["a.b.p95", "a.b.p99"]) == "a.b.{p95,p99}"
    assert joined_ids(["a.x", "b.y"]) == "a.x, b.y"
    assert joined_ids(["slo.drift.p95"]) == "slo.drift.p95"


def test_passing_run_is_a_handful_of_lines_ending_with_the_report(result_factory):
    lines = _printed(result_factory("passed"), 80, REPORT)
    assert lines[0] == "PASSED: every check passed (exit 0) · 5 passed, 1 skipped"
    assert lines[-1] == f"Report: {REPORT}"
    assert len(lines) <= 12
    skipped = [line for line in lines if line.startswith("SKIP ")]
    assert skipped == ["SKIP pool.max-in-use: the embedded stack uses SQLite: no connection "
                       "pool to…"]
    assert not any(line.startswith("PASS ") for line in lines)  # passes only with --verbose


def test_numbers_line_holds_the_steady_numbers_against_the_slo(result_factory):
    result = result_factory("failed")
    parts = headline_numbers(result)
    assert parts[0] == f"{result.totals.requests:,} requests"
    assert parts[1] == f"{format_number(result.steady.rps, 'req/s')} steady"
    assert parts[2] == "errors 2.8 % ≤ 1 %"
    assert parts[3:] == ["p95 92.4 ms ≤ 500 ms", "p99 690 ms ≤ 300 ms"]
    lines = _printed(result, 200)
    assert " · ".join(parts) in lines


def test_numbers_fold_between_parts_on_a_very_narrow_terminal(result_factory):
    lines = _printed(result_factory("failed"), 40)
    assert all(len(line) <= 40 for line in lines)
    assert "p95 92.4 ≤ 500 ms · p99 690 ≤ 300 ms" in lines


def test_failed_check_line_gives_value_threshold_and_evidence_cut_at_width(result_factory):
    check = result_factory("failed").checks[1]
    full = check_line(check, 400).plain
    assert full.startswith("FAIL slo.latency.p99: 690 ms (must be ≤ 300 ms): p99 reached 690 ms")
    cut = check_line(check, 60)
    assert len(cut.plain) <= 60 and cut.plain.endswith(" 300 ms): p99…")
    assert cut.spans[0].style == VERDICT_STYLES[Verdict.FAIL]


def test_verbose_prints_every_check_with_its_evidence(result_factory):
    result = result_factory("failed")
    lines = _printed(result, 80, REPORT, verbose=True)
    assert all(len(line) <= 80 for line in lines)
    text = "\n".join(lines)
    for check in result.checks:
        assert check.id in text
    assert any(line.startswith("PASS slo.latency.p95:") for line in lines)
    assert "27,000 requests in the steady state" in text.replace("\n     ", " ")
    assert lines[-1] == f"Report: {REPORT}"


def test_skip_reason_is_printed_once(result_factory):
    text = "\n".join(_printed(result_factory("passed"), 200, verbose=True))
    assert text.count("no connection pool to observe") == 1


def test_interrupted_run_leads_with_the_partial_notice(result_factory):
    lines = _printed(result_factory("interrupted"), 80)
    assert lines[0].startswith("PARTIAL REPORT")
    assert any(line.startswith("INTERRUPTED: the run was interrupted") for line in lines)


def test_empty_run_says_no_requests(result_factory):
    lines = _printed(result_factory("empty"), 80)
    assert "no requests were recorded" in lines


def test_headroom_line_from_the_record(result_factory):
    from tests.report.factory import HEADROOM

    assert headroom_line(HEADROOM) == (
        "headroom from 120 req/s: HPA on CPU at 770 req/s (6.42 ×) · HPA on memory not reached "
        "by load · a pool saturated at 8,400 req/s (70 ×) · hpa.memory.trend at 90,000 req/s "
        "(750 ×, extrapolated)")
    assert headroom_line(None) is None
    lines = _printed(result_factory("failed"), 200, REPORT)
    assert lines[-2].startswith("headroom from 120 req/s: HPA on CPU at 770 req/s")
    assert lines[-1].startswith("Report:")
    assert not any(line.startswith("headroom") for line in _printed(result_factory("passed"), 200))
