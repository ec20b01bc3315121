"""`harness schema results|compare`: print the published JSON Schema of results.json or
compare.json (draft 2020-12), e.g. for a CI step that validates the files it archives."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from harness.status import ExitStatus

__all__ = ["register"]


class SchemaName(StrEnum):
    RESULTS = "results"
    COMPARE = "compare"


def register(app: typer.Typer) -> None:
    @app.command("schema")
    def schema(
        name: Annotated[SchemaName, typer.Argument(
            metavar="results|compare", help="Which file's schema: results.json or compare.json.",
            case_sensitive=False)],
    ) -> int:
        """Print the JSON Schema of results.json (`results`) or compare.json (`compare`)."""
        from harness.report.schema import schema_text

        sys.stdout.write(schema_text(name.value))
        return int(ExitStatus.OK)
