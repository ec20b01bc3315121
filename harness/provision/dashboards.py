"""The Grafana dashboards (the seed's five and the Load test): sources in
dashboards/*.dashboard.py, JSON next to them.

A source is a Python file with `build(ctx: DashboardContext) -> grafanalib.core.Dashboard`; it
gets the SLO spec and the stack's numbers, so thresholds are never typed into a dashboard. The
JSON is rendered with sorted keys (stable diffs) into `<name>.json`, which the compose stack's
Grafana provisions from the same folder and `harness dashboards push` sends to Grafana's API.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import paths
from harness.config.model import SloSpec
from harness.errors import ConfigError
from harness.provision.sources import StackNumbers

__all__ = [
    "DashboardContext",
    "PanelQuery",
    "RenderedDashboard",
    "build_dashboards",
    "dashboards_dir",
    "panel_queries",
    "stale_files",
    "write_dashboards",
]

SUFFIX = ".dashboard.py"


def dashboards_dir() -> Path:
    return paths.project_root() / "dashboards"


@dataclass(frozen=True)
class DashboardContext:
    """What a dashboard source may draw on."""

    slo: SloSpec
    stack: StackNumbers


@dataclass(frozen=True)
class RenderedDashboard:
    name: str  # the source's stem: application-overview
    uid: str
    title: str
    text: str  # the JSON, sorted keys, trailing newline

    @property
    def filename(self) -> str:
        return f"{self.name}.json"

    def data(self) -> dict[str, Any]:
        return json.loads(self.text)


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref: str
    expr: str


def sources(folder: Path | None = None) -> list[Path]:
    return sorted((folder or dashboards_dir()).glob(f"*{SUFFIX}"))


def _load_builder(path: Path) -> Callable[[DashboardContext], Any]:
    name = "harness_dashboard_" + path.name[: -len(SUFFIX)].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(str(path), None, "cannot be loaded as Python")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    builder = getattr(module, "build", None)
    if not callable(builder):
        raise ConfigError(str(path), "build", "missing",
                          "a function build(ctx: DashboardContext) -> grafanalib Dashboard")
    return builder  # type: ignore[no-any-return]


def _json_data(value: Any) -> Any:
    """What grafanalib's encoder does: nested attrs objects serialise themselves."""
    to_json = getattr(value, "to_json_data", None)
    if to_json is None:
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")
    return to_json()


def render(dashboard: Any) -> str:
    return json.dumps(dashboard.to_json_data(), default=_json_data, sort_keys=True,
                      indent=2, ensure_ascii=False) + "\n"


def build_dashboards(ctx: DashboardContext, folder: Path | None = None
                     ) -> tuple[RenderedDashboard, ...]:
    """Every source in `folder` (default dashboards/), rendered; uids and titles are unique."""
    found = sources(folder)
    if not found:
        raise ConfigError(str(folder or dashboards_dir()), None, f"no *{SUFFIX} sources")
    out: list[RenderedDashboard] = []
    for path in found:
        dashboard = _load_builder(path)(ctx)
        if not getattr(dashboard, "uid", None):
            raise ConfigError(str(path), "uid", "missing", "a stable uid such as servicedesk-sla")
        out.append(RenderedDashboard(path.name[: -len(SUFFIX)], dashboard.uid,
                                     dashboard.title, render(dashboard)))
    for attribute in ("uid", "title"):
        values = [getattr(d, attribute) for d in out]
        if len(set(values)) != len(values):
            raise ConfigError(str(folder or dashboards_dir()), attribute,
                              f"not unique across dashboards: {sorted(values)}")
    return tuple(out)


def write_dashboards(rendered: tuple[RenderedDashboard, ...], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for item in rendered:
        target = out_dir / item.filename
        target.write_text(item.text, encoding="utf-8")
        written.append(target)
    return written


def stale_files(rendered: tuple[RenderedDashboard, ...], folder: Path) -> list[str]:
    """Names of JSON files in `folder` that differ from what the sources produce, are missing,
    or have no source any more."""
    stale = []
    expected = {item.filename: item.text for item in rendered}
    for name, text in sorted(expected.items()):
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    for path in sorted(folder.glob("*.json")):
        if path.name not in expected:
            stale.append(path.name)
    return stale


def _panels(panels: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels") or [])


def panel_queries(data: Mapping[str, Any]) -> list[PanelQuery]:
    """Every PromQL expression of a rendered dashboard, with where it comes from."""
    found = []
    for panel in _panels(list(data.get("panels") or [])):
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if expr:
                found.append(PanelQuery(str(data.get("title")), str(panel.get("title")),
                                        str(target.get("refId")), expr))
    return found
