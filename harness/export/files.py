"""Write the export table as CSV or Parquet (pyarrow)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import pandas as pd

from harness.atomic import replacing

__all__ = ["ExportFormat", "default_name", "write_frame"]


class ExportFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"


def default_name(fmt: ExportFormat) -> str:
    return f"export.{fmt.value}"


def write_frame(frame: pd.DataFrame, fmt: ExportFormat, path: Path) -> Path:
    """Write atomically (a reader never sees half a file); returns `path`."""
    with replacing(path) as temporary:
        if fmt is ExportFormat.CSV:
            frame.to_csv(temporary, index=False)
        else:
            frame.to_parquet(temporary, engine="pyarrow", index=False)
    return path
