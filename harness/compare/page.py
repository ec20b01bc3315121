"""A small self-contained HTML page (tables and plotly charts) for the comparison, trends and
capacity reports. It borrows the run report's stylesheet so every report looks alike, and inlines
plotly.js so the page opens offline. `harness.plan` renders its report with it too.

Pages are described by frozen records (Page, Section, Table, ChartSpec); rendering is
deterministic: chart specs are serialised with sorted keys.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from plotly.offline import get_plotlyjs

__all__ = ["ChartSpec", "Kpi", "Page", "Row", "Section", "Table", "render_page"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_TEMPLATES = Path(__file__).resolve().parents[1] / "report" / "templates"


@dataclass(frozen=True)
class Kpi:
    label: str
    value: str
    sub: str = ""
    alert: bool = False


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    css: str = ""


@dataclass(frozen=True)
class Table:
    id: str
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    numeric: frozenset[int] = frozenset()
    badge_column: int = -1


@dataclass(frozen=True)
class ChartSpec:
    id: str
    title: str
    data: tuple[dict[str, Any], ...]
    layout: dict[str, Any]
    caption: str = ""


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[ChartSpec, ...] = ()


@dataclass(frozen=True)
class Page:
    title: str
    status: str  # pass, regression, fits, over, written, no-data …: the header's badge
    headline: str
    meta: tuple[tuple[str, str], ...] = ()
    kpis: tuple[Kpi, ...] = ()
    sections: tuple[Section, ...] = field(default_factory=tuple)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_for_script(data: Any) -> str:
    text = json.dumps(_finite(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def base_layout(x_title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "margin": {"l": 60, "r": 20, "t": 10, "b": 50},
        "height": 320,
        "xaxis": {"title": {"text": x_title}, "zeroline": False},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "x": 0, "y": 1.12},
        "hovermode": "closest",
        "template": "plotly_white",
    }
    layout.update(extra)
    return layout


def render_page(page: Page, charts: Sequence[ChartSpec] | None = None) -> str:
    all_charts = list(charts) if charts is not None else [
        c for s in page.sections for c in s.charts
    ]
    ids = [c.id for c in all_charts]
    if len(ids) != len(set(ids)):
        raise ValueError(f"chart ids must be unique: {ids}")
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES),
                                    jinja2.FileSystemLoader(REPORT_TEMPLATES)]),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    plotly_js = get_plotlyjs()
    if "</script" in plotly_js.lower():
        raise RuntimeError("the bundled plotly.js cannot be inlined: it contains </script")
    specs = {c.id: {"data": list(c.data), "layout": c.layout} for c in all_charts}
    return environment.get_template("page.html.j2").render(
        page=page, chart_specs=_json_for_script(specs), plotly_js=plotly_js,
    )
