"""write_report: the four files, round-trip, determinism, no secrets, self-contained HTML."""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs

from harness.report.render import (
    ReportFiles,
    extra_sections,
    redact_result,
    render_html,
    write_report,
)
from harness.report.results import load_results
from tests.report.factory import SECRET, TOKEN

CHARTS = [
    "chart-throughput",
    "chart-latency",
    "chart-errors",
    "chart-endpoint-p95",
    "chart-replica-cpu",
    "chart-replica-rss",
    "chart-latency-distribution",
    "chart-scaling",
    "chart-connections",
    "chart-pools",
]


def _specs(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="chart-specs">(.*?)</script>', html, re.S
    )
    assert match, "no chart specs in report.html"
    return json.loads(match.group(1))


def test_writes_the_four_files_into_a_new_folder(result_factory, tmp_path: Path):
    folder = tmp_path / "reports" / "run-1"
    files = write_report(result_factory("passed"), folder)
    assert isinstance(files, ReportFiles)
    assert files == ReportFiles(
        results_json=folder / "results.json",
        summary_md=folder / "summary.md",
        report_html=folder / "report.html",
        junit_xml=folder / "junit.xml",
    )
    assert files.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == [
        "junit.xml",
        "report.html",
        "results.json",
        "summary.md",
    ]


def test_results_json_round_trips(any_result, tmp_path: Path):
    files = write_report(any_result, tmp_path, secrets=())
    assert load_results(files.results_json) == redact_result(any_result, secrets=())
    data = json.loads(files.results_json.read_text(encoding="utf-8"))
    assert data["schema_version"] == 1
    assert data["status"] == any_result.status.value


def test_same_result_gives_the_same_bytes(result_factory, tmp_path: Path):
    first = write_report(result_factory("failed"), tmp_path / "a", secrets=())
    second = write_report(result_factory("failed"), tmp_path / "b", secrets=())
    for name in ("results_json", "summary_md", "report_html", "junit_xml"):
        assert getattr(first, name).read_bytes() == getattr(second, name).read_bytes(), name


