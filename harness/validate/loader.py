"""Load a stack directory into a `Stack`: kustomize renderings, the compose project, the
environments, the Dockerfile and the configuration files the rules read."""

from __future__ import annotations

from pathlib import Path

from harness.errors import ConfigError
from harness.validate.compose import load_compose
from harness.validate.environments import load_environments
from harness.validate.model import Stack
from harness.validate.render import render_targets

__all__ = ["DOCKERFILE", "TEXT_DIRS", "load_stack"]

DOCKERFILE = "app/Dockerfile"
# Configuration files the rules read, relative to the stack directory.
TEXT_DIRS = ("nginx", "prometheus", "grafana", "datadog", "compose")
_TEXT_SUFFIXES = (".conf", ".yml", ".yaml", ".gitignore")


def _texts(stack_dir: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in TEXT_DIRS:
        base = stack_dir / name
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.is_file() and path.name.endswith(_TEXT_SUFFIXES):
                out[path.relative_to(stack_dir).as_posix()] = path.read_text(encoding="utf-8")
    return out


def load_stack(stack_dir: Path, *, kubectl: str = "kubectl") -> Stack:
    if not stack_dir.is_dir():
        raise ConfigError(
            str(stack_dir), None, "not a directory", "a stack directory with k8s/ and compose/"
        )
    compose = load_compose(stack_dir)
    targets = render_targets(stack_dir, kubectl=kubectl)
    environments = load_environments(stack_dir, [t.name for t in targets] + ["compose"])
    dockerfile = stack_dir / DOCKERFILE
    return Stack(
        root=stack_dir,
        targets=targets,
        compose=compose,
        environments=environments,
        dockerfile=DOCKERFILE,
        dockerfile_text=dockerfile.read_text(encoding="utf-8") if dockerfile.is_file() else "",
        texts=_texts(stack_dir),
    )
