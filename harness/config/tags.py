"""Run tags (`--tag env=staging`, a scenario's `tags:`): free labels that travel with a run into
results.json, junit.xml, the results store and, as Prometheus labels, every series the run
publishes. Their keys therefore follow Prometheus' label-name rules and may not take the names
the harness's own series use."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from harness.errors import UsageError

__all__ = ["RESERVED_KEYS", "check_tag", "matches", "merge_tags", "parse_tags"]

# Prometheus' label-name grammar; names starting with "__" are reserved by Prometheus itself.
_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MAX_VALUE = 200
# Labels the harness's own series carry (harness.publish) or Prometheus attaches on its own.
RESERVED_KEYS = frozenset({
    "run_id", "scenario", "stack", "request", "result", "stage", "generator", "event", "fault",
    "le", "quantile", "job", "instance", "alertname",
})


def check_tag(key: str, value: str) -> None:
    """Raise ValueError saying what is wrong with one tag."""
    if not _KEY.match(key) or key.startswith("__"):
        raise ValueError(f"tag key {key!r} must be a label name: letters, digits and _, not "
                         "starting with a digit or __")
    if key in RESERVED_KEYS:
        raise ValueError(f"tag key {key!r} is taken by the harness's own labels "
                         f"(reserved: {', '.join(sorted(RESERVED_KEYS))})")
    if not value or len(value) > MAX_VALUE or not value.isprintable():
        raise ValueError(f"tag {key!r}: the value must be 1 to {MAX_VALUE} printable characters")


def parse_tags(items: Iterable[str], flag: str = "--tag") -> dict[str, str]:
    """`KEY=VALUE` items from the command line; the last of a repeated key wins."""
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep:
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE, e.g. env=staging")
        try:
            check_tag(key, value)
        except ValueError as exc:
            raise UsageError(f"{flag} {item!r}: {exc}") from None
        tags[key] = value
    return tags


def merge_tags(from_file: Mapping[str, str], from_flags: Mapping[str, str]) -> dict[str, str]:
    """The command line beats the scenario file, key by key."""
    return dict(sorted({**from_file, **from_flags}.items()))


def matches(tags: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    """True when `tags` holds every wanted key with its value (no wanted tags: always)."""
    return all(tags.get(key) == value for key, value in wanted.items())
