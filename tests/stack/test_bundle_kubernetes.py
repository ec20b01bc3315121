"""The kustomize tree renders for every target and every object is valid Kubernetes, offline."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as kv_utils

TARGETS = ["base", "overlays/development", "overlays/staging", "overlays/production"]


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory,
    bundled_stack: Path,
    require_binary: Callable[[str, str], str],
) -> dict[str, list[dict]]:
    kubectl = require_binary("kubectl", "kubectl with kustomize")
    tree = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(bundled_stack / "k8s", tree)
    # The Secret's input is git-ignored; the committed example stands in for it, as documented.
    shutil.copyfile(tree / "base/secrets.env.example", tree / "base/secrets.env")
    out = {}
    for target in TARGETS:
        proc = subprocess.run(
            [kubectl, "kustomize", str(tree / target)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, f"{target}: {proc.stderr}"
        out[target] = [doc for doc in yaml.safe_load_all(proc.stdout) if doc]
    return out


def _by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [o for o in objects if o["kind"] == kind]


@pytest.mark.parametrize("target", TARGETS)
def test_every_object_validates_against_the_kubernetes_schema(
    rendered: dict[str, list[dict]], target: str
) -> None:
    for obj in rendered[target]:
        # Raises kubernetes_validate.ValidationError (with the field path) on any violation,
        # unknown fields included (strict).
        kv_utils.validate(obj, "1.32", strict=True)


def test_overlays_are_sized_per_the_seed(rendered: dict[str, list[dict]]) -> None:
    def sizes(target: str) -> tuple[int, tuple[int, int] | None, bool]:
        objs = rendered[target]
        dep = _by_kind(objs, "Deployment")[0]
        hpa = _by_kind(objs, "HorizontalPodAutoscaler")
        bounds = (hpa[0]["spec"]["minReplicas"], hpa[0]["spec"]["maxReplicas"]) if hpa else None
        return dep["spec"]["replicas"], bounds, bool(_by_kind(objs, "PodDisruptionBudget"))

    assert sizes("base") == (3, (2, 10), True)  # the seed's Kubernetes section
    assert sizes("overlays/production") == (3, (3, 5), True)  # "3-5 app pods (auto-scaled)"
    assert sizes("overlays/staging") == (1, (1, 2), True)  # "1-2 app pods"
    assert sizes("overlays/development") == (1, None, False)  # one pod


def test_app_settings_differ_only_by_environment_name(rendered: dict[str, list[dict]]) -> None:
    data = {t: _by_kind(objs, "ConfigMap")[0]["data"] for t, objs in rendered.items()}
    assert {d["APP_ENV"] for d in data.values()} == {"production", "staging", "development"}
    stripped = [
        {k: v for k, v in d.items() if k not in ("APP_ENV", "LOG_LEVEL")} for d in data.values()
    ]
    assert all(s == stripped[0] for s in stripped)


def test_the_harness_reads_plain_single_object_files(bundled_stack: Path) -> None:
    for name, kind in (("deployment.yaml", "Deployment"), ("hpa.yaml", "HorizontalPodAutoscaler")):
        docs = [d for d in yaml.safe_load_all((bundled_stack / "k8s/base" / name).read_text()) if d]
        assert len(docs) == 1 and docs[0]["kind"] == kind
    hpa = yaml.safe_load((bundled_stack / "k8s/base/hpa.yaml").read_text())["spec"]
    assert hpa["behavior"] == {
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "selectPolicy": "Max",
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
        "scaleUp": {
            "stabilizationWindowSeconds": 0,
            "selectPolicy": "Max",
            "policies": [
                {"type": "Percent", "value": 100, "periodSeconds": 15},
                {"type": "Pods", "value": 4, "periodSeconds": 15},
            ],
        },
    }


def test_secret_input_is_ignored_and_its_example_committed(bundled_stack: Path) -> None:
    assert (bundled_stack / "k8s/base/secrets.env.example").is_file()
    proc = subprocess.run(
        ["git", "check-ignore", "-q", "stack/k8s/base/secrets.env"],
        cwd=bundled_stack.parent,
        check=False,
    )
    assert proc.returncode == 0, "stack/k8s/base/secrets.env must be git-ignored"
