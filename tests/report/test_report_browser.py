"""report.html in headless Chromium (Debian's package), offline: no errors, charts drawn, not blank.

The page is loaded from file:// with every other request refused and recorded, so a report that
needed the network (a CDN script, a font) fails here rather than on a CI machine without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from harness.report.render import write_report
from tests.report.pngstats import decode_png, pixel_stats

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 900}

CHART_STATE = """
() => Array.from(document.querySelectorAll('.chart')).map(el => ({
  id: el.id,
  svgs: el.querySelectorAll('svg.main-svg').length,
  traces: el.querySelectorAll('.scatterlayer .trace').length,
  lines: Array.from(el.querySelectorAll('.scatterlayer path.js-line'))
    .filter(p => /^M[^LHV]+[LHV]/.test(p.getAttribute('d') || '')).length,
  width: el.getBoundingClientRect().width,
  height: el.getBoundingClientRect().height,
}))
"""
ALL_DRAWN = "() => document.body.getAttribute('data-charts') === 'drawn'"


@dataclass
class Opened:
    page: Page
    problems: list[str] = field(default_factory=list)  # console errors and page errors
    blocked: list[str] = field(default_factory=list)  # requests that were not for a local file


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _open(browser: Browser, html: Path) -> Opened:
    page = browser.new_page(viewport=VIEWPORT)
    opened = Opened(page)

    def route(r: Route) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            opened.blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on(
        "console",
        lambda m: (
            opened.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "assert")
            else None
        ),
    )
    page.on("pageerror", lambda e: opened.problems.append(f"page error: {e}"))
    page.goto(html.as_uri(), wait_until="load")
    page.wait_for_function(ALL_DRAWN, timeout=60_000)
    return opened


def _expected_traces(result) -> dict[str, int]:
    """Traces per chart, in page order: the six over time and the distribution, then scaling,
    connections, pools."""
    replicas = len({p.replica for p in result.replicas})
    expected = {
        "chart-throughput": 2,
        "chart-latency": 3,
        "chart-errors": 1,
        "chart-endpoint-p95": len(result.endpoint_p95),
        "chart-replica-cpu": replicas,
        "chart-replica-rss": replicas,
        "chart-latency-distribution": len(result.latency_curves),
    }
    if "scaling" in result.extra:
        expected["chart-scaling"] = 1 + len(result.extra["scaling"]["hpa"]["targets"])
    if "connections" in result.extra:
        expected["chart-connections"] = 3  # total, active, idle
    if "pools" in result.extra:
        pools = {s["replica"] for s in result.extra["pools"]["samples"]}
        expected["chart-pools"] = 2 * len(pools)  # in use and waiting per replica
    return expected


def _not_blank(png: bytes) -> None:
    stats = pixel_stats(decode_png(png))
    assert stats.variance > 150, stats
    assert stats.distinct_colors > 200, stats
    assert stats.nonwhite_fraction > 0.05, stats
    assert stats.colored_fraction > 0.003, stats  # coloured lines, bands and badges


def test_full_report_opens_offline_with_every_chart_drawn(
    browser: Browser, result_factory, tmp_path: Path
):
    result = result_factory("failed", replicas=4)
    files = write_report(result, tmp_path / "report")
    opened = _open(browser, files.report_html)
    page = opened.page
    try:
        charts = page.evaluate(CHART_STATE)
        expected = _expected_traces(result)
        assert [c["id"] for c in charts] == list(expected)
        for chart in charts:
            assert chart["svgs"] >= 1, chart
            assert chart["traces"] == expected[chart["id"]], chart
            assert chart["lines"] == expected[chart["id"]], chart  # every trace has a drawn line
            assert chart["width"] > 900 and chart["height"] >= 300, chart
        assert page.locator("#status-badge").inner_text().lower() == "failed"
        assert page.locator("#partial-notice").count() == 0
        first_row = page.locator("table.checks tbody tr").first
        assert first_row.get_attribute("data-check") == "slo.latency.p99"

        # zooming one time chart moves the others with it
        page.evaluate("() => Plotly.relayout('chart-latency', {'xaxis.range': [60, 120]})")
        page.wait_for_function(
            "() => document.getElementById('chart-replica-rss').layout.xaxis.range[0] === 60"
        )
        page.evaluate("() => Plotly.relayout('chart-latency', {'xaxis.range': [0, 300]})")
        page.wait_for_function(
            "() => document.getElementById('chart-throughput').layout.xaxis.range[0] === 0"
        )

        page.screenshot(path=str(tmp_path / "report-full.png"), full_page=True)
        page.locator("#chart-latency").scroll_into_view_if_needed()
        shot = page.screenshot(path=str(tmp_path / "report-charts.png"))
        _not_blank(shot)
        page.evaluate("() => window.scrollTo(0, 0)")
        _not_blank(page.screenshot(path=str(tmp_path / "report-top.png")))
    finally:
        page.close()
    assert opened.problems == []
    assert opened.blocked == []


def test_scaling_and_connections_sections_are_drawn(
    browser: Browser, result_factory, tmp_path: Path
):
    result = result_factory("passed")
    opened = _open(browser, write_report(result, tmp_path).report_html)
    page = opened.page
    try:
        charts = {c["id"]: c for c in page.evaluate(CHART_STATE)}
        for chart_id, section in (("chart-scaling", "scaling"),
                                  ("chart-connections", "connections"),
                                  ("chart-pools", "connections")):
            assert page.locator(f"section#{section} #{chart_id}").count() == 1
            assert charts[chart_id]["lines"] == charts[chart_id]["traces"] > 0
        # the stage bands, HPA bounds, target bands and lines are drawn as shapes
        shapes = page.evaluate(
            "() => document.querySelectorAll('#chart-scaling .shapelayer path').length"
        )
        assert shapes >= 3 + 3 + 2 + 4  # stage bands and edges, bounds, target bands and lines
        # the decisions start folded; unfolding shows one row per decision
        table = page.locator("section#scaling table.decisions")
        assert not table.is_visible()
        page.locator("section#scaling details > summary").click()
        assert table.is_visible()
        assert table.locator("tbody tr").count() == len(result.extra["scaling"]["decisions"])
        assert table.locator("tbody tr.scale-up").count() == 2
        page.locator("#chart-scaling").scroll_into_view_if_needed()
        _not_blank(page.locator("section#scaling").screenshot(path=str(tmp_path / "scaling.png")))
        _not_blank(page.locator("section#connections").screenshot(
            path=str(tmp_path / "connections.png")))
    finally:
        page.close()
    assert opened.problems == []
    assert opened.blocked == []


def test_partial_report_opens_and_says_it_is_partial(
    browser: Browser, result_factory, tmp_path: Path
):
    result = result_factory("interrupted")
    opened = _open(browser, write_report(result, tmp_path).report_html)
    page = opened.page
    try:
        notice = page.locator("#partial-notice")
        assert notice.is_visible()
        assert notice.inner_text().startswith("PARTIAL REPORT: the run was interrupted")
        box = notice.bounding_box()
        assert box is not None and box["y"] < VIEWPORT["height"]  # seen without scrolling
        charts = page.evaluate(CHART_STATE)
        expected = _expected_traces(result)
        assert {c["id"]: c["traces"] for c in charts} == expected
        _not_blank(page.screenshot(path=str(tmp_path / "partial.png")))
    finally:
        page.close()
    assert opened.problems == []
    assert opened.blocked == []


def test_a_run_without_load_writes_no_page_to_open(result_factory, tmp_path: Path):
    """No load interval, no charts: the run folder keeps results.json and summary.md only."""
    files = write_report(result_factory("empty"), tmp_path)
    assert files.summary_md.exists() and not files.report_html.exists()


def test_blank_page_fails_the_blank_check(browser: Browser, tmp_path: Path):
    """The screenshot check can fail: an empty page is judged blank."""
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.set_content("<html><body style='background:#fff'></body></html>")
        png = page.screenshot(path=str(tmp_path / "blank.png"))
    finally:
        page.close()
    with pytest.raises(AssertionError):
        _not_blank(png)


# Every text a chart draws (annotations, legend entries, tick labels, axis titles) and every
# card, as bounding boxes, grouped by chart; pairs whose boxes intersect by more than a pixel.
OVERLAPS = """
() => {
  const boxes = (root, selector) => Array.from(root.querySelectorAll(selector))
    .filter(el => (el.textContent || '').trim())
    .map(el => ({text: el.textContent.trim(), r: el.getBoundingClientRect()}))
    .filter(b => b.r.width > 0 && b.r.height > 0);
  const clash = (a, b) => Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left) > 1
    && Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top) > 1;
  const found = [];
  const check = (where, list) => {
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++)
        if (clash(list[i], list[j])) found.push([where, list[i].text, list[j].text]);
  };
  document.querySelectorAll('.chart').forEach(chart => check(chart.id, boxes(chart,
    '.annotation-text, .legendtext, .xtick text, .ytick text, .y2tick text, .g-xtitle text, '
    + '.g-ytitle text, .g-y2title text')));
  check('cards', boxes(document, '.kpi .label, .kpi .value, .kpi .sub'));
  check('header', boxes(document,
    'header .badge, header h1, header .headline, header dt, header dd'));
  return found;
}
"""


@pytest.mark.parametrize("kind", ["passed", "failed"])
def test_no_text_overlaps_on_any_chart_or_card(browser: Browser, result_factory,
                                                tmp_path: Path, kind: str):
    result = result_factory(kind, replicas=4)
    # one fault at the very start, where the SLO and limit labels sit at the plot's left edge
    faults = {"timeline": [{"name": "replica-crash", "injected_s": 3.0, "lifted_s": 3.0},
                           {"name": "postgres-restart", "injected_s": 150.0, "lifted_s": 162.0}]}
    result = replace(result, extra={**result.extra, "faults": faults})
    opened = _open(browser, write_report(result, tmp_path / kind).report_html)
    try:
        assert opened.page.evaluate(OVERLAPS) == []
    finally:
        opened.page.close()
    assert opened.problems == []
