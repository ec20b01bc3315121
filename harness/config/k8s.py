"""The bundled Kubernetes manifests (stack/k8s/base) as typed records.

The HPA and the Deployment are the single source of truth for replica bounds, utilization targets,
scaling behavior, resource requests/limits and probes. The local autoscaler and the autoscaling
checks read them through this module; nothing else copies those numbers.

One reader: `manifest_documents` parses a manifest file (the HPA, the Deployment and the PDB here,
the ConfigMap in harness.config.appsettings), and `hpa_from_manifest` /
`deployment_from_manifest` turn one object into its record, whether it came from a file or from a
`kubectl kustomize` rendering. The base is read file by file, so the embedded backend needs only
Python; tests/config/test_k8s.py holds it equal to the base as kustomize renders it. Overlays are
only ever read as kustomize renders them (harness.validate.render, harness.stack.k8s).

Defaults are Kubernetes' own (autoscaling/v2 defaulting, pkg/apis/autoscaling/v2/defaults.go):
an absent ``behavior`` leaves the controller on its legacy path (``HpaSpec.has_behavior`` False);
a present one has every missing field filled with DEFAULT_SCALE_UP / DEFAULT_SCALE_DOWN.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

import yaml
from kubernetes.utils import parse_quantity as kubernetes_quantity

from harness import paths
from harness.errors import ConfigError

__all__ = [
    "APP_PORT",
    "DEFAULT_PROGRESS_DEADLINE_SECONDS",
    "DEFAULT_SCALE_DOWN",
    "DEFAULT_SCALE_UP",
    "DEFAULT_TERMINATION_GRACE_SECONDS",
    "DeploymentSpec",
    "DisruptionBudget",
    "HpaMetricTarget",
    "HpaSpec",
    "Probe",
    "Resources",
    "ScalingPolicy",
    "ScalingRules",
    "ScalingSpec",
    "cpu_millicores",
    "deployment_from_manifest",
    "hpa_from_manifest",
    "load_deployment",
    "load_hpa",
    "load_pdb",
    "load_scaling",
    "manifest_documents",
    "memory_bytes",
    "parse_quantity",
    "pre_stop_sleep",
    "scaled_value",
]

ResourceName = Literal["cpu", "memory"]
PolicyType = Literal["Pods", "Percent"]
SelectPolicy = Literal["Max", "Min", "Disabled"]
FieldPath = tuple[str | int, ...]

RESOURCES: tuple[ResourceName, ...] = ("cpu", "memory")
POLICY_TYPES: tuple[PolicyType, ...] = ("Pods", "Percent")
SELECT_POLICIES: tuple[SelectPolicy, ...] = ("Max", "Min", "Disabled")
APP_CONTAINER = "app"
APP_PORT = 3000  # the app container's port (its PORT setting, containerPort `http`)

# Kubernetes' defaults for Deployment fields a manifest leaves out (apps/v1 defaulting).
DEFAULT_TERMINATION_GRACE_SECONDS = 30
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600

# Kubernetes API validation limits (pkg/apis/autoscaling/validation).
MAX_PERIOD_SECONDS = 1800
MAX_STABILIZATION_SECONDS = 3600


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Resources:
    """A container's resource requests, or its limits; None where the manifest sets none."""

    cpu_millicores: int | None
    memory_bytes: int | None

    def get(self, resource: ResourceName) -> int | None:
        """The amount of ``resource`` in its unit (millicores for cpu, bytes for memory)."""
        return self.cpu_millicores if resource == "cpu" else self.memory_bytes


@dataclass(frozen=True)
class HpaMetricTarget:
    """A ``type: Resource`` metric with a ``Utilization`` target (percent of the request)."""

    resource: ResourceName
    average_utilization: int


@dataclass(frozen=True)
class ScalingPolicy:
    """At most ``value`` pods (Pods) or ``value`` percent (Percent) per ``period_seconds``."""

    type: PolicyType
    value: int
    period_seconds: int


@dataclass(frozen=True)
class ScalingRules:
    """One direction of ``spec.behavior`` (scaleUp or scaleDown), defaults filled in.

    ``tolerance`` is the per-direction tolerance of newer Kubernetes (behavior.*.tolerance);
    None means the controller-wide tolerance (0.1).
    """

    stabilization_window_seconds: int
    select_policy: SelectPolicy
    policies: tuple[ScalingPolicy, ...]
    tolerance: float | None = None

    @property
    def longest_period_seconds(self) -> int:
        return max((p.period_seconds for p in self.policies), default=0)


