"""Load the compose file the way Docker Compose does, without Docker: YAML (with merge keys),
then `${VAR}` interpolation from the project's `.env` (or, on a fresh checkout, `.env.example`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError
from harness.validate.model import ComposeProject

__all__ = [
    "COMPOSE_FILE",
    "interpolate",
    "load_compose",
    "read_env_file",
    "service_environment",
    "volume_targets",
]

COMPOSE_FILE = "compose/docker-compose.yml"

_VAR = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)
_REQUIRED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`. A missing required variable
    becomes empty here; rule compose.env-example reports it."""

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("named")
        op, arg = match.group("op"), match.group("arg") or ""
        value = variables.get(name)
        if op in (":-", ":?"):
            return value if value else (arg if op == ":-" else "")
        if op in ("-", "?"):
            return value if value is not None else (arg if op == "-" else "")
        if op == ":+":
            return arg if value else ""
        if op == "+":
            return arg if value is not None else ""
        return value or ""

    return _VAR.sub(substitute, text)


def _interpolate_tree(node: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, Mapping):
        return {k: _interpolate_tree(v, variables) for k, v in node.items()}
    if isinstance(node, list):
        return [_interpolate_tree(v, variables) for v in node]
    return node


def service_environment(service: Mapping[str, Any]) -> dict[str, str]:
    """`environment:` as a mapping, whether written as a map or a list of KEY=VALUE."""
    env = service.get("environment") or {}
    out: dict[str, str] = {}
    if isinstance(env, Mapping):
        for key, value in env.items():
            out[str(key)] = "" if value is None else _scalar(value)
    elif isinstance(env, list):
        for item in env:
            key, _, value = str(item).partition("=")
            out[key] = value
    return out


def volume_targets(service: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(type, target) of each compose volume entry, short or long syntax."""
    out = []
    for vol in service.get("volumes") or []:
        if isinstance(vol, Mapping):
            if not vol.get("read_only"):
                out.append((str(vol.get("type", "volume")), str(vol.get("target"))))
            continue
        parts = str(vol).split(":")
        if len(parts) >= 2 and not (len(parts) > 2 and "ro" in parts[2].split(",")):
            kind = "bind" if parts[0].startswith((".", "/", "~")) else "volume"
            out.append((kind, parts[1]))
    return out


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_compose(stack_dir: Path) -> ComposeProject:
    path = stack_dir / COMPOSE_FILE
    if not path.is_file():
        raise ConfigError(str(path), None, "the compose file is missing")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            str(path), None, f"not valid YAML: {' '.join(str(exc).split())}"
        ) from None
    if not isinstance(raw, Mapping) or not isinstance(raw.get("services"), Mapping):
        raise ConfigError(str(path), "services", "missing or not a mapping")
    example = read_env_file(path.parent / ".env.example")
    env = read_env_file(path.parent / ".env")
    variables = env or example
    return ComposeProject(
        file=COMPOSE_FILE,
        raw=raw,
        model=_interpolate_tree(raw, variables),
        env_example=example,
        required_variables=tuple(sorted(set(_REQUIRED.findall(text)))),
    )
