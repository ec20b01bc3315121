"""Read the bundled postgresql.conf / redis.conf and scale their memory settings to this machine.

The bundled files hold the seed's production settings, sized for the instance classes the seed
names (db.t3.large: 8 GiB; cache.t3.medium: 3.09 GiB). A local run gives each server a share of
this machine's memory instead and scales every memory setting by the same factor, so the ratios
between them (shared_buffers : effective_cache_size, …) stay the seed's.
"""

from __future__ import annotations

import re
from pathlib import Path

import psutil

from harness import paths
from harness.errors import ConfigError

__all__ = ["format_size", "machine_share", "parse_size", "read_settings"]

_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2,
          "g": 1024**3, "gb": 1024**3}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$", re.IGNORECASE)


def read_settings(path: Path, separator: str) -> dict[str, str]:
    """`key = value` (postgresql.conf, separator "=") or `key value` (redis.conf, " ")."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(str(path), None, f"cannot read: {exc}") from None
    settings: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if separator == "=":
            key, sep, value = line.partition("=")
        else:
            key, sep, value = line.partition(" ")
        if not sep:
            raise ConfigError(str(path), f"line {number}", f"expected 'key{separator}value'")
        settings[key.strip()] = value.strip().strip("'")
    return settings


def parse_size(value: str) -> int:
    """"2GB", "512MB", "16MB", "2gb", "256mb" -> bytes."""
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a size such as 512MB or 2GB")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_size(size: int, style: str = "postgres") -> str:
    """Whole megabytes: "768MB" for PostgreSQL, "768mb" for Redis."""
    megabytes = max(int(size // 1024**2), 1)
    return f"{megabytes}MB" if style == "postgres" else f"{megabytes}mb"


def base_instance_bytes(service: str) -> int:
    """Memory of the instance the bundled `service` ("postgres" or "redis") configuration is
    sized for: the `base` target of stack/environments.yaml, the one place those sizes live."""
    from harness.validate.environments import load_environments

    base = load_environments(paths.stack_dir(), ["base"])["base"]
    size = base.postgres_memory if service == "postgres" else base.redis_memory
    if size is None:
        raise ConfigError(str(paths.stack_dir() / "environments.yaml"),
                          ["targets", "base", service, "instance"], "missing",
                          "the instance class the bundled configuration is sized for")
    return size


def machine_share(instance_bytes: int, share: float = 0.125) -> float:
    """The factor that fits an instance-sized server into `share` of this machine's memory
    (never above 1: a big machine runs the seed's numbers as they are)."""
    budget = psutil.virtual_memory().total * share
    return min(1.0, budget / instance_bytes)