DEFAULT_SCALE_UP = ScalingRules(
    stabilization_window_seconds=0,
    select_policy="Max",
    policies=(ScalingPolicy("Pods", 4, 15), ScalingPolicy("Percent", 100, 15)),
)
# Kubernetes leaves scaleDown's window unset and the controller fills in its
# --horizontal-pod-autoscaler-downscale-stabilization flag, 5 minutes by default.
DEFAULT_SCALE_DOWN = ScalingRules(
    stabilization_window_seconds=300,
    select_policy="Max",
    policies=(ScalingPolicy("Percent", 100, 15),),
)


@dataclass(frozen=True)
class HpaSpec:
    """An autoscaling/v2 HorizontalPodAutoscaler, reduced to what the autoscaler needs.

    ``has_behavior`` says whether the manifest had ``spec.behavior``: without it the Kubernetes
    controller takes its legacy path (scale-down stabilization only, scale-up limited to
    max(2 x current, 4) per sync) and ``scale_up``/``scale_down`` only carry the defaults
    (``scale_down.stabilization_window_seconds`` standing for the controller flag).
    """

    min_replicas: int
    max_replicas: int
    metrics: tuple[HpaMetricTarget, ...]
    scale_up: ScalingRules = DEFAULT_SCALE_UP
    scale_down: ScalingRules = DEFAULT_SCALE_DOWN
    has_behavior: bool = True
    name: str = ""
    target_kind: str = "Deployment"
    target_name: str = ""

    def __post_init__(self) -> None:
        if self.min_replicas < 1 or self.max_replicas < self.min_replicas:
            raise ValueError(
                "need 1 <= min_replicas <= max_replicas, "
                f"got {self.min_replicas}..{self.max_replicas}"
            )
        if not self.metrics:
            raise ValueError("an HPA needs at least one metric")

    def target_for(self, resource: ResourceName) -> int | None:
        """The utilization target (percent) for ``resource``, None when the HPA has none."""
        for metric in self.metrics:
            if metric.resource == resource:
                return metric.average_utilization
        return None


@dataclass(frozen=True)
class Probe:
    """An HTTP probe with Kubernetes' defaults for unset fields."""

    path: str | None
    port: int | None
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


@dataclass(frozen=True)
class DeploymentSpec:
    """The Deployment and its ``app`` container."""

    name: str
    replicas: int
    container_name: str
    requests: Resources
    limits: Resources
    container_port: int | None = None
    startup_probe: Probe | None = None
    readiness_probe: Probe | None = None
    liveness_probe: Probe | None = None
    termination_grace_period_seconds: int = DEFAULT_TERMINATION_GRACE_SECONDS
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"
    # A new pod counts as available this long after it turned ready (spec.minReadySeconds).
    min_ready_seconds: int = 0
    # A rollout without progress this long is failed (spec.progressDeadlineSeconds).
    progress_deadline_seconds: int = DEFAULT_PROGRESS_DEADLINE_SECONDS
    # The app container's preStop sleep (lifecycle.preStop: `sleep` or an exec `sleep N`).
    pre_stop_seconds: float = 0.0

    @property
    def startup_failure_threshold(self) -> int | None:
        return self.startup_probe.failure_threshold if self.startup_probe else None


@dataclass(frozen=True)
class DisruptionBudget:
    """A PodDisruptionBudget's numbers: one of max_unavailable or min_available (int or "N%")."""

    max_unavailable: int | str | None = 1
    min_available: int | str | None = None

    def allowed(self, expected: int, healthy: int) -> int:
        """Disruptions allowed now: the disruption controller's arithmetic (updatePdbStatus in
        pkg/controller/disruption), percentages of the expected count rounded up."""
        if self.min_available is not None:
            need = scaled_value(self.min_available, expected, round_up=True)
        else:
            need = expected - scaled_value(self.max_unavailable or 0, expected, round_up=True)
        return max(0, healthy - need)

    def describe(self) -> str:
        if self.min_available is not None:
            return f"minAvailable {self.min_available}"
        return f"maxUnavailable {self.max_unavailable}"


