"""stack/environments.yaml: for each target, its PostgreSQL and Redis configuration and the
instance sizes the seed names (the one place those sizes live)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness.config.load import read_yaml
from harness.errors import ConfigError
from harness.validate.confs import parse_postgresql_conf, parse_redis_conf
from harness.validate.model import EnvironmentSpec, PostgresConf, RedisConf
from harness.validate.units import GIB

__all__ = ["ENVIRONMENTS_FILE", "load_environments"]

ENVIRONMENTS_FILE = "environments.yaml"


def _mapping(value: Any, source: str, field: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(source, list(field), "missing or not a mapping")
    return value


def load_environments(stack_dir: Path, targets: Iterable[str]) -> dict[str, EnvironmentSpec]:
    path = stack_dir / ENVIRONMENTS_FILE
    source = str(path)
    doc = _mapping(
        read_yaml(path, missing="missing: it names each target's database and cache"), source, []
    )
    memory = _mapping(doc.get("instance_memory_gib"), source, ["instance_memory_gib"])
    headroom = _mapping(doc.get("connection_headroom"), source, ["connection_headroom"])
    declared = _mapping(doc.get("targets"), source, ["targets"])
    postgres_cache: dict[str, PostgresConf] = {}
    redis_cache: dict[str, RedisConf] = {}

    def instance_bytes(name: Any, field: list[str]) -> int | None:
        if name is None:
            return None
        if name not in memory:
            raise ConfigError(source, field, f"unknown instance class {name!r}", ", ".join(memory))
        try:
            return int(float(memory[name]) * GIB)
        except (TypeError, ValueError):
            raise ConfigError(source, ["instance_memory_gib", str(name)], "not a number") from None

    def read(rel: Any, field: list[str]) -> str:
        if not isinstance(rel, str):
            raise ConfigError(source, field, "missing", "a path relative to stack/")
        file = stack_dir / rel
        if not file.is_file():
            raise ConfigError(source, field, f"{rel} does not exist")
        return file.read_text(encoding="utf-8")

    out: dict[str, EnvironmentSpec] = {}
    for target in targets:
        if target not in declared:
            raise ConfigError(
                source, ["targets", target], "no entry for this target", ", ".join(declared)
            )
        entry = _mapping(declared[target], source, ["targets", target])
        pg = _mapping(entry.get("postgres"), source, ["targets", target, "postgres"])
        rd = _mapping(entry.get("redis"), source, ["targets", target, "redis"])
        pg_file, rd_file = str(pg.get("config")), str(rd.get("config"))
        if pg_file not in postgres_cache:
            text = read(pg.get("config"), ["targets", target, "postgres", "config"])
            postgres_cache[pg_file] = parse_postgresql_conf(text, pg_file)
        if rd_file not in redis_cache:
            text = read(rd.get("config"), ["targets", target, "redis", "config"])
            redis_cache[rd_file] = parse_redis_conf(text, rd_file)
        try:
            pg_headroom = int(headroom.get("postgres", 0))
            rd_headroom = int(headroom.get("redis", 0))
        except (TypeError, ValueError):
            raise ConfigError(source, ["connection_headroom"], "not an integer") from None
        out[target] = EnvironmentSpec(
            target=target,
            postgres=postgres_cache[pg_file],
            redis=redis_cache[rd_file],
            postgres_instance=pg.get("instance"),
            postgres_memory=instance_bytes(
                pg.get("instance"), ["targets", target, "postgres", "instance"]
            ),
            redis_instance=rd.get("instance"),
            redis_memory=instance_bytes(
                rd.get("instance"), ["targets", target, "redis", "instance"]
            ),
            postgres_headroom=pg_headroom,
            redis_headroom=rd_headroom,
        )
    return out
