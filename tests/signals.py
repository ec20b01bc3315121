"""For tests that interrupt the harness as a user at a terminal does (Ctrl-C)."""

from __future__ import annotations

import signal

__all__ = ["sigint_as_at_a_terminal"]


def sigint_as_at_a_terminal() -> None:
    """A `preexec_fn`: SIGINT in the child as an interactive shell leaves it. A test run
    started in the background (`cmd &` without job control, nohup) inherits SIGINT ignored,
    and a program started with SIGINT ignored rightly keeps ignoring it (Python then installs
    no KeyboardInterrupt handler), so the test would not be sending what a user sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
