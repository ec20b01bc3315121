"""The history report's change points over real stored runs: twelve synthetic nightly runs (the
way `harness run` writes them) of which the last four are 20 % slower, made so on purpose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.compare.runs import load_run
from harness.compare.service import compare_run, record_run, store_for
from harness.compare.store import ResultsStore
from harness.compare.trends import render_trends_html, write_trends
from harness.compare.verdict import Thresholds
from tests.compare.synthetic import STARTED_AT, write_run

NIGHTS = 12
SLOW_FROM = 8  # the ninth run and the three after it: 20 % slower


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~1-2 s per run (histogram encoding)."""
    root = tmp_path_factory.mktemp("history")
    rng = np.random.default_rng(17)
    for night in range(NIGHTS):
        level = 1.2 if night >= SLOW_FROM else 1.0
        run_id = f"nightly-{night + 1:02d}"
        folder = write_run(root / run_id, seed=100 + night, ramp=4.0, steady=40.0,
                           slowdown=level * float(rng.lognormal(0.0, 0.03)),
                           started_at=STARTED_AT + night * 86_400, run_id=run_id)
        record_run(load_run(folder), store_for(root), None)
    return root


def test_the_change_point_is_found_at_the_first_slow_run(reports: Path) -> None:
    markdown = (write_trends(store_for(reports)).markdown).read_text()
    rows = re.findall(r"^\| `([\w.-]+)` \| nightly \| `([\w-]+)` \|.*\| (worse|better) \| (.*) \|$",
                      markdown.split("## Change points")[1], re.M)
    assert {metric for metric, _, _, _ in rows} >= {"latency.all.p50", "latency.all.p95"}
    for metric, run_id, direction, step in rows:
        # every latency is 20 % slower; throughput, errors, CPU and pool wait did not move
        assert metric.startswith("latency."), (metric, step)
        assert (run_id, direction) == ("nightly-09", "worse")
        change = float(re.match(r"\+([\d.]+)%", step).group(1))  # type: ignore[union-attr]
        assert 12 < change < 28, step


def test_trends_html_draws_each_change_point(reports: Path) -> None:
    html = render_trends_html(store_for(reports))
    specs = json.loads(re.search(r'<script type="application/json" id="chart-specs">(.*?)'
                                 r"</script>", html, re.S).group(1))  # type: ignore[union-attr]
    p95 = next(spec for key, spec in specs.items() if "latency-all-p95" in key)
    layout = p95["layout"]
    assert [s["x0"] for s in layout["shapes"]] == ["2026-09-29 14:13"]  # the ninth night
    assert layout["annotations"][0]["text"].endswith("nightly-09")
    means = next(t for t in p95["data"] if t["name"] == "nightly segment mean")
    first, second = means["y"][0], means["y"][3]
    assert second / first == pytest.approx(1.2, abs=0.06)
    throughput = next(spec for key, spec in specs.items() if "throughput" in key)
    assert throughput["layout"]["shapes"] == []


def test_compare_says_the_run_starts_a_new_segment(reports: Path, tmp_path: Path) -> None:
    store: ResultsStore = store_for(reports)
    ninth = load_run(store.folder("nightly-09"))
    outcome = compare_run(ninth, "nightly-08", reports_dir=reports, store=store, last=5,
                          thresholds=Thresholds(), out=tmp_path)
    assert outcome.history is not None
    assert {c.metric for c in outcome.history.starts} >= {"latency.all.p95"}
    assert any(n.startswith("this run starts a new segment of latency.all.p95 in the stored "
                            "history (12 runs): +") for n in outcome.comparison.notes)
    document = json.loads(outcome.files.json.read_text())
    assert "latency.all.p95" in document["history"]["starts_segment"]
    later = compare_run(load_run(store.folder("nightly-11")), "nightly-08", reports_dir=reports,
                        store=store, last=5, thresholds=Thresholds(), out=tmp_path / "later")
    assert later.history is not None and later.history.starts == ()
