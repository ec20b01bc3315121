"""The clients' shared base: a `with` block closes the client, error text loses the secrets."""

from __future__ import annotations

import httpx
import pytest

from harness.errors import DependencyError
from harness.provision.client import ServiceClient
from harness.provision.credentials import GrafanaCredentials
from harness.provision.grafana import GrafanaClient


class _Recorder(ServiceClient):
    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", ["s3cret"])
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_a_with_block_closes_the_client_once_even_on_an_error() -> None:
    client = _Recorder()
    with pytest.raises(RuntimeError), client as inside:
        assert inside is client
        raise RuntimeError("boom")
    assert client.closed == 1


def test_the_base_cannot_stand_alone_without_close() -> None:
    with pytest.raises(TypeError):
        ServiceClient("http://127.0.0.1:9", [])  # type: ignore[abstract]


def test_an_error_echoing_the_token_does_not_show_it() -> None:
    token = "glsa_0123456789abcdef0123456789abcdef_0123abcd"

    def answer(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused with {token}\n  on two lines", request=request)

    credentials = GrafanaCredentials(url="http://127.0.0.1:9", token=token)
    with (GrafanaClient(credentials, transport=httpx.MockTransport(answer)) as client,
          pytest.raises(DependencyError) as caught):
        client.push([], folder_uid="servicedesk", folder_title="ServiceDesk")
    assert token not in str(caught.value) and "\n" not in str(caught.value)
