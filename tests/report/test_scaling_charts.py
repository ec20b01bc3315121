"""The capacity charts: replicas and utilization with the target band, connections, pools."""

from __future__ import annotations

from dataclasses import replace

import plotly.graph_objects as go
import pytest

from harness.config.k8s import DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP
from harness.report.charts import COLORS, build_charts, figure_json, replica_colors
from harness.report.scaling_charts import (
    METRIC_COLORS,
    REPLICAS_COLOR,
    build_capacity_charts,
)
from harness.verify.check import CheckResult, Verdict
from tests.report.factory import hpa_section


def _chart(result, chart_id: str) -> dict:
    charts = {c.id: c for c in build_capacity_charts(result)}
    return figure_json(charts[chart_id])


def _shapes(layout: dict, yref: str, kind: str = "line") -> list[dict]:
    return [s for s in layout["shapes"] if s.get("yref") == yref and s["type"] == kind]


def test_three_charts_in_order_when_the_run_has_the_sections(result_factory):
    ids = [c.id for c in build_capacity_charts(result_factory("passed"))]
    assert ids == ["chart-scaling", "chart-connections", "chart-pools"]


def test_no_chart_without_the_sections(result_factory):
    assert build_capacity_charts(result_factory("passed", extra=False)) == []
    assert build_capacity_charts(result_factory("empty")) == []


def test_capacity_charts_share_the_time_axis_and_stage_bands(result_factory):
    result = result_factory("passed")
    throughput = figure_json(build_charts(result)[0])["layout"]
    bands = [s for s in throughput["shapes"] if s["type"] == "rect"]
    for chart in build_capacity_charts(result):
        layout = figure_json(chart)["layout"]
        assert layout["xaxis"]["range"] == throughput["xaxis"]["range"] == [0, 300.0]
        assert layout["xaxis"]["title"]["text"] == "time since the load started"
        stage_bands = [s for s in layout["shapes"] if s["type"] == "rect" and s["yref"] == "paper"]
        assert stage_bands == bands
        assert layout["template"] == throughput["template"]


def test_replicas_are_a_step_line_with_the_hpa_bounds_dashed(result_factory):
    result = result_factory("passed")
    spec = _chart(result, "chart-scaling")
    replicas = spec["data"][0]
    assert replicas["name"] == "replicas"
    assert replicas["line"] == {"color": REPLICAS_COLOR, "width": 2.5, "shape": "hv"}
    counts = result.extra["scaling"]["replicas"]
    assert replicas["x"][:-1] == [c["t"] for c in counts]
    assert replicas["y"][:-1] == [c["replicas"] for c in counts]
    assert (replicas["x"][-1], replicas["y"][-1]) == (300.0, 9)  # runs on to the end of the data
    bounds = _shapes(spec["layout"], "y")
    assert [(s["y0"], s["line"]["dash"]) for s in bounds] == [(2, "dash"), (10, "dash")]
    texts = {a["text"] for a in spec["layout"]["annotations"]}
    assert {"HPA min 2", "HPA max 10"} <= texts
    assert spec["layout"]["yaxis"]["range"] == [0, 11]


def test_utilization_per_metric_on_the_second_axis_with_the_target_band(result_factory):
    result = result_factory("passed")
    spec = _chart(result, "chart-scaling")
    cpu, memory = spec["data"][1:]
    decisions = result.extra["scaling"]["decisions"]
    assert cpu["name"] == "cpu utilization" and memory["name"] == "memory utilization"
    assert cpu["yaxis"] == memory["yaxis"] == "y2"
    assert cpu["x"] == [d["time"] for d in decisions]
    assert cpu["y"] == [d["per_metric"][0]["utilization_percent"] for d in decisions]
    assert cpu["y"][:2] == [96, 60]
    assert cpu["line"]["color"] == METRIC_COLORS["cpu"]
    # target ± 10 % tolerance: 63–77 % for cpu, 72–88 % for memory
    bands = _shapes(spec["layout"], "y2", "rect")
    assert [(round(b["y0"], 3), round(b["y1"], 3)) for b in bands] == [(63.0, 77.0), (72.0, 88.0)]
    assert [s["y0"] for s in _shapes(spec["layout"], "y2")] == [70, 80]
    texts = {a["text"] for a in spec["layout"]["annotations"]}
    assert {"cpu target 70 % (63–77 %)", "memory target 80 % (72–88 %)"} <= texts
    axis = spec["layout"]["yaxis2"]
    assert axis["range"][1] >= 117  # the highest cpu point (117 %) stays in view
    assert axis["domain"][1] < spec["layout"]["yaxis"]["domain"][0]  # a panel of its own


def test_the_band_follows_the_hpa_tolerance(result_factory):
    result = result_factory("passed")
    scaling = result.extra["scaling"]
    hpa = hpa_section(scale_up=replace(DEFAULT_SCALE_UP, tolerance=0.2),
                      scale_down=replace(DEFAULT_SCALE_DOWN, tolerance=0.05))
    result = replace(result, extra={"scaling": {**scaling, "hpa": hpa}})
    band = _shapes(_chart(result, "chart-scaling")["layout"], "y2", "rect")[0]
    assert (round(band["y0"], 3), round(band["y1"], 3)) == (66.5, 84.0)


def test_a_metric_without_values_draws_its_band_but_no_trace(result_factory):
    result = result_factory("passed")
    scaling = result.extra["scaling"]
    decisions = [
        {**d, "per_metric": [{**m, "utilization_percent": None} if m["metric"] == "cpu" else m
                             for m in d["per_metric"]]}
        for d in scaling["decisions"]
    ]
    result = replace(result, extra={"scaling": {**scaling, "decisions": decisions}})
    spec = _chart(result, "chart-scaling")
    assert [t["name"] for t in spec["data"]] == ["replicas", "memory utilization"]
    assert len(_shapes(spec["layout"], "y2", "rect")) == 2


