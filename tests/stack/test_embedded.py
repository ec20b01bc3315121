"""The embedded stack's replica handling that the end-to-end runs cannot provoke."""

from __future__ import annotations

from types import SimpleNamespace

from harness.stack import embedded
from harness.stack.embedded import EmbeddedStack


class _Events:
    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, str, bool]] = []

    def record(self, replica: str, event: str, detail: str = "", *, expected: bool = False) -> None:
        self.recorded.append((replica, event, detail, expected))


def test_a_retired_replica_that_cannot_be_stopped_is_named_not_swallowed(tmp_path, monkeypatch):
    stack = EmbeddedStack(replicas=1, log_dir=tmp_path)
    events = _Events()
    stack.controller = events  # type: ignore[assignment]

    def refuse(*_args, **_kwargs):
        raise OSError("Operation not permitted")

    monkeypatch.setattr(embedded.processes, "kill_group", refuse)
    stack._terminate(SimpleNamespace(name="replica-1", pid=1, popen=None), 0.0, 1.0)
    assert events.recorded == [("replica-1", "stop-failed", "Operation not permitted", True)]
