"""The calibration in words and rows, for summary.md, report.html and the terminal."""

from __future__ import annotations

from typing import Any

from harness.calibrate.probe import Calibration
from harness.report.formatting import format_number

__all__ = ["calibration_rows", "calibration_section", "calibration_sentence"]


def calibration_sentence(calibration: Calibration) -> str:
    probe, target = calibration.probe, calibration.target
    return (
        f"CPU per request {calibration.cpu_per_request * 1000:.3f} ms at the margin, over "
        f"{calibration.idle_cores:.3f} core a replica burns idle: a line through "
        f"{calibration.probes} open-model probes' CPU (process_cpu_seconds_total of every "
        f"replica) against their request rates, from a light one at "
        f"{calibration.sizing.rate:.0f} req/s to the last at {probe.rate:.0f} req/s for "
        f"{probe.seconds:.0f} s on {probe.replicas} replicas ({probe.requests:.0f} requests, "
        f"{probe.failures} failed; {probe.warmup:g} s of warm-up left out; it ran at "
        f"{calibration.probe_level:.2f}x the target). Utilization "
        f"is CPU against the {target.request_cores * 1000:.0f}m request; the HPA's target is "
        f"{target.target_percent} %, i.e. {target.target_cores:.3f} core per replica."
    )


def calibration_rows(calibration: Calibration) -> list[dict[str, Any]]:
    return [
        {
            "stage": s.name,
            "x target": format_number(s.utilization_of_target) if s.utilization_of_target
            else "—",
            "replicas sized for": s.replicas,
            "rate": format_number(s.rate, "req/s") if s.rate is not None else "closed model",
            "expected utilization": (f"{s.expected_ratio:.2f} x target"
                                     if s.expected_ratio is not None else "—"),
        }
        for s in calibration.stages
    ]


def calibration_section(calibration: Calibration | None) -> dict[str, Any]:
    """report.html's optional section (shown like the later stages')."""
    if calibration is None:
        return {}
    return {"calibration": {"how": calibration_sentence(calibration),
                            "stages": calibration_rows(calibration)}}
