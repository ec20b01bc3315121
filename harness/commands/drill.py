"""`harness drill backup-restore`: the seed's backup strategy, performed while load runs."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from harness import paths, settings
from harness.config.durations import parse_duration
from harness.config.load import load_scenario, load_slo
from harness.errors import UsageError

__all__ = ["Disaster", "register"]


class Disaster(StrEnum):
    drop_schema = "drop-schema"
    lose_server = "lose-server"


def _seconds(flag: str, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def register(app: typer.Typer) -> None:
    drill = typer.Typer(help="Disaster-recovery drills on the local stack, under load.",
                        no_args_is_help=True)
    app.add_typer(drill, name="drill")

    @drill.command("backup-restore")
    def backup_restore(
        scenario: str = typer.Option(
            "baseline", "--scenario", "-s", help="The load while the drill runs (a bundled "
            "name or a scenario file); its faults are not injected."),
        duration: str = typer.Option("3m", "--duration", "-d", metavar="DURATION",
                                     help="Squeeze the scenario's load to this length."),
        dump_at: str | None = typer.Option(
            None, "--dump-at", metavar="DURATION",
            help="When pg_dump runs, into the load (default: a quarter of the way)."),
        disaster_at: str | None = typer.Option(
            None, "--disaster-at", metavar="DURATION",
            help="When the database is destroyed (default: halfway)."),
        disaster: Disaster = typer.Option(  # noqa: B008
            Disaster.drop_schema, "--disaster", case_sensitive=False,
            help="drop-schema: every table dropped (an operator's mistake), recovered to just "
            "before it with recovery_target_time; lose-server: PostgreSQL killed with its data "
            "directory, recovered to the end of the archived WAL (the RPO of WAL archiving)."),
        rto_database: str = typer.Option("1h", "--rto-database", metavar="DURATION",
                                         help="Objective: database back within (the seed: 1h)."),
        rto_application: str = typer.Option(
            "15m", "--rto-application", metavar="DURATION",
            help="Objective: application back within (the seed: 15m)."),
        rpo_database: str = typer.Option(
            "5m", "--rpo-database", metavar="DURATION",
            help="Objective: acknowledged writes lost from at most this long before (the "
            "seed: 5m)."),
        archive_timeout: str = typer.Option(
            "60s", "--archive-timeout", metavar="DURATION",
            help="PostgreSQL's archive_timeout: the longest a change waits to be archived."),
        replicas: int | None = typer.Option(None, "--replicas", min=1, max=64,
                                            help="App replicas (default 3)."),
        report_dir: Path | None = typer.Option(  # noqa: B008
            None, "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
            help="Where run folders are written (default: reports/).", show_default=False),
        run_id: str | None = typer.Option(None, "--run-id", help="Name of the run's folder."),
    ) -> int:
        """Back up, destroy and restore the database of the local stack while load runs; measure
        the achieved RTO and RPO against the seed's objectives.

        PostgreSQL archives its WAL into the run folder; a base backup (pg_basebackup) is taken
        after seeding; pg_dump -Fc runs at --dump-at; at --disaster-at the database is dropped,
        and point-in-time recovery (base backup + archived WAL, recovery_target_time just
        before the drop) brings it back. The dump is restored into a scratch database and its
        row counts and checksums compared. Exit status: 0 every objective met, 1 one missed,
        2 bad usage, 3 the stack or a tool failed, 130 interrupted (a partial report is kept).
        """
        from harness.commands.folders import run_folder, writable_dir
        from harness.commands.run import check_duration, new_run_id
        from harness.drill.backup_restore import DrillObjectives, DrillPlan, run_backup_restore
        from harness.report.terminal import print_verdict

        loaded = load_scenario(scenario)
        total = check_duration(duration, minimum=20.0)
        loaded = loaded.scaled_to(total).model_copy(update={"faults": ()})
        dump = _seconds("--dump-at", dump_at) if dump_at else total * 0.25
        when = _seconds("--disaster-at", disaster_at) if disaster_at else total * 0.5
        if not 0 < dump < when < total:
            raise UsageError(f"--dump-at ({dump:g}s) must come before --disaster-at "
                             f"({when:g}s), both inside the load ({total:g}s)")
        identifier = run_id if run_id is not None else new_run_id(f"drill-{loaded.name}")
        folder = run_folder(writable_dir(report_dir or paths.reports_dir(), "--report-dir"),
                            identifier)
        plan = DrillPlan(
            scenario=loaded, slo=load_slo(), folder=folder, run_id=identifier, dump_at=dump,
            disaster_at=when, replicas=replicas, disaster=disaster.value,
            archive_timeout=f"{max(int(_seconds('--archive-timeout', archive_timeout)), 1)}s",
            objectives=DrillObjectives(
                rto_database=_seconds("--rto-database", rto_database),
                rto_application=_seconds("--rto-application", rto_application),
                rpo_database=_seconds("--rpo-database", rpo_database)),
        )
        err = Console(stderr=True)
        result = run_backup_restore(plan, err)
        out = Console()
        page = folder / "report.html"
        print_verdict(result, out, page if page.is_file() else None)
        return result.exit_status
