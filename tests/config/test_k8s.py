"""harness.config.k8s: quantities, HPA and Deployment manifests, Kubernetes defaults, errors."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import paths
from harness.config.k8s import (
    DEFAULT_SCALE_DOWN,
    DEFAULT_SCALE_UP,
    DisruptionBudget,
    HpaMetricTarget,
    ScalingPolicy,
    ScalingRules,
    cpu_millicores,
    deployment_from_manifest,
    hpa_from_manifest,
    load_deployment,
    load_hpa,
    load_pdb,
    load_scaling,
    manifest_documents,
    memory_bytes,
    parse_quantity,
    scaled_value,
)
from harness.errors import ConfigError
from harness.status import ExitStatus

Mi = 2**20
Gi = 2**30

HPA: dict[str, Any] = {
    "apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "web"},
    "spec": {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 70},
                },
            },
            {
                "type": "Resource",
                "resource": {
                    "name": "memory",
                    "target": {"type": "Utilization", "averageUtilization": 80},
                },
            },
        ],
    },
}

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "replicas": 3,
        "template": {
            "spec": {
                "containers": [
                    {"name": "sidecar", "image": "proxy"},
                    {
                        "name": "app",
                        "ports": [{"name": "http", "containerPort": 3000}],
                        "resources": {
                            "requests": {"cpu": "500m", "memory": "512Mi"},
                            "limits": {"cpu": 1, "memory": "1Gi"},
                        },
                        "startupProbe": {
                            "httpGet": {"path": "/startup", "port": "http"},
                            "periodSeconds": 5,
                            "failureThreshold": 30,
                        },
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 3000}},
                    },
                ]
            }
        },
    },
}


def write(tmp_path: Path, doc: Any, name: str = "manifest.yaml") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc), encoding="utf-8")
    return path


def mutated(base: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    change(doc)
    return doc


# --------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("500m", Decimal("0.5"), id="milli"),
        pytest.param("1", Decimal(1), id="plain"),
        pytest.param("1.5", Decimal("1.5"), id="decimal"),
        pytest.param(".5", Decimal("0.5"), id="leading-dot"),
        pytest.param("512Mi", Decimal(512 * Mi), id="mebi"),
        pytest.param("1Gi", Decimal(Gi), id="gibi"),
        pytest.param("100Ki", Decimal(102400), id="kibi"),
        pytest.param("1G", Decimal(10**9), id="giga"),
        pytest.param("250M", Decimal(250 * 10**6), id="mega"),
        pytest.param("2k", Decimal(2000), id="kilo"),
        pytest.param("1e3", Decimal(1000), id="exponent"),
        pytest.param("1E", Decimal(10**18), id="exa-not-exponent"),
        pytest.param("100u", Decimal("0.0001"), id="micro"),
        pytest.param("+2", Decimal(2), id="plus-sign"),
        pytest.param(2, Decimal(2), id="yaml-int"),
        pytest.param(0.25, Decimal("0.25"), id="yaml-float"),
        pytest.param(0.1, Decimal("0.1"), id="yaml-float-by-its-text"),
    ],
)
def test_parse_quantity(text: object, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("abc", id="word"),
        pytest.param("1.2.3", id="two-dots"),
        pytest.param("5 m", id="space"),
        pytest.param(" 5", id="leading-space"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param(float("inf"), id="float-infinity"),
        pytest.param("1mi", id="lowercase-binary"),
        pytest.param("1KiB", id="unit-bytes"),
        pytest.param("70%", id="percent"),
        pytest.param(True, id="bool"),
        pytest.param(None, id="none"),
        pytest.param([1], id="list"),
    ],
)
def test_parse_quantity_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="not a quantity"):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "millicores"),
    [
        pytest.param("500m", 500, id="500m"),
        pytest.param("1", 1000, id="one-core"),
        pytest.param("0.1", 100, id="tenth"),
        pytest.param("1.0001", 1001, id="rounds-up-like-MilliValue"),
        pytest.param("1000m", 1000, id="1000m"),
    ],
)
def test_cpu_millicores(text: str, millicores: int) -> None:
    assert cpu_millicores(text) == millicores


@pytest.mark.parametrize(
    ("text", "size"),
    [
        pytest.param("512Mi", 512 * Mi, id="512Mi"),
        pytest.param("1Gi", Gi, id="1Gi"),
        pytest.param("1G", 10**9, id="1G-is-decimal"),
        pytest.param("250M", 250 * 10**6, id="250M"),
        pytest.param("1.5Gi", 3 * Gi // 2, id="1.5Gi"),
        pytest.param("1500m", 2, id="milli-bytes-round-up"),
    ],
)
def test_memory_bytes(text: str, size: int) -> None:
    assert memory_bytes(text) == size


def test_negative_request_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        cpu_millicores("-1")


# --------------------------------------------------------------------------- HPA


def test_load_hpa_reads_bounds_and_targets(tmp_path: Path) -> None:
    hpa = load_hpa(write(tmp_path, HPA))
    assert (hpa.min_replicas, hpa.max_replicas) == (2, 10)
    assert hpa.metrics == (HpaMetricTarget("cpu", 70), HpaMetricTarget("memory", 80))
    assert (hpa.name, hpa.target_kind, hpa.target_name) == ("web", "Deployment", "web")
    assert hpa.target_for("memory") == 80


def test_without_behavior_kubernetes_defaults_and_legacy_path(tmp_path: Path) -> None:
    hpa = load_hpa(write(tmp_path, HPA))
    assert hpa.has_behavior is False
    assert hpa.scale_up == DEFAULT_SCALE_UP
    assert hpa.scale_down == DEFAULT_SCALE_DOWN


def test_default_rules_are_kubernetes_defaults() -> None:
    # pkg/apis/autoscaling/v2/defaults.go (scale-down window: the controller's 5 min flag).
    assert DEFAULT_SCALE_UP.stabilization_window_seconds == 0
    assert DEFAULT_SCALE_UP.select_policy == "Max"
    assert set(DEFAULT_SCALE_UP.policies) == {
        ScalingPolicy("Pods", 4, 15),
        ScalingPolicy("Percent", 100, 15),
    }
    assert DEFAULT_SCALE_DOWN.stabilization_window_seconds == 300
    assert DEFAULT_SCALE_DOWN.select_policy == "Max"
    assert DEFAULT_SCALE_DOWN.policies == (ScalingPolicy("Percent", 100, 15),)


@pytest.mark.parametrize(
    ("behavior", "scale_up", "scale_down"),
    [
        pytest.param({}, DEFAULT_SCALE_UP, DEFAULT_SCALE_DOWN, id="empty-behavior"),
        pytest.param(
            {"scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}},
            DEFAULT_SCALE_UP,
            ScalingRules(300, "Max", (ScalingPolicy("Pods", 1, 60),)),
            id="scale-down-policy-only",
        ),
        pytest.param(
            {"scaleUp": {"stabilizationWindowSeconds": 60}},
            ScalingRules(60, "Max", DEFAULT_SCALE_UP.policies),
            DEFAULT_SCALE_DOWN,
            id="scale-up-window-only",
        ),
        pytest.param(
            {"scaleDown": {"selectPolicy": "Disabled"}, "scaleUp": {"selectPolicy": "Min"}},
            ScalingRules(0, "Min", DEFAULT_SCALE_UP.policies),
            ScalingRules(300, "Disabled", DEFAULT_SCALE_DOWN.policies),
            id="select-policies",
        ),
        pytest.param(
            {"scaleUp": {"tolerance": "0.05"}, "scaleDown": {"tolerance": 0.2}},
            ScalingRules(0, "Max", DEFAULT_SCALE_UP.policies, tolerance=0.05),
            ScalingRules(300, "Max", DEFAULT_SCALE_DOWN.policies, tolerance=0.2),
            id="per-direction-tolerance",
        ),
    ],
)
def test_missing_behavior_fields_get_defaults(
    tmp_path: Path, behavior: dict[str, Any], scale_up: ScalingRules, scale_down: ScalingRules
) -> None:
    doc = mutated(HPA, lambda d: d["spec"].__setitem__("behavior", behavior))
    hpa = load_hpa(write(tmp_path, doc))
    assert hpa.has_behavior is True
    assert hpa.scale_up == scale_up
    assert hpa.scale_down == scale_down


def test_min_replicas_and_metrics_default(tmp_path: Path) -> None:
    def strip(doc: dict[str, Any]) -> None:
        del doc["spec"]["minReplicas"]
        del doc["spec"]["metrics"]

    hpa = load_hpa(write(tmp_path, mutated(HPA, strip)))
    assert hpa.min_replicas == 1
    assert hpa.metrics == (HpaMetricTarget("cpu", 80),)


def _metric(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["metrics"][0]


def _behavior(doc: dict[str, Any], rules: dict[str, Any]) -> None:
    doc["spec"]["behavior"] = {"scaleDown": rules}


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        pytest.param(
            lambda d: d["spec"].pop("maxReplicas"),
            "spec -> maxReplicas",
            "required field is missing",
            id="max-missing",
        ),
        pytest.param(
            lambda d: d["spec"].__setitem__("maxReplicas", 1),
            "spec -> maxReplicas",
            "out of range: 1",
            id="max-below-min",
        ),
        pytest.param(
            lambda d: d["spec"].__setitem__("minReplicas", 0),
            "spec -> minReplicas",
            "out of range: 0",
            id="min-zero",
        ),
        pytest.param(
            lambda d: d["spec"].__setitem__("minReplicas", "2"),
            "spec -> minReplicas",
            "expected an integer",
            id="min-string",
        ),
        pytest.param(
            lambda d: _metric(d).__setitem__("type", "Pods"),
            "spec -> metrics -> 0 -> type",
            "unsupported value 'Pods'",
            id="metric-type",
        ),
        pytest.param(
            lambda d: _metric(d)["resource"].__setitem__("name", "gpu"),
            "spec -> metrics -> 0 -> resource -> name",
            "unsupported value 'gpu'",
            id="metric-resource",
        ),
        pytest.param(
            lambda d: _metric(d)["resource"]["target"].__setitem__("type", "AverageValue"),
            "spec -> metrics -> 0 -> resource -> target -> type",
            "unsupported value 'AverageValue'",
            id="target-type",
        ),
        pytest.param(
            lambda d: _metric(d)["resource"]["target"].__setitem__("averageUtilization", "70%"),
            "spec -> metrics -> 0 -> resource -> target -> averageUtilization",
            "expected an integer, got '70%'",
            id="utilization-percent-string",
        ),
        pytest.param(
            lambda d: _metric(d)["resource"].pop("target"),
            "spec -> metrics -> 0 -> resource -> target",
            "required field is missing",
            id="target-missing",
        ),
        pytest.param(
            lambda d: _behavior(d, {"selectPolicy": "Maximum"}),
            "spec -> behavior -> scaleDown -> selectPolicy",
            "unsupported value 'Maximum'",
            id="select-policy",
        ),
        pytest.param(
            lambda d: _behavior(
                d, {"policies": [{"type": "Pod", "value": 1, "periodSeconds": 60}]}
            ),
            "spec -> behavior -> scaleDown -> policies -> 0 -> type",
            "unsupported value 'Pod'",
            id="policy-type",
        ),
        pytest.param(
            lambda d: _behavior(
                d, {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 1801}]}
            ),
            "spec -> behavior -> scaleDown -> policies -> 0 -> periodSeconds",
            "out of range: 1801",
            id="period-too-long",
        ),
        pytest.param(
            lambda d: _behavior(
                d, {"policies": [{"type": "Pods", "value": 0, "periodSeconds": 15}]}
            ),
            "spec -> behavior -> scaleDown -> policies -> 0 -> value",
            "out of range: 0",
            id="policy-value-zero",
        ),
        pytest.param(
            lambda d: _behavior(d, {"policies": []}),
            "spec -> behavior -> scaleDown -> policies",
            "at least one policy",
            id="policies-empty",
        ),
        pytest.param(
            lambda d: _behavior(d, {"stabilizationWindowSeconds": -1}),
            "spec -> behavior -> scaleDown -> stabilizationWindowSeconds",
            "out of range: -1",
            id="negative-window",
        ),
        pytest.param(
            lambda d: _behavior(d, {"tolerance": "ten"}),
            "spec -> behavior -> scaleDown -> tolerance",
            "not a quantity",
            id="tolerance",
        ),
        pytest.param(
            lambda d: d.__setitem__("apiVersion", "autoscaling/v1"),
            "apiVersion",
            "unsupported value 'autoscaling/v1'",
            id="api-version",
        ),
        pytest.param(
            lambda d: d.__setitem__("kind", "Deployment"),
            "kind",
            "unsupported value 'Deployment'",
            id="kind",
        ),
    ],
)
def test_malformed_hpa_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], field: str, problem: str
) -> None:
    path = write(tmp_path, mutated(HPA, change), "hpa.yaml")
    with pytest.raises(ConfigError) as caught:
        load_hpa(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {field}: ")
    assert problem in message
    assert "\n" not in message
    assert caught.value.exit_status == ExitStatus.BAD_CONFIG


def test_error_says_what_is_allowed(tmp_path: Path) -> None:
    doc = mutated(HPA, lambda d: _behavior(d, {"selectPolicy": "Maximum"}))
    with pytest.raises(ConfigError, match=r"\(allowed: Max, Min, Disabled\)$"):
        load_hpa(write(tmp_path, doc))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("spec: [unclosed\n", "invalid YAML", id="syntax"),
        pytest.param("- a\n- b\n", "expected a mapping, got list", id="not-a-mapping"),
        pytest.param("a: 1\n---\nb: 2\n", "exactly one YAML document, found 2", id="two-docs"),
        pytest.param("", "exactly one YAML document, found 0", id="empty"),
    ],
)
def test_unreadable_manifest(tmp_path: Path, text: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_hpa(path)
    assert str(path) in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_hpa(tmp_path / "nope.yaml")


def test_manifest_documents_leaves_out_empty_ones_and_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "---\na: 1\n---\n---\nb: 2\n")
    assert manifest_documents(path) == [{"a": 1}, {"b": 2}]
    path.write_text("a: 1\nb: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line 3, column 1: invalid YAML") as caught:
        manifest_documents(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_an_object_from_elsewhere_is_read_as_a_file_is(tmp_path: Path) -> None:
    assert hpa_from_manifest(HPA, "rendered") == load_hpa(write(tmp_path, HPA))
    with pytest.raises(ConfigError, match=r"^rendered: spec -> maxReplicas: required"):
        hpa_from_manifest(mutated(HPA, lambda d: d["spec"].pop("maxReplicas")), "rendered")
    with pytest.raises(ConfigError, match=r"^rendered: expected a mapping, got list"):
        deployment_from_manifest([], "rendered")


# --------------------------------------------------------------------------- Deployment


def test_load_deployment_reads_app_container(tmp_path: Path) -> None:
    deployment = load_deployment(write(tmp_path, DEPLOYMENT))
    assert deployment.name == "web"
    assert deployment.replicas == 3
    assert deployment.container_name == "app"
    assert deployment.requests.cpu_millicores == 500
    assert deployment.requests.memory_bytes == 512 * Mi
    assert deployment.limits.cpu_millicores == 1000
    assert deployment.limits.memory_bytes == Gi
    assert deployment.container_port == 3000
    assert deployment.startup_failure_threshold == 30
    assert deployment.startup_probe is not None
    assert deployment.startup_probe.period_seconds == 5
    assert deployment.startup_probe.port == 3000  # the named port "http", resolved
    # Kubernetes' probe defaults where the manifest sets nothing.
    assert deployment.readiness_probe is not None
    assert deployment.readiness_probe.period_seconds == 10
    assert deployment.readiness_probe.failure_threshold == 3
    assert deployment.readiness_probe.timeout_seconds == 1
    assert deployment.liveness_probe is None
    assert (deployment.max_surge, deployment.max_unavailable) == ("25%", "25%")
    assert deployment.termination_grace_period_seconds == 30
    assert (deployment.min_ready_seconds, deployment.progress_deadline_seconds,
            deployment.pre_stop_seconds) == (0, 600, 0.0)  # Kubernetes' defaults


@pytest.mark.parametrize(("hook", "seconds"), [
    ({"sleep": {"seconds": 7}}, 7.0),
    ({"exec": {"command": ["/bin/sh", "-c", "sleep 2.5 && kill -QUIT 1"]}}, 2.5),
    ({"httpGet": {"path": "/drain", "port": 3000}}, 0.0),
])
def test_the_rollout_numbers_and_the_prestop_sleep_are_read(
    tmp_path: Path, hook: dict[str, Any], seconds: float
) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["spec"].update({"minReadySeconds": 10, "progressDeadlineSeconds": 120})
        _app(doc)["lifecycle"] = {"preStop": hook}

    deployment = load_deployment(write(tmp_path, mutated(DEPLOYMENT, change)))
    assert (deployment.min_ready_seconds, deployment.progress_deadline_seconds) == (10, 120)
    assert deployment.pre_stop_seconds == seconds


def _app(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][1]


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        pytest.param(
            lambda d: _app(d).__setitem__("name", "web"),
            "spec -> template -> spec -> containers",
            "no container named 'app' (found: sidecar, web)",
            id="no-app-container",
        ),
        pytest.param(
            lambda d: _app(d)["resources"]["requests"].__setitem__("cpu", "500x"),
            "spec -> template -> spec -> containers -> 1 -> resources -> requests -> cpu",
            "not a quantity: '500x'",
            id="bad-cpu",
        ),
        pytest.param(
            lambda d: _app(d)["resources"]["limits"].__setitem__("memory", "-1Gi"),
            "spec -> template -> spec -> containers -> 1 -> resources -> limits -> memory",
            "must not be negative",
            id="negative-memory",
        ),
        pytest.param(
            lambda d: _app(d)["startupProbe"]["httpGet"].__setitem__("port", "metrics"),
            "spec -> template -> spec -> containers -> 1 -> startupProbe -> httpGet -> port",
            "no container port named 'metrics'",
            id="unknown-named-port",
        ),
        pytest.param(
            lambda d: _app(d)["startupProbe"].__setitem__("failureThreshold", 0),
            "spec -> template -> spec -> containers -> 1 -> startupProbe -> failureThreshold",
            "out of range: 0",
            id="probe-threshold",
        ),
        pytest.param(
            lambda d: d["spec"].__setitem__("progressDeadlineSeconds", 0),
            "spec -> progressDeadlineSeconds",
            "out of range: 0",
            id="progress-deadline",
        ),
        pytest.param(
            lambda d: _app(d).__setitem__("lifecycle", {"preStop": {"sleep": {"seconds": "x"}}}),
            "spec -> template -> spec -> containers -> 1 -> lifecycle -> preStop -> sleep -> "
            "seconds",
            "expected an integer",
            id="prestop-sleep",
        ),
        pytest.param(
            lambda d: d["spec"].__setitem__("replicas", -1),
            "spec -> replicas",
            "out of range: -1",
            id="replicas",
        ),
    ],
)
def test_malformed_deployment_names_file_and_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], object], field: str, problem: str
) -> None:
    path = write(tmp_path, mutated(DEPLOYMENT, change), "deployment.yaml")
    with pytest.raises(ConfigError) as caught:
        load_deployment(path)
    assert str(caught.value).startswith(f"{path}: {field}: ")
    assert problem in str(caught.value)


# --------------------------------------------------------------------------- both


def _scaling_dir(tmp_path: Path, hpa: dict[str, Any], deployment: dict[str, Any]) -> Path:
    write(tmp_path, hpa, "hpa.yaml")
    write(tmp_path, deployment, "deployment.yaml")
    return tmp_path


def test_load_scaling_pairs_hpa_and_deployment(tmp_path: Path) -> None:
    scaling = load_scaling(_scaling_dir(tmp_path, HPA, DEPLOYMENT))
    assert scaling.hpa.target_name == scaling.deployment.name == "web"


def test_load_scaling_rejects_other_target(tmp_path: Path) -> None:
    hpa = mutated(HPA, lambda d: d["spec"]["scaleTargetRef"].__setitem__("name", "api"))
    with pytest.raises(ConfigError, match=r"hpa.yaml: spec -> scaleTargetRef: targets .*/api"):
        load_scaling(_scaling_dir(tmp_path, hpa, DEPLOYMENT))


def test_load_scaling_needs_a_request_per_metric(tmp_path: Path) -> None:
    deployment = mutated(DEPLOYMENT, lambda d: _app(d)["resources"]["requests"].pop("memory"))
    with pytest.raises(ConfigError) as caught:
        load_scaling(_scaling_dir(tmp_path, HPA, deployment))
    assert "deployment.yaml: spec -> template -> spec -> containers -> 1 -> resources" in str(
        caught.value
    )
    assert "requests -> memory: missing, but the HPA" in str(caught.value)


BUNDLED = paths.k8s_base_dir()


@pytest.mark.skipif(
    not (BUNDLED / "hpa.yaml").exists() or not (BUNDLED / "deployment.yaml").exists(),
    reason="stack/k8s/base manifests not present yet",
)
def test_bundled_manifests_hold_the_seeds_numbers() -> None:
    scaling = load_scaling()
    hpa, deployment = scaling.hpa, scaling.deployment
    assert (hpa.min_replicas, hpa.max_replicas) == (2, 10)
    assert hpa.target_for("cpu") == 70
    assert hpa.target_for("memory") == 80
    assert deployment.requests.cpu_millicores == 500
    assert deployment.requests.memory_bytes == 512 * Mi
    assert deployment.limits.cpu_millicores == 1000
    assert deployment.limits.memory_bytes == Gi
    assert deployment.startup_failure_threshold == 30  # the seed's "30 attempts"
    if hpa.has_behavior:  # spelled out, it must equal Kubernetes' defaults (hpa.yaml says so)
        assert hpa.scale_up.stabilization_window_seconds == 0
        assert set(hpa.scale_up.policies) == set(DEFAULT_SCALE_UP.policies)
        assert hpa.scale_down == DEFAULT_SCALE_DOWN


NEEDS_KUBECTL = pytest.mark.skipif(shutil.which("kubectl") is None,
                                   reason="kubectl (with kustomize) not installed")


@NEEDS_KUBECTL
def test_the_base_read_file_by_file_is_the_base_kustomize_renders() -> None:
    """The runtime reads stack/k8s/base file by file (no kubectl for the embedded backend): that
    must be what `kubectl kustomize` makes of the base, so a patch or generator added to the
    base's kustomization.yaml cannot leave the harness reading other numbers."""
    from harness.config.appsettings import bundled_app_settings
    from harness.validate.render import render_targets

    (base,) = render_targets(paths.stack_dir(), targets=["base"])
    (hpa,) = base.of_kind("HorizontalPodAutoscaler")
    (deployment,) = base.of_kind("Deployment")
    (configmap,) = base.of_kind("ConfigMap")
    scaling = load_scaling()
    assert hpa_from_manifest(hpa.body, hpa.file) == scaling.hpa
    assert deployment_from_manifest(deployment.body, deployment.file) == scaling.deployment
    assert {k: str(v) for k, v in configmap.body["data"].items()} == bundled_app_settings()


