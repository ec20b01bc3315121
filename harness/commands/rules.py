"""`harness rules build`: Prometheus recording and multi-window burn-rate alerting rules."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness import paths
from harness.commands.generated import (
    CheckOption,
    SloOption,
    emit,
    generator_group,
    out_of_date,
    out_option,
    write_file,
)
from harness.status import ExitStatus

__all__ = ["default_rules_file", "register"]


def default_rules_file() -> Path:
    """Where the compose stack's Prometheus loads rules from (stack/prometheus/rules/)."""
    return paths.stack_dir() / "prometheus" / "rules" / "servicedesk.rules.yml"


def register(app: typer.Typer) -> None:
    group = generator_group("Prometheus rules generated from the SLO spec and the stack's numbers.")

    @group.command("build")
    def build(
        out: Annotated[Path | None, out_option(
            "The rules file (default: stack/prometheus/rules/servicedesk.rules.yml, which the "
            "compose stack's Prometheus loads); `-` prints it.")] = None,
        check: CheckOption = False,
        slo_file: SloOption = None,
    ) -> int:
        """SLI recordings for every burn-rate window and the compliance period, SLO metadata,
        page/ticket burn-rate alerts per SLO, and capacity alerts (pool, connections, replicas,
        cache)."""
        from harness.config.load import load_slo
        from harness.provision.rules import build_rules, render_rules
        from harness.provision.sources import load_stack_numbers

        text = render_rules(build_rules(load_slo(slo_file), load_stack_numbers()))
        if out is not None and str(out) == "-":
            emit(text, out)
            return int(ExitStatus.OK)
        target = out or default_rules_file()
        if check:
            current = target.read_text(encoding="utf-8") if target.is_file() else None
            if current != text:
                out_of_date(str(target), "rules")
            typer.echo(f"{target} is up to date")
            return int(ExitStatus.OK)
        write_file(target, text)
        return int(ExitStatus.OK)

    app.add_typer(group, name="rules")
