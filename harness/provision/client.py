"""What the Grafana and Datadog clients share: the user agent they send, closing in a `with`
block, and error text with every secret they hold scrubbed out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Self

from harness.redact import redact

__all__ = ["USER_AGENT", "ServiceClient"]

USER_AGENT = "servicedesk-harness"


class ServiceClient(ABC):
    """A client of one service's API at ``base``; a subclass closes its connection in `close`."""

    def __init__(self, base: str, secrets: Sequence[str]) -> None:
        self._base = base
        self._secrets = list(secrets)

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clean(self, text: str) -> str:
        """``text`` on one line, without the credentials (an answer may echo them)."""
        return redact(" ".join(text.split()), extra_secrets=self._secrets)
