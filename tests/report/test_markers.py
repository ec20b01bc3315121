"""Scale events and faults on every time chart; the wall clock on hover."""

from __future__ import annotations

from dataclasses import replace

from harness.report.charts import COLORS, build_charts
from harness.report.markers import Marker, marker_layout, markers, wall_clock
from harness.report.scaling_charts import build_capacity_charts
from tests.report.factory import STARTED_AT

FAULTS = {"timeline": [{"name": "postgres-restart", "injected_s": 100.0, "lifted_s": 112.5},
                       {"name": "not-run", "injected_s": None}]}


def test_scale_events_and_faults_come_from_the_runs_sections(result_factory):
    result = result_factory("passed")
    result = replace(result, extra={**result.extra, "faults": FAULTS})
    found = markers(result)
    scale = [m for m in found if m.kind == "scale"]
    assert scale and all("→" in m.label for m in scale)
    assert Marker("fault", 100.0, 112.5, "postgres-restart") in found


def test_every_time_chart_carries_the_markers(result_factory):
    result = result_factory("passed")
    result = replace(result, extra={**result.extra, "faults": FAULTS})
    charts = [*build_charts(result), *build_capacity_charts(result)]
    timed = [c for c in charts if c.layout["xaxis"].get("type") != "log"]
    assert len(timed) >= 8
    for chart in timed:
        texts = [a["text"] for a in chart.layout["annotations"]]
        assert " postgres-restart" in texts, chart.id
        assert any("→" in t for t in texts), chart.id


def test_fault_labels_at_the_top_scale_labels_at_the_foot_inside_the_plot():
    shapes, notes = marker_layout([Marker("scale", 10, 10, "3→2"), Marker("fault", 5, 9, "x")])
    assert [n["yanchor"] for n in notes] == ["bottom", "top"]
    assert [n["y"] for n in notes] == [0, 1]
    assert any(s["type"] == "rect" and s["x0"] == 5 and s["x1"] == 9 for s in shapes)


def test_every_other_stage_has_the_same_grey_as_the_legend_says(result_factory):
    layout = build_charts(result_factory("passed"))[0].layout
    fills = [s["fillcolor"] for s in layout["shapes"] if s["type"] == "rect"
             and s.get("layer") == "below" and s["x0"] in (0.0, 240.0)]
    assert fills == [COLORS["stage"], COLORS["stage"]]


def test_hover_leads_with_the_wall_clock(result_factory):
    result = replace(result_factory("passed"), load_started_at=STARTED_AT)
    first = build_charts(result)[0].data[0]
    assert first["customdata"][0] == "14:13:22"  # t = 2 s after 14:13:20 UTC
    assert first["hovertemplate"].startswith("%{customdata} UTC · ")
    assert wall_clock(None, [1.0]) is None
