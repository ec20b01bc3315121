"""`harness replay RUN`: the run's recorded utilization through the same HPA, other settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness import paths, settings
from harness.status import ExitStatus

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("replay")
    def replay(
        run: Annotated[str, typer.Argument(
            metavar="RUN", help="A run's folder, its results.json, or its id.")],
        cpu_target: Annotated[list[int] | None, typer.Option(
            "--cpu-target", min=1, max=1000, metavar="P",
            help="CPU target in % of the request; repeat for several settings "
                 "(default: the run's own).")] = None,
        min_replicas: Annotated[int | None, typer.Option(
            "--min", min=1, max=1000, metavar="N", help="minReplicas.")] = None,
        max_replicas: Annotated[int | None, typer.Option(
            "--max", min=1, max=1000, metavar="N", help="maxReplicas.")] = None,
        scale_down_window: Annotated[str | None, typer.Option(
            "--scale-down-window", metavar="D",
            help="Scale-down stabilization window, e.g. 300s or 5m.")] = None,
        output: Annotated[str, typer.Option(
            "--format", metavar="text|json", help="text (a table) or json.")] = "text",
        report_dir: Annotated[Path | None, typer.Option(
            "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
            help="Where run folders are (default: reports/).")] = None,
    ) -> int:
        """Replay a run's recorded per-replica utilization through the same HPA algorithm with
        other settings: per setting, peak replicas, replica-minutes, time above the CPU target,
        scale events, and whether the run's SLO breaches fell where the replay had fewer
        replicas than the run. It replays the recorded load: it cannot predict latency.

        Exit status: 0 replayed, 2 bad usage (no such run, a corrupt results.json, a run
        without a scaling trace, a bad flag).
        """
        from harness.compare.runs import find_run_folder
        from harness.config.durations import parse_duration
        from harness.errors import ConfigError, UsageError
        from harness.plan.replay import ReplaySetting, replay_run
        from harness.report.results import RESULTS_FILE, load_results
        from harness.stack.trace import TraceError

        if output not in ("text", "json"):
            raise UsageError(f"--format: {output!r} is not text or json")
        window = None
        if scale_down_window is not None:
            try:
                window = parse_duration(scale_down_window)
            except ValueError as exc:
                raise UsageError(f"--scale-down-window: {exc}") from None
            if not 0 <= window <= 3600:  # the API's limit for stabilizationWindowSeconds
                raise UsageError(f"--scale-down-window: {scale_down_window} is not within "
                                 "0s-1h")
        if min_replicas is not None and max_replicas is not None and max_replicas < min_replicas:
            raise UsageError(f"--max {max_replicas} is below --min {min_replicas}")
        folder = find_run_folder(run, (report_dir or paths.reports_dir()).resolve())
        path = folder / RESULTS_FILE
        try:
            result = load_results(path)
        except ConfigError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(str(path), None,
                              f"not a results.json the harness wrote ({exc!r})") from None
        hpa = (result.extra.get("scaling") or {}).get("hpa") or {}
        low = min_replicas if min_replicas is not None else hpa.get("min_replicas")
        high = max_replicas if max_replicas is not None else hpa.get("max_replicas")
        if isinstance(low, int) and isinstance(high, int) and high < low:
            flag = "--min" if min_replicas is not None else "--max"
            raise UsageError(f"{flag}: the replay would run {low}-{high} replicas (the run's HPA "
                             f"has {hpa.get('min_replicas')}-{hpa.get('max_replicas')})")
        targets: list[int | None] = list(cpu_target) if cpu_target else [None]
        choices = [ReplaySetting(t, min_replicas, max_replicas, window) for t in targets]
        try:
            report = replay_run(result, choices)
        except (TraceError, ValueError) as exc:
            raise ConfigError(str(path), ("extra", "scaling"), str(exc)) from None
        if output == "json":
            typer.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
            return int(ExitStatus.OK)
        console = Console(width=160)
        console.print(
            f"Replay of run {report.run_id}: {report.syncs} syncs of "
            f"{report.sync_period_seconds:g} s; each setting gets the run's total CPU demand "
            f"spread over its own replicas; {report.startup_text()}.")
        console.print(f"It {report.caveat}.")
        table = Table(box=None, pad_edge=False)
        for name in ("setting", "peak replicas", "replica-minutes", "above target",
                     "scale events", "SLO breaches at fewer replicas"):
            table.add_column(name, justify="left" if name == "setting" else "right")
        for outcome in (report.run, *report.replays):
            label = ("run: " if outcome is report.run else "") + outcome.describe()
            table.add_row(label, str(outcome.peak_replicas), f"{outcome.replica_minutes:.1f}",
                          f"{outcome.seconds_above_target:.0f} s", str(outcome.scale_events),
                          "—" if outcome is report.run
                          else f"{outcome.breaches_with_fewer} of {outcome.breaches}")
        console.print(table)
        return int(ExitStatus.OK)
