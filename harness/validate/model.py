"""Records `harness validate` passes around: findings, rules, and the loaded stack."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = [
    "ComposeProject",
    "EnvironmentSpec",
    "Finding",
    "K8sObject",
    "PostgresConf",
    "RedisConf",
    "RenderedTarget",
    "Rule",
    "Severity",
    "Stack",
    "ValidationReport",
    "Where",
]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken (or doubtful) promise, where it is and how to fix it.

    `file` is relative to the stack directory; `targets` names the renderings it was seen in
    (`base`, `overlays/production`, `compose`, ...), several when the same problem repeats.
    """

    rule_id: str
    severity: Severity
    file: str
    object: str
    message: str
    fix: str
    targets: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": self.severity.value,
            "file": self.file,
            "object": self.object,
            "targets": list(self.targets),
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True, slots=True)
class Where:
    """Where a finding points: the rendering, the stack-relative file, the object in it."""

    target: str
    file: str
    object: str


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's identity: id (`family.name`), default severity, one-line summary, default fix."""

    id: str
    severity: Severity
    summary: str
    fix: str

    def finding(
        self,
        where: Where | None = None,
        *,
        message: str,
        target: str = "",
        file: str = "",
        object: str = "",
        fix: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule, placed by `where` or by target/file/object."""
        if where is not None:
            target, file, object = where.target, where.file, where.object
        return Finding(
            rule_id=self.id,
            severity=severity or self.severity,
            file=file,
            object=object,
            message=message,
            fix=fix or self.fix,
            targets=(target,),
        )


@dataclass(frozen=True, slots=True)
class K8sObject:
    """One rendered Kubernetes object; `file` is the stack-relative file it came from."""

    kind: str
    name: str
    body: Mapping[str, Any]
    file: str

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def spec(self) -> Mapping[str, Any]:
        spec = self.body.get("spec")
        return spec if isinstance(spec, Mapping) else {}


@dataclass(frozen=True, slots=True)
class RenderedTarget:
    """`kubectl kustomize` output of one kustomize directory (`base`, `overlays/<name>`)."""

    name: str
    path: str
    objects: tuple[K8sObject, ...]

    def of_kind(self, kind: str) -> tuple[K8sObject, ...]:
        return tuple(o for o in self.objects if o.kind == kind)

    def get(self, kind: str, name: str) -> K8sObject | None:
        for obj in self.objects:
            if obj.kind == kind and obj.name == name:
                return obj
        return None

    def where(self, obj: K8sObject, part: str = "") -> Where:
        """Where a finding on `obj` of this rendering points; `part` narrows it (a container)."""
        return Where(
            target=self.name, file=obj.file, object=f"{obj.ref} {part}" if part else obj.ref
        )


@dataclass(frozen=True, slots=True)
class ComposeProject:
    """The compose file: as written (`raw`, for `${...}` checks) and interpolated (`model`)."""

    file: str
    raw: Mapping[str, Any]
    model: Mapping[str, Any]
    env_example: Mapping[str, str]
    required_variables: tuple[str, ...]

    def service(self, name: str) -> Mapping[str, Any] | None:
        services = self.model.get("services") or {}
        svc = services.get(name) if isinstance(services, Mapping) else None
        return svc if isinstance(svc, Mapping) else None

    def raw_service(self, name: str) -> Mapping[str, Any] | None:
        services = self.raw.get("services") or {}
        svc = services.get(name) if isinstance(services, Mapping) else None
        return svc if isinstance(svc, Mapping) else None

    def where(self, service: str) -> Where:
        """Where a finding on one of the compose file's services points."""
        return Where(target="compose", file=self.file, object=f"service {service}")


@dataclass(frozen=True, slots=True)
class PostgresConf:
    """postgresql.conf, the settings `harness validate` reasons about (bytes, counts)."""

    file: str
    max_connections: int
    superuser_reserved_connections: int
    shared_buffers: int
    effective_cache_size: int
    work_mem: int
    maintenance_work_mem: int
    wal_buffers: int
    autovacuum_max_workers: int


@dataclass(frozen=True, slots=True)
class RedisConf:
    file: str
    maxmemory: int
    maxmemory_policy: str
    maxclients: int


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    """What a target runs against (stack/environments.yaml): configs and instance sizes."""

    target: str
    postgres: PostgresConf
    redis: RedisConf
    postgres_instance: str | None
    postgres_memory: int | None
    redis_instance: str | None
    redis_memory: int | None
    postgres_headroom: int
    redis_headroom: int


@dataclass(frozen=True, slots=True)
class Stack:
    """Everything the rules look at, loaded once."""

    root: Path
    targets: tuple[RenderedTarget, ...]
    compose: ComposeProject
    environments: Mapping[str, EnvironmentSpec]
    dockerfile: str
    dockerfile_text: str
    texts: Mapping[str, str] = field(default_factory=dict)

    def text(self, relpath: str) -> str | None:
        """A stack file's text (nginx.conf, prometheus.yml, ...), None when absent."""
        return self.texts.get(relpath)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    stack_dir: str
    targets: tuple[str, ...]
    findings: tuple[Finding, ...]
    seconds: float

    @property
    def has_errors(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack_dir": self.stack_dir,
            "targets": list(self.targets),
            "counts": self.counts(),
            "ok": not self.has_errors,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
        }
