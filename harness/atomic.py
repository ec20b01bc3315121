"""Files written whole or not at all: a reader, a second writer or a second Ctrl-C never sees half
a file (the text goes to a temporary file beside it, which then replaces it)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["replacing", "write_json", "write_text"]


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block ends
    without an error, and is removed either way. ``path``'s folder is created if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the process id keeps two writers of the same file off each other's temporary file
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield temporary
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (its folder created if missing) and return ``path``."""
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, document: Any) -> Path:
    """``document`` indented, keys sorted, a newline at the end: written files diff cleanly."""
    return write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
