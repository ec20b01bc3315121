"""Live progress while load runs: elapsed/remaining, stage, users, RPS, p95, error %, replicas."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from harness.config.durations import format_duration
from harness.load.aggregate import aggregate
from harness.load.health import saturated
from harness.load.records import Interval
from harness.load.shapes import StagePlan, stage_at

__all__ = ["LiveProgress"]


class LiveProgress:
    """A rich Live panel on a terminal; a plain line every ~10 s elsewhere (CI logs)."""

    def __init__(
        self,
        console: Console,
        *,
        scenario: str,
        stages: Sequence[StagePlan],
        replicas: Callable[[], int] | None = None,
        pool_in_use: Callable[[], float | None] | None = None,
        enabled: bool = True,
    ) -> None:
        self.console = console
        self.scenario = scenario
        self.stages = tuple(stages)
        self.total = sum(s.duration for s in stages)
        self.replicas = replicas
        self.pool_in_use = pool_in_use  # DB connections in use over every replica, if exported
        self.enabled = enabled
        self.phase = "starting"
        self._recent: list[Interval] = []
        self._elapsed = 0.0
        self._generator_cpu = 0.0
        self._saturated = False
        self._requests = 0
        self._failures = 0
        self._live: Live | None = None
        self._last_line = 0.0

    def __enter__(self) -> LiveProgress:
        if self.enabled and self.console.is_terminal:
            self._live = Live(self._render(), console=self.console, refresh_per_second=4,
                              transient=False)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(kind, value, tb)
            self._live = None

    def set_stages(self, stages: Sequence[StagePlan]) -> None:
        """The stages once their rates are known (after the calibration)."""
        self.stages = tuple(stages)
        self.total = sum(s.duration for s in stages)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        if self._live is not None:
            self._live.update(self._render())
        elif self.enabled:
            self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/] {phase}")

    def interval(self, interval: Interval, generator_cpu: float) -> None:
        self._recent = (self._recent + [interval])[-5:]
        self._elapsed = interval.end
        self._generator_cpu = generator_cpu
        self._saturated = saturated(interval)
        self._requests += interval.requests
        self._failures += interval.failures
        if self._live is not None:
            self._live.update(self._render())
        elif self.enabled and time.monotonic() - self._last_line >= 10:
            self._last_line = time.monotonic()
            self.console.print(self._line())

    def _numbers(self) -> tuple[str, int, float, float, float]:
        recent = aggregate(self._recent)
        users = self._recent[-1].users if self._recent else 0
        index = stage_at(self.stages, self._elapsed)
        stage = self.stages[index].name if index is not None else "finishing"
        return stage, users, recent.rps, recent.latency.p95_ms, recent.error_percent

    def _line(self) -> str:
        stage, users, rps, p95, errors = self._numbers()
        return (
            f"{format_duration(self._elapsed)}/{format_duration(self.total)} {stage}: "
            f"{users} users, {rps:.1f} req/s, p95 {p95:.0f} ms, errors {errors:.2f} %"
            + self._stack_numbers()
            + (" - load generator saturated, latency untrusted" if self._saturated else "")
        )

    def _stack_numbers(self) -> str:
        """', 3 replicas, pool 4 in use' (what the stack answers; nothing it cannot)."""
        text = ""
        with contextlib.suppress(Exception):  # the stack may be going down: leave it out
            if self.replicas is not None:
                text += f", {self.replicas()} replicas"
        with contextlib.suppress(Exception):
            in_use = self.pool_in_use() if self.pool_in_use is not None else None
            if in_use is not None:
                text += f", pool {in_use:.0f} in use"
        return text

    def _render(self) -> Group:
        stage, users, rps, p95, errors = self._numbers()
        bar = ProgressBar(total=max(self.total, 1.0), completed=min(self._elapsed, self.total),
                          width=40)
        head = Text.assemble(
            ("harness run ", "bold"), (self.scenario, "bold cyan"), f"  {self.phase}  ",
            (f"{format_duration(self._elapsed)} elapsed, "
             f"{format_duration(max(self.total - self._elapsed, 0))} left", "dim"),
        )
        table = Table.grid(padding=(0, 2))
        for _ in range(7):
            table.add_column(justify="right")
        table.add_row(
            Text("stage", "dim"), Text("users", "dim"), Text("req/s", "dim"),
            Text("p95 ms", "dim"), Text("errors", "dim"), Text("replicas", "dim"),
            Text("generator CPU", "dim"),
        )
        replicas = str(self.replicas()) if self.replicas else "-"
        table.add_row(
            stage, str(users), f"{rps:.1f}", f"{p95:.0f}",
            Text(f"{errors:.2f} %", "red" if errors > 0 else "green"), replicas,
            Text(f"{self._generator_cpu:.0f} % saturated", "bold magenta")
            if self._saturated else f"{self._generator_cpu:.0f} %",
        )
        totals = Text(f"{self._requests} requests, {self._failures} failed", "dim")
        return Group(head, bar, table, totals)
