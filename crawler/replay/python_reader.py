"""The pure-Python backend of the collection reader: gzip, zstd and plain WARC files, damaged ones included.

Part of :mod:`crawler.replay.collection` (which chooses the backend).  It reads member by member
(:mod:`zlib` / :mod:`zstandard`) or line by line, reports each damaged stretch as one
:class:`~crawler.replay.records.BadRecord`, and resynchronises at the next member of a compressed
file or the next ``WARC/1.`` line of a plain one.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from crawler.replay.records import (
    GZIP_MAGIC,
    MAX_HEAD,
    READ_SIZE,
    ZSTD_MAGIC,
    BadBytes,
    BadRecord,
    Record,
    RecordHead,
    Want,
    check_head,
    parse_head,
)


class _Plain:
    """An uncompressed stream positioned anywhere in the file."""

    def __init__(self, handle: IO[bytes], pos: int) -> None:
        self.handle = handle
        handle.seek(pos)
        self.pos = pos
        self.buf = b""

    def read(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.handle.read(max(READ_SIZE, n - len(self.buf)))
            if not more:
                break
            self.buf += more
        out, self.buf = self.buf[:n], self.buf[n:]
        self.pos += len(out)
        return out

    def peek(self, n: int) -> bytes:
        while len(self.buf) < n:
            more = self.handle.read(READ_SIZE)
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
    (``ended``).  Raises :class:`BadBytes` for a damaged or truncated member.
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
                self.pending = self.handle.read(READ_SIZE)
                if not self.pending:
                    raise BadBytes("compressed member is truncated (the file ends inside it)")
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
                raise BadBytes(f"damaged compressed member: {exc}") from None
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
    except BadBytes:  # a header longer than 4 KiB, or not one
        head, size = parse_head(stream.peek(MAX_HEAD), offset)
    stream.read(size)
    check_head(head)
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
        raise BadBytes(f"{also}record truncated: its block has {got} of the {length} bytes its Content-Length says")
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


def python_records(path: Path, handle: IO[bytes], kind: str, start: int, limit: float, want: Want,
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
                raise BadBytes(f"data follows the block: Content-Length {head.content_length} does not fit the record")
        except BadBytes as exc:
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
    magic = GZIP_MAGIC if kind == "gzip" else ZSTD_MAGIC
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
                    raise BadBytes(f"data follows the block: Content-Length {head.content_length} "
                                   f"does not fit the record")
                if result is not None:
                    yield result
                first = False
                if not member.peek(1):
                    break
            member.finish()
        except BadBytes as exc:
            yield BadRecord(name, pos, str(exc))
            try:
                member.finish()
                pos = member.end
            except BadBytes:
                nxt = _next_member(handle, pos + 1, limit, kind, zstd_dict)
                if nxt is None:
                    return
                pos = nxt
            continue
        pos = member.end


def _next_member(handle: IO[bytes], pos: int, limit: float, kind: str, zstd_dict: Any) -> int | None:
    """The next offset at or after ``pos`` where a member that starts a WARC record begins."""
    magic = GZIP_MAGIC if kind == "gzip" else ZSTD_MAGIC
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
            except BadBytes:
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
    if data[:4] == ZSTD_MAGIC:
        data = zstandard.ZstdDecompressor().decompress(data, max_output_size=1 << 26)
    return zstandard.ZstdCompressionDict(data), max(start, 8 + size)
