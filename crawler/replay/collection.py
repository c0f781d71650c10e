"""Reading whole WARC collections for replay: every record, damaged files included, under caps.

In the flow ``WARC files ─▶ warc_read ─▶ replay_engine ─▶ outputs``, :func:`read_records`
yields the records of one file (or of a byte range of one) as :class:`Record` values, and
each damaged stretch as one :class:`BadRecord` (file, offset, reason), after which it
resynchronises: at the next gzip or zstd member of a compressed file (members are
independent), at the next line starting ``WARC/1.`` of an uncompressed one.  A record's
block is read only when the caller's ``want`` accepts its WARC header (so the payload of a
record of an unrelated host is never copied, parsed or content-decoded), and never when
its ``Content-Length`` exceeds ``max_block`` (reported as too large, then skipped).

Two backends give the same records: FastWARC (``pip install fastwarc``, C++, about twice
our zlib loop and four times warcio on this project's files) when it is installed, and a
pure-Python reader on :mod:`zlib` / :mod:`zstandard`.  FastWARC raises on damage without
saying where, so the Python reader takes over from the last record FastWARC read whole,
and reports and resynchronises; a record FastWARC read is handed out only once the next
one has been read cleanly.  :func:`to_response` turns a response record into the
:class:`~crawler.archive.warc.WarcResponse` replay parses (HTTP head, de-chunking, content decoding,
all capped as the fetcher caps live responses).  See docs/decisions/0007-replay-engine.md.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from crawler.archive.warc import MAX_BLOCK_BYTES, WarcResponse, decode_record_body
from crawler.codings import MAX_DECODED_BYTES, TooLargeError

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

Engine = Literal["auto", "fastwarc", "python"]

MAX_HEAD = 64 * 1024  # a WARC header longer than this is not a WARC header
_GZIP_MAGIC = b"\x1f\x8b\x08"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_VERSION = re.compile(rb"WARC/1\.\d+\r?\n")
_READ = 1 << 16


@dataclass(frozen=True, slots=True)
class RecordHead:
    """A record's WARC header: what is known before its block is read (made by :func:`make_head`)."""

    offset: int  # where the record starts: its gzip/zstd member, or its ``WARC/`` line
    version: str  # "WARC/1.0", "WARC/1.1"
    fields: tuple[tuple[str, str], ...]
    content_length: int
    rec_type: str  # WARC-Type, lower case
    url: str  # WARC-Target-URI ("" when absent)

    def get(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.fields:
            if key.lower() == lname:
                return value
        return None


def make_head(offset: int, version: str, fields: tuple[tuple[str, str], ...]) -> RecordHead:
    """Raises :class:`_Bad` without a usable Content-Length."""
    length = rec_type = url = None
    for key, value in fields:
        lkey = key.lower()
        if lkey == "content-length" and length is None:
            length = value
        elif lkey == "warc-type" and rec_type is None:
            rec_type = value
        elif lkey == "warc-target-uri" and url is None:
            url = value
    if length is None:
        raise _Bad("WARC header has no Content-Length")
    length = length.strip()
    if not length.isascii() or not length.isdigit() or len(length) > 18:
        raise _Bad(f"bad Content-Length {length[:30]!r}")
    return RecordHead(offset, version, fields, int(length), (rec_type or "").strip().lower(),
                      (url or "").strip().strip("<>"))


@dataclass(frozen=True, slots=True)
class Record:
    head: RecordHead
    block: bytes  # the whole block (for a response: HTTP head + body as stored)


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A stretch of a file that is not a readable record, and why; reading went on after it."""

    file: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} at offset {self.offset}: {self.reason}"


Want = Callable[[RecordHead], bool]


def _want_all(head: RecordHead) -> bool:
    return True


def fastwarc_available() -> bool:
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
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
    if types is not None:
        wanted_types, inner = types, want

        def want(head: RecordHead) -> bool:
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
            resume = yield from _fastwarc_records(path, handle, kind, start, limit, want, max_block)
            if resume is None:
                return
            start = resume
        yield from _python_records(path, handle, kind, start, limit, want, max_block)


def _kind(handle: IO[bytes]) -> str:
    handle.seek(0)
    magic = handle.read(4)
    handle.seek(0)
    if not magic:
        return "empty"
    if magic[:3] == _GZIP_MAGIC:
        return "gzip"
    if magic == _ZSTD_MAGIC or (len(magic) == 4 and magic[1:] == b"\x2a\x4d\x18" and magic[0] & 0xF0 == 0x50):
        return "zstd"
    return "plain"


# -- the header ---------------------------------------------------------------------------------


class _Bad(Exception):
    """The data at a record start is not a readable record; the message says why."""


def parse_head(data: bytes, offset: int) -> tuple[RecordHead, int]:
    """The WARC header at the start of ``data``: (head, length of the header with its blank line)."""
    match = _VERSION.match(data)
    if match is None:
        raise _Bad(f"not a WARC record (starts with {data[:20]!r})")
    end = data.find(b"\r\n\r\n", match.end() - 2)
    sep = 4
    lf_end = data.find(b"\n\n", match.end() - 1)
    if lf_end >= 0 and (end < 0 or lf_end < end):
        end, sep = lf_end, 2
    if end < 0:
        raise _Bad("WARC header has no end" if len(data) < MAX_HEAD else f"WARC header longer than {MAX_HEAD} bytes")
    version = match.group(0).rstrip().decode("ascii")
    fields: list[tuple[str, str]] = []
    for raw in data[match.end() : end].split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and fields:  # a folded continuation line
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep_colon, value = line.partition(":")
        if sep_colon and name.strip():
            fields.append((name.strip(), value.strip()))
    return make_head(offset, version, tuple(fields)), end + sep


# W3C-DTF as WARC 1.1 allows it (1.0: seconds; 1.1: up to nanoseconds), and a UTC offset some writers use.
_WARC_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?",
                        re.ASCII)


def _check_head(head: RecordHead) -> None:
    """Problems both backends see the same way, in records of every type (FastWARC takes any header it can split).

    The fields WARC makes mandatory and replay relies on: WARC-Type, WARC-Date (it orders the
    versions), WARC-Target-URI of the record types about a URI.  A record of an unknown type
    is not a problem (WARC readers skip them).
    """
    if not head.rec_type:
        raise _Bad("record has no WARC-Type")
    if head.rec_type in ("response", "request", "revisit", "resource") and not head.url:
        raise _Bad(f"{head.rec_type} record has no WARC-Target-URI")
    date = (head.get("WARC-Date") or "").strip()
    if not date:
        raise _Bad(f"{head.rec_type} record has no WARC-Date")
    if not _WARC_DATE.fullmatch(date):
        raise _Bad(f"{head.rec_type} record has a bad WARC-Date {date[:40]!r}")


# -- the Python backend ----------------------------------------------------------------------------


class _Plain:
    """An uncompressed stream positioned anywhere in the file."""

    def __init__(self, handle: IO[bytes], pos: int) -> None:
        self.handle = handle
        handle.seek(pos)
        self.pos = pos
        self.buf = b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.handle.read(max(_READ, n - len(self.buf)))
            if not more:
                break
            self.buf += more
        out, self.buf = self.buf[:n], self.buf[n:]
        self.pos += len(out)
        return out

    def peek(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.handle.read(_READ)
            if not more:
                break
            self.buf += more
        return self.buf[:n]

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes (seeking); returns how many were there."""
        if n <= len(self.buf):
            self.buf = self.buf[n:]
            self.pos += n
            return n
        size = self.handle.seek(0, 2)
        target = min(self.pos + n, size)
        skipped = target - self.pos
        self.handle.seek(target)
        self.buf = b""
        self.pos = target
        return skipped


class _Member:
    """The decompressed content of one gzip member or zstd frame starting at ``start``.

    ``read``, ``peek`` and ``skip`` decompress little more than they are asked for, so a
    bomb costs time, never memory.  ``end`` is where the member ended, once it has
    (``ended``).  Raises :class:`_Bad` for a damaged or truncated member.
    """

    def __init__(self, handle: IO[bytes], start: int, kind: str, zstd_dict: Any = None) -> None:
        self.handle = handle
        handle.seek(start)
        self.gzip = kind == "gzip"
        self.raw_pos = start  # file position of self.pending[0]
        self.pending = b""
        self.out = bytearray()
        self.ended = False
        self.end = start
        if self.gzip:
            self.decomp: Any = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            import zstandard

            params = {"dict_data": zstd_dict} if zstd_dict is not None else {}
            self.decomp = zstandard.ZstdDecompressor(**params).decompressobj()

    def _more(self, want: int) -> bool:
        """Decompress up to about ``want`` more bytes into ``self.out``; False at the member's end."""
        while not self.ended:
            if not self.pending:
                self.pending = self.handle.read(_READ)
                if not self.pending:
                    raise _Bad("compressed member is truncated (the file ends inside it)")
            decomp = self.decomp
            try:
                if self.gzip:
                    data = self.pending
                    chunk = decomp.decompress(data, max(want, 1))
                    left = len(decomp.unused_data) if decomp.eof else len(decomp.unconsumed_tail)
                else:
                    # zstandard has no output cap per call: feed 1 KiB at a time (32 MiB out at worst).
                    data = self.pending[:1024]
                    chunk = decomp.decompress(data)
                    left = len(decomp.unused_data) if decomp.eof else 0
            except Exception as exc:  # zlib.error, zstandard.ZstdError
                raise _Bad(f"damaged compressed member: {exc}") from None
            used = len(data) - left
            self.pending = self.pending[used:]
            self.raw_pos += used
            self.out += chunk
            if decomp.eof:
                self.ended = True
                self.end = self.raw_pos
                return bool(chunk)
            if chunk:
                return True
        return False

    def read(self, n: int) -> bytes:
        while len(self.out) < n and self._more(n - len(self.out)):
            pass
        data = bytes(self.out[:n])
        del self.out[:n]
        return data

    def peek(self, n: int) -> bytes:
        while len(self.out) < n and self._more(n - len(self.out)):
            pass
        return bytes(self.out[:n])

    def skip(self, n: int) -> int:
        skipped = 0
        while skipped < n:
            if not self.out and not self._more(min(n - skipped, 1 << 20)):
                break
            take = min(len(self.out), n - skipped)
            del self.out[:take]
            skipped += take
        return skipped

    def finish(self) -> None:
        """Decompress to the member's end, discarding what is left."""
        self.out.clear()
        while self._more(1 << 20):
            self.out.clear()


def _read_record(stream: _Plain | _Member, offset: int, want: Want, max_block: int,
                 name: str) -> tuple[Record | BadRecord | None, RecordHead]:
    """One record from ``stream``: (the record, a BadRecord for a too-large one, or None when skipped; head)."""
    try:
        head, size = parse_head(stream.peek(4096), offset)
    except _Bad:  # a header longer than 4 KiB, or not one
        head, size = parse_head(stream.peek(MAX_HEAD), offset)
    stream.read(size)
    _check_head(head)
    length = head.content_length
    result: Record | BadRecord | None = None
    if not want(head):
        got = stream.skip(length)
    elif length > max_block:
        got = stream.skip(length)
        result = _too_large(name, offset, length, max_block)
    else:
        block = stream.read(length)
        got = len(block)
        result = Record(head, block)
    if got < length:
        also = f"{result.reason}; " if isinstance(result, BadRecord) else ""
        raise _Bad(f"{also}record truncated: its block has {got} of the {length} bytes its Content-Length says")
    return result, head


def _too_large(name: str, offset: int, length: int, max_block: int) -> BadRecord:
    return BadRecord(name, offset, f"record too large: Content-Length {length} exceeds {max_block} bytes (skipped)")


def _trailer_ok(stream: _Plain | _Member) -> bool:
    """Consume the blank lines that end a record; False when the block is followed by anything else.

    WARC wants ``CRLF CRLF`` after the block; a block followed directly by the end of
    the member or file, or by the next ``WARC/1.`` line, is accepted too (some writers
    leave the blank lines out).  Anything else means the Content-Length was wrong.
    """
    ahead = stream.peek(4)
    if ahead == b"\r\n\r\n" or ahead[:2] == b"\n\n":
        stream.read(4 if ahead == b"\r\n\r\n" else 2)
        return True
    n = 0
    while n < len(ahead) and ahead[n : n + 1] in (b"\r", b"\n"):
        n += 1
    nxt = stream.peek(n + 7)[n:]
    if not nxt or nxt.startswith(b"WARC/1."):
        stream.read(n)
        return True
    return False


def _python_records(path: Path, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
                    max_block: int) -> Iterator[Record | BadRecord]:
    name = str(path)
    if kind == "plain":
        yield from _plain_records(name, handle, start, limit, want, max_block)
        return
    if kind == "zstd":
        try:
            import zstandard  # noqa: F401
        except ImportError:
            yield BadRecord(name, start, "reading .warc.zst needs the 'scale' extra: pip install 'crawler[scale]'")
            return
    yield from _member_records(name, handle, kind, start, limit, want, max_block)


def _plain_records(name: str, handle: IO[bytes], start: int, limit: float, want: Want,
                   max_block: int) -> Iterator[Record | BadRecord]:
    pos = start
    while pos < limit:
        stream = _Plain(handle, pos)
        if not stream.peek(1):
            return
        if not stream.peek(7).startswith(b"WARC/1."):
            nxt = _next_warc_line(handle, pos, limit)
            junk = (nxt if nxt is not None else handle.seek(0, 2)) - pos
            if stream.peek(junk).strip(b"\r\n"):
                yield BadRecord(name, pos, f"{junk} bytes that are not a WARC record")
            if nxt is None:
                return
            pos = nxt
            continue
        head_end = pos + 1
        try:
            result, head = _read_record(stream, pos, want, max_block, name)
            head_end = pos + 7
            if not _trailer_ok(stream):
                raise _Bad(f"data follows the block: Content-Length {head.content_length} does not fit the record")
        except _Bad as exc:
            yield BadRecord(name, pos, str(exc))
            nxt = _next_warc_line(handle, head_end, limit)
            if nxt is None:
                return
            pos = nxt
            continue
        if result is not None:
            yield result
        pos = stream.pos


def _next_warc_line(handle: IO[bytes], pos: int, limit: float) -> int | None:
    """Offset of the next line starting ``WARC/1.`` after ``pos``, or None."""
    needle = b"\nWARC/1."
    base = pos
    while base < limit:
        handle.seek(base)
        data = handle.read(1 << 20)
        at = data.find(needle)
        if at >= 0:
            found = base + at + 1
            return found if found < limit else None
        if len(data) < (1 << 20):
            return None
        base += len(data) - len(needle) + 1
    return None


def _member_records(name: str, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
                    max_block: int) -> Iterator[Record | BadRecord]:
    magic = _GZIP_MAGIC if kind == "gzip" else _ZSTD_MAGIC
    zstd_dict, pos = _zstd_dictionary(handle, start) if kind == "zstd" else (None, start)
    size = handle.seek(0, 2)
    while pos < limit and pos < size:
        handle.seek(pos)
        if kind == "zstd":
            skippable = _skip_frame(handle, pos)
            if skippable is not None:
                pos = skippable
                continue
        handle.seek(pos)
        if handle.read(len(magic)) != magic:
            nxt = _next_member(handle, pos + 1, limit, kind, zstd_dict)
            junk = (nxt if nxt is not None else size) - pos
            handle.seek(pos)
            if handle.read(min(junk, 1 << 20)).strip(b"\r\n\x00"):
                yield BadRecord(name, pos, f"{junk} bytes between members that are not a WARC record")
            if nxt is None:
                return
            pos = nxt
            continue
        member = _Member(handle, pos, kind, zstd_dict)
        try:
            first = True
            while True:
                if not first and not member.peek(1):
                    break
                result, head = _read_record(member, pos, want, max_block, name)
                if not _trailer_ok(member):
                    raise _Bad(f"data follows the block: Content-Length {head.content_length} does not fit the record")
                if result is not None:
                    yield result
                first = False
                if not member.peek(1):
                    break
            member.finish()
        except _Bad as exc:
            yield BadRecord(name, pos, str(exc))
            try:
                member.finish()
                pos = member.end
            except _Bad:
                nxt = _next_member(handle, pos + 1, limit, kind, zstd_dict)
                if nxt is None:
                    return
                pos = nxt
            continue
        pos = member.end


def _next_member(handle: IO[bytes], pos: int, limit: float, kind: str, zstd_dict: Any) -> int | None:
    """The next offset at or after ``pos`` where a member that starts a WARC record begins."""
    magic = _GZIP_MAGIC if kind == "gzip" else _ZSTD_MAGIC
    base = pos
    while base < limit:
        handle.seek(base)
        data = handle.read(1 << 20)
        if not data:
            return None
        at = data.find(magic)
        while at >= 0:
            candidate = base + at
            if candidate >= limit:
                return None
            try:
                if _Member(handle, candidate, kind, zstd_dict).peek(7).startswith(b"WARC/1."):
                    return candidate
            except _Bad:
                pass
            at = data.find(magic, at + 1)
        if len(data) < (1 << 20):
            return None
        base += len(data) - len(magic) + 1
    return None


def _skip_frame(handle: IO[bytes], pos: int) -> int | None:
    """The end of a zstd skippable frame at ``pos``, or None when there is none."""
    head = handle.read(8)
    if len(head) == 8 and head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return pos + 8 + int.from_bytes(head[4:8], "little")
    return None


def _zstd_dictionary(handle: IO[bytes], start: int) -> tuple[Any, int]:
    """A .warc.zst's dictionary (a skippable frame 0x184D2A5D at offset 0, maybe compressed itself)."""
    handle.seek(0)
    head = handle.read(8)
    if len(head) < 8 or head[:4] != b"\x5d\x2a\x4d\x18":
        return None, start
    import zstandard

    size = int.from_bytes(head[4:8], "little")
    data = handle.read(min(size, 1 << 26))
    if data[:4] == _ZSTD_MAGIC:
        data = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 26)
    return zstandard.ZstdCompressionDict(data), max(start, 8 + size)


# -- the FastWARC backend ---------------------------------------------------------------------------


def _fastwarc_records(path: Path, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
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
        except (OSError, ValueError, _Bad):
            return offset
    if pending is not None:
        yield pending
    return None


def _fastwarc_one(record: Any, offset: int, name: str, want: Want, max_block: int) -> Record | BadRecord | None:
    headers = record.headers
    version = headers.status_line.strip()
    head = make_head(offset, version, headers.items())
    if head.content_length != record.content_length or not _VERSION.match(version.encode() + b"\n"):
        raise _Bad("FastWARC and the header disagree")
    _check_head(head)
    if not want(head):
        return None
    if head.content_length > max_block:
        # FastWARC would skip Content-Length bytes past the member's end (and lose what follows)
        # when the record is also truncated: the Python reader decides.
        raise _Bad("too large")
    block = record.reader.read(head.content_length)
    if len(block) != head.content_length:
        raise _Bad("short block")  # the Python reader reports it
    return Record(head, block)


def _zstd_has_dictionary(handle: IO[bytes]) -> bool:
    handle.seek(0)
    return handle.read(4) == b"\x5d\x2a\x4d\x18"


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
        record_id=head.get("WARC-Record-ID") or "",
        date=head.get("WARC-Date") or "",
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
