"""The progress lines printed where no terminal is attached (CI logs)."""

from __future__ import annotations

from rich.console import Console

from harness.load.latency import encode, new_histogram, record_all
from harness.load.progress import LiveProgress
from harness.load.records import Interval, NameInterval
from harness.load.shapes import StagePlan


def _interval() -> Interval:
    histogram = encode(record_all(new_histogram(), [4000] * 20))
    return Interval(0.0, 2.0, 10, (NameInterval("GET /api/tickets", 20, 0, histogram),))


def _printed(**kwargs) -> str:
    console = Console(record=True, width=200, force_terminal=False, color_system=None)
    stages = [StagePlan(0, "hold", 0.0, 60.0, 10, True)]
    with LiveProgress(console, scenario="smoke", stages=stages, **kwargs) as live:
        live.interval(_interval(), generator_cpu=12.0)
    return console.export_text()


def test_line_gives_replicas_and_pool_in_use():
    text = _printed(replicas=lambda: 3, pool_in_use=lambda: 4.0)
    assert "hold: 10 users, 10.0 req/s, p95 4 ms, errors 0.00 %, 3 replicas, pool 4 in use" in text


def test_line_leaves_out_what_the_stack_cannot_answer():
    def gone() -> int:
        raise RuntimeError("stack going down")

    text = _printed(replicas=gone, pool_in_use=lambda: None)
    assert "errors 0.00 %\n" in text and "replicas" not in text and "pool" not in text
