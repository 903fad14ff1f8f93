"""Image effects with Pillow: each effect's output size and format, and the refusals of what
is no decodable image of a sane size (a bomb, a truncated file, another type)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from tests.files._images import format_of, image_bytes, size_of
from trovato.files.images import ImageError, derive, output_format

MAX = 40_000_000


def run(data: bytes, *effects: dict[str, Any], mime: str = "image/png") -> bytes:
    return derive(data, effects, source_mime=mime, max_pixels=MAX)


@pytest.mark.parametrize(("source", "effect", "size"), [
    ((400, 200), {"name": "scale", "width": 220, "height": 220}, (220, 110)),
    ((400, 200), {"name": "scale", "width": 100}, (100, 50)),
    ((400, 200), {"name": "scale", "height": 50}, (100, 50)),
    ((100, 50), {"name": "scale", "width": 220, "height": 220}, (100, 50)),  # never larger
    ((100, 50), {"name": "scale", "width": 200, "height": 200, "upscale": True}, (200, 100)),
    ((400, 200), {"name": "crop", "width": 100, "height": 80}, (100, 80)),
    ((50, 40), {"name": "crop", "width": 100, "height": 80}, (50, 40)),
    ((400, 200), {"name": "scale_and_crop", "width": 100, "height": 100}, (100, 100)),
    ((90, 300), {"name": "scale_and_crop", "width": 120, "height": 60}, (120, 60)),
])
def test_each_effect_gives_its_size(source: tuple[int, int], effect: dict[str, Any],
                                    size: tuple[int, int]) -> None:
    made = run(image_bytes(*source), effect)
    assert size_of(made) == size
    assert format_of(made) == "PNG"


def test_convert_changes_the_format() -> None:
    rgba = image_bytes(60, 40, mode="RGBA")
    for target, pil in (("jpeg", "JPEG"), ("webp", "WEBP"), ("gif", "GIF"), ("png", "PNG")):
        effects = ({"name": "scale", "width": 30}, {"name": "convert", "format": target})
        made = run(rgba, *effects)
        assert format_of(made) == pil and size_of(made) == (30, 20)
        assert output_format(effects, "image/png") == target
    jpeg = image_bytes(60, 40, "JPEG")
    assert format_of(run(jpeg, {"name": "crop", "width": 10, "height": 10},
                         mime="image/jpeg")) == "JPEG"


def png_claiming(width: int, height: int) -> bytes:
    """A small PNG whose header claims ``width`` x ``height`` pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 200
    with pytest.raises(ImageError, match="too large"):
        run(bomb, {"name": "scale", "width": 10})
    small = image_bytes(200, 200)
    with pytest.raises(ImageError, match="too large"):
        derive(small, ({"name": "scale", "width": 10},), source_mime="image/png",
               max_pixels=200 * 200 - 1)


@pytest.mark.parametrize("data", [
    image_bytes(200, 200)[:200],  # truncated
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,  # the magic number alone
    b"%PDF-1.7\n" + b"%" * 64,  # another type
    image_bytes(10, 10, "BMP"),  # a real bitmap: a decoder uploads never use
])
def test_what_is_no_readable_image_is_refused(data: bytes) -> None:
    with pytest.raises(ImageError, match="not a readable image"):
        run(data, {"name": "scale", "width": 10})
