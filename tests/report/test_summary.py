"""summary.md: the verdict first, then checks (failures first), requests, stages, errors, notes."""

from __future__ import annotations

from dataclasses import replace

from harness.report.results import RunStatus
from harness.report.summary import render_summary


def _section(text: str, title: str) -> list[str]:
    """The lines of one `## title` section, without the heading and blank edges."""
    lines = text.splitlines()
    start = lines.index(f"## {title}") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("## ")), len(lines))
    return [line for line in lines[start:end] if line]


def test_failed_run_leads_with_the_verdict(result_factory):
    text = render_summary(result_factory("failed"))
    lines = text.splitlines()
    assert lines[0] == "# FAILED: at least one check failed"
    assert "- Run: `20260921-141320-failed`" in lines
    assert "- Stack: `embedded`" in lines
    assert "- Started: 2026-09-21 14:13:20 UTC, duration 5 min 12 s" in lines
    assert "- Checks: 3 passed, 2 failed, 1 skipped" in lines
    assert "PARTIAL" not in text


def test_checks_table_puts_failures_first_with_their_evidence(result_factory):
    rows = _section(render_summary(result_factory("failed")), "Checks")
    assert rows[0] == ("| Verdict | Check | Title | Observed | Threshold | Window | Evidence |")
    assert rows[2] == (
        "| **FAIL** | `slo.latency.p99` | p99 latency, all requests | 690 ms | ≤ 300 ms | "
        "sliding 60s 210–300 s | p99 reached 690 ms in the sliding 60 s window ending at 300 s "
        "(limit 300 ms); \\<worst> window & all. |"
    )
    assert rows[3].startswith("| **FAIL** | `slo.error-rate` | Error rate | 2.8 % | ≤ 1 % |")
    assert [r.split("|")[1].strip() for r in rows[2:]] == [
        "**FAIL**",
        "**FAIL**",
        "PASS",
        "PASS",
        "PASS",
        "skipped",
    ]
    assert rows[-1] == (
        "| skipped | `pool.max-in-use` | PostgreSQL pool never exhausted | — | ≤ 50 connections | "
        "— | skipped: the embedded stack uses SQLite: no connection pool to observe |"
    )


def test_requests_table_per_name_then_groups_then_total(result_factory):
    rows = _section(render_summary(result_factory("passed")), "Requests")
    assert rows[0] == "| Name | Requests | Failures | Errors | req/s | p50 ms | p95 ms | p99 ms |"
    names = [r.split(" | ")[0].removeprefix("| ") for r in rows[2:]]
    assert names == [
        "`GET /api/search`",
        "`GET /api/tickets`",
        "`GET /api/tickets/{id}`",
        "`PATCH /api/tickets/{id}`",
        "`POST /api/tickets`",
        "`POST /api/tickets/{id}/comments`",
        "group: read",
        "group: write",
        "**all requests**",
    ]
    search = rows[2].split(" | ")
    assert search[5:] == ["61", "189", "366 |"]  # p50, p95, p99 in ms


def test_stages_errors_and_notes(result_factory):
    text = render_summary(result_factory("failed"))
    assert _section(text, "Stages")[2:] == [
        "| 0 | ramp-up | 0–60 s | 50 |  |",
        "| 1 | peak | 60–240 s | 100 | yes |",
        "| 2 | ramp-down | 240–300 s | 20 |  |",
    ]
    errors = _section(text, "Errors")
    assert errors[2] == "| `POST /api/tickets` | HTTPError('503 Service Unavailable') | 41 |"
    assert errors[4] == "| `PATCH /api/tickets/{id}` | HTTPError('409 Conflict') \\| retried | 3 |"
    notes = _section(text, "Notes")
    assert notes[0].startswith("- The embedded stack runs")
    assert _section(text, "More in report.html and results.json") == [
        "- `cache`: errors, redis_max_connections, retries",
        "- `connections`: failed_samples, max_connections, reserved, samples (151 rows)",
        "- `pools`: samples (183 rows)",
        "- `scaling`: decisions (20 rows), hpa, replicas (21 rows)",
    ]


