"""`harness run`: up, load, collect, verify, report and down, in one command."""

from __future__ import annotations

import re
import secrets
import time
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

import typer
from rich.console import Console

from harness import paths, settings
from harness.commands.folders import run_folder, writable_dir
from harness.config.durations import parse_duration
from harness.config.load import load_scenario, load_slo
from harness.config.model import RunOptions, StackName
from harness.errors import UsageError
from harness.pipeline import RunPlan, execute

__all__ = ["MAX_DURATION", "Stack", "check_duration", "check_target", "choose_stack",
           "new_run_id", "register"]

# A run stops by itself: longer than a day is a typo (99999999h), not a soak test.
MAX_DURATION = 24 * 3600.0
MIN_DURATION = 5.0


Stack = StackName  # the --stack choices


class Services(StrEnum):
    binaries = "binaries"
    containers = "containers"


def new_run_id(scenario: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", scenario)[:64]  # a scenario may be named anything
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{name}-{secrets.token_hex(2)}"


def check_duration(text: str, *, minimum: float = MIN_DURATION) -> float:
    """--duration in seconds, or UsageError naming the flag and the allowed range."""
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--duration: {exc}") from None
    if not minimum <= seconds <= MAX_DURATION:
        raise UsageError(f"--duration: {text!r} is out of range (allowed: {minimum:g}s to 24h)")
    return seconds


def check_target(url: str) -> None:
    """--target must be an http(s) URL with a host and, if given, a port a socket can use."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target: {url!r} is not an http(s) URL")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"--target: {url!r} has no valid port (allowed: 1 to 65535)")


def choose_stack(stack: Stack | None, target: str | None) -> str:
    """--target alone means the external backend; with a backend that starts its own stack it
    is a contradiction, not a silent switch."""
    if stack is None:
        return Stack.external.value if target else Stack.embedded.value
    if stack is Stack.external and not target:
        raise UsageError("--stack external: needs --target URL")
    if target and stack not in (Stack.external, Stack.k8s):
        raise UsageError(f"--target goes with --stack external or k8s, not --stack {stack.value} "
                         "(which starts its own stack)")
    return stack.value


def _complete_scenario(incomplete: str) -> list[str]:
    """Shell completion for --scenario: the bundled scenario names."""
    from harness.config.load import bundled_scenarios

    return [name for name in bundled_scenarios() if name.startswith(incomplete)]


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        scenario: str = typer.Option(
            "smoke", "--scenario", "-s", autocompletion=_complete_scenario,
            help="A bundled scenario name (see `harness scenarios`) "
            "or the path to a scenario file."
        ),
        stack: Stack | None = typer.Option(
            None, "--stack", envvar=settings.ENV_STACK, case_sensitive=False,
            help="Where the stack runs (default: embedded; external with --target).",
            show_default=False,
        ),
        target: str | None = typer.Option(
            None, "--target", envvar=settings.ENV_TARGET, metavar="URL",
            help="Drive an already-running stack at URL (the external backend).",
        ),
        database_url: str | None = typer.Option(
            None, "--database-url", envvar=settings.ENV_DATABASE_URL, metavar="URL",
            help="--stack local: use this PostgreSQL instead of starting one.",
        ),
        redis_url: str | None = typer.Option(
            None, "--redis-url", envvar=settings.ENV_REDIS_URL, metavar="URL",
            help="--stack local: use this Redis instead of starting one.",
        ),
        services: Services = typer.Option(
            Services.binaries, "--services", case_sensitive=False,
            help="--stack local: PostgreSQL and Redis from this machine's binaries, or as "
            "containers (testcontainers; images from POSTGRES_IMAGE and REDIS_IMAGE).",
        ),
        profile: list[str] = typer.Option(
            [], "--profile", metavar="NAME",
            help="--stack compose: also start this profile's services (repeatable; Prometheus "
            "always starts).",
        ),
        context: str | None = typer.Option(
            None, "--context", metavar="NAME", help="--stack k8s: the kubeconfig context.",
        ),
        overlay: str = typer.Option(
            "development", "--overlay", metavar="NAME",
            help="--stack k8s: the overlay applied (stack/k8s/overlays/NAME).",
        ),
        prometheus: str | None = typer.Option(
            None, "--prometheus", metavar="URL",
            help="--stack k8s: the cluster's Prometheus; what it saw is kept with the logs.",
        ),
        duration: str | None = typer.Option(
            None, "--duration", "-d", metavar="DURATION",
            help="Scale the scenario to this total length, e.g. 60s or 5m.",
        ),
        replicas: int | None = typer.Option(
            None, "--replicas", min=1, max=64,
            help="Replicas to start (default: the bundled Deployment's replicas).",
        ),
        workers: int = typer.Option(
            0, "--workers", min=0, max=64, envvar=settings.ENV_WORKERS,
            help="Run Locust distributed: a master and N worker processes, one core each, "
            "their histograms merged exactly (0: one load process). Add workers when the run "
            "reports a saturated load generator.",
        ),
        generator_realtime: bool = typer.Option(
            False, "--generator-realtime", envvar=settings.ENV_GENERATOR_REALTIME,
            help="Run the load processes realtime (SCHED_FIFO) where they leave a core to the "
            "rest: they never wait for a core, but preempt a stack on the same cores "
            "mid-request. Default: nice -10.",
        ),
        slo: Path | None = typer.Option(
            None, "--slo", metavar="FILE", help="An SLO spec (default loadtests/slo.yaml)."
        ),
        report_dir: Path = typer.Option(
            None, "--report-dir", envvar=settings.ENV_REPORT_DIR, metavar="DIR",
            help="Where run folders are written (default: reports/).", show_default=False,
        ),
        run_id: str | None = typer.Option(None, "--run-id", help="Name of the run's folder."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Live progress."),
        tag: list[str] = typer.Option(
            [], "--tag", metavar="KEY=VALUE",
            help="Label the run (repeatable; beats the scenario's `tags:`): kept in "
            "results.json, junit.xml, the results store and on every published series.",
        ),
        remote_write: str | None = typer.Option(
            None, "--remote-write", metavar="URL", envvar=settings.ENV_REMOTE_WRITE,
            help="Stream the run's client-side metrics to this Prometheus remote-write endpoint "
            "while it runs (e.g. http://prometheus:9090/api/v1/write).",
        ),
        verbose: bool = typer.Option(
            False, "--verbose", "-v", help="Print every check with its full evidence, not only "
            "those that did not pass.",
        ),
        compare: str | None = typer.Option(
            None, "--compare", metavar="BASELINE", help="Then compare with BASELINE as "
            "`harness compare` does (auto, baseline, history[:N], a run), keep the run in the "
            "results store, and exit 1 on a regression.",
        ),
    ) -> int:
        """Bring the stack up, drive the scenario, verify the SLOs, write the report, bring it down.

        Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or configuration,
        3 the stack or a dependency failed (including a load generator that saturated, so the
        latency it measured proves nothing), 130 interrupted (a partial report is kept).
        """
        loaded = load_scenario(scenario)
        if duration is not None:
            loaded = loaded.scaled_to(check_duration(duration))
        chosen_stack = choose_stack(stack, target)
        if target is not None:
            check_target(target)
        spec = loaded.slo.apply(load_slo(slo))
        if (database_url or redis_url) and chosen_stack != Stack.local.value:
            raise UsageError("--database-url and --redis-url go with --stack local")
        if services is Services.containers and chosen_stack != Stack.local.value:
            raise UsageError("--services containers goes with --stack local")
        if profile and chosen_stack != Stack.compose.value:
            raise UsageError("--profile goes with --stack compose")
        if chosen_stack == Stack.k8s.value and not context:
            raise UsageError("--stack k8s: needs --context NAME (a kubeconfig context)")
        from harness.config.tags import merge_tags, parse_tags

        tags = merge_tags(loaded.tags, parse_tags(tag))
        if remote_write is not None and not remote_write.startswith(("http://", "https://")):
            raise UsageError(f"--remote-write {remote_write!r}: expected an http:// or https:// "
                             "URL")
        reports = writable_dir(report_dir or paths.reports_dir(), "--report-dir")
        identifier = run_id if run_id is not None else new_run_id(loaded.name)
        run_folder(reports, identifier)
        options = RunOptions(
            stack=StackName(chosen_stack),
            target=target,
            database_url=database_url,
            redis_url=redis_url,
            services=services.value,
            profiles=tuple(profile),
            context=context,
            overlay=overlay,
            prometheus_url=prometheus,
            replicas=replicas,
            workers=workers,
            generator_realtime=generator_realtime,
            duration=loaded.duration,
            report_dir=reports,
            run_id=identifier,
            tags=tags,
            remote_write=remote_write,
        )
        if compare is not None:
            from harness.commands.compare import check_baseline_arg

            check_baseline_arg(compare, options.report_dir)
        out = Console()
        err = Console(stderr=True)
        result = execute(RunPlan(options, loaded, spec), err, progress=progress)
        from harness.report.terminal import print_verdict

        folder = options.report_dir / options.run_id
        page = folder / "report.html"
        print_verdict(result, out, page if page.is_file() else None, verbose=verbose)
        if compare is not None:
            from harness.commands.compare import compare_after_run

            return compare_after_run(options.report_dir / options.run_id, compare,
                                     options.report_dir, last=5, run_exit=result.exit_status,
                                     console=out)
        return result.exit_status