@dataclass(frozen=True)
class ScalingSpec:
    """The HPA and the Deployment it scales, checked against each other."""

    hpa: HpaSpec
    deployment: DeploymentSpec


# --------------------------------------------------------------------------- quantities

def parse_quantity(value: object) -> Decimal:
    """A Kubernetes quantity ("500m", "1", "512Mi", "1G", "1e3", 0.5) as an exact Decimal.

    The kubernetes client's parser (kubernetes.utils.parse_quantity), made strict where it is
    lenient: no booleans, no blanks, finite numbers only, and floats taken by their
    decimal text (0.1 is "0.1", not the binary float's 0.1000000000000000055).
    Raises ValueError for anything that is not a quantity.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a quantity: {value!r}")
    text = value if isinstance(value, str) else repr(value)
    if not text or any(c.isspace() for c in text):
        raise ValueError(f"not a quantity: {value!r}")
    try:
        quantity = kubernetes_quantity(text)
    except (ValueError, ArithmeticError):
        raise ValueError(f"not a quantity: {value!r}") from None
    if not quantity.is_finite():
        raise ValueError(f"not a quantity: {value!r}")
    return quantity


def scaled_value(value: int | str, total: int, *, round_up: bool) -> int:
    """An int-or-percent field (2, "25%") as a count of ``total``: Kubernetes'
    intstr.GetScaledValueFromIntOrPercent, a percentage rounded up or down as ``round_up`` says.
    Raises ValueError for a string that is no percentage."""
    if isinstance(value, str):
        if not value.endswith("%"):
            raise ValueError(f"{value!r} is not a percentage")
        exact = float(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def cpu_millicores(value: object) -> int:
    """A cpu quantity in millicores, rounded up as Kubernetes' MilliValue() does."""
    return math.ceil(_non_negative(value) * 1000)


def memory_bytes(value: object) -> int:
    """A memory quantity in bytes, rounded up as Kubernetes' Value() does."""
    return math.ceil(_non_negative(value))


def _non_negative(value: object) -> Decimal:
    quantity = parse_quantity(value)
    if quantity < 0:
        raise ValueError(f"must not be negative: {value!r}")
    return quantity


# --------------------------------------------------------------------------- reading


