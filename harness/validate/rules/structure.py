"""The stack has what the other rules reason about: the app's Deployment in every rendering."""

from __future__ import annotations

from collections.abc import Iterator

from harness.validate.model import Finding, Rule, Severity, Stack
from harness.validate.rules.k8s import APP_CONTAINER, app_deployment

__all__ = ["RULES", "check"]

APP_DEPLOYMENT = Rule(
    "structure.app-deployment",
    Severity.ERROR,
    f"every rendering has a Deployment with a container named `{APP_CONTAINER}`",
    f"keep the Deployment servicedesk-app with its container `{APP_CONTAINER}` (kubectl set "
    "image relies on it)",
)
RULES = (APP_DEPLOYMENT,)


def check(stack: Stack) -> Iterator[Finding]:
    for target in stack.targets:
        if app_deployment(target) is None:
            yield APP_DEPLOYMENT.finding(
                target=target.name,
                file=target.path,
                object="Deployment",
                message=f"no Deployment with a container named {APP_CONTAINER}",
            )
