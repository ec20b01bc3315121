"""Exit statuses, one place (README, "Exit statuses")."""

from enum import IntEnum

__all__ = ["ExitStatus"]


class ExitStatus(IntEnum):
    OK = 0
    CHECK_FAILED = 1
    BAD_CONFIG = 2
    STACK_FAILED = 3
    INTERRUPTED = 130
