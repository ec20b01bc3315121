"""What the container-engine tests share: the local images (scripts/images) and engine queries.

Import the fixture into a test module (`from tests.stack.engine_support import local_images`).
The images are built once per machine and reused (scripts/images labels each with a hash of its
inputs); the first call in a fresh CI job debootstraps the base and builds them (about 5 min).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_LABEL = "com.docker.compose.project"


def build_images(*, tools: bool = False) -> dict[str, str]:
    """Run scripts/images (starts dockerd if needed); the image variables it prints. `tools`:
    pgAdmin too (`--tools`)."""
    try:
        done = subprocess.run([str(REPO / "scripts" / "images"), *(["--tools"] if tools else [])],
                              capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        pytest.fail("scripts/images did not finish within 30 min")
    if done.returncode != 0:
        pytest.fail(f"scripts/images failed (these tests need Docker: scripts/setup --system "
                    f"installs it):\n{done.stderr[-3000:]}")
    return dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)


@pytest.fixture(scope="session")
def local_images() -> dict[str, str]:
    """The compose file's image variables (POSTGRES_IMAGE, ..., SERVICEDESK_IMAGE) -> tags."""
    return build_images()


def with_images(images: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **images}


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)


def inspect(*ids: str) -> list[dict[str, Any]]:
    done = docker("inspect", *ids)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def labelled(label: str) -> dict[str, list[str]]:
    """Containers (also stopped ones), networks and volumes carrying `label` (key or key=value)."""
    found = {}
    for kind, listing in (("container", ["ps", "-a", "-q"]), ("network", ["network", "ls", "-q"]),
                          ("volume", ["volume", "ls", "-q"])):
        done = docker(*listing, "--filter", f"label={label}")
        assert done.returncode == 0, done.stderr
        found[kind] = done.stdout.split()
    return found


def project_resources(project: str) -> dict[str, list[str]]:
    return labelled(f"{PROJECT_LABEL}={project}")
