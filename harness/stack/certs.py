"""A throwaway TLS certificate for a run's nginx (the compose backend), made with openssl."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from harness.errors import DependencyError
from harness.stack.engine import Runner, last_line

__all__ = ["self_signed"]


def self_signed(folder: Path, run: Runner, *, uid: int = 101) -> None:
    """A throwaway certificate for localhost, readable by nginx's UID in the container."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)
    openssl = shutil.which("openssl")
    if openssl is None:
        raise DependencyError("openssl is needed to make nginx's self-signed certificate "
                              "(or put tls.crt and tls.key in stack/nginx/certs)")
    done = run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(folder / "tls.key"), "-out", str(folder / "tls.crt")],
               capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise DependencyError(f"openssl could not make a certificate: {last_line(done.stderr)}")
    key = folder / "tls.key"
    try:  # nginx runs as UID 101 in the bundled and the upstream unprivileged images
        os.chown(key, uid, uid)
        key.chmod(0o600)
    except PermissionError:
        key.chmod(0o644)  # a run-scoped, throwaway key in a private temporary folder
    (folder / "tls.crt").chmod(0o644)
