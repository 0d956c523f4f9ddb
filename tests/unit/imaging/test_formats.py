"""Formats are told by their bytes, and the pixel count is read from the header before
anything is decoded (the decompression-bomb guard)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from imagechat.domain.errors import Unprocessable, UnsupportedMedia
from imagechat.imaging.decode import WORK_LONG_SIDE_PX, check_pixels, read_image
from imagechat.imaging.formats import dimensions, media_type_allowed, sniff


def encoded(fmt: str, size: tuple[int, int], **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(("fmt", "name", "options"), [
    ("PNG", "png", {}), ("JPEG", "jpeg", {}), ("GIF", "gif", {}),
    ("WEBP", "webp", {}), ("WEBP", "webp", {"lossless": True}),
])
def test_each_format_is_recognised_with_its_size(fmt: str, name: str,
                                                 options: dict[str, object]) -> None:
    data = encoded(fmt, (321, 123), **options)
    assert sniff(data) == name
    assert dimensions(data, name) == (321, 123)


def test_a_progressive_jpeg_gives_its_size_too() -> None:
    data = encoded("JPEG", (64, 48), progressive=True)
    assert dimensions(data, "jpeg") == (64, 48)


@pytest.mark.parametrize("data", [b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                  b"<!doctype html><p>hi", b"", b"BM\x00\x00"])
def test_other_bytes_are_not_images(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as error:
        sniff(data)
    assert error.value.code == "image-type-unsupported"


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header announcing a huge image, and a few compressed rows."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (width * 3 + 1) * 4)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + \
        chunk(b"IEND", b"")


def test_too_many_pixels_are_refused_before_decoding() -> None:
    data = bomb_png(50_000, 50_000)
    assert len(data) < 10_000
    with pytest.raises(Unprocessable) as error:
        check_pixels(data, 40_000_000)
    assert error.value.code == "image-too-many-pixels"


def test_a_broken_image_is_undecodable() -> None:
    data = encoded("PNG", (40, 30))[:60]
    with pytest.raises(Unprocessable) as error:
        read_image(data, max_pixels=1_000_000)
    assert error.value.code == "image-undecodable"


def test_a_large_image_is_worked_on_at_the_work_size() -> None:
    picture = read_image(encoded("PNG", (2000, 1500)), max_pixels=10_000_000)
    assert (picture.width, picture.height) == (2000, 1500)
    assert picture.work.shape == (768, WORK_LONG_SIDE_PX, 3)
    assert sniff(picture.thumbnail) == "webp"
    assert len(picture.content_hash) == 64


@pytest.mark.parametrize(("value", "allowed"), [
    (None, True), ("image/png", True), ("IMAGE/JPEG; q=1", True),
    ("application/octet-stream", True), ("text/html; charset=utf-8", False),
    ("application/json", False)])
def test_content_types_that_may_announce_an_image(value: str | None, allowed: bool) -> None:
    assert media_type_allowed(value) is allowed
