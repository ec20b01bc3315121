"""The app's business metrics through DogStatsD, received by a real UDP listener on loopback."""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Iterator

import pytest
from servicedesk.dogstatsd import (
    DogStatsdBusinessMetrics,
    NoBusinessMetrics,
    from_environ,
)


class Listener:
    """A UDP socket where a Datadog agent would listen for DogStatsD."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port = self.sock.getsockname()[1]

    def receive(self) -> str:
        return self.sock.recv(65535).decode()

    def nothing_within(self, seconds: float) -> bool:
        self.sock.settimeout(seconds)
        try:
            self.sock.recv(65535)
        except TimeoutError:
            return True
        finally:
            self.sock.settimeout(2.0)
        return False


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener()
    yield found
    found.sock.close()


@pytest.fixture(autouse=True)
def _no_ambient_datadog_tags(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DD_ENV", "DD_SERVICE", "DD_VERSION", "DATADOG_TAGS", "DD_DOGSTATSD_URL",
                 "DD_AGENT_HOST", "DD_DOGSTATSD_PORT"):
        monkeypatch.delenv(name, raising=False)


def _sink(listener: Listener) -> DogStatsdBusinessMetrics:
    sink = from_environ({"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": str(listener.port)})
    assert isinstance(sink, DogStatsdBusinessMetrics)
    return sink


def test_each_business_event_is_one_datagram(listener: Listener) -> None:
    sink = _sink(listener)
    sink.ticket_created("high")
    assert listener.receive() == "servicedesk.tickets.created:1|c|#priority:high\n"
    sink.sla_breached("critical", 3)
    assert listener.receive() == "servicedesk.sla.breaches:3|c|#priority:critical\n"
    sink.tickets_open("low", 42)
    assert listener.receive() == "servicedesk.tickets.open:42|g|#priority:low\n"
    sink.close()


def test_no_breach_sends_nothing(listener: Listener) -> None:
    sink = _sink(listener)
    sink.sla_breached("medium", 0)
    assert listener.nothing_within(0.3)
    sink.close()


def test_unified_service_tags_come_from_the_environment(listener: Listener,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_ENV", "staging")
    monkeypatch.setenv("DD_SERVICE", "servicedesk")
    monkeypatch.setenv("DD_VERSION", "1.2.3")
    sink = _sink(listener)
    sink.ticket_created("low")
    name, tags = listener.receive().strip().split("|#")
    assert name == "servicedesk.tickets.created:1|c"
    assert set(tags.split(",")) == {"priority:low", "env:staging", "service:servicedesk",
                                    "version:1.2.3"}
    sink.close()


def test_without_dd_agent_host_nothing_is_sent(listener: Listener) -> None:
    sink = from_environ({"DD_DOGSTATSD_PORT": str(listener.port)})
    assert isinstance(sink, NoBusinessMetrics)
    sink.ticket_created("high")
    sink.tickets_open("high", 1)
    sink.close()
    assert listener.nothing_within(0.3)


@pytest.mark.parametrize("port", ["eighty", "0", "70000"])
def test_a_bad_port_is_a_configuration_error(port: str) -> None:
    with pytest.raises(ValueError, match="DD_DOGSTATSD_PORT"):
        from_environ({"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": port})


def test_a_failing_client_never_raises_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def increment(self, *args: object, **kwargs: object) -> None:
            raise OSError("network is unreachable")

        gauge = increment

        def close_socket(self) -> None:
            raise OSError("already closed")

    sink = DogStatsdBusinessMetrics(Broken())
    with caplog.at_level(logging.WARNING):
        sink.ticket_created("high")
        sink.tickets_open("high", 2)
        sink.close()
    assert [r.getMessage() for r in caplog.records] == ["dogstatsd send failed"]


def test_an_unreachable_agent_does_not_break_the_caller() -> None:
    # Nothing listens on this port: UDP sends succeed or fail silently, never raise.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = from_environ({"DD_AGENT_HOST": "127.0.0.1", "DD_DOGSTATSD_PORT": str(port)})
    for _ in range(3):
        sink.ticket_created("medium")
    sink.close()


def test_without_the_datadog_package_it_warns_and_sends_nothing(
        listener: Listener, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "datadog.dogstatsd.base", None)  # import fails
    with caplog.at_level(logging.WARNING):
        sink = from_environ({"DD_AGENT_HOST": "127.0.0.1",
                             "DD_DOGSTATSD_PORT": str(listener.port)})
    assert isinstance(sink, NoBusinessMetrics)
    assert "datadog package is not installed" in caplog.text
    sink.ticket_created("high")
    assert listener.nothing_within(0.3)


@pytest.mark.anyio
async def test_the_app_sends_a_created_ticket_when_the_agent_is_configured(
    listener: Listener, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    import httpx
    from prometheus_client import CollectorRegistry
    from servicedesk.app import create_app
    from servicedesk.metrics import Metrics
    from servicedesk.settings import load_settings

    monkeypatch.setenv("DD_AGENT_HOST", "127.0.0.1")
    monkeypatch.setenv("DD_DOGSTATSD_PORT", str(listener.port))
    settings = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path / 'sd.db'}",
                              "ADMIN_TOKEN": "adm", "SLA_SWEEP_INTERVAL_SECONDS": "3600"})
    app = create_app(settings, metrics=Metrics(CollectorRegistry()))
    await app.startup()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sd.test") as client:
            created = await client.post(
                "/api/tickets", headers={"Authorization": "Bearer adm"},
                json={"title": "VPN drops", "description": "d", "priority": "critical"},
            )
            assert created.status_code == 201
    finally:
        await app.shutdown()
    # The SLA sweep at startup sends its open-ticket gauges too; find the creation among them.
    datagrams = _drain(listener)
    created = [d for d in datagrams if d.startswith("servicedesk.tickets.created:1|c")]
    assert len(created) == 1, datagrams
    assert "priority:critical" in created[0]


def _drain(listener: Listener, limit: int = 20) -> list[str]:
    """Every datagram that arrives until a short quiet spell (bounded in count)."""
    received = [listener.receive()]
    listener.sock.settimeout(0.3)
    try:
        for _ in range(limit):
            received.append(listener.receive())
    except TimeoutError:
        pass
    finally:
        listener.sock.settimeout(2.0)
    return received
