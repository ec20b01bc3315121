"""Offline schema validation: Kubernetes objects against the OpenAPI-derived JSON schemas that
kubernetes-validate ships (strict: unknown fields are errors), the compose file against the
Compose Specification's schema (vendored in data/compose-spec.json)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import jsonschema
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

from harness.errors import ConfigError
from harness.validate.model import ComposeProject, Finding, RenderedTarget, Rule, Severity

__all__ = [
    "COMPOSE_SCHEMA",
    "DEFAULT_KUBERNETES_VERSION",
    "KUBERNETES_SCHEMA",
    "KubernetesSchemas",
    "RULES",
    "check_compose_schema",
]

DEFAULT_KUBERNETES_VERSION = "1.32"

KUBERNETES_SCHEMA = Rule(
    "schema.kubernetes",
    Severity.ERROR,
    "every rendered object validates against the Kubernetes schema (strict, offline)",
    "correct the field named in the message; the API server would reject the object",
)
COMPOSE_SCHEMA = Rule(
    "schema.compose",
    Severity.ERROR,
    "the compose file validates against the Compose Specification schema",
    "correct the field named in the message; `docker compose config` would reject the file",
)
RULES = (KUBERNETES_SCHEMA, COMPOSE_SCHEMA)


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


class KubernetesSchemas:
    """Validators per (apiVersion, kind) for one Kubernetes version, loaded lazily and kept."""

    def __init__(self, version: str = DEFAULT_KUBERNETES_VERSION) -> None:
        wanted = version.removeprefix("v")
        available = [
            v
            for v in kv_utils.all_versions()
            if kv_utils.major_minor(v) <= kv_utils.major_minor(wanted)
        ]
        if not re.fullmatch(r"\d+\.\d+(\.\d+)?", wanted) or not available:
            raise ConfigError(
                "--kubernetes-version",
                None,
                f"unsupported version {version!r}",
                f"{kv_utils.all_versions()[0]} .. {kv_utils.latest_version()}",
            )
        self.version = kv_utils.major_minor(available[-1])
        self._dir = f"kubernetes-json-schema/v{available[-1]}-local-strict"
        self._registry: Registry | None = None
        self._validators: dict[str, jsonschema.protocols.Validator | None] = {}

    def _validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        key = f"{kind.lower()}-{group_version}"
        if key not in self._validators:
            try:
                schema = kv_utils.schema_contents(f"{self._dir}/{key}.json", self.version)
            except FileNotFoundError:
                self._validators[key] = None
                return None
            if self._registry is None:
                defs = kv_utils.schema_contents(f"{self._dir}/_definitions.json", self.version)
                self._registry = Resource.from_contents(defs) @ Registry()
            registry = Resource.from_contents(schema) @ self._registry
            self._validators[key] = jsonschema.Draft202012Validator(schema, registry=registry)
        return self._validators[key]

    def check(self, target: RenderedTarget) -> Iterator[Finding]:
        for obj in target.objects:
            api_version = str(obj.body.get("apiVersion", ""))
            validator = self._validator(api_version, obj.kind)
            if validator is None:
                yield KUBERNETES_SCHEMA.finding(
                    target=target.name,
                    file=obj.file,
                    object=obj.ref,
                    message=f"no schema for {api_version} {obj.kind} in Kubernetes {self.version}",
                    fix="use an apiVersion this Kubernetes version serves",
                    severity=Severity.WARNING,
                )
                continue
            for error in sorted(
                validator.iter_errors(dict(obj.body)), key=lambda e: list(e.absolute_path)
            ):
                yield KUBERNETES_SCHEMA.finding(
                    target=target.name,
                    file=obj.file,
                    object=obj.ref,
                    message=f"{_path(error)}: {error.message} (Kubernetes {self.version})",
                )


def _compose_schema() -> Mapping[str, Any]:
    text = resources.files("harness.validate").joinpath("data/compose-spec.json").read_text("utf-8")
    return json.loads(text)


def check_compose_schema(compose: ComposeProject) -> Iterator[Finding]:
    validator = jsonschema.Draft7Validator(_compose_schema())
    for error in sorted(
        validator.iter_errors(dict(compose.model)), key=lambda e: list(e.absolute_path)
    ):
        yield COMPOSE_SCHEMA.finding(
            target="compose",
            file=compose.file,
            object=_path(error),
            message=error.message,
        )
