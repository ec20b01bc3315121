"""The compose app service as a rollout's handle, against a fake engine: one container created
per start, on nginx's network without the service's name until admitted, stopped with the
grace, its log kept and removed; revisions as override files."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from harness.errors import StackError
from harness.stack.composeapp import ComposeAppService
from harness.stack.engine import NUMBER_LABEL, PROJECT_LABEL, SERVICE_LABEL


class Engine:
    """`docker` as the handle calls it: ps, inspect, network, start, stop, logs, rm."""

    def __init__(self) -> None:
        self.containers: dict[str, dict] = {}
        self.calls: list[list[str]] = []
        self.unconnected: set[str] = set()  # created off the network (Compose v1)
        self.refused: set[str] = set()
        for _ in range(2):
            self.create(healthy=True)

    def create(self, *, healthy: bool = False) -> str:
        cid = f"c{len(self.containers) + 1:011d}"
        self.containers[cid] = {
            "Id": cid, "Name": f"/p-app-{len(self.containers) + 1}", "RestartCount": 0,
            "Config": {"Labels": {PROJECT_LABEL: "p", SERVICE_LABEL: "app",
                                  NUMBER_LABEL: str(len(self.containers) + 1)}},
            "State": {"Status": "running" if healthy else "created",
                      "Health": {"Status": "healthy" if healthy else "starting"}}}
        return cid

    def __call__(self, argv, **_) -> subprocess.CompletedProcess[str]:
        args = argv[1:]
        self.calls.append(args)
        out = ""
        if args[0] == "ps":
            out = "\n".join(self.containers)
        elif args[0] == "inspect":
            out = json.dumps([self.containers[c] for c in args[1:]])
        elif args[:2] == ["network", "disconnect"] and args[-1] in self.unconnected:
            self.unconnected.discard(args[-1])
            return subprocess.CompletedProcess(argv, 1, "", f"Error response from daemon: "
                                               f"container {args[-1]} is not connected to the "
                                               f"network {args[-2]}")
        elif args[:2] == ["network", "disconnect"] and args[-1] in self.refused:
            return subprocess.CompletedProcess(argv, 1, "", "Error response from daemon: no")
        elif args[0] == "start":
            self.containers[args[1]]["State"]["Status"] = "running"
        elif args[0] == "stop":
            self.containers[args[-1]]["State"]["Status"] = "exited"
        elif args[0] == "logs":
            out = "the container's log"
        elif args[0] == "rm":
            del self.containers[args[-1]]
        return subprocess.CompletedProcess(argv, 0, out, "")


@pytest.fixture
def engine() -> Engine:
    return Engine()


def service(engine: Engine, tmp_path: Path, scaled: list, logs: dict | None = None,
            extra: int = 1) -> ComposeAppService:
    def scale(replicas: int, override: Path | None) -> None:
        scaled.append((replicas, override and yaml.safe_load(override.read_text())))
        for _ in range(extra):
            engine.create()

    return ComposeAppService("p", tmp_path, scale, proxy_network="p_frontend", run=engine,
                             save_log=(lambda state, text: logs.__setitem__(state.name, text))
                             if logs is not None else None)


def test_a_new_container_gets_the_name_nginx_resolves_only_when_admitted(engine, tmp_path):
    scaled: list = []
    app = service(engine, tmp_path, scaled)
    assert app.revise({"CACHE_TTL_SECONDS": "60"}) == 2
    new = app.start()
    assert scaled == [(3, {"services": {"app": {"environment": {"CACHE_TTL_SECONDS": "60"}}}})]
    assert engine.calls[-3:] == [["network", "disconnect", "p_frontend", new],
                                 ["network", "connect", "p_frontend", new], ["start", new]]
    found = app.containers()
    assert [(c.revision, c.healthy, c.admitted) for c in found] == [
        (1, True, True), (1, True, True), (2, False, False)]
    assert [s.id for s in app.serving()] == [c.id for c in found[:2]]  # nginx's, the scrapes'
    app.admit(new)
    assert engine.calls[-2:] == [["network", "disconnect", "p_frontend", new],
                                 ["network", "connect", "--alias", "app", "p_frontend", new]]
    assert len(app.serving()) == 3
    app.restore(1)
    app.start()
    assert scaled[-1] == (4, None)  # the stack's own settings again


def test_a_stopped_container_leaves_at_once_and_is_removed_with_its_log_kept(engine, tmp_path):
    logs: dict = {}
    app = service(engine, tmp_path, [], logs)
    old = app.containers()[0]
    app.stop(old.id, grace=30.0)
    assert old.id not in [c.id for c in app.containers()]
    for _ in range(100):
        if not app.terminating():
            break
        time.sleep(0.02)
    assert app.terminating() == 0
    assert ["stop", "-t", "30", old.id] in engine.calls
    assert ["rm", "-f", old.id] in engine.calls and old.id not in engine.containers
    assert logs == {"p-app-1": "the container's log"}


def test_compose_making_more_than_one_container_is_an_error(engine, tmp_path):
    app = service(engine, tmp_path, [], extra=2)
    with pytest.raises(StackError, match="made 2 app containers instead of one"):
        app.start()
    with pytest.raises(ValueError, match="no revision 5"):
        app.restore(5)


def test_a_container_compose_v1_created_off_nginx_network_is_connected_without_the_name(
        engine, tmp_path):
    scaled: list = []
    app = service(engine, tmp_path, scaled)
    engine.unconnected.add("c00000000003")  # the one the next start creates
    new = app.start()
    assert engine.calls[-2:] == [["network", "connect", "p_frontend", new], ["start", new]]
    engine.refused.add(new)
    with pytest.raises(StackError, match="`docker network disconnect` failed: .*no"):
        app.admit(new)