class _Reader:
    """Walks one manifest, raising ConfigError with the file and the field path on bad input."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(
        self, field: FieldPath | str | None, problem: str, allowed: str | None = None
    ) -> ConfigError:
        return ConfigError(self.source, field, problem, allowed)

    def mapping(self, value: object, field: FieldPath) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(field or None, f"expected a mapping, got {_kind(value)}")
        return cast(Mapping[str, Any], value)

    def child(self, parent: Mapping[str, Any], key: str, field: FieldPath) -> Any:
        if key not in parent or parent[key] is None:
            raise self.fail((*field, key), "required field is missing")
        return parent[key]

    def sequence(self, value: object, field: FieldPath) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(field, f"expected a list, got {_kind(value)}")
        return value

    def integer(self, value: object, field: FieldPath, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, f"expected an integer, got {value!r}", _range(low, high))
        if value < low or (high is not None and value > high):
            raise self.fail(field, f"out of range: {value}", _range(low, high))
        return value

    def choice(self, value: object, field: FieldPath, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            raise self.fail(field, f"unsupported value {value!r}", ", ".join(allowed))
        return cast(str, value)

    def header(self, doc: Mapping[str, Any], api_versions: tuple[str, ...], kind: str) -> None:
        self.choice(doc.get("apiVersion"), ("apiVersion",), api_versions)
        self.choice(doc.get("kind"), ("kind",), (kind,))

    def quantity(self, value: object, field: FieldPath, resource: ResourceName) -> int:
        try:
            return cpu_millicores(value) if resource == "cpu" else memory_bytes(value)
        except ValueError as exc:
            example = '"500m", "1", "0.5"' if resource == "cpu" else '"512Mi", "1Gi", "1G", "250M"'
            raise self.fail(
                field, str(exc), f"a non-negative Kubernetes quantity such as {example}"
            ) from None


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _range(low: int, high: int | None) -> str:
    return f"an integer >= {low}" if high is None else f"an integer {low}..{high}"


def manifest_documents(path: Path | str) -> list[Any]:
    """Every YAML document of one manifest file, empty ones left out.

    ConfigError names the file (and the line of a YAML error) when it cannot be read.
    """
    path = Path(path)
    reader = _Reader(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise reader.fail(None, "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise reader.fail(None, f"cannot read: {exc}") from None
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or "syntax error"
        raise reader.fail(where, f"invalid YAML: {problem}") from None


def _read_manifest(path: Path) -> Mapping[str, Any]:
    """The one object of a single-object manifest file."""
    docs = manifest_documents(path)
    if len(docs) != 1:
        raise _Reader(str(path)).fail(
            None, f"expected exactly one YAML document, found {len(docs)}")
    return cast(Mapping[str, Any], docs[0])


# --------------------------------------------------------------------------- HPA


def load_hpa(path: Path | str) -> HpaSpec:
    """Read an autoscaling/v2 HorizontalPodAutoscaler manifest."""
    return hpa_from_manifest(_read_manifest(Path(path)), str(path))


def hpa_from_manifest(manifest: object, source: str) -> HpaSpec:
    """An autoscaling/v2 HorizontalPodAutoscaler object; errors name ``source``."""
    reader = _Reader(source)
    doc = reader.mapping(manifest, ())
    reader.header(doc, ("autoscaling/v2",), "HorizontalPodAutoscaler")
    metadata = reader.mapping(doc.get("metadata") or {}, ("metadata",))
    spec = reader.mapping(reader.child(doc, "spec", ()), ("spec",))
    ref = reader.mapping(
        reader.child(spec, "scaleTargetRef", ("spec",)), ("spec", "scaleTargetRef")
    )

    min_field: FieldPath = ("spec", "minReplicas")
    min_replicas = reader.integer(spec.get("minReplicas", 1), min_field, 1)
    max_replicas = reader.integer(
        reader.child(spec, "maxReplicas", ("spec",)), ("spec", "maxReplicas"), min_replicas
    )
    behavior = spec.get("behavior")
    if behavior is None:
        scale_up, scale_down = DEFAULT_SCALE_UP, DEFAULT_SCALE_DOWN
    else:
        behavior = reader.mapping(behavior, ("spec", "behavior"))
        scale_up = _scaling_rules(reader, behavior.get("scaleUp"), "scaleUp", DEFAULT_SCALE_UP)
        scale_down = _scaling_rules(
            reader, behavior.get("scaleDown"), "scaleDown", DEFAULT_SCALE_DOWN
        )
    return HpaSpec(
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        metrics=_metrics(reader, spec.get("metrics")),
        scale_up=scale_up,
        scale_down=scale_down,
        has_behavior=behavior is not None,
        name=str(metadata.get("name", "")),
        target_kind=str(reader.child(ref, "kind", ("spec", "scaleTargetRef"))),
        target_name=str(reader.child(ref, "name", ("spec", "scaleTargetRef"))),
    )


def _metrics(reader: _Reader, raw: object) -> tuple[HpaMetricTarget, ...]:
    if raw is None or raw == []:
        # Kubernetes' default when no metric is given: cpu at 80 % of the request.
        return (HpaMetricTarget("cpu", 80),)
    metrics = []
    for index, item in enumerate(reader.sequence(raw, ("spec", "metrics"))):
        field: FieldPath = ("spec", "metrics", index)
        entry = reader.mapping(item, field)
        reader.choice(
            entry.get("type"),
            (*field, "type"),
            ("Resource",),  # the local autoscaler measures replica processes' cpu and memory only
        )
        resource = reader.mapping(reader.child(entry, "resource", field), (*field, "resource"))
        name = reader.choice(resource.get("name"), (*field, "resource", "name"), RESOURCES)
        target_field: FieldPath = (*field, "resource", "target")
        target = reader.mapping(
            reader.child(resource, "target", (*field, "resource")), target_field
        )
        reader.choice(target.get("type"), (*target_field, "type"), ("Utilization",))
        utilization = reader.integer(
            reader.child(target, "averageUtilization", target_field),
            (*target_field, "averageUtilization"),
            1,
        )
        metrics.append(HpaMetricTarget(cast(ResourceName, name), utilization))
    return tuple(metrics)


def _scaling_rules(
    reader: _Reader, raw: object, direction: str, defaults: ScalingRules
) -> ScalingRules:
    field: FieldPath = ("spec", "behavior", direction)
    if raw is None:
        return defaults
    rules = reader.mapping(raw, field)
    window = defaults.stabilization_window_seconds
    if rules.get("stabilizationWindowSeconds") is not None:
        window = reader.integer(
            rules["stabilizationWindowSeconds"],
            (*field, "stabilizationWindowSeconds"),
            0,
            MAX_STABILIZATION_SECONDS,
        )
    select = defaults.select_policy
    if rules.get("selectPolicy") is not None:
        select = cast(
            SelectPolicy,
            reader.choice(rules["selectPolicy"], (*field, "selectPolicy"), SELECT_POLICIES),
        )
    policies = defaults.policies
    if rules.get("policies") is not None:
        policies = _policies(reader, rules["policies"], (*field, "policies"))
    tolerance = None
    if rules.get("tolerance") is not None:
        try:
            tolerance = float(_non_negative(rules["tolerance"]))
        except ValueError as exc:
            raise reader.fail(
                (*field, "tolerance"), str(exc), 'a quantity >= 0 such as "0.05"'
            ) from None
    return ScalingRules(window, select, policies, tolerance)


def _policies(reader: _Reader, raw: object, field: FieldPath) -> tuple[ScalingPolicy, ...]:
    items = reader.sequence(raw, field)
    if not items:
        raise reader.fail(field, "must list at least one policy")
    policies = []
    for index, item in enumerate(items):
        entry = reader.mapping(item, (*field, index))
        kind = reader.choice(entry.get("type"), (*field, index, "type"), POLICY_TYPES)
        value = reader.integer(
            reader.child(entry, "value", (*field, index)), (*field, index, "value"), 1
        )
        period = reader.integer(
            reader.child(entry, "periodSeconds", (*field, index)),
            (*field, index, "periodSeconds"),
            1,
            MAX_PERIOD_SECONDS,
        )
        policies.append(ScalingPolicy(cast(PolicyType, kind), value, period))
    return tuple(policies)


# --------------------------------------------------------------------------- Deployment


def load_deployment(path: Path | str, container: str = APP_CONTAINER) -> DeploymentSpec:
    """Read an apps/v1 Deployment manifest and its container named ``container`` ("app")."""
    return _load_deployment(Path(path), container)[0]


def deployment_from_manifest(
    manifest: object, source: str, container: str = APP_CONTAINER
) -> DeploymentSpec:
    """An apps/v1 Deployment object and its container named ``container``; errors name
    ``source``."""
    return _deployment(manifest, source, container)[0]


def _load_deployment(path: Path, container: str) -> tuple[DeploymentSpec, int]:
    return _deployment(_read_manifest(path), str(path), container)


def _deployment(manifest: object, source: str, container: str) -> tuple[DeploymentSpec, int]:
    """The Deployment and the index of its container (for field paths in later errors)."""
    reader = _Reader(source)
    doc = reader.mapping(manifest, ())
    reader.header(doc, ("apps/v1",), "Deployment")
    metadata = reader.mapping(reader.child(doc, "metadata", ()), ("metadata",))
    spec = reader.mapping(reader.child(doc, "spec", ()), ("spec",))
    pod_field: FieldPath = ("spec", "template", "spec")
    template = reader.mapping(reader.child(spec, "template", ("spec",)), ("spec", "template"))
    pod = reader.mapping(reader.child(template, "spec", ("spec", "template")), pod_field)
    containers = reader.sequence(
        reader.child(pod, "containers", pod_field), (*pod_field, "containers")
    )
    index, entry = _find_container(reader, containers, container, (*pod_field, "containers"))
    field: FieldPath = (*pod_field, "containers", index)

    resources = reader.mapping(entry.get("resources") or {}, (*field, "resources"))
    requests = _resources(reader, resources.get("requests"), (*field, "resources", "requests"))
    limits = _resources(reader, resources.get("limits"), (*field, "resources", "limits"))
    ports = _named_ports(reader, entry.get("ports"), (*field, "ports"))
    strategy = reader.mapping(spec.get("strategy") or {}, ("spec", "strategy"))
    rolling = reader.mapping(
        strategy.get("rollingUpdate") or {}, ("spec", "strategy", "rollingUpdate")
    )
    deployment = DeploymentSpec(
        name=str(reader.child(metadata, "name", ("metadata",))),
        replicas=reader.integer(spec.get("replicas", 1), ("spec", "replicas"), 0),
        container_name=container,
        requests=Resources(requests[0], requests[1]),
        limits=Resources(limits[0], limits[1]),
        container_port=next(iter(ports.values()), None),
        startup_probe=_probe(reader, entry.get("startupProbe"), (*field, "startupProbe"), ports),
        readiness_probe=_probe(
            reader, entry.get("readinessProbe"), (*field, "readinessProbe"), ports
        ),
        liveness_probe=_probe(reader, entry.get("livenessProbe"), (*field, "livenessProbe"), ports),
        termination_grace_period_seconds=reader.integer(
            pod.get("terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_SECONDS),
            (*pod_field, "terminationGracePeriodSeconds"),
            0,
        ),
        max_surge=_int_or_percent(
            reader,
            rolling.get("maxSurge", "25%"),
            ("spec", "strategy", "rollingUpdate", "maxSurge"),
        ),
        max_unavailable=_int_or_percent(
            reader,
            rolling.get("maxUnavailable", "25%"),
            ("spec", "strategy", "rollingUpdate", "maxUnavailable"),
        ),
        min_ready_seconds=reader.integer(spec.get("minReadySeconds", 0),
                                         ("spec", "minReadySeconds"), 0),
        progress_deadline_seconds=reader.integer(
            spec.get("progressDeadlineSeconds", DEFAULT_PROGRESS_DEADLINE_SECONDS),
            ("spec", "progressDeadlineSeconds"), 1),
        pre_stop_seconds=_pre_stop(reader, entry.get("lifecycle"), (*field, "lifecycle")),
    )
    return deployment, index


def pre_stop_sleep(lifecycle: Mapping[str, Any]) -> float:
    """A container lifecycle's preStop sleep: the native `sleep` action's seconds, or the
    `sleep N` of an exec command (0 without a hook, or for an HTTP hook, whose time is not
    known)."""
    hook = lifecycle.get("preStop") or {}
    if "sleep" in hook:
        return float((hook.get("sleep") or {}).get("seconds", 0))
    command = " ".join(str(part) for part in (hook.get("exec") or {}).get("command") or [])
    return sum(float(n) for n in re.findall(r"\bsleep\s+([0-9]+(?:\.[0-9]+)?)", command))


def _pre_stop(reader: _Reader, raw: object, field: FieldPath) -> float:
    """pre_stop_sleep, once the hook's shape is checked (errors name the field)."""
    lifecycle = reader.mapping(raw or {}, field)
    hook = reader.mapping(lifecycle.get("preStop") or {}, (*field, "preStop"))
    sleep = reader.mapping(hook.get("sleep") or {}, (*field, "preStop", "sleep"))
    reader.integer(sleep.get("seconds", 0), (*field, "preStop", "sleep", "seconds"), 0)
    run = reader.mapping(hook.get("exec") or {}, (*field, "preStop", "exec"))
    reader.sequence(run.get("command") or [], (*field, "preStop", "exec", "command"))
    return pre_stop_sleep(lifecycle)


