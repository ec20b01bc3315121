"""Architecture rules, one module per family. Each module has `RULES` (its Rule records) and
`check(stack) -> Iterator[Finding]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from harness.validate.model import Finding, Rule, Stack

__all__ = ["RuleFamily", "all_rules", "families"]


class RuleFamily(Protocol):
    """What each family module offers (modules satisfy it structurally)."""

    __name__: str

    @property
    def RULES(self) -> tuple[Rule, ...]: ...  # noqa: N802 - the modules' constant

    def check(self, stack: Stack) -> Iterator[Finding]: ...


def families() -> tuple[RuleFamily, ...]:
    from harness.validate.rules import (
        compose,
        configs,
        connections,
        disruption,
        hardening,
        memory,
        netpol,
        probes,
        resources,
        rollout,
        settings,
        storage,
        structure,
    )

    return (
        structure,
        hardening,
        probes,
        resources,
        disruption,
        rollout,
        connections,
        netpol,
        storage,
        settings,
        memory,
        compose,
        configs,
    )


def all_rules() -> tuple[Rule, ...]:
    """Every rule id `harness validate` can report, schema rules included."""
    from harness.validate import engine, schema

    return (*schema.RULES, *engine.RULES, *(rule for family in families() for rule in family.RULES))