def test_no_credential_reaches_any_file(result_factory, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("DATABASE_PASSWORD", "env-only-password")
    result = result_factory("failed")
    result = result.__class__(
        **{**result.__dict__, "notes": result.notes + ("db said: env-only-password rejected",)}
    )
    files = write_report(result, tmp_path)
    for path in (files.results_json, files.summary_md, files.report_html, files.junit_xml):
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, path.name
        assert TOKEN not in text, path.name
        assert "env-only-password" not in text, path.name
    html = files.report_html.read_text(encoding="utf-8")
    assert "postgresql://harness:***@127.0.0.1:5432/servicedesk" in html
    assert "redis://***@127.0.0.1:6379/0" in html
    assert "token=***&amp;orgId=1" in html


def test_report_html_is_self_contained(result_factory, tmp_path: Path):
    html = write_report(result_factory("passed"), tmp_path).report_html.read_text(encoding="utf-8")
    # the library, inline and gzipped, exactly once
    packed = re.findall(
        r'<script type="application/octet-stream" id="plotly-gz"[^>]*>(.*?)</script>', html, re.S)
    assert len(packed) == 1
    library = gzip.decompress(base64.b64decode(packed[0])).decode("utf-8")
    assert library == get_plotlyjs()
    assert 1_500_000 < len(html) < 2_600_000  # 4.7 MB of plotly.js in about 1.8 MB
    ours = html.replace(packed[0], "")
    assert not re.search(r"<script[^>]+src=", ours)
    assert not re.search(r"<link[^>]+href=", ours)
    assert not re.search(r"\b(src|href)=[\"']?(https?:)?//", ours)
    assert "cdn" not in ours
    assert "https://" not in ours


def test_report_html_has_header_checks_and_every_chart(result_factory, tmp_path: Path):
    html = write_report(result_factory("failed"), tmp_path).report_html.read_text(encoding="utf-8")
    assert '<span class="badge failed" id="status-badge">failed</span>' in html
    assert "20260921-141320-failed" in html
    assert "embedded" in html and "5 min 12 s" in html
    # failures first, each with its evidence, HTML-escaped
    rows = re.findall(r'<tr class="(fail|pass|skipped)" data-check="([^"]+)"', html)
    assert rows[:2] == [("fail", "slo.latency.p99"), ("fail", "slo.error-rate")]
    assert rows[-1] == ("skipped", "pool.max-in-use")
    assert "&lt;worst&gt; window &amp; all." in html
    for chart in CHARTS:
        assert f'<div class="chart" id="{chart}"></div>' in html
    assert sorted(_specs(html)) == sorted(CHARTS)
    assert 'id="partial-notice"' not in html


def test_latency_chart_draws_the_slo_thresholds(result_factory, tmp_path: Path):
    html = write_report(result_factory("failed"), tmp_path).report_html.read_text(encoding="utf-8")
    layout = _specs(html)["chart-latency"]["layout"]
    lines = sorted(s["y0"] for s in layout["shapes"] if s.get("yref") == "y")
    assert lines == [300.0, 500.0]
    labels = {a["text"] for a in layout["annotations"]}
    assert {"SLO p99 300 ms", "SLO p95 500 ms"} <= labels
    assert "peak · steady" in labels


def test_partial_report_says_so_prominently(result_factory, tmp_path: Path):
    html = write_report(result_factory("interrupted"), tmp_path).report_html.read_text(
        encoding="utf-8"
    )
    assert '<span class="badge interrupted" id="status-badge">interrupted</span>' in html
    notice = re.search(
        r'<div class="partial interrupted" id="partial-notice"[^>]*>(.*?)</div>', html
    )
    assert notice and notice.group(1).startswith("PARTIAL REPORT: the run was interrupted")
    assert html.index('id="partial-notice"') < html.index('id="checks"')
    assert "No checks were evaluated" in html


def test_empty_run_renders_without_charts(result_factory):
    html = render_html(result_factory("empty"))
    assert _specs(html) == {}
    assert 'class="chart"' not in html
    assert "No load interval was recorded" in html
    assert "No replica metrics were scraped" in html
    assert "No requests were recorded." in html


def test_extra_sections_become_tables(result_factory, tmp_path: Path):
    result = result_factory("passed")
    sections = extra_sections({"cache": result.extra["cache"],
                               "history": [{"t": 1.0, "from": 2, "to": 3}]})
    assert [s["title"] for s in sections] == ["Cache", "History"]
    assert sections[0]["blocks"][0]["rows"] == [["Errors", "0"], ["Redis max connections", "20"],
                                                ["Retries", "3"]]
    history = sections[1]["blocks"][0]
    assert history["columns"] == ["t", "from", "to"]
    assert history["rows"][0] == ["1", "2", "3"]
    html = write_report(result, tmp_path).report_html.read_text(encoding="utf-8")
    assert '<section id="extra-cache" class="extra">' in html


def test_sections_with_their_own_view_are_not_repeated_as_tables(result_factory, tmp_path: Path):
    html = write_report(result_factory("passed"), tmp_path).report_html.read_text(encoding="utf-8")
    assert '<section id="scaling">' in html
    assert '<section id="connections">' in html
    for key in ("scaling", "connections", "pools"):
        assert f'id="extra-{key}"' not in html
    assert '<section id="extra-cache" class="extra">' in html  # no view of its own: a table


def test_a_section_in_another_shape_stays_a_generic_table(result_factory, tmp_path: Path):
    result = result_factory("passed")
    odd = replace(result, extra={"scaling": {"decisions": [{"t": 15.0, "from": 2, "to": 3}]},
                                 "pools": {"postgres_max": 50}})
    html = write_report(odd, tmp_path).report_html.read_text(encoding="utf-8")
    assert '<section id="extra-scaling" class="extra">' in html
    assert '<section id="extra-pools" class="extra">' in html
    assert '<section id="scaling">' not in html
    assert "chart-scaling" not in _specs(html)


def test_scaling_section_shows_the_hpa_and_every_decision(result_factory, tmp_path: Path):
    result = result_factory("passed")
    html = write_report(result, tmp_path).report_html.read_text(encoding="utf-8")
    section = html[html.index('<section id="scaling">'):html.index('<section id="connections">')]
    assert '<div class="chart" id="chart-scaling"></div>' in section
    assert "<td>70 % of request (no change within 63–77 %)</td>" in section
    assert "<td>2–10</td>" in section
    assert ("20 decisions; the replica count changed 2 times (3 → 5 at 14.2 s, 5 → 9 at 74.2 s)"
            in section)
    rows = re.findall(r"<tr( class=\"scale-(?:up|down)\")?><td class=\"num\">([^<]+)</td>"
                      r"<td class=\"num\">([^<]+)</td>", section)
    assert len(rows) == len(result.extra["scaling"]["decisions"]) == 20
    assert rows[0] == (' class="scale-up"', "14.2 s", "3 → 5")
    assert rows[1] == ("", "29.2 s", "5")
    assert "cpu 96 % of 70 % → 5\nmemory 30 % of 80 % → 2" in section
    assert "<details class=\"panel\"><summary>Show all 20 decisions</summary>" in section


def test_a_short_decisions_table_is_open(result_factory, tmp_path: Path):
    result = result_factory("passed", duration=60.0)
    html = write_report(result, tmp_path).report_html.read_text(encoding="utf-8")
    section = html[html.index('<section id="scaling">'):html.index('<section id="connections">')]
    assert "<details" not in section
    assert '<table class="decisions">' in section


def test_long_extra_tables_start_folded():
    sections = extra_sections(
        {"pools": {"samples": [{"t": i, "in_use": i % 7} for i in range(40)]}}
    )
    block = sections[0]["blocks"][0]
    assert block["collapsed"] is True
    assert len(block["rows"]) == 40


@pytest.mark.parametrize("kind", ["passed", "failed", "interrupted", "empty"])
def test_every_kind_writes(result_factory, tmp_path: Path, kind):
    files = write_report(result_factory(kind), tmp_path)
    assert files.summary_md.read_text(encoding="utf-8").startswith("# ")
    if kind == "empty":  # no load ran: nothing to chart, so no page of empty charts
        assert not files.report_html.exists()
        return
    assert files.report_html.stat().st_size > 1_000_000  # plotly.js is inline


def test_nested_extra_values_read_as_text_not_json():
    sections = extra_sections(
        {
            "scaling": {
                "hpa": {"targets": {"memory": 80, "cpu": 70}, "sync_period_seconds": 15.0},
                "decisions": [
                    {
                        "time": 14.998,
                        "per_metric": [
                            {"metric": "cpu", "ratio": 0.0142857, "replicas": None},
                            {"metric": "memory", "ratio": 0.0875, "replicas": 1},
                        ],
                        "scaled": False,
                    }
                ],
            }
        }
    )
    decisions, hpa = sections[0]["blocks"]
    assert decisions["columns"] == ["time", "per_metric", "scaled"]
    assert decisions["rows"][0] == [
        "14.998",
        "• metric: cpu · ratio: 0.01429 · replicas: —\n"
        "• metric: memory · ratio: 0.0875 · replicas: 1",
        "no",
    ]
    assert hpa["rows"] == [["Sync period seconds", "15"], ["Targets", "cpu: 70 · memory: 80"]]


def test_report_html_has_the_headroom_table(result_factory, tmp_path: Path):
    html = write_report(result_factory("failed"), tmp_path).report_html.read_text(encoding="utf-8")
    assert '<section id="headroom">' in html
    assert "770 req/s" in html and "6.42x" in html and "not by load" in html
    passed = write_report(result_factory("passed"), tmp_path / "p").report_html
    assert 'id="headroom"' not in passed.read_text(encoding="utf-8")


def test_a_skip_reason_is_printed_once(result_factory, tmp_path: Path):
    result = result_factory("passed")
    noted = replace(result.checks[-1], evidence=f"{result.checks[-1].reason} (outside faults)")
    result = replace(result, checks=(*result.checks[:-1], noted))
    html = write_report(result, tmp_path).report_html.read_text(encoding="utf-8")
    assert html.count("no connection pool to observe") == 1
    html = write_report(result_factory("passed"), tmp_path / "plain").report_html.read_text(
        encoding="utf-8")
    assert html.count("no connection pool to observe") == 1