def _find_container(
    reader: _Reader, containers: list[Any], name: str, field: FieldPath
) -> tuple[int, Mapping[str, Any]]:
    names = []
    for index, item in enumerate(containers):
        entry = reader.mapping(item, (*field, index))
        if entry.get("name") == name:
            return index, entry
        names.append(str(entry.get("name")))
    raise reader.fail(field, f"no container named {name!r} (found: {', '.join(names) or 'none'})")


def _resources(reader: _Reader, raw: object, field: FieldPath) -> tuple[int | None, int | None]:
    values = reader.mapping(raw or {}, field)
    cpu = values.get("cpu")
    memory = values.get("memory")
    return (
        None if cpu is None else reader.quantity(cpu, (*field, "cpu"), "cpu"),
        None if memory is None else reader.quantity(memory, (*field, "memory"), "memory"),
    )


def _named_ports(reader: _Reader, raw: object, field: FieldPath) -> dict[str, int]:
    ports: dict[str, int] = {}
    for index, item in enumerate(reader.sequence(raw or [], field)):
        entry = reader.mapping(item, (*field, index))
        number = reader.integer(
            reader.child(entry, "containerPort", (*field, index)),
            (*field, index, "containerPort"),
            1,
            65535,
        )
        ports[str(entry.get("name", number))] = number
    return ports


