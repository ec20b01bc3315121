"""harness.load.tls: the users of a class share one TLS context, built when the test starts.

Each case runs in its own interpreter: Locust patches `ssl` with gevent's when imported, which
must happen before anything imports `ssl` (this test process has long before)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.stack.certs import self_signed

# Answers every request on every connection over TLS; prints its port.
SERVER = """
import socket, ssl, sys, threading
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(sys.argv[1], sys.argv[2])
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)

def serve(connection):
    with context.wrap_socket(connection, server_side=True) as tls:
        while True:
            request = b""
            while b"\\r\\n\\r\\n" not in request:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                request += chunk
            tls.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")

while True:
    connection, _ = listener.accept()
    threading.Thread(target=serve, args=(connection,), daemon=True).start()
"""

# What every case starts with: Locust first, a counting context maker, a user class maker, and
# users that each make one request; the case prints a JSON result.
PRELUDE = """
import json, sys
import locust.contrib.fasthttp as fasthttp
import gevent.ssl
from locust import HttpUser, constant, task
from locust.env import Environment
from harness.load.tls import SharedTls

HOST = sys.argv[1]
made = []

def counting():  # Locust's default for an insecure user, without `cafile`
    made.append(None)
    return gevent.ssl._create_unverified_context()

def verifying(cafile=None):
    made.append(cafile)
    return gevent.ssl.create_default_context(cafile=cafile)

def user_class(**attributes):
    class One(fasthttp.FastHttpUser):
        wait_time = constant(1)

        @task
        def one(self):
            self.client.get("/")

    for name, value in attributes.items():
        setattr(One, name, value)
    return One

def codes(cls, users):
    environment = Environment(user_classes=[cls], host=HOST)
    cls.host = HOST  # as Locust's runner sets it when it spawns
    return [cls(environment).client.get("/").status_code for _ in range(users)]
"""


@pytest.fixture(scope="module")
def tls_host(tmp_path_factory):
    folder = tmp_path_factory.mktemp("certs")
    self_signed(folder, subprocess.run)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(folder / "tls.crt"),
                               str(folder / "tls.key")], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    yield f"https://127.0.0.1:{int(server.stdout.readline())}"
    server.kill()
    server.wait()


def _case(body: str, host: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PRELUDE + body, host], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_users_of_an_insecure_class_load_the_ca_bundle_once(tls_host):
    result = _case("""
fasthttp.insecure_ssl_context_factory = counting
unshared = user_class(ssl_context_factory=staticmethod(counting))
before = codes(unshared, 3), len(made)
made.clear()
shared = user_class()
built = SharedTls([shared]).build(HOST), len(made)
after = codes(shared, 3), len(made)
print(json.dumps({"before": before, "built": built, "after": after}))
""", tls_host)
    assert result["before"] == [[200] * 3, 3]  # Locust's way: a context, a CA load, per user
    assert result["built"] == [1, 1]  # built when the test starts
    assert result["after"] == [[200] * 3, 1]


def test_a_class_keeps_its_own_factory_and_a_verifying_one_verifies(tls_host):
    result = _case("""
cls = user_class(insecure=False, ssl_context_factory=staticmethod(verifying))
SharedTls([cls])
print(json.dumps({"codes": codes(cls, 2), "made": len(made)}))
""", tls_host)
    # The server's certificate is self-signed: a verifying user is refused, by the one context.
    assert result == {"codes": [0, 0], "made": 1}


def test_only_https_hosts_are_built_and_a_subclass_shares_with_its_own_maker(tls_host):
    result = _case("""
parent = user_class(ssl_context_factory=staticmethod(verifying))
plain = SharedTls([parent]).build("http://127.0.0.1:1"), len(made)
child = type("Child", (parent,), {"host": HOST})
secure = SharedTls([child]).build(None), len(made)
ca = made[0]
apart = child.ssl_context_factory(cafile=ca) is not parent.ssl_context_factory(cafile=ca)

class Plain(HttpUser):
    wait_time = constant(1)

print(json.dumps({"plain": plain, "secure": secure, "apart": apart, "made": len(made),
                  "other": SharedTls([Plain]).build(HOST),
                  "untouched": not hasattr(Plain, "ssl_context_factory")}))
""", tls_host)
    # The child's context is its own, made by the parent's maker, not the parent's context.
    assert result == {"plain": [0, 0], "secure": [1, 1], "apart": True, "made": 2,
                      "other": 0, "untouched": True}
