"""The published JSON Schemas (draft 2020-12) of the files other tools read: results.json and
compare.json, shipped inside the package and printed by `harness schema results|compare`.

Core records (checks, request statistics, the timeline, comparison metrics) are closed, so a
renamed or retyped field cannot slip through; the top level and `extra` are open, so a new
section (a later version's addition) does not break a reader that validates. README says when
`schema_version` changes.

With HARNESS_CHECK_SCHEMA set (the test suite sets it), every results.json and compare.json the
harness writes is validated right after writing it: a violation is a bug, raised as
SchemaViolation.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from harness import settings

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

__all__ = ["SCHEMAS", "SchemaViolation", "check_written", "load_schema", "schema_text",
           "violations"]

SCHEMAS = ("results", "compare")


class SchemaViolation(Exception):
    """A file the harness wrote does not match its published schema (a bug, not bad input)."""


def schema_text(name: str) -> str:
    """The schema file's text, as shipped."""
    if name not in SCHEMAS:
        raise KeyError(name)
    return (resources.files(__package__) / f"{name}.schema.json").read_text(encoding="utf-8")


@cache
def _validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # only when validating: a slow import

    schema = json.loads(schema_text(name))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load_schema(name: str) -> dict[str, Any]:
    return dict(_validator(name).schema)


def violations(name: str, document: Any) -> tuple[str, ...]:
    """Every place where `document` breaks schema `name`, as "path: message", sorted."""
    found = []
    for error in _validator(name).iter_errors(document):
        path = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        found.append(f"{path}: {error.message}")
    return tuple(sorted(found))


def check_written(name: str, document: Mapping[str, Any] | str, where: str) -> None:
    """With HARNESS_CHECK_SCHEMA set, raise SchemaViolation when the written `document` (a
    mapping or its JSON text) breaks its schema; otherwise do nothing."""
    if os.environ.get(settings.ENV_CHECK_SCHEMA, "") in ("", "0", "false"):
        return
    data = json.loads(document) if isinstance(document, str) else document
    problems = violations(name, data)
    if problems:
        shown = "; ".join(problems[:5]) + (f" (+{len(problems) - 5} more)"
                                            if len(problems) > 5 else "")
        raise SchemaViolation(f"{where} breaks the {name} schema: {shown}")
