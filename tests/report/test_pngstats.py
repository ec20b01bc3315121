"""The stdlib PNG decoder used to judge screenshots: every filter type, and the statistics."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.report.pngstats import _paeth, decode_png, pixel_stats


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _encode(pixels: list[list[tuple[int, int, int]]], filters: list[int]) -> bytes:
    """A minimal RGB PNG encoder applying the given filter type to each row."""
    height, width, bpp = len(pixels), len(pixels[0]), 3
    raw, prev = bytearray(), bytes(width * bpp)
    for y, row in enumerate(pixels):
        line = bytes(v for px in row for v in px)
        kind = filters[y % len(filters)]
        out = bytearray()
        for i, x in enumerate(line):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            predictor = (0, a, b, (a + b) >> 1, _paeth(a, b, c))[kind]
            out.append((x - predictor) & 0xFF)
        raw += bytes([kind]) + out
        prev = line
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw)))
        + _chunk(b"IEND", b"")
    )


def _gradient(width: int = 23, height: int = 10) -> list[list[tuple[int, int, int]]]:
    return [
        [((x * 11 + y * 7) % 256, (x * y * 5) % 256, (255 - x * 9) % 256) for x in range(width)]
        for y in range(height)
    ]


@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [0, 1, 2, 3, 4]])
def test_decodes_every_filter_type(filters):
    pixels = _gradient()
    image = decode_png(_encode(pixels, filters))
    assert (image.width, image.height, image.channels) == (23, 10, 3)
    decoded = [[tuple(row[x * 3 : x * 3 + 3]) for x in range(image.width)] for row in image.rows]
    assert decoded == pixels


def test_blank_and_busy_images():
    white = decode_png(_encode([[(255, 255, 255)] * 8 for _ in range(8)], [0]))
    stats = pixel_stats(white, step=1)
    assert (stats.variance, stats.distinct_colors, stats.colored_fraction) == (0.0, 1, 0.0)
    busy = pixel_stats(decode_png(_encode(_gradient(), [4])), step=1)
    assert busy.variance > 100 and busy.distinct_colors > 100 and busy.colored_fraction > 0.5


def test_rejects_what_it_cannot_read():
    with pytest.raises(ValueError, match="not a PNG"):
        decode_png(b"GIF89a")
