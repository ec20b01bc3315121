"""What the commands that generate files from the SLO spec (dashboards, rules, monitors) share:
their sub-command group, the --slo and --check options, and printing, writing or checking a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer

from harness.status import ExitStatus

__all__ = [
    "CheckOption",
    "SloOption",
    "emit",
    "generator_group",
    "out_of_date",
    "out_option",
    "write_file",
]

SloOption = Annotated[
    Path | None,
    typer.Option("--slo", help="The SLO spec (default: loadtests/slo.yaml).", dir_okay=False),
]
CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Write nothing; exit 1 when what is written differs from what "
                 "the sources produce."),
]


def out_option(help_text: str, *, folder: bool = False) -> typer.models.OptionInfo:
    """`build`'s --out: a folder (``folder``) or one file; its default is the command's own."""
    return typer.Option("--out", help=help_text, file_okay=not folder, dir_okay=folder)


def generator_group(description: str) -> typer.Typer:
    """The `build` (and `push`) group of one generated artefact; bare, it prints its help."""
    return typer.Typer(help=description, no_args_is_help=True)


def write_file(target: Path, text: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {target}")


def emit(text: str, out: Path | None) -> None:
    """Print ``text`` when ``out`` is unset or `-`, else write it there."""
    if out is None or str(out) == "-":
        typer.echo(text, nl=False)
    else:
        write_file(out, text)


def out_of_date(what: str, command: str) -> NoReturn:
    """--check found ``what`` stale: say how to renew it and exit 1."""
    typer.echo(f"out of date: {what} (run `harness {command} build`)", err=True)
    raise typer.Exit(int(ExitStatus.CHECK_FAILED))
