"""Transfer and content decoding of HTTP bodies (pure): de-chunking and gzip/deflate/br, with size caps.

Shared by the fetcher (live responses) and the WARC reader (replay), so that a live
fetch and a replay decode the same bytes the same way.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import brotli
from zlib_ng import zlib_ng

__all__ = ["MAX_BODY_BYTES", "MAX_DECODED_BYTES", "ContentDecodingError", "TooLargeError", "binary_kind", "dechunk",
           "decode_content", "decode_prefix"]

# Decoded bodies larger than this are refused, live or replayed (a gzip bomb guard).
MAX_DECODED_BYTES = 100 * 1024 * 1024
# Wire bodies larger than this are refused by the fetcher and not read in by replay.
MAX_BODY_BYTES = 20 * 1024 * 1024


class ContentDecodingError(ValueError):
    """A body could not be de-chunked or content-decoded, or decoded to more than the limit."""


class TooLargeError(ContentDecodingError):
    pass


_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}")  # 16 hex digits = 2**64: any longer size line is not a real chunk


def dechunk(data: bytes, *, limit: int | None = None) -> bytes:
    """Remove HTTP/1.1 chunked framing; raises :class:`ContentDecodingError` if ``data`` is not chunked.

    :class:`TooLargeError` (a :class:`ContentDecodingError`) when the chunks would add up to
    more than ``limit`` bytes; a declared chunk size is checked before anything is copied.
    """
    out = bytearray()
    pos = 0
    while True:
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise ContentDecodingError(f"chunked body truncated at byte {pos} (no chunk-size line)")
        size_field = data[pos:eol].rstrip(b"\r").split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_field):
            raise ContentDecodingError(f"bad chunk-size line at byte {pos}: {data[pos:eol][:40]!r}")
        size = int(size_field, 16)
        pos = eol + 1
        if size == 0:
            return bytes(out)  # trailers, if any, are not part of the payload
        if limit is not None and len(out) + size > limit:
            raise TooLargeError(f"de-chunked body exceeds {limit} bytes (chunk of {size} bytes at byte {pos})")
        end = pos + size
        if end > len(data):
            raise ContentDecodingError(f"chunked body truncated: chunk of {size} bytes at byte {pos}")
        out += data[pos:end]
        if data[end : end + 2] == b"\r\n":
            pos = end + 2
        elif data[end : end + 1] == b"\n":
            pos = end + 1
        else:
            raise ContentDecodingError(f"chunk at byte {pos} not followed by a line end")


def _check_limit(out: bytearray, limit: int | None) -> None:
    if limit is not None and len(out) > limit:
        raise TooLargeError(f"decoded body exceeds {limit} bytes")


def _room(out: bytearray, limit: int | None) -> int:
    # zlib's max_length: 0 means unlimited; one byte over the limit is enough to detect it.
    return 0 if limit is None else limit + 1 - len(out)


# The fast inflater (zlib-ng: 1.5-2x zlib's speed, zlib's own checks: the same bodies refused); None makes
# every body take zlib's path (tests compare the two).  Not ISA-L: it takes gzip headers with reserved flag
# bits set, which zlib refuses (RFC 1952: a compliant decompressor must).
_fast_zlib: Any = zlib_ng


def _inflate_fast(data: bytes, wbits: int, limit: int | None, *, members: bool) -> bytes | None:
    """The usual body, one complete member within ``limit``, inflated by :data:`_fast_zlib`; None for anything
    else, which zlib decodes (or refuses) with its own messages: more members, a damaged or truncated stream,
    a body over the limit."""
    if _fast_zlib is None:
        return None
    try:
        decomp = _fast_zlib.decompressobj(wbits)
        out: bytes = decomp.decompress(data, _room(bytearray(), limit))
    except _fast_zlib.error:  # zlib says what is wrong
        return None
    if not decomp.eof or (limit is not None and len(out) > limit):
        return None
    if members and decomp.unused_data[:2] == b"\x1f\x8b":
        return None
    return out


def _inflate(data: bytes, wbits: int, limit: int | None, *, members: bool) -> bytes:
    fast = _inflate_fast(data, wbits, limit, members=members)
    if fast is not None:
        return fast
    out = bytearray()
    decomp = zlib.decompressobj(wbits)
    pending = data
    while True:
        chunk = decomp.decompress(pending, _room(out, limit))
        if decomp.eof and not out and not (members and decomp.unused_data[:2] == b"\x1f\x8b"):
            # The usual body: one member inflated in one call, returned without two more copies.
            if limit is not None and len(chunk) > limit:
                raise TooLargeError(f"decoded body exceeds {limit} bytes")
            return chunk
        out += chunk
        _check_limit(out, limit)
        if decomp.eof:
            rest = decomp.unused_data
            # Concatenated gzip members form one stream (RFC 1952); other trailing junk is ignored
            # as browsers do.
            if members and rest[:2] == b"\x1f\x8b":
                decomp = zlib.decompressobj(wbits)
                pending = rest
                continue
            return bytes(out)
        pending = decomp.unconsumed_tail
        if not pending and not chunk:
            raise ContentDecodingError("compressed body is truncated")


def _unbrotli(data: bytes, limit: int | None) -> bytes:
    decomp = brotli.Decompressor()
    out = bytearray()
    try:
        if limit is None:
            out += decomp.process(data)
        else:
            out += decomp.process(data, output_buffer_limit=_room(out, limit))
            _check_limit(out, limit)
            while not decomp.is_finished() and not decomp.can_accept_more_data():
                more = decomp.process(b"", output_buffer_limit=_room(out, limit))
                out += more
                _check_limit(out, limit)
                if not more:
                    break
    except brotli.error as exc:
        raise ContentDecodingError(f"undecodable br body: {exc}") from None
    if not decomp.is_finished():
        raise ContentDecodingError("br body is truncated")
    return bytes(out)


def _decode_one(data: bytes, coding: str, limit: int | None) -> bytes:
    try:
        if coding in ("gzip", "x-gzip"):
            return _inflate(data, 16 + zlib.MAX_WBITS, limit, members=True)
        if coding == "deflate":
            # RFC 9110 says zlib-wrapped, but many servers send raw deflate (and a few gzip).
            try:
                return _inflate(data, 32 + zlib.MAX_WBITS, limit, members=False)
            except TooLargeError:
                raise
            except (zlib.error, ContentDecodingError):
                return _inflate(data, -zlib.MAX_WBITS, limit, members=False)
    except zlib.error as exc:
        raise ContentDecodingError(f"undecodable {coding} body: {exc}") from None
    if coding == "br":
        return _unbrotli(data, limit)
    raise ContentDecodingError(f"unsupported content encoding {coding!r}")


def decode_content(body: bytes, content_encoding: str | None, *, limit: int | None = None) -> bytes:
    """Undo ``Content-Encoding`` (gzip, x-gzip, deflate (zlib or raw), br, identity; stacked codings too).

    Raises :class:`ContentDecodingError` for an unknown coding, a damaged or truncated
    stream, or when the decoded content would exceed ``limit`` bytes (gzip bomb guard).
    An empty body decodes to ``b""`` whatever the header says (HEAD, 204, 304, redirects).
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    data = body
    if data:
        for coding in reversed(codings):
            data = _decode_one(data, coding, limit)
    if limit is not None and len(data) > limit:
        raise TooLargeError(f"decoded body exceeds {limit} bytes")
    return data



