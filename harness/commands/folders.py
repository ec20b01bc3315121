"""The folders a command writes into, checked before anything starts: a run's folder stays
inside --report-dir, never replaces another run's, and the parent is a writable directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.errors import UsageError

__all__ = ["RESERVED_RUN_IDS", "check_run_id", "run_folder", "writable_dir"]

# One path component of ordinary characters: no separators, no "." or "..", no hidden names.
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
# Names the report folder already uses for something else: the newest-run link, the store.
RESERVED_RUN_IDS = frozenset({"latest", "history"})


def check_run_id(run_id: str) -> str:
    """The run id as given, or UsageError naming --run-id and what is allowed."""
    if not _RUN_ID.fullmatch(run_id):
        raise UsageError(f"--run-id {run_id!r}: not a folder name (allowed: letters, digits, "
                         "'.', '_' and '-', starting with a letter or digit, at most 128)")
    if run_id in RESERVED_RUN_IDS:
        raise UsageError(f"--run-id {run_id!r}: reserved for the report folder's "
                         f"{'newest-run link' if run_id == 'latest' else 'results store'}; "
                         "choose another name")
    return run_id


def writable_dir(path: Path, flag: str) -> Path:
    """`path` resolved and created if missing; UsageError naming `flag` when it is a file or
    cannot be written."""
    resolved = path.expanduser().resolve()
    if resolved.exists() and not resolved.is_dir():
        raise UsageError(f"{flag} {path}: not a directory")
    try:
        resolved.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create it ({exc.strerror or exc})") from None
    if not os.access(resolved, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: not writable")
    return resolved


def run_folder(report_dir: Path, run_id: str) -> Path:
    """The new run's folder under `report_dir`; an id already used there is refused, so a run
    never replaces an earlier run's report."""
    folder = report_dir / check_run_id(run_id)
    if folder.exists() or folder.is_symlink():
        raise UsageError(f"--run-id {run_id!r}: {folder} already exists (an earlier run's "
                         "report); choose another id")
    return folder
