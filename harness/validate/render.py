"""Render every kustomize target of the stack with `kubectl kustomize`.

The k8s tree is rendered from a temporary copy so that (1) kustomize's origin annotations can be
switched on, giving every object the file it came from, and (2) a git-ignored secret file that is
absent (`secrets.env`) is stood in for by its committed `.example`, so a fresh checkout renders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from harness.config.load import read_yaml
from harness.errors import ConfigError, DependencyError
from harness.validate.model import K8sObject, RenderedTarget

__all__ = ["KUSTOMIZATION_NAMES", "discover_targets", "render_targets"]

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_ORIGIN = "config.kubernetes.io/origin"
_TIMEOUT_SECONDS = 60


def _kustomization(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_NAMES:
        if (directory / name).is_file():
            return directory / name
    return None


def discover_targets(k8s_dir: Path) -> tuple[str, ...]:
    """`base` and every `overlays/<name>` holding a kustomization, relative to `k8s_dir`."""
    if not k8s_dir.is_dir():
        raise ConfigError(str(k8s_dir), None, "the Kubernetes directory is missing")
    targets = []
    if _kustomization(k8s_dir / "base"):
        targets.append("base")
    overlays = k8s_dir / "overlays"
    if overlays.is_dir():
        targets += [
            f"overlays/{d.name}"
            for d in sorted(overlays.iterdir())
            if d.is_dir() and _kustomization(d)
        ]
    if not targets:
        raise ConfigError(str(k8s_dir), None, "no kustomization found", "base/, overlays/<name>/")
    return tuple(targets)


def _stand_in_secrets(tree: Path) -> None:
    """Copy `<file>.example` to `<file>` for generator inputs that are absent."""
    for kfile in [p for name in KUSTOMIZATION_NAMES for p in tree.rglob(name)]:
        doc = read_yaml(kfile)
        if not isinstance(doc, Mapping):
            continue
        for key in ("secretGenerator", "configMapGenerator"):
            for gen in doc.get(key) or []:
                if not isinstance(gen, Mapping):
                    continue
                entries = list(gen.get("envs") or []) + list(gen.get("files") or [])
                if gen.get("env"):
                    entries.append(gen["env"])
                for entry in entries:
                    rel = str(entry).split("=", 1)[-1]
                    path = kfile.parent / rel
                    example = path.with_name(path.name + ".example")
                    if not path.exists() and example.is_file():
                        shutil.copyfile(example, path)


def _enable_origins(kfile: Path) -> None:
    doc = read_yaml(kfile)
    if not isinstance(doc, dict):
        raise ConfigError(str(kfile), None, "not a kustomization mapping")
    meta = list(doc.get("buildMetadata") or [])
    if "originAnnotations" not in meta:
        doc["buildMetadata"] = [*meta, "originAnnotations"]
        kfile.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _origin_file(body: Mapping[str, Any], target: str) -> str:
    annotations = (body.get("metadata") or {}).get("annotations") or {}
    origin_text = annotations.get(_ORIGIN)
    if not origin_text:
        return f"k8s/{target}"
    origin = yaml.safe_load(origin_text) or {}
    rel = origin.get("path") or origin.get("configuredIn")
    if not rel:
        return f"k8s/{target}"
    return os.path.normpath(os.path.join("k8s", target, str(rel)))


def _strip_origin(body: dict[str, Any]) -> dict[str, Any]:
    meta = body.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        meta["annotations"].pop(_ORIGIN, None)
        if not meta["annotations"]:
            del meta["annotations"]
    return body


def _redact_secret(body: dict[str, Any]) -> dict[str, Any]:
    """Secret values never leave rendering (messages, reports): keep the keys, drop the values."""
    if body.get("kind") == "Secret":
        for field, placeholder in (("data", "cmVkYWN0ZWQ="), ("stringData", "redacted")):
            if isinstance(body.get(field), dict):
                body[field] = dict.fromkeys(body[field], placeholder)
    return body


def _render_one(kubectl: str, tree: Path, target: str, stack_k8s: Path) -> RenderedTarget:
    try:
        proc = subprocess.run(
            [kubectl, "kustomize", str(tree / target)],
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise DependencyError(f"`{kubectl}` not found: install kubectl (with kustomize)") from None
    except subprocess.TimeoutExpired:
        raise DependencyError(
            f"`{kubectl} kustomize {target}` took over {_TIMEOUT_SECONDS} s"
        ) from None
    if proc.returncode != 0:
        lines = [
            ln for ln in proc.stderr.replace(str(tree), str(stack_k8s)).splitlines() if ln.strip()
        ]
        problem = lines[-1] if lines else f"kubectl exited with {proc.returncode}"
        raise ConfigError(str(stack_k8s / target), None, f"kustomize failed: {problem}")
    objects = []
    for body in yaml.safe_load_all(proc.stdout):
        if not isinstance(body, dict):
            continue
        file = _origin_file(body, target)
        body = _redact_secret(_strip_origin(body))
        meta = body.get("metadata") or {}
        objects.append(
            K8sObject(
                kind=str(body.get("kind", "")), name=str(meta.get("name", "")), body=body, file=file
            )
        )
    return RenderedTarget(name=target, path=f"k8s/{target}", objects=tuple(objects))


def render_targets(
    stack_dir: Path, *, kubectl: str = "kubectl", targets: Sequence[str] | None = None
) -> tuple[RenderedTarget, ...]:
    k8s_dir = stack_dir / "k8s"
    names = tuple(targets) if targets is not None else discover_targets(k8s_dir)
    if shutil.which(kubectl) is None:
        raise DependencyError(f"`{kubectl}` not found: install kubectl (with kustomize)")
    with tempfile.TemporaryDirectory(prefix="harness-validate-") as tmp:
        tree = Path(tmp) / "k8s"
        shutil.copytree(k8s_dir, tree, symlinks=True)
        _stand_in_secrets(tree)
        for name in names:
            kfile = _kustomization(tree / name)
            if kfile is None:
                raise ConfigError(str(k8s_dir / name), None, "no kustomization.yaml")
            _enable_origins(kfile)
        with ThreadPoolExecutor(max_workers=min(4, len(names))) as pool:
            return tuple(pool.map(lambda t: _render_one(kubectl, tree, t, k8s_dir), names))