def decode_prefix(body: bytes, content_encoding: str | None, size: int) -> bytes:
    """The first ``size`` bytes of the decoded content (all of it when shorter), decoding no more than that.

    For bodies whose start is enough (robots.txt: RFC 9309 asks for at least 500 KiB): a gzip
    bomb costs ``size`` bytes of output, and a stream cut short gives the part that arrived.
    Raises :class:`ContentDecodingError` for an unknown coding or a damaged stream.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    data = body
    for coding in reversed([c for c in codings if c and c != "identity"]):
        if not data:
            break
        if coding == "br":
            data = _unbrotli_prefix(data, size)
        elif coding in ("gzip", "x-gzip", "deflate"):
            try:
                data = _inflate_prefix(data, 16 + zlib.MAX_WBITS if coding != "deflate" else 32 + zlib.MAX_WBITS, size)
            except zlib.error:
                if coding != "deflate":
                    raise ContentDecodingError(f"undecodable {coding} body") from None
                try:
                    data = _inflate_prefix(data, -zlib.MAX_WBITS, size)
                except zlib.error:
                    raise ContentDecodingError("undecodable deflate body") from None
        else:
            raise ContentDecodingError(f"unsupported content encoding {coding!r}")
    return data[:size]


def _inflate_prefix(data: bytes, wbits: int, size: int) -> bytes:
    out = bytearray()
    pending = data
    while pending and len(out) < size:
        decomp = zlib.decompressobj(wbits)
        out += decomp.decompress(pending, size - len(out))
        if not decomp.eof:
            break  # the output is full, or the stream was cut short: what we have is the prefix
        pending = decomp.unused_data if decomp.unused_data[:2] == b"\x1f\x8b" else b""
    return bytes(out)


def _unbrotli_prefix(data: bytes, size: int) -> bytes:
    decomp = brotli.Decompressor()
    out = bytearray()
    try:
        out += decomp.process(data, output_buffer_limit=size)
        while len(out) < size and not decomp.is_finished() and not decomp.can_accept_more_data():
            more = decomp.process(b"", output_buffer_limit=size - len(out))
            if not more:
                break
            out += more
    except brotli.error as exc:
        raise ContentDecodingError(f"undecodable br body: {exc}") from None
    return bytes(out)


# Signatures of formats that are never HTML, at the start of a body (WHATWG MIME sniffing, §7).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"BM", "BMP image"),
    (b"\x00\x00\x01\x00", "icon"),
    (b"PK\x03\x04", "ZIP archive (or office document)"),
    (b"\x1f\x8b\x08", "gzip"),
    (b"(\xb5/\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x1a\x45\xdf\xa3", "WebM/Matroska video"),
    (b"OggS\x00", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "MS Office document"),
)
# Bytes no text document has (WHATWG's "binary data byte"): C0 controls but TAB, LF, FF, CR and ESC.
_BINARY_BYTES = frozenset(range(0x09)) | {0x0B} | frozenset(range(0x0E, 0x1B)) | frozenset(range(0x1C, 0x20))
_SNIFF_BYTES = 1024
_TEXT_BYTES = bytes(sorted(set(range(256)) - _BINARY_BYTES))  # deleted by translate(): what is left is binary
_WHITE = b"\t\n\x0c\r "


def binary_kind(content: bytes) -> str | None:
    """What ``content`` is when it cannot be an HTML (or any text) document, else None.

    A known signature at the start (PDF, images, archives, compressed data...), or WHATWG "binary data
    bytes" in the first kilobyte: two NULs, or more than one byte in fifty (a stray control is text).
    Text with a UTF-8 or UTF-16 byte-order mark, or
    UTF-16 without one (every other byte zero), is text.
    """
    # The first kilobyte after leading white space, without copying the whole body (a page that starts with a
    # line break would be copied whole by lstrip): white space longer than a kilobyte takes the plain way.
    window = content[:2 * _SNIFF_BYTES]
    head = window.lstrip(_WHITE)
    if len(head) < _SNIFF_BYTES and len(window) < len(content):
        head = content.lstrip(_WHITE)
    head = head[:_SNIFF_BYTES]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:3] == b"\xef\xbb\xbf":
        return None  # a byte-order mark: text (UTF-16 has zero bytes)
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI ", b"WAVE"):
        return {b"WEBP": "WebP image", b"AVI ": "AVI video", b"WAVE": "WAV audio"}[head[8:12]]
    if head[4:8] == b"ftyp":
        return "MP4/HEIF media"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    controls = len(head.translate(None, _TEXT_BYTES))  # bytes.translate counts in C (a Python loop: ~15 µs a page)
    if controls:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and (even.count(0) == len(even) or odd.count(0) == len(odd)):
            return None  # UTF-16 without a byte-order mark
        # Binary formats are full of such bytes (random data: one in eight); a page with a stray BEL or
        # backspace pasted into its title is still a page, and is archived.
        if head.count(0) >= 2 or controls * 50 > len(head):
            return "binary data"
    return None
