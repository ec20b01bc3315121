"""The container services' sweep, against a fake engine whose removals take a while, as a busy
Docker engine's do (the container listed while its removal is in progress, its volume in use)."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.stack.backend import Leftovers
from harness.stack.containers import RUN_LABEL, sweep_run


class InUse(Exception):
    """The engine's 409: removal already in progress, or the volume is in use."""


@dataclass
class Engine:
    """Containers that stay listed for `rounds` removals after the first; volumes that cannot
    be removed while any container is listed."""

    rounds: int
    containers: dict[str, int] = field(default_factory=dict)  # name -> removals still to come
    volumes: set[str] = field(default_factory=set)
    clock: float = 0.0
    listed_with: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.containers = {"c1": self.rounds, "c2": self.rounds}
        self.volumes = {"servicedesk-postgres-run", "servicedesk-redis-run"}

    # docker-py's client.containers, as far as the sweep uses it
    def list(self, all: bool = False, filters: dict[str, str] | None = None,  # noqa: A002
             ignore_removed: bool = False):
        assert all and ignore_removed  # stopped ones too; one removed meanwhile is no error
        self.listed_with.append(dict(filters or {}))
        return [_Container(self, name) for name in sorted(self.containers)]

    def sleep(self, seconds: float) -> None:
        self.clock += seconds


@dataclass
class _Container:
    engine: Engine
    name: str

    def remove(self, force: bool, v: bool) -> None:
        left = self.engine.containers[self.name]
        if left <= 0:
            del self.engine.containers[self.name]
            return
        self.engine.containers[self.name] = left - 1
        raise InUse("removal of container is already in progress")


@dataclass
class _Volume:
    engine: Engine
    name: str

    def remove(self, force: bool) -> None:
        if self.engine.containers:
            raise InUse("volume is in use")
        self.engine.volumes.discard(self.name)


class _Volumes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def list(self, filters: dict[str, str] | None = None):
        return [_Volume(self.engine, name) for name in sorted(self.engine.volumes)]


class Client:
    def __init__(self, engine: Engine) -> None:
        self.containers = engine
        self.volumes = _Volumes(engine)


def _sweep(engine: Engine, patience: float) -> Leftovers:
    return sweep_run(Client(engine), "run", patience=patience, pause=0.5,
                     clock=lambda: engine.clock, sleep=engine.sleep)


def test_the_sweep_waits_out_a_slow_removal_and_leaves_nothing():
    engine = Engine(rounds=6)  # about 3 s of "removal in progress"
    assert not _sweep(engine, patience=60)
    assert engine.containers == {} and engine.volumes == set()
    assert engine.listed_with[0] == {"label": f"{RUN_LABEL}=run"}  # this run's, no one else's


def test_what_outlasts_the_patience_is_named():
    engine = Engine(rounds=1000)
    left = _sweep(engine, patience=5)
    assert left.by_kind == {"container": ("c1", "c2"),
                            "volume": ("servicedesk-postgres-run", "servicedesk-redis-run")}
    assert 5 <= engine.clock <= 6  # it gave up at its patience, not before and not much after


def test_a_clean_engine_is_one_look():
    engine = Engine(rounds=0)
    engine.containers.clear()
    engine.volumes.clear()
    assert not _sweep(engine, patience=60) and engine.clock == 0


def test_an_engine_that_stops_answering_mid_sweep_is_named_not_raised(tmp_path, monkeypatch):
    import harness.stack.containers as containers
    from harness.stack.embedded import EmbeddedStack
    from harness.stack.local import LocalStack

    class Failing:
        def list(self, **_: object) -> list[object]:
            raise RuntimeError("500 Server Error")

    class FailingClient:
        containers = volumes = Failing()

        def close(self) -> None:
            pass

    monkeypatch.setattr(containers, "_docker_client", FailingClient)
    services = containers.ContainerServices(LocalStack(EmbeddedStack(replicas=1, log_dir=tmp_path)),
                                            log_dir=tmp_path, environ={})
    left = services.down()  # nothing started: only the sweep, which fails
    assert left and f"{RUN_LABEL}={services.run}" in left.describe()
    assert "stopped answering: RuntimeError" in left.describe()
