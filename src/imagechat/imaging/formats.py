"""Which image formats the server reads, told by their first bytes, and their size read
from the header alone: the pixel-count guard runs before anything is decoded, so a small
file that would inflate to gigabytes (a decompression bomb) is refused for what it says.
"""

from __future__ import annotations

import struct

from imagechat.domain.errors import Unprocessable, UnsupportedMedia

# Format -> its media type. SVG and other vector formats are not read: carry-over needs
# pixels, and rendering SVG is a large attack surface.
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp",
               "gif": "image/gif"}


def sniff(data: bytes) -> str:
    """The format of these bytes, or 415 `image-type-unsupported`."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    raise UnsupportedMedia("This is not an image the server reads (PNG, JPEG, WebP, GIF).",
                           "image-type-unsupported")


def media_type_allowed(content_type: str | None) -> bool:
    """A Content-Type header that may announce an image: `image/*`, or none at all, or
    the generic types some hosts send for every file (the bytes decide then)."""
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("image/") or kind in ("application/octet-stream", "binary/octet-stream")


def dimensions(data: bytes, fmt: str) -> tuple[int, int]:
    """(width, height) from the header, or 422 `image-undecodable`."""
    try:
        found = _READERS[fmt](data)
    except (struct.error, IndexError):
        found = None
    if found is None or found[0] <= 0 or found[1] <= 0:
        raise Unprocessable("The image's header could not be read.", "image-undecodable")
    return found


def _png(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _gif(data: bytes) -> tuple[int, int] | None:
    width, height = struct.unpack("<HH", data[6:10])
    return int(width), int(height)


def _webp(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return int(width & 0x3FFF), int(height & 0x3FFF)
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    return None


# Start-of-frame markers: C0-CF but C4 (Huffman tables), C8 (reserved), CC (arithmetic).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> tuple[int, int] | None:
    at = 2
    while at + 9 < len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[at + 5:at + 9])
            return int(width), int(height)
        at += 2 + length
    return None


_READERS = {"png": _png, "gif": _gif, "webp": _webp, "jpeg": _jpeg}
