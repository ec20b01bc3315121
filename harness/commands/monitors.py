"""`harness monitors build|push`: Datadog monitors from the SLO spec and the stack's numbers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from harness.commands.generated import SloOption, emit, generator_group, out_option
from harness.errors import UsageError
from harness.status import ExitStatus

__all__ = ["register"]


def _monitors(slo_file: Path | None) -> tuple[dict[str, Any], ...]:
    from harness.config.load import load_slo
    from harness.provision.ddnames import load_openmetrics_naming
    from harness.provision.monitors import build_monitors
    from harness.provision.sources import load_stack_numbers

    return build_monitors(load_slo(slo_file), load_stack_numbers(), load_openmetrics_naming())


def register(app: typer.Typer) -> None:
    group = generator_group("Datadog monitors generated from the SLO spec and the stack's numbers.")

    @group.command("build")
    def build(
        out: Annotated[Path | None, out_option(
            "Write the monitors (a JSON list of API payloads) to this file instead of printing "
            "them.")] = None,
        slo_file: SloOption = None,
    ) -> int:
        """Latency, error-budget burn, DB pool saturation and acquire timeouts, HPA at max
        replicas, Redis memory and evictions, PostgreSQL connections against max_connections."""
        from harness.provision.monitors import render_monitors

        emit(render_monitors(_monitors(slo_file)), out)
        return int(ExitStatus.OK)

    @group.command("push")
    def push(
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
        ] = False,
        api_url: Annotated[
            str | None,
            typer.Option("--api-url", envvar="DATADOG_HOST",
                         help="The API's base URL (default: https://api.$DD_SITE)."),
        ] = None,
        slo_file: SloOption = None,
    ) -> int:
        """Create or update the monitors (matched by their harness-id tag). Keys from DD_API_KEY
        and DD_APP_KEY, the site from DD_SITE (default datadoghq.com)."""
        from harness.provision.credentials import DatadogCredentials
        from harness.provision.datadog import DatadogClient, push_monitors

        credentials = DatadogCredentials.from_environ(os.environ, api_url=api_url)
        if credentials is None:
            raise UsageError("DD_API_KEY and DD_APP_KEY must both be set (an application key "
                             "with the monitors_read and monitors_write scopes)")
        desired = _monitors(slo_file)
        with DatadogClient(credentials) as client:
            changes = push_monitors(client, desired, dry_run=dry_run)
        verb = "would" if dry_run else "did"
        for change in changes:
            where = f"#{change.monitor_id}" if change.monitor_id is not None else "(new)"
            detail = f"  [{', '.join(change.fields)}]" if change.fields else ""
            typer.echo(f"{change.action:<9} {where:<12} {change.key:<28} {change.name}{detail}")
        writes = sum(1 for c in changes if c.action in ("create", "update"))
        typer.echo(f"{verb} write {writes} of {len(desired)} monitors at {credentials.api_url}")
        return int(ExitStatus.OK)

    app.add_typer(group, name="monitors")
