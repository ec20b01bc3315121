"""Durations as people write them in scenario files: 90, "90s", "2m", "1h30m", "500ms"."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> float:
    """Seconds from a number (seconds) or a string like "1h30m", "45s", "250ms".

    Raises ValueError with the accepted forms when the value is not a duration.
    """
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 5m or 1h30m")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 5m or 1h30m")
    text = value.strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise ValueError("a duration cannot be negative")
        return seconds
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{value!r} is not a duration such as 30s, 5m or 1h30m")
    return total


def format_duration(seconds: float) -> str:
    """The short form used in tables: 45s, 5m, 1h02m, 1m30s."""
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s" if secs else f"{minutes}m"
    return f"{secs}s"
