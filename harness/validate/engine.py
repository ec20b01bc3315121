"""Run every check on a stack: schemas first, then the rule families; merge a finding that repeats
across renderings into one naming all of them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from harness.validate.loader import load_stack
from harness.validate.model import Finding, Rule, Severity, Stack, ValidationReport
from harness.validate.rules import families
from harness.validate.schema import (
    DEFAULT_KUBERNETES_VERSION,
    KubernetesSchemas,
    check_compose_schema,
)

__all__ = ["RULES", "UNCHECKED", "check_stack", "merge_findings", "validate_stack"]

# A rule family that met a value of the wrong shape (`replicas: "three"`) cannot judge the
# stack; that is an error finding beside the schema's, never a crash.
UNCHECKED = Rule(
    "validate.unchecked",
    Severity.ERROR,
    "a rule family could not check the stack: a value has the wrong type or shape",
    "fix the values the schema findings name, then validate again",
)
RULES = (UNCHECKED,)


def merge_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    merged: dict[tuple[str, ...], Finding] = {}
    for f in findings:
        key = (f.rule_id, f.severity.value, f.file, f.object, f.message, f.fix)
        if key in merged:
            old = merged[key]
            targets = old.targets + tuple(t for t in f.targets if t not in old.targets)
            merged[key] = Finding(
                f.rule_id, f.severity, f.file, f.object, f.message, f.fix, targets
            )
        else:
            merged[key] = f
    return tuple(
        sorted(
            merged.values(), key=lambda f: (f.severity.rank, f.rule_id, f.file, f.object, f.targets)
        )
    )


def check_stack(
    stack: Stack, *, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION
) -> tuple[Finding, ...]:
    schemas = KubernetesSchemas(kubernetes_version)
    found: list[Finding] = []
    for target in stack.targets:
        found.extend(schemas.check(target))
    found.extend(check_compose_schema(stack.compose))
    for family in families():
        try:
            found.extend(family.check(stack))
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            name = family.__name__.rsplit(".", 1)[-1]
            found.append(UNCHECKED.finding(
                target="stack", file=".", object=f"rules.{name}",
                message=f"the {name} rules stopped at a malformed value "
                f"({type(exc).__name__}: {exc}); their findings are missing"))
    return merge_findings(found)


def validate_stack(
    stack_dir: Path,
    *,
    kubectl: str = "kubectl",
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
) -> ValidationReport:
    started = time.perf_counter()
    stack = load_stack(stack_dir, kubectl=kubectl)
    findings = check_stack(stack, kubernetes_version=kubernetes_version)
    return ValidationReport(
        stack_dir=str(stack_dir),
        targets=tuple(t.name for t in stack.targets) + ("compose",),
        findings=findings,
        seconds=time.perf_counter() - started,
    )
