"""`harness baseline …`: the results store under reports/history/ (set, add, show, trends)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from harness import paths, settings
from harness.status import ExitStatus

__all__ = ["register"]

ReportDir = Annotated[Path | None, typer.Option(
    "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
    help="Where run folders and the results store (history/) are (default: reports/).")]
RunRef = Annotated[str, typer.Argument(metavar="RUN", help="A run folder or run id.")]
ScenarioFilter = Annotated[str | None, typer.Option(
    "--scenario", "-s", help="Only this scenario.")]
TagFilter = Annotated[list[str] | None, typer.Option(
    "--tag", metavar="KEY=VALUE", help="Only runs carrying this tag (repeatable; all must match).")]


def _reports(report_dir: Path | None) -> Path:
    return (report_dir or paths.reports_dir()).resolve()


def register(app: typer.Typer) -> None:
    group = typer.Typer(name="baseline", no_args_is_help=True,
                        help="The results store: promote a baseline, add runs, show the "
                             "history, write the trends report.")

    @group.command("set")
    def set_baseline(
        run: RunRef,
        force: Annotated[bool, typer.Option(
            "--force", help="Promote a run whose checks did not all pass.")] = False,
        report_dir: ReportDir = None,
    ) -> int:
        """Promote RUN to the baseline of its scenario (storing it first if needed).

        Only a run whose checks passed, unless --force: a baseline measured while the load
        generator saturated or an SLO failed makes every later comparison doubtful.
        """
        from harness.compare.runs import find_run_folder, load_run
        from harness.compare.service import record_run, store_for
        from harness.errors import UsageError

        reports = _reports(report_dir)
        store = store_for(reports)
        data = load_run(find_run_folder(run, reports))
        status = data.result.status.value
        if status != "passed" and not force:
            raise UsageError(f"baseline set: run {data.run_id} is {status!r}, not 'passed'; "
                             "promote it anyway with --force")
        if data.run_id not in {r.run_id for r in store.runs()}:
            record_run(data, store, None)
        entry = store.set_baseline(data.run_id)
        Console().print(f"baseline for scenario {entry.scenario!r}: {entry.run_id} "
                        f"(store {store.root})")
        return int(ExitStatus.OK)

    @group.command("add")
    def add(run: RunRef, report_dir: ReportDir = None) -> int:
        """Keep RUN in the results store (part of the rolling history) without comparing it."""
        from harness.compare.runs import find_run_folder, load_run
        from harness.compare.service import record_run, store_for

        reports = _reports(report_dir)
        store = store_for(reports)
        entry, _ = record_run(load_run(find_run_folder(run, reports)), store, None)
        Console().print(f"stored {entry.run_id} ({entry.scenario}) in {store.root}")
        return int(ExitStatus.OK)

    @group.command("show")
    def show(scenario: ScenarioFilter = None, tag: TagFilter = None,
             report_dir: ReportDir = None) -> int:
        """List the stored runs and the promoted baselines."""
        from harness.compare.report import format_value
        from harness.compare.service import store_for
        from harness.config.tags import parse_tags

        store = store_for(_reports(report_dir))
        baselines = store.baselines()
        table = Table(title=f"Results store {store.root}", title_justify="left")
        runs = store.runs(scenario, parse_tags(tag or []))
        tagged = any(r.tags for r in runs)  # a tags column only when some run has tags
        for column in ("run", "scenario", "when (UTC)", "status", "verdict", "p95", "req/s",
                       *(["tags"] if tagged else [])):
            table.add_column(column)
        for r in runs:
            promoted = " ★" if baselines.get(r.scenario) == r.run_id else ""
            table.add_row(r.run_id + promoted, r.scenario,
                          time.strftime("%Y-%m-%d %H:%M", time.gmtime(r.started_at)), r.status,
                          r.verdict or "—", format_value(r.metrics.get("latency.all.p95"), "ms"),
                          format_value(r.metrics.get("throughput"), ""),
                          *([" ".join(f"{k}={v}" for k, v in sorted(r.tags.items()))]
                            if tagged else []))
        console = Console()
        console.print(table)
        listed = ", ".join(f"{k} = {v}" for k, v in sorted(baselines.items()))
        console.print("baselines: " + (listed or "none (promote one with `harness baseline set "
                                                 "RUN`)"))
        return int(ExitStatus.OK)

    @group.command("trends")
    def trends(
        scenario: ScenarioFilter = None,
        tag: TagFilter = None,
        out: Annotated[Path | None, typer.Option(
            "--out", metavar="DIR", file_okay=False,
            help="Where trends.html/md go (default: the store).")] = None,
        report_dir: ReportDir = None,
    ) -> int:
        """Write the history report: one chart per key metric across the stored runs."""
        from harness.compare.service import store_for
        from harness.compare.trends import write_trends
        from harness.config.tags import parse_tags

        store = store_for(_reports(report_dir))
        files = write_trends(store, out.resolve() if out else None, scenario,
                             parse_tags(tag or []))
        Console().print(f"history report: {files.html}")
        return int(ExitStatus.OK)

    app.add_typer(group, name="baseline")
