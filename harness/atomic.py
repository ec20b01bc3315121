"""Files written whole or not at all: a reader, a second writer or a second Ctrl-C never sees half
a file (the text goes to a temporary file beside it, which then replaces it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_json", "write_text"]


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` (its folder created if missing) and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the process id keeps two writers of the same file off each other's temporary file
    temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    return path


def write_json(path: Path, document: Any) -> Path:
    """``document`` indented, keys sorted, a newline at the end: written files diff cleanly."""
    return write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
