"""The FastWARC backend of the collection reader (``pip install fastwarc``), used when it is installed.

Part of :mod:`crawler.replay.collection`.  FastWARC raises on damage without saying where, so this
backend hands a record out only once the next one has been read cleanly, and returns where the
Python backend (:mod:`crawler.replay.python_reader`) must take over: it reports and resynchronises.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import IO, Any

from crawler.replay.records import (
    WARC_VERSION,
    BadBytes,
    BadRecord,
    Record,
    RecordHead,
    Want,
    check_fields,
    content_length,
    header_values,
)


def fastwarc_available() -> bool:
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
    return True


def fastwarc_records(path: Path, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
                      max_block: int, types: frozenset[str] | None = None
                      ) -> Generator[Record | BadRecord, None, int | None]:
    """Records via FastWARC; returns None at the clean end, or the offset the Python reader takes over at.

    ``types``: records of other WARC-Types are checked and passed over without asking ``want``
    (and without building their :class:`RecordHead`).

    A record is handed out only after FastWARC has read the next header cleanly (a
    ``Content-Length`` too small shows only then); on any error the Python reader starts
    again at the record not yet handed out, reports and resynchronises.
    """
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    keys = _header_keys()  # None before FastWARC 2: every record's fields are read as text, as before
    type_key, length_key, url_key, date_key = keys or ("", "", "", "")

    if kind == "zstd" and _zstd_has_dictionary(handle):
        return start  # dictionaries are read by the Python backend
    size = handle.seek(0, 2)
    handle.seek(start)
    # Every record, whatever ``types``: the header checks see records of every type, as in the Python
    # reader (a mask would skip, unchecked, a revisit without WARC-Target-URI or a record without WARC-Type).
    try:  # FastWARC 2 refills one record object (nothing here keeps it past its turn)
        records = ArchiveIterator(handle, parse_http=False, record_types=WarcRecordType.any_type, inplace=True)
    except TypeError:  # an older FastWARC
        records = ArchiveIterator(handle, parse_http=False, record_types=WarcRecordType.any_type)
    pending: Record | BadRecord | None = None
    pending_offset: int | None = None
    good_versions = _GOOD_VERSIONS
    good_date: str | None = None  # the last WARC-Date that passed (a request and its response share theirs)
    plain = kind == "plain"
    # The per-record work is written out here, not called: it runs for every record of the file, and
    # most records of a replay are passed over on their header (records of other types, other hosts).
    try:
        for record in records:
            offset = record.stream_pos
            if offset >= limit:
                break
            if pending is not None:
                yield pending
                pending = None
            pending_offset = offset
            try:
                block_size = record.content_length
                if plain and offset + block_size > size:
                    return offset  # claims more than the file holds: FastWARC would swallow what follows
                # make_head's and check_head's checks on the header's values (records.py): a record of
                # a type not in ``types`` (most of what a replay passes over) needs no RecordHead.
                headers = record.headers
                get = headers.get
                raw_type = get(type_key) if keys is not None else None  # the first WARC-Type, as header_values has it
                if types is None or keys is None or (_TYPES.get(raw_type) or _record_type(raw_type)) in types:
                    fields = headers.items()
                    length, rec_type, url, date, record_id = header_values(fields)
                else:  # passed over on its header: its checks need four fields, not all of them as text
                    fields, record_id = (), None
                    length, rec_type, url, date = get(length_key), raw_type, get(url_key), get(date_key)
                version = headers.status_line
                # The usual Content-Length is the number FastWARC read, written plainly (what
                # content_length() accepts without a doubt): anything else gets content_length's checks.
                if (length != str(block_size) or not 0 <= block_size < _MAX_PLAIN_LENGTH) and (
                        content_length(length) != block_size):
                    raise BadBytes("FastWARC and the header disagree")
                if version not in good_versions:
                    version = (version or "").strip()
                    if version not in good_versions and not _good_version(version):
                        raise BadBytes("FastWARC and the header disagree")
                rec_type = _TYPES.get(rec_type) or _record_type(rec_type)
                url = (url or "").strip().strip("<>")
                if date is None or date != good_date or not url or not rec_type:
                    check_fields(rec_type, url, date)
                    good_date = date
                if types is not None and rec_type not in types:
                    continue
                head = RecordHead(offset, version, fields, block_size, rec_type, url, date, record_id)
                if not want(head):
                    continue
                if block_size > max_block:
                    # FastWARC would skip Content-Length bytes past the member's end (and lose what
                    # follows) when the record is also truncated: the Python reader decides.
                    return offset
                block = record.reader.read(block_size)
                if len(block) != block_size:
                    return offset  # a short block: the Python reader reports it
                pending = Record(head, block)
            except (OSError, ValueError, BadBytes):
                return offset
    except (OSError, ValueError):  # FastWARC's, reading the next record
        return start if pending_offset is None else pending_offset
    if pending is not None:
        yield pending
    return None


def _header_keys() -> tuple[Any, Any, Any, Any] | None:
    """FastWARC 2's keys of WARC-Type, Content-Length, WARC-Target-URI and WARC-Date (its ``get`` finds the
    first field of the name whatever its case, as :func:`~crawler.replay.records.header_values`); None before."""
    try:
        from fastwarc.warc import WarcHeader
    except ImportError:
        return None
    return WarcHeader.WARC_TYPE, WarcHeader.CONTENT_LENGTH, WarcHeader.WARC_TARGET_URI, WarcHeader.WARC_DATE


_MAX_PLAIN_LENGTH = 10**18  # content_length() takes up to 18 digits
_TYPES: dict[str | None, str] = {}  # WARC-Type as written -> normalised (lower case, stripped): a handful


def _record_type(value: str | None) -> str:
    """The WARC-Type as make_head normalises it ("" when absent: check_fields rejects it)."""
    normal = (value or "").strip().lower()
    if normal and len(_TYPES) < 64:
        _TYPES[value] = normal
    return normal


_GOOD_VERSIONS: set[str] = set()  # status lines WARC_VERSION accepts (a handful: checked once each)


def _good_version(version: str) -> bool:
    if version in _GOOD_VERSIONS:
        return True
    if WARC_VERSION.match(version.encode() + b"\n") is None:
        return False
    if len(_GOOD_VERSIONS) < 64:
        _GOOD_VERSIONS.add(version)
    return True


def _zstd_has_dictionary(handle: IO[bytes]) -> bool:
    handle.seek(0)
    return handle.read(4) == b"\x5d\x2a\x4d\x18"
