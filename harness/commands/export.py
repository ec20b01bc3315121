"""`harness export RUN --format csv|parquet [--out FILE]`: a run's intervals per request name and
its replica series as one table, for pandas and other tools."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from harness import paths, settings
from harness.status import ExitStatus

if TYPE_CHECKING:
    from harness.export.files import ExportFormat

__all__ = ["register"]


def _format(value: str) -> ExportFormat:
    from harness.errors import UsageError
    from harness.export.files import ExportFormat

    try:
        return ExportFormat(value.lower())
    except ValueError:
        raise UsageError(f"--format {value!r}: expected csv or parquet") from None


def register(app: typer.Typer) -> None:
    @app.command("export")
    def export(
        run: Annotated[str, typer.Argument(
            metavar="RUN", help="A run folder, its results.json, a run id, or `latest`.")],
        fmt: Annotated[str, typer.Option(
            "--format", "-f", metavar="csv|parquet", help="File format.")] = "csv",
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", metavar="FILE", dir_okay=False,
            help="Where to write (default: export.csv or export.parquet in RUN's folder).")
        ] = None,
        report_dir: Annotated[Path | None, typer.Option(
            "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
            help="Where run folders and the results store (history/) are (default: reports/).")
        ] = None,
    ) -> int:
        """Export RUN: one row per interval and request name (requests, failures, p50/p95/p99,
        coordinated-omission corrected too) and one per replica scrape (CPU, memory)."""
        from harness.compare.runs import find_run_folder, load_run
        from harness.export.files import default_name, write_frame
        from harness.export.frames import export_frame

        chosen = _format(fmt)
        reports = (report_dir or paths.reports_dir()).resolve()
        data = load_run(find_run_folder(run, reports))
        frame = export_frame(data.result, data.samples)
        target = out.resolve() if out else data.folder / default_name(chosen)
        write_frame(frame, chosen, target)
        requests = int((frame["series"] == "request").sum())
        Console().print(f"{target}: {requests} request rows, {len(frame) - requests} replica "
                        f"rows ({data.run_id})")
        return int(ExitStatus.OK)
