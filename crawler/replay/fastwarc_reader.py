"""The FastWARC backend of the collection reader (``pip install fastwarc``), used when it is installed.

Part of :mod:`crawler.replay.collection`.  FastWARC raises on damage without saying where, so this
backend hands a record out only once the next one has been read cleanly, and returns where the
Python backend (:mod:`crawler.replay.python_reader`) must take over: it reports and resynchronises.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

from crawler.replay.records import WARC_VERSION, BadBytes, BadRecord, Record, Want, check_head, make_head


def fastwarc_available() -> bool:
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
    return True


def fastwarc_records(path: Path, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
                      max_block: int) -> Generator[Record | BadRecord, None, int | None]:
    """Records via FastWARC; returns None at the clean end, or the offset the Python reader takes over at.

    A record is handed out only after FastWARC has read the next header cleanly (a
    ``Content-Length`` too small shows only then); on any error the Python reader starts
    again at the record not yet handed out, reports and resynchronises.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    if kind == "zstd" and _zstd_has_dictionary(handle):
        return start  # dictionaries are read by the Python backend
    size = handle.seek(0, 2)
    handle.seek(start)
    name = str(path)
    # Every record, whatever ``types``: the header checks see records of every type, as in the Python
    # reader (a mask would skip, unchecked, a revisit without WARC-Target-URI or a record without WARC-Type).
    records = iter(ArchiveIterator(handle, parse_http=False, record_types=WarcRecordType.any_type))
    pending: Record | BadRecord | None = None
    pending_offset: int | None = None
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (OSError, ValueError):
            return start if pending_offset is None else pending_offset
        offset = int(record.stream_pos)
        if offset >= limit:
            break
        if pending is not None:
            yield pending
        pending, pending_offset = None, offset
        try:
            if kind == "plain" and offset + record.content_length > size:
                return offset  # claims more than the file holds: FastWARC would swallow what follows
            pending = _fastwarc_one(record, offset, name, want, max_block)
        except (OSError, ValueError, BadBytes):
            return offset
    if pending is not None:
        yield pending
    return None


_GOOD_VERSIONS: set[str] = set()  # status lines WARC_VERSION accepts (a handful: checked once each)


def _good_version(version: str) -> bool:
    if version in _GOOD_VERSIONS:
        return True
    if WARC_VERSION.match(version.encode() + b"\n") is None:
        return False
    if len(_GOOD_VERSIONS) < 64:
        _GOOD_VERSIONS.add(version)
    return True


def _fastwarc_one(record: Any, offset: int, name: str, want: Want, max_block: int) -> Record | BadRecord | None:
    headers = record.headers
    version = headers.status_line.strip()
    head = make_head(offset, version, headers.items())
    if head.content_length != record.content_length or not _good_version(version):
        raise BadBytes("FastWARC and the header disagree")
    check_head(head)
    if not want(head):
        return None
    if head.content_length > max_block:
        # FastWARC would skip Content-Length bytes past the member's end (and lose what follows)
        # when the record is also truncated: the Python reader decides.
        raise BadBytes("too large")
    block = record.reader.read(head.content_length)
    if len(block) != head.content_length:
        raise BadBytes("short block")  # the Python reader reports it
    return Record(head, block)


def _zstd_has_dictionary(handle: IO[bytes]) -> bool:
    handle.seek(0)
    return handle.read(4) == b"\x5d\x2a\x4d\x18"