def _probe(reader: _Reader, raw: object, field: FieldPath, ports: dict[str, int]) -> Probe | None:
    if raw is None:
        return None
    probe = reader.mapping(raw, field)
    http = reader.mapping(probe.get("httpGet") or {}, (*field, "httpGet"))
    port = http.get("port")
    if isinstance(port, str):
        if port not in ports:
            raise reader.fail(
                (*field, "httpGet", "port"), f"no container port named {port!r}", ", ".join(ports)
            )
        port = ports[port]
    elif port is not None:
        port = reader.integer(port, (*field, "httpGet", "port"), 1, 65535)

    def number(key: str, default: int, low: int) -> int:
        return reader.integer(probe.get(key, default), (*field, key), low)

    return Probe(
        path=None if http.get("path") is None else str(http["path"]),
        port=port,
        initial_delay_seconds=number("initialDelaySeconds", 0, 0),
        period_seconds=number("periodSeconds", 10, 1),
        timeout_seconds=number("timeoutSeconds", 1, 1),
        success_threshold=number("successThreshold", 1, 1),
        failure_threshold=number("failureThreshold", 3, 1),
    )


def _int_or_percent(reader: _Reader, value: object, field: FieldPath) -> int | str:
    if isinstance(value, str) and re.fullmatch(r"\d+%", value):
        return value
    return reader.integer(value, field, 0)


