"""From bytes to the pixels carry-over works on, and the thumbnail that is all the server
keeps of an image.

Every image is worked on at one size: its long side at most `WORK_LONG_SIDE_PX`. That is
also the thumbnail's size, so the version kept (the thumbnail) and the version that
arrives are aligned at the same scale, and both went through the same lossy encoding.
At 1,024 pixels one pixel is 0.1 % of the width: well under the 0.5 % that carry-over
must reach, and a thumbnail of a mockup is some tens of KiB.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from imagechat.domain.errors import Unprocessable
from imagechat.imaging.formats import dimensions, sniff

WORK_LONG_SIDE_PX = 1024
# WebP at this quality keeps edges of text and lines (what alignment and comparison look
# at) within a few levels of the original.
THUMBNAIL_QUALITY = 90
THUMBNAIL_MEDIA_TYPE = "image/webp"

Pixels = NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Picture:
    """A decoded image: its hash and size as received, and its pixels at the work size
    (BGR), after the round trip through the thumbnail's encoding."""

    content_hash: str
    width: int
    height: int
    work: Pixels
    thumbnail: bytes


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_pixels(data: bytes, max_pixels: int) -> tuple[int, int]:
    """The header's size, refused (422 `image-too-many-pixels`) past `max_pixels`."""
    width, height = dimensions(data, sniff(data))
    if width * height > max_pixels:
        raise Unprocessable(
            f"The image is {width}x{height} pixels; at most {max_pixels:,} pixels are read.",
            "image-too-many-pixels")
    return width, height


def read_image(data: bytes, *, max_pixels: int) -> Picture:
    """Check, decode and shrink an image (CPU work: run it off the event loop)."""
    check_pixels(data, max_pixels)
    found = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if found is None or found.size == 0:
        raise Unprocessable("The image could not be decoded.", "image-undecodable")
    decoded = np.asarray(found, np.uint8)
    height, width = decoded.shape[:2]
    thumbnail = encode_thumbnail(to_work_size(decoded))
    return Picture(content_hash=content_hash(data), width=int(width), height=int(height),
                   work=read_thumbnail(thumbnail), thumbnail=thumbnail)


def to_work_size(image: Pixels) -> Pixels:
    height, width = image.shape[:2]
    scale = WORK_LONG_SIDE_PX / max(width, height)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)


def encode_thumbnail(image: Pixels) -> bytes:
    ok, encoded = cv2.imencode(".webp", image, [cv2.IMWRITE_WEBP_QUALITY, THUMBNAIL_QUALITY])
    if not ok:
        raise Unprocessable("The image could not be re-encoded.", "image-undecodable")
    return encoded.tobytes()


def read_thumbnail(data: bytes) -> Pixels:
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise Unprocessable("A stored thumbnail could not be decoded.", "image-undecodable")
    return np.asarray(decoded, np.uint8)
