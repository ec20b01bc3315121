"""Decode a PNG with the standard library (zlib) and measure how much is drawn on it.

Pillow is not a dependency of the harness, and a screenshot only needs to be judged "not blank":
this decodes 8-bit RGB/RGBA/grey non-interlaced PNGs (what Chromium writes) and samples every
`step`-th pixel of every `step`-th row.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

__all__ = ["PixelStats", "decode_png", "pixel_stats"]

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytearray]  # unfiltered scanlines, `width * channels` bytes each


@dataclass(frozen=True)
class PixelStats:
    pixels: int  # sampled
    distinct_colors: int
    variance: float  # of the grey level, 0..255²
    colored_fraction: float  # share of pixels with visible saturation (lines, badges)
    nonwhite_fraction: float


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, prev: bytearray, bpp: int) -> bytearray:
    n = len(line)
    if kind == 0:
        return line
    if kind == 1:  # Sub
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:  # Up
        line = bytearray((x + y) & 0xFF for x, y in zip(line, prev, strict=True))
    elif kind == 3:  # Average
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif kind == 4:  # Paeth
        for i in range(n):
            if i >= bpp:
                line[i] = (line[i] + _paeth(line[i - bpp], prev[i], prev[i - bpp])) & 0xFF
            else:
                line[i] = (line[i] + prev[i]) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter type {kind}")
    return line


def decode_png(data: bytes) -> Image:
    if not data.startswith(_SIGNATURE):
        raise ValueError("not a PNG file")
    pos, idat = len(_SIGNATURE), bytearray()
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or color not in _CHANNELS:
                raise ValueError(f"unsupported PNG: depth {depth}, colour {color}, interlace")
            channels = _CHANNELS[color]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prev, channels)
        rows.append(line)
        prev = line
    return Image(width, height, channels, rows)


def pixel_stats(image: Image, step: int = 2) -> PixelStats:
    ch = image.channels
    greys, colors = [], set()
    colored = nonwhite = 0
    for row in image.rows[::step]:
        for x in range(0, image.width, step):
            px = row[x * ch : x * ch + ch]
            r, g, b = (px[0], px[1], px[2]) if ch >= 3 else (px[0], px[0], px[0])
            colors.add((r, g, b))
            greys.append((r * 299 + g * 587 + b * 114) // 1000)
            if max(r, g, b) - min(r, g, b) > 40:
                colored += 1
            if min(r, g, b) < 235:
                nonwhite += 1
    count = len(greys)
    mean = sum(greys) / count
    variance = sum((v - mean) ** 2 for v in greys) / count
    return PixelStats(count, len(colors), variance, colored / count, nonwhite / count)
