"""The harness's error hierarchy. Raised anywhere, mapped to an exit status only in cli.py."""

from __future__ import annotations

from collections.abc import Iterable

from harness.status import ExitStatus

__all__ = [
    "ConfigError",
    "DependencyError",
    "HarnessError",
    "Interrupted",
    "StackError",
    "UsageError",
]


class HarnessError(Exception):
    """Base class: a one-line message for the user and the exit status it maps to."""

    exit_status: ExitStatus = ExitStatus.STACK_FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(HarnessError):
    """Bad command-line usage: an unknown flag value, a missing argument."""

    exit_status = ExitStatus.BAD_CONFIG


class ConfigError(HarnessError):
    """A configuration file is malformed. Names the file, the field path and what is allowed."""

    exit_status = ExitStatus.BAD_CONFIG

    def __init__(
        self,
        source: str,
        field: Iterable[str | int] | str | None,
        problem: str,
        allowed: str | None = None,
    ) -> None:
        if field is None:
            path = ""
        elif isinstance(field, str):
            path = field
        else:
            path = " -> ".join(str(part) for part in field)
        text = f"{source}: {path}: {problem}" if path else f"{source}: {problem}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)
        self.source = source
        self.field = path
        self.problem = problem


class StackError(HarnessError):
    """The stack could not be brought up, became unreachable, or a replica failed."""

    exit_status = ExitStatus.STACK_FAILED


class DependencyError(HarnessError):
    """A program or service the harness needs is missing or failed (postgres, redis, locust)."""

    exit_status = ExitStatus.STACK_FAILED


class Interrupted(HarnessError):
    """The user pressed Ctrl-C or the run got SIGTERM."""

    exit_status = ExitStatus.INTERRUPTED

    def __init__(self, message: str = "interrupted") -> None:
        super().__init__(message)