# --------------------------------------------------------------------------- PDB


def load_pdb(path: Path) -> DisruptionBudget:
    """The PodDisruptionBudget in ``path`` (stack/k8s/base/pdb.yaml); without the file, the
    default DisruptionBudget."""
    if not path.exists():
        return DisruptionBudget()  # no PDB: Kubernetes allows any eviction; keep one at a time
    for document in manifest_documents(path):
        if isinstance(document, dict) and document.get("kind") == "PodDisruptionBudget":
            spec = document.get("spec") or {}
            if not isinstance(spec, dict):
                raise ConfigError(str(path), ("spec",), "expected a mapping",
                                  "maxUnavailable or minAvailable, and a selector")
            for key in ("maxUnavailable", "minAvailable"):
                value = spec.get(key)
                if value is None:
                    continue
                whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
                if not whole and not (
                    isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()
                ):
                    raise ConfigError(str(path), ("spec", key), f"{value!r} is not a count",
                                      "a whole number or a percentage such as 25%")
                if key == "maxUnavailable":
                    return DisruptionBudget(max_unavailable=value)
                return DisruptionBudget(max_unavailable=None, min_available=value)
    return DisruptionBudget()


# --------------------------------------------------------------------------- both


def load_scaling(base_dir: Path | str | None = None) -> ScalingSpec:
    """Read ``hpa.yaml`` and ``deployment.yaml`` from ``base_dir`` (default: stack/k8s/base).

    Checks that the HPA targets this Deployment and that every metric's resource has a request
    (utilization is usage divided by the request).
    """
    base = Path(base_dir) if base_dir is not None else paths.k8s_base_dir()
    hpa_path, deployment_path = base / "hpa.yaml", base / "deployment.yaml"
    hpa = load_hpa(hpa_path)
    deployment, container_index = _load_deployment(deployment_path, APP_CONTAINER)
    if hpa.target_kind != "Deployment" or hpa.target_name != deployment.name:
        raise ConfigError(
            str(hpa_path),
            ("spec", "scaleTargetRef"),
            f"targets {hpa.target_kind}/{hpa.target_name}, not the bundled Deployment",
            f"Deployment/{deployment.name}",
        )
    for metric in hpa.metrics:
        if deployment.requests.get(metric.resource) is None:
            requests_field = ("resources", "requests", metric.resource)
            raise ConfigError(
                str(deployment_path),
                ("spec", "template", "spec", "containers", container_index, *requests_field),
                f"missing, but the HPA ({hpa_path.name}) scales on {metric.resource} utilization",
                "a quantity; utilization is usage divided by this request",
            )
    return ScalingSpec(hpa=hpa, deployment=deployment)
