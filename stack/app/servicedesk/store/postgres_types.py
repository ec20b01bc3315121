"""Per-connection setup: ``timestamptz`` values load straight into the app's Timestamp strings.

Sessions run with ``timezone=UTC`` and the default ISO DateStyle, so the server sends
``2024-05-01 12:00:00.123456+00``; reshaping that text is much cheaper than building a
``datetime`` and formatting it again for every column of every row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Loader

from ..timestamps import Timestamp, format_ts

__all__ = ["IsoTimestampLoader", "configure_connection"]


class IsoTimestampLoader(Loader):
    def load(self, data: Buffer) -> Timestamp:
        text = bytes(data).decode("ascii")
        if len(text) < 22 or text[10] != " " or not text.endswith("+00"):
            return format_ts(datetime.fromisoformat(text))  # another zone or style
        fraction = text[20:-3] if text[19] == "." else ""
        return f"{text[:10]}T{text[11:19]}.{(fraction + '000')[:3]}Z"


async def configure_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("timestamptz", IsoTimestampLoader)
