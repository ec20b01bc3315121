"""Numbers, windows, durations, check order and credential scrubbing shared by every format."""

from __future__ import annotations

import pytest

from harness.report.formatting import (
    checks_in_report_order,
    format_duration,
    format_number,
    format_run_times,
    format_threshold,
    format_window,
    partial_notice,
    reason_and_evidence,
    reported_checks,
    scrub_text,
)
from harness.verify.check import CheckResult, Verdict, Window, skipped


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (None, "ms", "—"),
        (float("nan"), "", "—"),
        (0.0, "%", "0 %"),
        (0.042, "%", "0.042 %"),
        (0.31, "%", "0.31 %"),
        (2.8, "%", "2.8 %"),
        (50.0, "req/s", "50 req/s"),
        (92.44, "ms", "92.4 ms"),
        (812.0, "ms", "812 ms"),
        (42237, "", "42,237"),
        (-3.5, "", "-3.5"),
    ],
)
def test_format_number(value, unit, text):
    assert format_number(value, unit) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (4.25, "4.2 s"),
        (42, "42 s"),
        (300, "5 min"),
        (312, "5 min 12 s"),
        (3600, "1 h"),
        (3725, "1 h 2 min"),
        (-1, "0.0 s"),
    ],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_window_and_threshold(result_factory):
    check = result_factory("failed").checks[1]
    assert format_window(check.window) == "sliding 60s 210–300 s"
    assert format_window(Window(12.5, 60, "steady state")) == "steady state 12.5–60 s"
    assert format_window(None) == "—"
    assert format_threshold(check) == "≤ 300 ms"


def test_failures_come_first_then_passes_then_skipped(result_factory):
    checks = result_factory("failed").checks
    ordered = checks_in_report_order(checks)
    assert [c.verdict for c in ordered] == [Verdict.FAIL] * 2 + [Verdict.PASS] * 3 + [
        Verdict.SKIPPED
    ]
    # stable within a verdict
    assert [c.id for c in ordered[:2]] == ["slo.latency.p99", "slo.error-rate"]


def test_reported_checks_are_in_report_order_with_their_figures(result_factory):
    checks = result_factory("failed").checks
    rows = reported_checks(checks)
    assert [row.check for row in rows] == checks_in_report_order(checks)
    latency = rows[0]
    assert latency.check.id == "slo.latency.p99"
    assert (latency.threshold, latency.window) == ("≤ 300 ms", "sliding 60s 210–300 s")
    assert latency.observed == format_number(latency.check.observed, latency.check.unit)


def test_run_times_are_the_start_in_utc_and_the_length(result_factory):
    result = result_factory("failed")
    started, duration = format_run_times(result)
    assert started.endswith(" UTC")
    assert duration == format_duration(result.ended_at - result.started_at)


@pytest.mark.parametrize(
    ("text", "clean"),
    [
        ("postgresql://harness:pw@127.0.0.1:5432/db", "postgresql://harness:***@127.0.0.1:5432/db"),
        ("redis://tok123@host:6379/0", "redis://***@host:6379/0"),
        (
            "see https://u:p@a.example/x and http://b.example/",
            "see https://u:***@a.example/x and http://b.example/",
        ),
        ("http://h/?orgId=1&token=abc&x=2", "http://h/?orgId=1&token=***&x=2"),
        ("http://h/?password=abc", "http://h/?password=***"),
        ("mail me at ops@example.com", "mail me at ops@example.com"),
        ("plain text", "plain text"),
    ],
)
def test_scrub_text_removes_url_credentials(text, clean):
    assert scrub_text(text) == clean


def test_scrub_text_removes_known_secret_values():
    assert scrub_text("the key is hunter22!", ["hunter22"]) == "the key is ***!"


def test_partial_notice(result_factory):
    assert partial_notice(result_factory("passed")) is None
    notice = partial_notice(result_factory("interrupted"))
    assert notice.startswith("PARTIAL REPORT: the run was interrupted after 2 min of the 5 min")
    assert "No checks were evaluated" in notice
    empty = partial_notice(result_factory("empty"))
    assert "before any load interval was recorded" in empty


def test_a_skip_says_its_reason_and_evidence_once():
    plain = skipped("pool.max-in-use", "Pool", "no pool to observe")
    assert reason_and_evidence(plain) == ("no pool to observe", "")
    within = CheckResult("a", "A", Verdict.SKIPPED, None, None, "", "<=", None,
                         "no scale-up; headroom: 841 req/s", "no scale-up")
    assert reason_and_evidence(within) == ("", "no scale-up; headroom: 841 req/s")
    apart = CheckResult("a", "A", Verdict.SKIPPED, None, None, "", "<=", None, "3 scrapes", "why")
    assert reason_and_evidence(apart) == ("why", "3 scrapes")
