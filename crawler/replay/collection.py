"""Reading whole WARC collections for replay: every record, damaged files included, under caps.

In the flow ``WARC files ─▶ collection ─▶ replay engine ─▶ outputs``, :func:`read_records`
yields the records of one file (or of a byte range of one) as :class:`Record` values, and
each damaged stretch as one :class:`BadRecord` (file, offset, reason), after which it
resynchronises: at the next gzip or zstd member of a compressed file (members are
independent), at the next line starting ``WARC/1.`` of an uncompressed one.  A record's
block is read only when the caller's ``want`` accepts its WARC header (so the payload of a
record of an unrelated host is never copied, parsed or content-decoded), and never when
its ``Content-Length`` exceeds ``max_block`` (reported as too large, then skipped).

Two backends give the same records (what they share: :mod:`crawler.replay.records`): FastWARC
(:mod:`crawler.replay.fastwarc_reader`; ``pip install fastwarc``, C++, about twice our zlib loop and
four times warcio on this project's files) when it is installed, and a pure-Python reader on
:mod:`zlib` / :mod:`zstandard` (:mod:`crawler.replay.python_reader`).  FastWARC raises on damage
without saying where, so the Python reader takes over from the last record FastWARC read whole, and
reports and resynchronises; a record FastWARC read is handed out only once the next one has been read
cleanly.  :func:`to_response` turns a response record into the
:class:`~crawler.archive.warc_reading.WarcResponse` replay parses (HTTP head, de-chunking, content decoding,
all capped as the fetcher caps live responses).  See docs/decisions/0007-replay-engine.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from crawler.archive.warc_reading import MAX_BLOCK_BYTES, WarcResponse, decode_record_body
from crawler.codings import MAX_DECODED_BYTES, TooLargeError
from crawler.replay.fastwarc_reader import fastwarc_available, fastwarc_records
from crawler.replay.python_reader import python_records
from crawler.replay.records import GZIP_MAGIC, ZSTD_MAGIC, BadRecord, Engine, Record, RecordHead, Want

__all__ = [
    "MAX_BLOCK_BYTES",
    "MAX_DECODED_BYTES",
    "BadRecord",
    "Engine",
    "Record",
    "RecordHead",
    "fastwarc_available",
    "read_records",
    "to_response",
]


def _want_all(head: RecordHead) -> bool:
    return True


def read_records(path: Path, *, want: Want | None = None, start: int = 0, end: int | None = None,
                 max_block: int = MAX_BLOCK_BYTES, engine: Engine = "auto",
                 types: frozenset[str] | None = None) -> Iterator[Record | BadRecord]:
    """Every record of ``path`` that starts in ``[start, end)``, and every bad stretch, in file order.

    ``want(head)`` decides whether a record's block is read (default: all); a record not
    wanted is skipped without copying its block.  ``types`` (WARC-Type values, lower case)
    leaves other records out before ``want`` sees them (their headers are still checked, so that
    both readers report the same problems whatever ``types``).
    ``start`` must be a record (member) start.  ``engine``: ``"fastwarc"``, ``"python"``
    or ``"auto"`` (FastWARC when installed).
    """
    want = want or _want_all
    typed = want
    if types is not None:
        wanted_types, inner = types, want

        def typed(head: RecordHead) -> bool:
            return head.rec_type in wanted_types and inner(head)
    path = Path(path)
    limit = end if end is not None else float("inf")
    if engine == "auto":
        engine = "fastwarc" if fastwarc_available() else "python"
    with open(path, "rb") as handle:
        kind = _kind(handle)
        if kind == "empty":
            return
        if engine == "fastwarc":
            resume = yield from fastwarc_records(path, handle, kind, start, limit, want, max_block, types)
            if resume is None:
                return
            start = resume
        yield from python_records(path, handle, kind, start, limit, typed, max_block)


def _kind(handle: IO[bytes]) -> str:
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if not magic:
        return "empty"
    if magic[:3] == GZIP_MAGIC:
        return "gzip"
    if magic == ZSTD_MAGIC or (len(magic) == 4 and magic[1:] == b"\x2a\x4d\x18" and magic[0] & 0xF0 == 0x50):
        return "zstd"
    return "plain"


# -- the header ---------------------------------------------------------------------------------


# -- the Python backend ----------------------------------------------------------------------------


# -- the FastWARC backend ---------------------------------------------------------------------------


# -- HTTP -----------------------------------------------------------------------------------------------


def http_head(block: bytes) -> tuple[str, tuple[tuple[str, str], ...], int]:
    """(status line, headers, where the body starts) of an HTTP message at the start of ``block``."""
    end, sep = block.find(b"\r\n\r\n"), 4
    lf = block.find(b"\n\n")
    if lf >= 0 and (end < 0 or lf < end):
        end, sep = lf, 2
    if end < 0:
        end, sep = len(block), 0
    lines = block[:end].split(b"\n")
    status = lines[0].rstrip(b"\r").decode("iso-8859-1")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = _header_text(raw.rstrip(b"\r"))
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if colon and name.strip():
            headers.append((name.strip(), value.strip()))
    return status, tuple(headers), end + sep


def _header_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


def _status(statusline: str) -> int:
    parts = statusline.split(None, 2)
    if len(parts) >= 2 and parts[0].startswith("HTTP/") and parts[1].isascii() and parts[1].isdigit():
        return int(parts[1])
    return 0


class ResponseTooLarge(Exception):
    """A response whose body decodes to more than the cap."""


def to_response(record: Record, filename: str, *, limit: int = MAX_DECODED_BYTES) -> WarcResponse:
    """The HTTP response in a ``response`` record, de-chunked and decoded (capped at ``limit``).

    Raises :class:`ResponseTooLarge` when the body decodes to more than ``limit`` bytes.
    """
    head = record.head
    status_line, headers, body_at = http_head(record.block)
    try:
        content, problems = decode_record_body(record.block[body_at:], headers, limit=limit)
    except TooLargeError as exc:
        raise ResponseTooLarge(str(exc)) from None
    status = _status(status_line)
    if status == 0:
        problems.append(f"unparsable status line {status_line[:60]!r}")
    return WarcResponse(
        url=head.url,
        status=status,
        headers=headers,
        content=content,
        filename=filename,
        offset=head.offset,
        record_id=head.record_id or "",
        date=head.date or "",
        warc_version=head.version,
        payload_digest=head.get("WARC-Payload-Digest"),
        problems=tuple(problems),
    )


def is_http_response(head: RecordHead) -> bool:
    return head.rec_type == "response" and head.url.startswith(("http:", "https:"))


def warcinfo_fields(record: Record) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in record.block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            fields.setdefault(name.strip(), value.strip())
    return fields
