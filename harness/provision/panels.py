"""Building blocks for the dashboard sources in dashboards/*.dashboard.py (grafanalib).

Every panel reads the Prometheus data source chosen by the dashboard's `datasource` variable,
rate windows use Grafana's `$__rate_interval`, and thresholds come from the caller (the SLO spec
or the stack's numbers), never from a literal in a dashboard source.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from grafanalib.core import (
    Annotations,
    Dashboard,
    GridPos,
    RowPanel,
    Stat,
    Target,
    Template,
    Templating,
    Time,
    TimeSeries,
)

from harness.provision.annotations import annotation_list

__all__ = [
    "scope_variables",
    "DATASOURCE",
    "RATE",
    "SCOPE",
    "choice_variable",
    "Line",
    "Query",
    "dashboard",
    "layout",
    "row",
    "scoped",
    "stat",
    "timeseries",
]

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"
SCHEMA_VERSION = 39  # Grafana 11: the JSON is already in its current shape, nothing to migrate
_REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# The same dashboards serve every environment: the app's series are narrowed to the chosen
# namespace, job and instances (each variable defaults to All, whose value ".*" also matches a
# Prometheus without a namespace label, as the compose stack's).
SCOPE = 'namespace=~"$namespace",job=~"$job",instance=~"$instance"'
SCOPE_VARIABLES = (("namespace", "Namespace"), ("job", "Job"), ("instance", "Instance"))
# The app's own series (stack/app) and its process collector's; the harness's own client-side
# series (harness_*) and recorded SLO series carry no scrape labels and stay as written.
_APP_SERIES = re.compile(r"\b((?:servicedesk|process)_[a-zA-Z0-9_]+)(?:(\{)|(?![a-zA-Z0-9_(]))")


def scoped(expr: str) -> str:
    """`expr` with SCOPE added to every selector of the app's series (metric names are ours,
    written by the sources in this package, so a name-anchored rewrite is enough)."""

    def add(match: re.Match[str]) -> str:
        name, brace = match.group(1), match.group(2)
        return f"{name}{{{SCOPE}," if brace else f"{name}{{{SCOPE}}}"

    return _APP_SERIES.sub(add, expr)


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Line:
    """A threshold drawn on a panel: a value and the colour from it upwards."""

    value: float
    color: str = "red"


def _targets(queries: Sequence[Query], instant: bool = False) -> list[Target]:
    if not queries:
        raise ValueError("a panel needs at least one query")
    return [
        Target(expr=scoped(q.expr), legendFormat=q.legend, refId=_REF_IDS[i], instant=instant,
               datasource=DATASOURCE)
        for i, q in enumerate(queries)
    ]


def _steps(lines: Sequence[Line], base: str) -> list[dict[str, object]]:
    steps: list[dict[str, object]] = [{"color": base, "value": None}]
    steps += [{"color": line.color, "value": line.value} for line in sorted(lines,
                                                                            key=lambda x: x.value)]
    return steps


def timeseries(title: str, queries: Sequence[Query], *, unit: str, description: str,
               lines: Sequence[Line] = (), stacked: bool = False,
               minimum: float | None = None) -> TimeSeries:
    return TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        unit=unit,
        thresholds=_steps(lines, "green"),
        thresholdsStyleMode="dashed" if lines else "off",
        stacking={"mode": "normal", "group": "A"} if stacked else {},
        fillOpacity=20 if stacked else 10,
        valueMin=minimum,
        legendDisplayMode="table",
        legendPlacement="bottom",
        legendCalcs=["mean", "max", "lastNotNull"],
        tooltipMode="multi",
    )


def stat(title: str, query: Query, *, unit: str, description: str,
         lines: Sequence[Line] = (), base: str = "green", decimals: int | None = None) -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets([query], instant=True),
        format=unit,
        decimals=decimals,
        thresholds=_steps(lines, base),
        reduceCalc="lastNotNull",
        graphMode="none",
        colorMode="value",
    )


def row(title: str) -> RowPanel:
    return RowPanel(title=title)


def layout(*rows: Sequence[object], height: int = 8) -> list[object]:
    """Place panels left to right, each row splitting the 24 columns evenly; a RowPanel on its
    own starts a titled section."""
    placed: list[object] = []
    y = 0
    for panels in rows:
        if len(panels) == 1 and isinstance(panels[0], RowPanel):
            panels[0].gridPos = GridPos(h=1, w=24, x=0, y=y)
            placed.append(panels[0])
            y += 1
            continue
        width = 24 // len(panels)
        h = 4 if all(isinstance(p, Stat) for p in panels) else height
        for i, panel in enumerate(panels):
            panel.gridPos = GridPos(h=h, w=width, x=i * width, y=y)  # type: ignore[attr-defined]
            placed.append(panel)
        y += h
    return placed


class _AllByDefault(Template):
    """A multi-value variable that starts at All: Grafana stores that as the value `$__all`
    (grafanalib would store the word "All" as a literal value)."""

    def __attrs_post_init__(self) -> None:
        self._current = {"selected": True, "text": ["All"], "value": ["$__all"]}


def choice_variable(name: str, label: str, query: str) -> Template:
    """A multi-value query variable over the templated Prometheus, All by default."""
    return _AllByDefault(name=name, label=label, dataSource=DATASOURCE, query=query,
                         includeAll=True, multi=True, allValue=".*", refresh=2)


def scope_variables() -> list[Template]:
    """$namespace, $job and $instance, each narrowing the next, from the app's build info."""
    out: list[Template] = []
    matchers: list[str] = []
    for name, label in SCOPE_VARIABLES:
        selector = "{" + ",".join(matchers) + "}" if matchers else ""
        out.append(choice_variable(
            name, label, f"label_values(servicedesk_build_info{selector}, {name})"))
        matchers.append(f'{name}=~"${name}"')
    return out


def dashboard(*, uid: str, title: str, description: str, tags: Sequence[str],
              panels: list[object], extra_variables: Sequence[Template] = ()) -> Dashboard:
    return Dashboard(
        uid=uid,
        title=title,
        description=description,
        tags=sorted({"servicedesk", *tags}),
        timezone="utc",
        time=Time("now-1h", "now"),
        refresh="30s",
        schemaVersion=SCHEMA_VERSION,
        editable=False,
        templating=Templating(list=[
            Template(name="datasource", label="Data source", type="datasource",
                     query="prometheus", default="Prometheus"),
            *scope_variables(),
            *extra_variables,
        ]),
        annotations=Annotations(list=annotation_list(DATASOURCE)),
        panels=panels,
    ).auto_panel_ids()
