"""What happened to the stack, drawn on every time chart: scale events and fault windows.

Both come from the run's own sections (the autoscaler's replica counts, the fault timeline), so
a latency step can be read against the 3 → 2 scale-down or the PostgreSQL restart beside it.
Scale events are labelled at the foot of the plot and faults at its top, inside the plot area,
so neither meets the stage names above it or the SLO labels at its left edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from harness.report.results import RunResult

__all__ = ["FAULT_COLOR", "SCALE_COLOR", "Marker", "marker_layout", "markers", "wall_clock"]

SCALE_COLOR = "#7c3aed"
FAULT_COLOR = "#dc2626"


@dataclass(frozen=True)
class Marker:
    kind: str  # "scale" or "fault"
    start: float  # seconds since the load started
    end: float  # == start for an instant
    label: str


def _scale_events(extra: Mapping[str, Any]) -> list[Marker]:
    scaling = extra.get("scaling")
    if not isinstance(scaling, Mapping):
        return []
    found, previous = [], None
    for point in scaling.get("replicas") or ():
        if not isinstance(point, Mapping) or "replicas" not in point or "t" not in point:
            continue
        count = int(point["replicas"])
        if previous is not None and count != previous and float(point["t"]) >= 0:
            t = float(point["t"])
            found.append(Marker("scale", t, t, f"{previous}→{count}"))
        previous = count
    return found


def _faults(extra: Mapping[str, Any]) -> list[Marker]:
    section = extra.get("faults")
    if not isinstance(section, Mapping):
        return []
    found = []
    for row in section.get("timeline") or ():
        if not isinstance(row, Mapping) or row.get("injected_s") is None:
            continue
        start = float(row["injected_s"])
        lifted = row.get("lifted_s")
        end = float(lifted) if lifted is not None else start
        found.append(Marker("fault", start, max(end, start), str(row.get("name", "fault"))))
    return found


def markers(result: RunResult) -> list[Marker]:
    return sorted([*_scale_events(result.extra), *_faults(result.extra)],
                  key=lambda m: (m.start, m.kind))


def marker_layout(found: list[Marker]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plotly shapes and annotations for the markers (x in seconds, y in paper units)."""
    shapes: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for marker in found:
        color = SCALE_COLOR if marker.kind == "scale" else FAULT_COLOR
        if marker.end > marker.start:
            shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": marker.start,
                           "x1": marker.end, "y0": 0, "y1": 1, "fillcolor": "rgba(220,38,38,0.08)",
                           "line": {"width": 0}, "layer": "below"})
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": marker.start,
                       "x1": marker.start, "y0": 0, "y1": 1,
                       "line": {"color": color, "width": 1.2, "dash": "dash"}})
        annotations.append({
            "x": marker.start, "xref": "x", "xanchor": "left",
            "y": 0 if marker.kind == "scale" else 1, "yref": "paper",
            "yanchor": "bottom" if marker.kind == "scale" else "top",
            "text": f" {marker.label}", "showarrow": False,
            "font": {"size": 10, "color": color}, "bgcolor": "rgba(255,255,255,0.75)",
        })
    return shapes, annotations


def wall_clock(origin: float | None, seconds: list[float]) -> list[str] | None:
    """'14:03:05' (UTC) for each time, to line the charts up with Grafana; None without the
    load's start time (results.json written before it was recorded)."""
    if origin is None:
        return None
    return [datetime.fromtimestamp(origin + t, tz=UTC).strftime("%H:%M:%S") for t in seconds]