def test_interrupted_run_says_partial_before_anything_else(result_factory):
    lines = render_summary(result_factory("interrupted")).splitlines()
    assert lines[0] == "# INTERRUPTED: the run was interrupted; this report is partial"
    assert lines[2].startswith("> **PARTIAL REPORT: the run was interrupted after 2 min")
    assert "No checks were evaluated." in lines
    assert "- Interrupted by SIGINT during stage 'peak'." in lines


def test_empty_run_still_has_every_section(result_factory):
    text = render_summary(result_factory("empty"))
    for title in ("Checks", "Requests", "Stages", "Errors"):
        assert f"## {title}" in text
    assert _section(text, "Requests") == ["No requests were recorded."]
    assert _section(text, "Errors") == ["None recorded."]
    assert "before any load interval was recorded" in text


def test_summary_is_deterministic(result_factory):
    assert render_summary(result_factory("failed")) == render_summary(result_factory("failed"))


def test_stack_error_is_partial_too(result_factory):
    result = replace(result_factory("interrupted"), status=RunStatus.ERROR, exit_status=3)
    lines = render_summary(result).splitlines()
    assert lines[0] == "# ERROR: the run stopped on an error; this report is partial"
    assert lines[2].startswith("> **PARTIAL REPORT: the run stopped on an error after 2 min")
    assert "(exit status 3)" in lines[2]


def test_scaling_paragraph_says_peak_first_scale_up_and_reasons(result_factory):
    text = render_summary(result_factory("failed"))
    assert text.index("## Stages") < text.index("## Scaling and connections")
    assert _section(text, "Scaling and connections") == [
        "Replicas: 3 at the start, at most 9 (HPA 2–10). First scale-up at 14.2 s (3 → 5). "
        "20 decisions; the replica count changed 2 times (3 → 5 at 14.2 s, 5 → 9 at 74.2 s); "
        "by reason: stabilized 10, within-tolerance 8, scale-up 2. "
        "Targets (% of request): cpu 70 %, memory 80 %, tolerance 10 %.",
        "Server connections (pg_stat_activity): peak 95 of 97 (max_connections 100 − 3 reserved).",
        "Database pools: at most 48 of 50 connections in use on one replica (96 % of "
        "DB_POOL_MAX; lent out, not merely open); at least 80 % in use in 108 of 183 samples; "
        "the busiest replica held 34.6 in use on average; at most 10 requests waiting.",
    ]


def test_no_scaling_paragraph_without_the_sections(result_factory):
    assert "## Scaling" not in render_summary(result_factory("passed", extra=False))
    assert "## Scaling" not in render_summary(result_factory("empty"))


def test_headroom_section_lists_each_threshold(result_factory):
    section = _section(render_summary(result_factory("failed")), "Headroom")
    assert section[0] == ("Headroom from the steady state (60-270 s: 120.0 req/s over 3.0 "
                          "replicas):")
    assert section[1].startswith("- HPA scale-up on CPU (above 77 % of request): at 770 req/s, "
                                 "6.42x this load")
    assert section[2].startswith("- HPA scale-up on memory (above 88 % of request): not reached "
                                 "by load; memory does not grow")
    assert "## Headroom" not in render_summary(result_factory("passed"))


def test_a_skip_whose_evidence_is_its_reason_says_it_once(result_factory):
    result = result_factory("failed")
    *rest, pool = result.checks
    why = "the embedded stack uses SQLite: no connection pool to observe"
    for evidence, expected in ((why, f"skipped: {why} |"),
                               ("3 scrapes", f"skipped: {why}. 3 scrapes |")):
        checks = (*rest, replace(pool, reason=why, evidence=evidence))
        rows = _section(render_summary(replace(result, checks=checks)), "Checks")
        assert rows[-1].endswith(f"| — | {expected}"), rows[-1]
