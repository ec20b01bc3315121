"""Redis 7 for the `local` backend: the bundled redis.conf scaled to this machine, on loopback."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import redis as redis_client

from harness import paths
from harness.errors import DependencyError, StackError
from harness.stack import processes
from harness.stack.processes import ManagedProcess
from harness.stack.services.conffile import (
    base_instance_bytes,
    format_size,
    machine_share,
    parse_size,
    read_settings,
)

__all__ = ["RedisServer", "scaled_settings"]



def scaled_settings(conf: Path | None = None, factor: float | None = None) -> dict[str, str]:
    source = conf or paths.stack_dir() / "redis" / "redis.conf"
    settings = read_settings(source, " ")
    scale = machine_share(base_instance_bytes("redis")) if factor is None else factor
    if "maxmemory" in settings:
        settings["maxmemory"] = format_size(int(parse_size(settings["maxmemory"]) * scale), "redis")
    return settings


class RedisServer:
    """One redis-server owned by the harness, with appendonly persistence in the run's folder."""

    def __init__(self, *, work_dir: Path, log_dir: Path, settings: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.work_dir = work_dir
        self.log_dir = log_dir
        self.settings = dict(settings if settings is not None else scaled_settings())
        self.port = port or processes.free_port()
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise DependencyError("redis-server was not found on PATH "
                                  "(install the redis-server package, or pass --redis-url)")
        data = self.work_dir / "redis"
        data.mkdir(parents=True, exist_ok=True)
        conf = dict(self.settings)
        conf.update({"bind": "127.0.0.1", "port": str(self.port), "protected-mode": "yes",
                     "dir": str(data), "daemonize": "no", "logfile": '""'})
        path = self.work_dir / "redis.conf"
        path.write_text("".join(f"{k} {v}\n" for k, v in sorted(conf.items())), encoding="utf-8")
        self._process = processes.start("redis", [binary, str(path)],
                                        env={"PATH": os.environ.get("PATH", "")},
                                        log_path=self.log_dir / "redis.log")
        client = redis_client.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            for _ in range(60):
                if not self._process.alive():
                    raise StackError(
                        f"redis-server exited while starting: {self._process.log_tail()}"
                    )
                try:
                    if client.ping():
                        return self.url
                except redis_client.RedisError:
                    time.sleep(0.25)
        finally:
            client.close()
        raise StackError(f"redis-server did not answer PING on port {self.port}")

    def info(self) -> dict[str, object]:
        client = redis_client.Redis(host="127.0.0.1", port=self.port, socket_timeout=1)
        try:
            return dict(client.info())
        finally:
            client.close()

    def stop(self) -> None:
        if self._process is not None:
            processes.stop(self._process, timeout=10)
            self._process = None