@NEEDS_KUBECTL
def test_every_overlay_as_kustomize_renders_it_reads_through_the_one_reader() -> None:
    from harness.validate.render import render_targets

    rendered = render_targets(paths.stack_dir())
    assert {t.name for t in rendered} >= {"base", "overlays/production"}
    for target in rendered:
        for hpa in target.of_kind("HorizontalPodAutoscaler"):
            spec = hpa_from_manifest(hpa.body, f"{target.name}: {hpa.file}")
            assert spec.target_name == hpa.body["spec"]["scaleTargetRef"]["name"]
        for deployment in target.of_kind("Deployment"):
            spec = deployment_from_manifest(deployment.body, f"{target.name}: {deployment.file}")
            assert spec.replicas == deployment.body["spec"].get("replicas", 1)


# --------------------------------------------------------------------------- PDB and int-or-percent


@pytest.mark.parametrize(("value", "total", "round_up", "count"), [
    (2, 10, True, 2),
    ("25%", 10, True, 3),  # 2.5 rounds up (maxSurge, a PDB's numbers)
    ("25%", 10, False, 2),  # or down (a rollout's maxUnavailable)
    ("25%", 2, False, 0),
    ("0%", 5, True, 0),
])
def test_scaled_value_is_kubernetes_int_or_percent(value, total, round_up, count) -> None:
    assert scaled_value(value, total, round_up=round_up) == count