def test_connections_against_max_connections_minus_reserved(result_factory):
    result = result_factory("failed")
    spec = _chart(result, "chart-connections")
    assert [t["name"] for t in spec["data"]] == ["total", "active", "idle"]
    samples = result.extra["connections"]["samples"]
    assert spec["data"][0]["x"] == [s["t"] for s in samples]
    assert spec["data"][0]["y"] == [s["total"] for s in samples]
    assert spec["data"][1]["y"] == [s["active"] for s in samples]
    limit = _shapes(spec["layout"], "y")
    assert [(s["y0"], s["line"]["dash"]) for s in limit] == [(97.0, "dash")]
    assert "max_connections 100 − 3 reserved = 97" in {
        a["text"] for a in spec["layout"]["annotations"]
    }
    assert spec["layout"]["yaxis"]["range"][1] > max(97, max(s["total"] for s in samples))


def _server_check(threshold: float, evidence: str) -> CheckResult:
    return CheckResult("pool.server-connections", "Server connections within max_connections",
                       Verdict.PASS, 7.0, threshold, "connections", "<=", None, evidence)


def test_the_limit_comes_from_the_check_when_the_section_lacks_it(result_factory):
    """Never from the evidence sentence: the check's threshold, labelled by its value."""
    result = result_factory("passed")
    connections = {k: v for k, v in result.extra["connections"].items()
                   if k not in ("max_connections", "reserved")}
    check = _server_check(97.0, "peak 7 client connections in pg_stat_activity over 12 samples; "
                                "max_connections 100 - 3 reserved = 97")
    result = replace(result, extra={"connections": connections},
                     checks=(*result.checks, check))
    spec = _chart(result, "chart-connections")
    assert [s["y0"] for s in _shapes(spec["layout"], "y")] == [97.0]
    assert not any("reserved" in a["text"] for a in spec["layout"]["annotations"])
    bare = replace(result, checks=(*result.checks[:-1], _server_check(90.0, "")))
    layout = _chart(bare, "chart-connections")["layout"]
    assert [s["y0"] for s in _shapes(layout, "y")] == [90.0]
    assert "limit 90" in {a["text"] for a in layout["annotations"]}


def test_pools_in_use_above_waiting_per_replica_in_the_replica_colours(result_factory):
    result = result_factory("failed", replicas=4)
    spec = _chart(result, "chart-pools")
    colors = replica_colors(result.replicas)
    in_use = [t for t in spec["data"] if t.get("yaxis") != "y2"]
    waiting = [t for t in spec["data"] if t.get("yaxis") == "y2"]
    assert [(t["name"], t["line"]["color"]) for t in in_use] == list(colors.items())
    assert [t["line"]["color"] for t in waiting] == list(colors.values())
    assert all(t["showlegend"] is False for t in waiting)
    samples = [s for s in result.extra["pools"]["samples"] if s["replica"] == "replica-0"]
    assert in_use[0]["y"] == [s["in_use"] for s in samples]
    assert waiting[0]["y"] == [s["waiting"] for s in samples]
    assert max(waiting[0]["y"]) > 0  # the failed run's pool was too small at peak
    layout = spec["layout"]
    assert [s["y0"] for s in _shapes(layout, "y")] == [50.0]
    assert "DB_POOL_MAX 50" in {a["text"] for a in layout["annotations"]}
    assert layout["yaxis2"]["domain"][1] < layout["yaxis"]["domain"][0]
    assert layout["xaxis"]["anchor"] == "y2"


def test_pool_max_from_the_check_when_the_samples_lack_it(result_factory):
    result = result_factory("passed")
    samples = [{k: v for k, v in s.items() if k != "max"}
               for s in result.extra["pools"]["samples"]]
    check = replace(result.checks[-1], threshold=20.0)
    assert check.id == "pool.max-in-use"
    result = replace(result, extra={"pools": {"samples": samples}},
                     checks=(*result.checks[:-1], check))
    assert [s["y0"] for s in _shapes(_chart(result, "chart-pools")["layout"], "y")] == [20.0]


@pytest.mark.parametrize("kind", ["passed", "failed", "interrupted"])
def test_capacity_charts_pass_plotlys_validators(result_factory, kind):
    for chart in build_capacity_charts(result_factory(kind)):
        spec = figure_json(chart)
        go.Figure(data=spec["data"], layout=spec["layout"])  # raises ValueError on a bad property
        assert all(trace["type"] == "scatter" for trace in spec["data"])
        assert chart.layout["shapes"], chart.id


def test_interrupted_run_marks_where_it_stopped_here_too(result_factory):
    result = result_factory("interrupted")
    stop = result.timeline[-1].t
    for chart in build_capacity_charts(result):
        layout = figure_json(chart)["layout"]
        marks = [s for s in layout["shapes"] if s.get("x0") == stop and s["type"] == "line"]
        assert len(marks) == 1, chart.id
        assert marks[0]["line"]["color"] == COLORS["interrupted"]


def test_a_pool_nobody_waited_for_says_so(result_factory):
    texts = {a["text"] for a in _chart(result_factory("passed"), "chart-pools")["layout"]
             ["annotations"]}
    assert "no request waited for a connection" in texts
    texts = {a["text"] for a in _chart(result_factory("failed"), "chart-pools")["layout"]
             ["annotations"]}
    assert "no request waited for a connection" not in texts
