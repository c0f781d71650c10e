"""Reading WARC records back: part of the archive (:mod:`crawler.archive`), beside the writer :mod:`.warc`.

In the flow ``warc ─▶ warc_reading ─▶ replay / verify / wacz``, this module reads one record back
(:func:`read_response_at`, at an offset an index gave), every response of a file
(:func:`iter_responses`), a file's ``warcinfo`` fields (:func:`read_warcinfo`), and checks a whole
file (:func:`check_file`: truncated records and gzip members, digests).  This is the only module that
imports warcio.  It accepts WARCs from other tools (wget, warcio, pywb): WARC/1.0 or 1.1, gzipped or
not, bodies still chunked in the record, any of the gzip/deflate/br content encodings.

Bodies are decoded with :mod:`crawler.codings`, as the fetcher decodes live responses,
so a live fetch and a replay decode the same bytes the same way, under the fetcher's caps
(:data:`MAX_BLOCK_BYTES` read of a record's body, :data:`MAX_DECODED_BYTES` once decoded).
:mod:`crawler.replay.collection` is the reader replay uses on whole collections (damaged files,
resynchronisation, FastWARC).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from crawler.codings import (
    MAX_BODY_BYTES,
    MAX_DECODED_BYTES,
    ContentDecodingError,
    TooLargeError,
    dechunk,
    decode_content,
)
from crawler.errors import ArchiveError
from crawler.terminal import plural

__all__ = [
    "MAX_BLOCK_BYTES",
    "WarcResponse",
    "check_file",
    "decode_record_body",
    "iter_responses",
    "read_response_at",
    "read_warcinfo",
]


# The read side applies the fetcher's caps (one definition, in crawler.codings): what is read of a
# record's body, and what it may decode to (gzip bombs, stacked codings, huge chunk sizes).
MAX_BLOCK_BYTES = MAX_BODY_BYTES


def _warcio() -> tuple[Any, tuple[type[BaseException], ...]]:
    """warcio's record iterator, and anything warcio (or our own parsing) may raise on a damaged file.

    Imported on first use: replay reads with FastWARC and only needs :func:`decode_record_body`
    (warcio brings fsspec and asyncio along, a tenth of a replay's start-up).
    """
    from warcio.archiveiterator import WARCIterator
    from warcio.exceptions import ArchiveLoadFailed

    return WARCIterator, (ArchiveLoadFailed, EOFError, ValueError, zlib.error, OSError, IndexError, KeyError)


@dataclass(frozen=True, slots=True)
class WarcResponse:
    """One archived HTTP response, as replay needs it.

    ``content`` is de-chunked and content-decoded.  When that fails (a body declared chunked
    but stored de-chunked, a gzip header on a body another tool already decoded, a damaged
    stream), the record is still returned: ``content`` falls back to the bytes as far as
    they could be decoded and ``problems`` says what went wrong.  ``headers`` are the HTTP
    headers exactly as recorded (``Transfer-Encoding`` included).
    """

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    filename: str
    offset: int
    record_id: str
    date: str
    warc_version: str
    payload_digest: str | None
    problems: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


def _header_values(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    values = [v for k, v in headers if k.lower() == name]
    return ", ".join(values) if values else None


def decode_record_body(raw: bytes, headers: tuple[tuple[str, str], ...], *,
                       limit: int = MAX_DECODED_BYTES) -> tuple[bytes, list[str]]:
    """De-chunk and content-decode an archived HTTP body: (content, problems).

    A body that cannot be decoded is kept as stored, with a problem saying why; one that
    would decode to more than ``limit`` bytes raises :class:`~crawler.codings.TooLargeError`
    (nothing bigger than the cap is ever held in memory).
    """
    problems: list[str] = []
    body = raw
    transfer = (_header_values(headers, "transfer-encoding") or "").lower()
    if "chunked" in transfer:
        try:
            body = dechunk(raw, limit=limit)
        except TooLargeError:
            raise
        except ContentDecodingError as exc:
            # Some tools store the body de-chunked but keep the header.
            problems.append(f"declared chunked but not chunk-framed ({exc}); body used as stored")
    try:
        content = decode_content(body, _header_values(headers, "content-encoding"), limit=limit)
    except TooLargeError:
        raise
    except ContentDecodingError as exc:
        problems.append(f"content not decoded ({exc}); content is the undecoded body")
        content = body
    return content, problems


def _status(statusline: str) -> int:
    code = statusline.strip().split(" ", 1)[0]
    return int(code) if code.isdigit() else 0


def _missing(record: object) -> int:
    """Bytes the record's Content-Length promised but the file did not hold (after reading it all)."""
    limit = getattr(record.raw_stream, "limit", 0)  # type: ignore[attr-defined]
    return limit if isinstance(limit, int) and limit > 0 else 0


def _response_from(record: object, raw: bytes, filename: str, offset: int) -> WarcResponse:
    rec_headers = record.rec_headers  # type: ignore[attr-defined]
    http_headers = record.http_headers  # type: ignore[attr-defined]
    headers = tuple((str(k), str(v)) for k, v in http_headers.headers)
    content, problems = decode_record_body(raw, headers)
    missing = _missing(record)
    if missing:
        problems.insert(0, f"record truncated: {missing} bytes of its block are missing")
    status = _status(http_headers.statusline)
    if status == 0:
        problems.append(f"unparsable status line {http_headers.statusline!r}")
    return WarcResponse(
        url=rec_headers.get_header("WARC-Target-URI") or "",
        status=status,
        headers=headers,
        content=content,
        filename=filename,
        offset=offset,
        record_id=rec_headers.get_header("WARC-Record-ID") or "",
        date=rec_headers.get_header("WARC-Date") or "",
        warc_version=rec_headers.protocol,
        payload_digest=rec_headers.get_header("WARC-Payload-Digest"),
        problems=tuple(problems),
    )


def _is_http_response(record: object) -> bool:
    return bool(
        record.rec_type == "response"  # type: ignore[attr-defined]
        and record.http_headers  # type: ignore[attr-defined]
        and (record.rec_headers.get_header("WARC-Target-URI") or "").startswith(  # type: ignore[attr-defined]
            ("http:", "https:")
        )
    )


def _read_block(record: object, path: Path, offset: int, limit: int = MAX_BLOCK_BYTES) -> bytes:
    """The record's HTTP body as stored, refused (never read whole) when longer than ``limit``."""
    raw: bytes = record.raw_stream.read(limit + 1)  # type: ignore[attr-defined]
    if len(raw) > limit:
        raise ArchiveError(f"{path}: record near offset {offset} is too large: its body exceeds {limit} bytes")
    return raw


def _open_archive(path: Path) -> IO[bytes]:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise ArchiveError(f"cannot open {path}: {exc}") from exc


def iter_responses(path: Path) -> Iterator[WarcResponse]:
    """Yield every HTTP ``response`` record of a WARC (.warc or .warc.gz), in file order.

    Requests, revisits, warcinfo, metadata and resource records are skipped.  A damaged
    file raises :class:`~crawler.errors.ArchiveError` at the first unreadable record.
    """
    path = Path(path)
    WARCIterator, read_errors = _warcio()
    with _open_archive(path) as handle:
        records = WARCIterator(handle)
        try:
            for record in records:
                if not _is_http_response(record):
                    continue
                # warcio finds a record's offset by reading it to its end: read the block first.
                raw = _read_block(record, path, records.offset)
                offset = records.get_record_offset()
                yield _response_from(record, raw, path.name, offset)
        except TooLargeError as exc:
            raise ArchiveError(f"{path}: record after offset {records.offset}: {exc}") from exc
        except read_errors as exc:
            raise ArchiveError(f"{path}: unreadable record after offset {records.offset}: {exc}") from exc
        finally:
            records.close()


def read_response_at(path: Path, offset: int) -> WarcResponse:
    """Read the response record starting at byte ``offset`` (a gzip member start for .warc.gz)."""
    path = Path(path)
    WARCIterator, read_errors = _warcio()
    with _open_archive(path) as handle:
        try:
            handle.seek(offset)
            records = WARCIterator(handle)
            try:
                record = next(iter(records), None)
                if record is None:
                    raise ArchiveError(f"{path}: no record at offset {offset}")
                if not _is_http_response(record):
                    kind = record.rec_type
                    raise ArchiveError(f"{path}: record at offset {offset} is a {kind} record, not an HTTP response")
                raw = _read_block(record, path, offset)
                return _response_from(record, raw, path.name, offset)
            finally:
                records.close()
        except TooLargeError as exc:
            raise ArchiveError(f"{path}: record at offset {offset}: {exc}") from exc
        except read_errors as exc:
            raise ArchiveError(f"{path}: unreadable record at offset {offset}: {exc}") from exc


def _parse_fields(block: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip():
            fields.setdefault(name.strip(), value.strip())
    return fields


def read_warcinfo(path: Path) -> dict[str, str]:
    """Fields of the file's first ``warcinfo`` record (looked for before the first capture), or ``{}``."""
    path = Path(path)
    WARCIterator, read_errors = _warcio()
    with _open_archive(path) as handle:
        records = WARCIterator(handle)
        try:
            for record in records:
                if record.rec_type == "warcinfo":
                    return _parse_fields(record.raw_stream.read(1 << 20))  # fields, not a payload
                if record.rec_type in ("request", "response", "revisit", "resource"):
                    break
        except read_errors as exc:
            raise ArchiveError(f"{path}: unreadable record: {exc}") from exc
        finally:
            records.close()
    return {}


def _drain(stream: IO[bytes]) -> None:
    while stream.read(1 << 16):
        pass


def _check_gzip_members(handle: IO[bytes]) -> list[str]:
    """Walk the gzip members of a .warc.gz independently of warcio, which ignores truncated members."""
    decomp: zlib._Decompress | None = None
    start = pos = 0
    while block := handle.read(1 << 20):
        data = block
        while data:
            if decomp is None:
                decomp, start = zlib.decompressobj(16 + zlib.MAX_WBITS), pos
            try:
                decomp.decompress(data, 1 << 20)
            except zlib.error as exc:
                return [f"gzip member at offset {start} is damaged: {exc}"]
            rest = decomp.unused_data if decomp.eof else decomp.unconsumed_tail
            pos += len(data) - len(rest)
            data = rest
            if decomp.eof:
                decomp = None
            elif not rest:
                break
    while decomp is not None and not decomp.eof and decomp.decompress(b"", 1 << 20):
        pass
    if decomp is not None and not decomp.eof:
        return [f"gzip member at offset {start} is truncated"]
    return []


def check_file(path: Path) -> list[str]:
    """Problems in a WARC: unreadable or truncated records, block and payload digest mismatches.

    Returns ``[]`` when the file is fine.  Digests are checked as ``warcio check`` does
    (revisit records are not checked); unlike ``warcio check``, a record or gzip member cut
    short (a crashed writer's ``.open`` file) is reported, and content encodings are not
    decoded (warcio 1.8's br decoder fails with brotli >= 1.2).
    """
    path = Path(path)
    WARCIterator, read_errors = _warcio()
    problems: list[str] = []
    try:
        handle = _open_archive(path)
    except ArchiveError as exc:
        return [str(exc)]
    with handle:
        records = WARCIterator(handle, check_digests=True)
        try:
            for record in records:
                _drain(record.raw_stream)
                missing = _missing(record)
                offset = records.get_record_offset()
                rec_id = record.rec_headers.get_header("WARC-Record-ID")
                where = f"offset {offset} {record.rec_type} {rec_id}"
                if missing:
                    problems.append(f"{where}: truncated, {missing} bytes of its block are missing")
                checker = record.digest_checker
                if checker.passed is False:
                    problems.extend(f"{where}: {problem}" for problem in checker.problems)
        except read_errors as exc:
            problems.append(f"unreadable record after offset {records.offset}: {exc}".strip())
        finally:
            records.close()
        if records.err_count:
            problems.append(f"{plural(records.err_count, 'record')} not followed by the blank lines WARC requires")
        handle.seek(0)
        if handle.read(2) == b"\x1f\x8b":
            handle.seek(0)
            problems.extend(_check_gzip_members(handle))
    return problems
