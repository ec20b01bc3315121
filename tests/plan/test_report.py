"""capacity.md, capacity.html (charts with the knee marked) and capacity.json render."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.plan.build import plan_run
from harness.plan.capacity import CapacityPlan
from harness.plan.report import render_plan_markdown, write_plan
from tests.plan.steprun import write_step_run


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> CapacityPlan:
    return plan_run(write_step_run(tmp_path_factory.mktemp("step") / "step-run"), growth=1.5)


def test_markdown_shows_the_hand_numbers(plan: CapacityPlan) -> None:
    text = render_plan_markdown(plan)
    assert "knee at 400 users (p95 above the SLO)" in text
    assert "one replica carries 125.0 req/s at the HPA CPU target" in text
    assert "| overlays/production | 3–5 | 6 | does NOT fit | 49 / 87 |" in text
    assert "ceil(540.0 × (1 + 0.25 headroom) / 125.0) = ceil(5.40)" in text
    assert "stack/pricing.yaml" in text and "as of 2024-12" in text


def test_html_charts_mark_the_knee(tmp_path: Path, plan: CapacityPlan) -> None:
    files = write_plan(tmp_path, plan)
    html = files.html.read_text()
    match = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html,
                      re.S)
    assert match is not None
    specs = json.loads(match.group(1))
    assert set(specs) == {"chart-latency", "chart-throughput", "chart-cpu", "chart-replicas"}
    knee_x = specs["chart-latency"]["layout"]["shapes"][0]["x0"]
    assert knee_x == pytest.approx(251.85, abs=0.01)
    assert specs["chart-throughput"]["layout"]["shapes"][0]["x0"] == knee_x
    replicas = specs["chart-replicas"]["data"]
    assert replicas[0]["name"] == "replicas needed"
    assert replicas[-1]["name"] == "projected" and replicas[-1]["y"] == [6]
    assert any(t["name"] == "overlays/production maxReplicas 5" for t in replicas)
    assert 'id="status-badge">over<' in html  # production does not fit


def test_json_is_the_same_plan(tmp_path: Path, plan: CapacityPlan) -> None:
    data = json.loads(write_plan(tmp_path, plan).json.read_text())
    assert data["knee"]["users"] == 400 and data["knee"]["last_good_users"] == 200
    assert data["cpu"]["rps_per_replica_at_target"] == pytest.approx(125.0)
    production = next(e for e in data["environments"] if e["target"] == "overlays/production")
    assert production["replicas_needed"] == 6 and production["fits"] is False
