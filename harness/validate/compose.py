"""Load the compose file the way Docker Compose does, without Docker: YAML (with merge keys),
then `${VAR}` interpolation from the project's `.env` (or, on a fresh checkout, `.env.example`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from harness.config.load import parse_yaml
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

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?", re.S)
_REQUIRED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?")


def read_env_file(path: Path) -> dict[str, str]:
    """A Compose `.env` file as python-dotenv reads it (quotes, `export`, `${VAR}` within the
    file); a missing file is no variables."""
    if not path.is_file():
        return {}
    return {key: value or "" for key, value in dotenv_values(path, interpolate=True).items()}


def interpolate(text: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation: `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
    `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, defaults nested
    (`${A:-${B}}`). A missing required variable becomes empty here; rule compose.env-example
    reports it. Kept here rather than run through `docker compose config` so that `validate`
    needs no Compose binary; its answers are held equal to Compose's own by
    tests/validate/test_validate_parsing.py."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
            continue
        following = text[i + 1:i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 2)
            if end is None:  # unterminated: Compose refuses the file; keep the text as it is
                out.append(text[i:])
                break
            out.append(_substitute(text[i:end + 1], text[i + 2:end], variables))
            i = end + 1
        else:
            named = _NAME.match(text, i + 1)
            out.append(variables.get(named.group(0)) or "" if named else "$")
            i = named.end() if named else i + 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int | None:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def _substitute(whole: str, body: str, variables: Mapping[str, str]) -> str:
    match = _BRACED.fullmatch(body)
    if match is None:
        return whole
    name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
    value = variables.get(name)
    if op in (":-", ":?"):
        return value if value else (interpolate(arg, variables) if op == ":-" else "")
    if op in ("-", "?"):
        return value if value is not None else (interpolate(arg, variables) if op == "-" else "")
    if op == ":+":
        return interpolate(arg, variables) if value else ""
    if op == "+":
        return interpolate(arg, variables) if value is not None else ""
    return value or ""


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
    raw = parse_yaml(text, path)
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