def test_a_string_that_is_no_percentage_is_refused() -> None:
    with pytest.raises(ValueError, match="'2' is not a percentage"):
        scaled_value("2", 10, round_up=True)


@pytest.mark.parametrize(("budget", "expected", "healthy", "allowed"), [
    (DisruptionBudget(max_unavailable=1), 3, 3, 1),
    (DisruptionBudget(max_unavailable=1), 3, 2, 0),  # one is already down: wait
    (DisruptionBudget(max_unavailable=1), 2, 2, 1),  # the HPA's minimum still drains
    (DisruptionBudget(max_unavailable=None, min_available=2), 2, 2, 0),  # the seed's PDB blocks
    (DisruptionBudget(max_unavailable=None, min_available=2), 3, 3, 1),
    (DisruptionBudget(max_unavailable="25%"), 10, 10, 3),  # 2.5 rounds up
    (DisruptionBudget(max_unavailable=None, min_available="50%"), 5, 5, 2),
])
def test_disruptions_allowed_follow_the_disruption_controller(budget, expected, healthy, allowed):
    assert budget.allowed(expected, healthy) == allowed


def test_the_bundled_pdb_allows_one_at_a_time():
    budget = load_pdb(paths.k8s_base_dir() / "pdb.yaml")
    assert budget == DisruptionBudget(max_unavailable=1)
    assert budget.describe() == "maxUnavailable 1"


def test_a_malformed_pdb_names_its_field(tmp_path):
    path = tmp_path / "pdb.yaml"
    path.write_text("kind: PodDisruptionBudget\nspec: {maxUnavailable: lots}\n")
    with pytest.raises(ConfigError, match=r"pdb.yaml: spec -> maxUnavailable"):
        load_pdb(path)
