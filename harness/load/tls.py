"""One TLS context per user class, built before the load.

Locust's FastHttpUser gives every user its own HTTP client, and geventhttpclient builds a fresh
TLS context for each: for an insecure user (Locust's default) an unverified context into which
it still loads the CA bundle. That load is CPU work on the event loop, 30-70 ms per user measured
here, and Locust spawns a second's users together: at 10 users a second the loop stopped for
231 ms in the warm-up of a run through nginx's TLS, and every request in flight carried it. A
context can wrap any number of sockets, so each user class gets one, made with the factory the
class itself would have used, and built when the test starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import gevent.ssl

__all__ = ["SharedTls"]

ContextFactory = Callable[..., gevent.ssl.SSLContext]


class _Once:
    """A context factory that calls `make` once per CA file and returns that context after."""

    def __init__(self, make: ContextFactory) -> None:
        self.make = make
        self._made: dict[str | None, gevent.ssl.SSLContext] = {}

    def __call__(self, cafile: str | None = None) -> gevent.ssl.SSLContext:
        if cafile not in self._made:
            try:
                context = self.make(cafile=cafile)
            except TypeError:  # a factory without `cafile`, as geventhttpclient allows
                context = self.make()
                context.load_verify_locations(cafile=cafile)
            self._made[cafile] = context
        return self._made[cafile]


class SharedTls:
    """The FastHttpUser classes of a run, each given one shared TLS context factory: its own
    `ssl_context_factory`, or Locust's default for its `insecure`."""

    def __init__(self, user_classes: Iterable[type]) -> None:
        from locust.contrib.fasthttp import FastHttpUser, insecure_ssl_context_factory

        self._classes: list[tuple[type, _Once]] = []
        for user_class in user_classes:
            if not issubclass(user_class, FastHttpUser):
                continue
            make = user_class.ssl_context_factory
            if isinstance(make, _Once):  # inherited from a class shared before: its own maker
                make = make.make
            once = _Once(make or (insecure_ssl_context_factory if user_class.insecure
                                  else gevent.ssl.create_default_context))
            # An instance, not a function: Locust reads it through the user without binding.
            user_class.ssl_context_factory = once  # type: ignore[assignment]
            self._classes.append((user_class, once))

    def build(self, default_host: str | None) -> int:
        """Build now the context of every class whose host is HTTPS; how many were built."""
        from geventhttpclient.connectionpool import SSLConnectionPool

        ca_certs = SSLConnectionPool.default_options["ca_certs"]
        built = 0
        for user_class, once in self._classes:
            host = getattr(user_class, "host", None) or default_host or ""
            if host.lower().startswith("https:"):
                once(cafile=ca_certs)
                built += 1
        return built
