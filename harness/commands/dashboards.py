"""`harness dashboards build|push`: the Grafana dashboards from dashboards/*.dashboard.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from harness.commands.generated import (
    CheckOption,
    SloOption,
    generator_group,
    out_of_date,
    out_option,
)
from harness.errors import UsageError
from harness.status import ExitStatus

__all__ = ["register"]


def _rendered(slo_file: Path | None):  # type: ignore[no-untyped-def]
    from harness.config.load import load_slo
    from harness.provision.dashboards import DashboardContext, build_dashboards
    from harness.provision.sources import load_stack_numbers

    return build_dashboards(DashboardContext(load_slo(slo_file), load_stack_numbers()))


def register(app: typer.Typer) -> None:
    group = generator_group(
        "Grafana dashboards generated (grafanalib) from dashboards/*.dashboard.py.")

    @group.command("build")
    def build(
        out: Annotated[Path | None, out_option(
            "Folder for the JSON (default: dashboards/, which the compose stack's Grafana "
            "provisions).", folder=True)] = None,
        check: CheckOption = False,
        slo_file: SloOption = None,
    ) -> int:
        """Render every dashboard source to Grafana JSON (sorted keys)."""
        from harness.provision.dashboards import dashboards_dir, stale_files, write_dashboards

        rendered = _rendered(slo_file)
        folder = out or dashboards_dir()
        if check:
            stale = stale_files(rendered, folder)
            if stale:
                out_of_date(f"{', '.join(stale)} in {folder}", "dashboards")
            typer.echo(f"{len(rendered)} dashboards in {folder} are up to date")
            return int(ExitStatus.OK)
        for path in write_dashboards(rendered, folder):
            typer.echo(f"wrote {path}")
        return int(ExitStatus.OK)

    @group.command("push")
    def push(
        grafana_url: Annotated[
            str,
            typer.Option("--grafana-url", envvar="GRAFANA_URL",
                         help="Grafana's base URL, e.g. https://grafana.example.com."),
        ],
        folder: Annotated[
            str, typer.Option("--folder", help="The folder (title) the dashboards go into.")
        ] = "ServiceDesk",
        slo_file: SloOption = None,
    ) -> int:
        """Create or update the dashboards through Grafana's HTTP API (matched by uid).
        The service account token comes from GRAFANA_TOKEN."""
        from harness.provision.credentials import ENV_GRAFANA_TOKEN, GrafanaCredentials
        from harness.provision.grafana import FOLDER_UID, GrafanaClient

        credentials = GrafanaCredentials.from_environ(os.environ, url=grafana_url)
        if credentials is None:
            raise UsageError(f"{ENV_GRAFANA_TOKEN} is not set: create a Grafana service account "
                             "token (role Editor) and export it")
        rendered = _rendered(slo_file)
        with GrafanaClient(credentials) as client:
            pushed = client.push(rendered, folder_uid=FOLDER_UID, folder_title=folder)
        for item in pushed:
            typer.echo(f"{item.action:<8} {item.uid:<24} version {item.version}  {item.title}")
        return int(ExitStatus.OK)

    app.add_typer(group, name="dashboards")
