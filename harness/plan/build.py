"""Gather a plan's inputs from their single sources and make the plan.

- the run: results.json (and intervals.jsonl.gz when present, for exact stage percentiles);
- the SLO's p95: loadtests/slo.yaml; "current load": the users of the bundled `peak` scenario;
- HPA target, CPU request, maxSurge: stack/k8s/base (harness.config.k8s.load_scaling);
- DB_POOL_MAX and CACHE_TTL_SECONDS: the bundled ConfigMap (bundled_app_settings);
- each environment's bounds and sizes: stack/k8s's targets rendered by `kubectl kustomize`,
  stack/environments.yaml;
- prices: stack/pricing.yaml.
"""

from __future__ import annotations

from pathlib import Path

from harness import paths
from harness.compare.samples import SAMPLES_FILE, read_samples
from harness.config.appsettings import bundled_app_settings
from harness.config.k8s import load_scaling
from harness.config.load import load_scenario, load_slo
from harness.errors import ConfigError, UsageError
from harness.plan.capacity import CapacityPlan, PlanInputs, make_plan
from harness.plan.pricing import load_prices
from harness.plan.stages import stage_loads
from harness.plan.targets import load_targets
from harness.report.results import RESULTS_FILE, load_results

__all__ = ["DEFAULT_HEADROOM", "DEFAULT_MAX_ERROR_PERCENT", "REFERENCE_SCENARIO", "plan_run"]

DEFAULT_HEADROOM = 0.25
DEFAULT_MAX_ERROR_PERCENT = 0.1
REFERENCE_SCENARIO = "peak"


def _setting(settings: dict[str, str], key: str) -> float:
    try:
        return float(settings[key])
    except (KeyError, ValueError):
        raise ConfigError(str(paths.k8s_base_dir() / "configmap.yaml"), ["data", key],
                          "missing or not a number") from None


def plan_run(folder: Path, *, projected_rps: float | None = None, growth: float | None = None,
             headroom: float = DEFAULT_HEADROOM,
             max_error_percent: float = DEFAULT_MAX_ERROR_PERCENT,
             stack_dir: Path | None = None) -> CapacityPlan:
    if projected_rps is not None and growth is not None:
        raise UsageError("plan: give --projected-rps or --growth, not both")
    result = load_results(folder / RESULTS_FILE)
    if len({s.users for s in result.stages}) < 2:
        raise UsageError(f"plan: run {result.run_id} ({result.scenario}) does not step its load "
                         "(fewer than two user counts); a step run such as `harness run "
                         "--scenario stress` is needed")
    samples = read_samples(folder / SAMPLES_FILE) if (folder / SAMPLES_FILE).is_file() else None
    stack = stack_dir or paths.stack_dir()
    scaling = load_scaling(stack / "k8s" / "base")
    settings = bundled_app_settings(stack / "k8s" / "base")
    slo = load_slo()
    reference = load_scenario(REFERENCE_SCENARIO)
    reference_users = max(s.users for s in reference.stages)
    notes = []
    if samples is None:
        notes.append("this run has no intervals.jsonl.gz: stage percentiles are the median of "
                     "the per-interval percentiles, not exact")
    if slo.latency.p95_ms is None:
        raise ConfigError(str(paths.slo_spec_path()), ["latency", "p95_ms"],
                          "missing: the knee is where p95 leaves the SLO")
    inputs = PlanInputs(
        slo_p95_ms=slo.latency.p95_ms, max_error_percent=max_error_percent, headroom=headroom,
        pool_max=int(_setting(settings, "DB_POOL_MAX")),
        cache_ttl_seconds=_setting(settings, "CACHE_TTL_SECONDS"),
        reference_users=reference_users, projected_rps=projected_rps, growth=growth,
    )
    for note in result.notes:
        notes.append(f"run note: {note}")
    return make_plan(
        run_id=result.run_id, scenario=result.scenario,
        stages=stage_loads(result, samples), inputs=inputs, scaling=scaling,
        targets=load_targets(stack), prices=load_prices(stack),
        request_rates={name: stats.rps for name, stats in result.per_request.items()},
        notes=notes,
    )
