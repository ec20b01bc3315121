"""Quantities as each tool writes them: Kubernetes, Compose, PostgreSQL, Redis.

Every parser returns a plain number (cores, bytes) or raises ValueError naming what it expected.
"""

from __future__ import annotations

import re

from harness.config.k8s import parse_quantity

__all__ = [
    "GIB",
    "compose_bytes",
    "compose_cpus",
    "format_bytes",
    "k8s_cpu",
    "k8s_memory",
    "postgres_bytes",
    "redis_bytes",
]

KIB = 1024
MIB = 1024**2
GIB = 1024**3

_K8S_EXPECTED = "a Kubernetes quantity such as 500m, 512Mi or 1"


def _k8s_quantity(value: object) -> float:
    """Through the one quantity parser (harness.config.k8s); negative amounts are refused."""
    try:
        quantity = parse_quantity(value.strip() if isinstance(value, str) else value)
    except ValueError:
        raise ValueError(_K8S_EXPECTED) from None
    if quantity < 0:
        raise ValueError(_K8S_EXPECTED)
    return float(quantity)


def k8s_cpu(value: object) -> float:
    """`500m` -> 0.5 cores."""
    return _k8s_quantity(value)


def k8s_memory(value: object) -> float:
    """`512Mi` -> 536870912 bytes."""
    return _k8s_quantity(value)


def compose_cpus(value: object) -> float:
    try:
        return float(str(value).strip())
    except ValueError:
        raise ValueError("a number of CPUs such as '2' or '0.5'") from None


_BYTES_RE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)$")
_COMPOSE_UNITS = {"": 1, "b": 1, "k": KIB, "kb": KIB, "m": MIB, "mb": MIB, "g": GIB, "gb": GIB}


def compose_bytes(value: object) -> float:
    """Compose/Docker memory: `2G`, `512m`, `1gb` (binary multiples) or a byte count."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _BYTES_RE.match(str(value).strip())
    unit = match.group(2).lower() if match else None
    if not match or unit not in _COMPOSE_UNITS:
        raise ValueError("a size such as 2G, 512M or 1073741824")
    return float(match.group(1)) * _COMPOSE_UNITS[unit]


_PG_UNITS = {"b": 1, "kb": KIB, "mb": MIB, "gb": GIB, "tb": 1024**4}


def postgres_bytes(value: str, base_unit: int) -> int:
    """A PostgreSQL memory setting; `base_unit` is the byte size of a unitless value
    (8192 for shared_buffers, effective_cache_size and wal_buffers; 1024 for work_mem)."""
    match = _BYTES_RE.match(value.strip().strip("'\""))
    if not match:
        raise ValueError("a size such as 2GB or 512MB")
    unit = match.group(2).lower()
    if unit == "":
        return int(float(match.group(1)) * base_unit)
    if unit not in _PG_UNITS:
        raise ValueError("a size with unit B, kB, MB, GB or TB")
    return int(float(match.group(1)) * _PG_UNITS[unit])


_REDIS_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": KIB,
    "m": 1000**2,
    "mb": MIB,
    "g": 1000**3,
    "gb": GIB,
}


def redis_bytes(value: str) -> int:
    """Redis sizes: `1k` is 1000 bytes, `1kb` is 1024 (as redis.conf documents)."""
    match = _BYTES_RE.match(value.strip().strip("'\""))
    unit = match.group(2).lower() if match else None
    if not match or unit not in _REDIS_UNITS:
        raise ValueError("a size such as 2gb, 256mb or 1000000")
    return int(float(match.group(1)) * _REDIS_UNITS[unit])


def format_bytes(value: float) -> str:
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def compose_seconds(value: object) -> float:
    """Compose durations: `150s`, `1m30s`, `500ms`."""
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(ms|us|h|m|s)", str(value)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total
