"""Readers for the configuration files in the stack: postgresql.conf, redis.conf, nginx.conf."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.validate.model import PostgresConf, RedisConf
from harness.validate.units import postgres_bytes, redis_bytes

__all__ = [
    "NginxDirective",
    "parse_nginx",
    "parse_postgresql_conf",
    "parse_redis_conf",
]

# PostgreSQL defaults (16) for what the stack may leave out, and the unit of a unitless value.
_PG_SIZES = {
    "shared_buffers": ("128MB", 8192),
    "effective_cache_size": ("4GB", 8192),
    "work_mem": ("4MB", 1024),
    "maintenance_work_mem": ("64MB", 1024),
    "wal_buffers": ("16MB", 8192),
}
_PG_COUNTS = {
    "max_connections": 100,
    "superuser_reserved_connections": 3,
    "autovacuum_max_workers": 3,
}
_PG_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*=?\s*(.*?)\s*$")


def _setting_lines(text: str) -> Iterator[str]:
    """The lines of a postgresql.conf or redis.conf that set something, stripped."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield stripped


def _pg_value(raw: str) -> str:
    raw = raw.strip()
    if raw.startswith("'"):
        end = raw.find("'", 1)
        return raw[1:end] if end > 0 else raw[1:]
    return raw.split("#", 1)[0].strip()


def parse_postgresql_conf(text: str, source: str) -> PostgresConf:
    settings: dict[str, str] = {}
    for stripped in _setting_lines(text):
        match = _PG_LINE.match(stripped)
        if match:
            settings[match.group(1).lower()] = _pg_value(match.group(2))
    values: dict[str, int] = {}
    for name, (default, unit) in _PG_SIZES.items():
        raw = settings.get(name, default)
        if raw == "-1" and name == "wal_buffers":
            raw = default
        try:
            values[name] = postgres_bytes(raw, unit)
        except ValueError as exc:
            raise ConfigError(source, name, f"cannot read {raw!r}", str(exc)) from None
    for name, count in _PG_COUNTS.items():
        raw = settings.get(name, str(count))
        try:
            values[name] = int(raw)
        except ValueError:
            raise ConfigError(source, name, f"cannot read {raw!r}", "an integer") from None
    return PostgresConf(file=source, **values)


def parse_redis_conf(text: str, source: str) -> RedisConf:
    settings: dict[str, str] = {}
    for stripped in _setting_lines(text):
        parts = stripped.split(None, 1)
        settings[parts[0].lower()] = parts[1].strip().strip("\"'") if len(parts) > 1 else ""
    try:
        maxmemory = redis_bytes(settings.get("maxmemory", "0"))
    except ValueError as exc:
        raise ConfigError(source, "maxmemory", "cannot read the size", str(exc)) from None
    try:
        maxclients = int(settings.get("maxclients", "10000"))
    except ValueError:
        raise ConfigError(source, "maxclients", "cannot read the count", "an integer") from None
    return RedisConf(
        file=source,
        maxmemory=maxmemory,
        maxmemory_policy=settings.get("maxmemory-policy", "noeviction").lower(),
        maxclients=maxclients,
    )


@dataclass(frozen=True, slots=True)
class NginxDirective:
    name: str
    args: tuple[str, ...]
    block: tuple[NginxDirective, ...] | None = None

    def find(self, name: str) -> tuple[NginxDirective, ...]:
        return tuple(d for d in self.block or () if d.name == name)


_NGINX_TOKEN = re.compile(
    r"""\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)"""
)


def _nginx_tokens(text: str) -> Iterator[str | tuple[str]]:
    """Words (str) and punctuation ((char,)), comments and quotes removed."""
    pos = 0
    while pos < len(text):
        match = _NGINX_TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"unexpected character at offset {pos}")
        pos = match.end()
        dq, sq, punct, word = match.groups()
        if punct:
            yield (punct,)
        elif dq is not None:
            yield dq
        elif sq is not None:
            yield sq
        elif word is not None:
            yield word


def parse_nginx(text: str, source: str) -> tuple[NginxDirective, ...]:
    """A list of top-level directives with nested blocks; enough to read, not to run."""
    stack: list[list[NginxDirective]] = [[]]
    heads: list[tuple[str, tuple[str, ...]]] = []
    words: list[str] = []
    try:
        for token in _nginx_tokens(text):
            if isinstance(token, tuple):
                char = token[0]
                if char == ";":
                    if words:
                        stack[-1].append(NginxDirective(words[0], tuple(words[1:])))
                    words = []
                elif char == "{":
                    if not words:
                        raise ValueError("block without a directive name")
                    heads.append((words[0], tuple(words[1:])))
                    stack.append([])
                    words = []
                else:
                    if not heads or words:
                        raise ValueError("unbalanced '}'")
                    name, args = heads.pop()
                    body = stack.pop()
                    stack[-1].append(NginxDirective(name, args, tuple(body)))
            else:
                words.append(token)
    except ValueError as exc:
        raise ConfigError(source, None, f"cannot parse: {exc}") from None
    if heads or words:
        raise ConfigError(source, None, "cannot parse: unterminated block or directive")
    return tuple(stack[0])
