"""The fixed words of FORMAT.md's snapshot: the share label that ends it, and the zone of its date line.

In a module of their own so that a reader of snapshots (search, export, the command line's date options)
gets them without importing the renderer (:mod:`crawler.parse.normalize`, which re-exports them) and,
through it, the charset tables and the HTTP decoders.
"""

from __future__ import annotations

from datetime import timedelta, timezone

SHARE_LABEL = "Chia sẻ bài viết"
VN_TZ = timezone(timedelta(hours=7), "+07:00")
