"""compare.md, compare.html, compare.json, compare-junit.xml and the trends report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from harness.compare.report import render_markdown, write_comparison
from harness.compare.runs import RunData
from harness.compare.service import record_run
from harness.compare.store import ResultsStore
from harness.compare.trends import KEY_METRICS, render_trends_markdown, write_trends
from harness.compare.verdict import Comparison, compare_runs


@pytest.fixture(scope="module")
def regression(baseline_run: RunData, slow_run: RunData) -> Comparison:
    return compare_runs(slow_run, [baseline_run])


def _chart_specs(html: str) -> dict[str, dict]:
    match = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html,
                      re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_markdown_names_every_metric_and_the_verdict(regression: Comparison) -> None:
    text = render_markdown(regression, "run baseline")
    assert "**REGRESSION in" in text
    for metric in regression.metrics:
        assert f"`{metric.metric.id}`" in text
    assert "| ❌ regression | `latency.all.p95` |" in text


def test_files_are_written_and_consistent(tmp_path: Path, regression: Comparison,
                                          baseline_run: RunData, slow_run: RunData) -> None:
    files = write_comparison(tmp_path, regression, slow_run, [baseline_run], "run baseline")
    data = json.loads(files.json.read_text())
    assert data["verdict"] == "regression"
    assert data["regressions"] == [m.metric.id for m in regression.regressions]
    assert data["baseline"] == {"kind": "run", "runs": ["baseline"],
                                "description": "run baseline"}
    suite = ElementTree.parse(files.junit).getroot().find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "0")) == len(regression.metrics)
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == data["regressions"]
    assert files.markdown.read_text().startswith("# Comparison: slow")


def test_html_is_self_contained_with_valid_charts(tmp_path: Path, regression: Comparison,
                                                  baseline_run: RunData,
                                                  slow_run: RunData) -> None:
    files = write_comparison(tmp_path, regression, slow_run, [baseline_run])
    html = files.html.read_text()
    assert 'id="status-badge">regression<' in html
    assert "<script src=" not in html  # plotly.js is inline: the page opens offline
    specs = _chart_specs(html)
    assert set(specs) == {"chart-change", "chart-p50", "chart-p95", "chart-p99",
                          "chart-throughput", "chart-cpu", "chart-timeline"}
    change = specs["chart-change"]["data"][0]
    assert len(change["x"]) == len(change["y"]) and "latency.all.p95" in change["y"]
    boxes = specs["chart-p95"]["data"]
    assert [b["name"] for b in boxes] == ["baseline", "this run"]
    assert len(boxes[1]["y"]) > 5
    for metric in regression.metrics:
        assert metric.metric.id in html


def test_same_input_same_bytes(tmp_path: Path, regression: Comparison, baseline_run: RunData,
                               slow_run: RunData) -> None:
    a = write_comparison(tmp_path / "a", regression, slow_run, [baseline_run])
    b = write_comparison(tmp_path / "b", regression, slow_run, [baseline_run])
    assert a.html.read_bytes() == b.html.read_bytes()
    assert a.markdown.read_bytes() == b.markdown.read_bytes()


def test_trends_have_one_chart_per_key_metric(tmp_path: Path, baseline_run: RunData,
                                              same_run: RunData, slow_run: RunData) -> None:
    store = ResultsStore(tmp_path / "history")
    record_run(baseline_run, store, None)
    store.set_baseline(baseline_run.run_id)
    record_run(same_run, store, "pass")
    _, files = record_run(slow_run, store, "regression")
    html = files.html.read_text()
    specs = _chart_specs(html)
    assert len(specs) == len(KEY_METRICS)
    p95 = specs["chart-latency-all-p95"]["data"]
    assert len(p95[0]["y"]) == 3
    assert p95[0]["marker"]["color"][-1] == "#c62828"  # the regressed run is red
    assert p95[1]["name"] == "nightly baseline"
    text = render_trends_markdown(store)
    assert "3 stored run(s)" in text and "nightly = `baseline`" in text
    again = write_trends(store, tmp_path / "out")
    assert again.html.read_bytes() == files.html.read_bytes()
