"""`harness validate`: check the bundled stack's definitions before deploying them."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from harness import paths
from harness.errors import HarnessError
from harness.status import ExitStatus
from harness.validate.schema import DEFAULT_KUBERNETES_VERSION

__all__ = ["OutputFormat", "register"]


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


def _error_document(folder: Path, error: HarnessError) -> dict[str, Any]:
    """What `--format json` prints when the stack could not be validated at all (the same
    one-line error goes to stderr)."""
    return {
        "stack_dir": str(folder),
        "ok": False,
        "error": {"message": str(error), "exit_status": int(error.exit_status)},
        "findings": [],
    }


def register(app: typer.Typer) -> None:
    @app.command("validate")
    def validate(
        stack_dir: Annotated[
            Path | None,
            typer.Option(
                "--stack-dir",
                help="The stack to check (default: the bundled stack/).",
                file_okay=False,
            ),
        ] = None,
        output: Annotated[
            OutputFormat, typer.Option("--format", help="text or json.")
        ] = OutputFormat.TEXT,
        kubernetes_version: Annotated[
            str,
            typer.Option(
                "--kubernetes-version",
                help="Kubernetes version whose schemas objects must satisfy.",
            ),
        ] = DEFAULT_KUBERNETES_VERSION,
        kubectl: Annotated[
            str, typer.Option("--kubectl", help="The kubectl (with kustomize) to render with.")
        ] = "kubectl",
        list_rules: Annotated[
            bool, typer.Option("--list-rules", help="List every rule id and exit.")
        ] = False,
    ) -> int:
        """Render the kustomize overlays and the compose file, validate them offline against the
        Kubernetes and Compose schemas, and check the architecture's rules.
        Exit 1 when an error-level finding exists."""
        from harness.validate import all_rules, validate_stack
        from harness.validate.report import render_json, render_text

        out = Console(soft_wrap=output is OutputFormat.JSON)
        if list_rules:
            for rule in all_rules():
                typer.echo(f"{rule.id:<36} {rule.severity.value:<8} {rule.summary}")
            return int(ExitStatus.OK)
        folder = (stack_dir or paths.stack_dir()).resolve()
        try:
            report = validate_stack(folder, kubectl=kubectl,
                                    kubernetes_version=kubernetes_version)
        except HarnessError as exc:
            if output is OutputFormat.JSON:  # a JSON reader gets a document, not silence
                typer.echo(json.dumps(_error_document(folder, exc), indent=2))
            raise
        if output is OutputFormat.JSON:
            typer.echo(render_json(report))
        else:
            render_text(report, out)
        if report.has_errors:
            raise typer.Exit(int(ExitStatus.CHECK_FAILED))
        return int(ExitStatus.OK)
