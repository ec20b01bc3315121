"""`harness plan [RUN]`: a capacity report from a step (stress) run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from harness import paths, settings
from harness.status import ExitStatus

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("plan")
    def plan(
        run: Annotated[str, typer.Argument(
            metavar="[RUN]", help="A step run's folder or id (default: the newest stress run).")
        ] = "",
        projected_rps: Annotated[float | None, typer.Option(
            "--projected-rps", min=0.001, metavar="N",
            help="Plan for N requests/s (default: the peak scenario's load as measured).")
        ] = None,
        growth: Annotated[float | None, typer.Option(
            "--growth", min=0.001, metavar="X",
            help="Plan for X times the peak scenario's load as measured, e.g. 1.5.")] = None,
        headroom: Annotated[float, typer.Option(
            "--headroom", min=0.0, max=10.0,
            help="Spare capacity on top of the projected load (0.25: 25 %).")] = 0.25,
        max_errors: Annotated[float, typer.Option(
            "--max-errors", min=0.0, max=100.0, metavar="PERCENT",
            help="A stage with more errors than this is past the knee.")] = 0.1,
        out: Annotated[Path | None, typer.Option(
            "--out", metavar="DIR", file_okay=False,
            help="Where capacity.md/html/json go (default: the run's folder).")] = None,
        report_dir: Annotated[Path | None, typer.Option(
            "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
            help="Where run folders are (default: reports/).")] = None,
    ) -> int:
        """Write a capacity report from a step run: the saturation knee, requests/s one replica
        carries at the HPA CPU target, replicas for the projected load and whether they fit
        maxReplicas, database connections, Redis memory, instance sizes and monthly cost per
        environment.

        Exit status: 0 the report was written, 2 bad usage (e.g. not a step run).
        """
        from harness.compare.runs import find_run_folder
        from harness.plan.build import plan_run
        from harness.plan.report import headline, write_plan
        from harness.plan.select import newest_step_run

        reports = (report_dir or paths.reports_dir()).resolve()
        folder = find_run_folder(run, reports) if run else newest_step_run(reports)
        capacity = plan_run(folder, projected_rps=projected_rps, growth=growth,
                            headroom=headroom, max_error_percent=max_errors)
        files = write_plan(out.resolve() if out else folder, capacity)
        console = Console()
        console.print(headline(capacity))
        for env in capacity.environments:
            fits = {True: "fits", False: "does NOT fit", None: "—"}[env.fits]
            console.print(f"  {env.target:<22} {env.replicas_needed} replicas ({fits} "
                          f"{env.min_replicas}–{env.max_replicas}); DB "
                          f"{env.db_connections_needed}/{env.db_connections_budget} connections; "
                          f"{env.monthly_total:,.0f} {capacity.prices.currency}/month")
        console.print(f"report: {files.html}")
        return int(ExitStatus.OK)
