"""Small generated images for the offline mirror: what an article's ``<img>`` points at.

Part of the offline mirror.  The real sites keep body images under ``/image/fckeditor/…`` on
their own host (Cần Thơ) or on a file host (``images.baoangiang.com.vn``,
``file.huengaynay.vn``, ``file.baothuathienhue.vn``); the mirror serves those hosts too
(:data:`IMAGE_HOSTS`, one port each) so that ``crawl --images`` has something to archive and a
replay tool something to show.  Every image is a few hundred bytes and a valid file of its
extension: a 16×12 PNG whose colours come from a hash of the path, a fixed small JPEG with
the path in a comment segment (so that every URL has its own bytes), a 1×1 GIF or a 16×12 SVG of
the path's colour (the logos and banners of the pages' chrome).  Same path, same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zlib
from datetime import UTC, datetime

from crawler.mirror.responses import Page

IMAGE_HOSTS = ("images.baoangiang.com.vn", "file.huengaynay.vn", "file.baothuathienhue.vn")
_IMAGE_PATH = re.compile(r"^/[A-Za-z0-9_./-]+\.(png|jpe?g|gif|svg)$", re.IGNORECASE)
_LAST_MODIFIED = datetime(2024, 1, 1, tzinfo=UTC)
# A 16×12 baseline JPEG (made once with Pillow, quality 50).
_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1x"
    "eXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAAR"
    "CAAMABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAT/xAAWEAEBAQAAAAAAAAAAAAAAAAAAAjL/xAAVAQEBAAAAAAAAAAAAAAAA"
    "AAAAAv/EAB0RAAECBwAAAAAAAAAAAAAAABESMQADISJBYXH/2gAMAwEAAhEDEQA/AJdGiily7kJoSMpD9O2hMtWuoBwotwaeP//Z")


def is_image_target(target: str) -> bool:
    """Whether a request target names an image (``….png``, ``….jpg``, ``….jpeg``)."""
    return _IMAGE_PATH.match(target.split("?", 1)[0]) is not None


def _png(seed: bytes) -> bytes:
    width, height = 16, 12
    a, b = seed[:3], seed[3:6]
    rows = b"".join(b"\x00" + b"".join(a if (x // 4 + y // 4) % 2 else b for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def _jpeg(seed: bytes, path: str) -> bytes:
    comment = f"crawler mirror {path} {seed.hex()}".encode("ascii", "replace")[:200]
    return _JPEG[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + _JPEG[2:]


def _gif(seed: bytes) -> bytes:
    """A 1×1 GIF89a whose one colour is ``seed[:3]``."""
    return (b"GIF89a" + struct.pack("<HH", 1, 1) + b"\x80\x00\x00" + seed[:3] + b"\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00\x3b")


def _svg(seed: bytes) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="12" viewBox="0 0 16 12">'
            f'<rect width="16" height="12" fill="#{seed[:3].hex()}"/></svg>\n').encode("ascii")


def image_page(target: str) -> Page:
    """The image at ``target`` (a path :func:`is_image_target` accepts)."""
    path = target.split("?", 1)[0]
    seed = hashlib.blake2b(path.encode("utf-8"), digest_size=8).digest()
    suffix = path.lower().rsplit(".", 1)[-1]
    if suffix == "png":
        return Page(200, _png(seed), "image/png", _LAST_MODIFIED)
    if suffix == "gif":
        return Page(200, _gif(seed), "image/gif", _LAST_MODIFIED)
    if suffix == "svg":
        return Page(200, _svg(seed), "image/svg+xml", _LAST_MODIFIED)
    return Page(200, _jpeg(seed, path), "image/jpeg", _LAST_MODIFIED)
