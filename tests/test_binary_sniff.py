"""crawler.codings.binary_kind: the same answers as the plain definition, without copying the whole body."""

from __future__ import annotations

import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.codings import _SIGNATURES, binary_kind

_BINARY = frozenset(range(0x09)) | {0x0B} | frozenset(range(0x0E, 0x1B)) | frozenset(range(0x1C, 0x20))


def reference(content: bytes) -> str | None:
    """The definition, written the plain way (what binary_kind did before it stopped copying the body)."""
    head = content.lstrip(b"\t\n\x0c\r ")[:1024]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head[:3] == b"\xef\xbb\xbf":
        return None
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"AVI ", b"WAVE"):
        return {b"WEBP": "WebP image", b"AVI ": "AVI video", b"WAVE": "WAV audio"}[head[8:12]]
    if head[4:8] == b"ftyp":
        return "MP4/HEIF media"
    for signature, kind in _SIGNATURES:
        if head.startswith(signature):
            return kind
    controls = sum(1 for byte in head if byte in _BINARY)
    if controls:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and (even.count(0) == len(even) or odd.count(0) == len(odd)):
            return None
        if head.count(0) >= 2 or controls * 50 > len(head):
            return "binary data"
    return None


_WHITE = st.sampled_from([b"\t", b"\n", b"\x0c", b"\r", b" "])
_SIGNATURE = st.sampled_from([sig for sig, _ in _SIGNATURES] + [b"RIFF\0\0\0\0WEBP", b"\0\0\0\0ftyp", b"\xef\xbb\xbf",
                                                                 b"\xff\xfe", b"<html>", b""])
_BYTES = st.sampled_from([b"a", b"\x00", b"\x01", b"\x1b", b"\t", b" ", b"\xc3\xa9"])
_TEXTISH = st.binary(max_size=3000) | st.text(max_size=1500).map(str.encode) \
    | st.lists(_BYTES, max_size=2500).map(b"".join)


@settings(max_examples=600, deadline=None)
@given(lead=st.lists(_WHITE, max_size=2100).map(b"".join), signature=_SIGNATURE, rest=_TEXTISH)
def test_binary_kind_answers_as_the_definition(lead: bytes, signature: bytes, rest: bytes) -> None:
    content = lead + signature + rest
    assert binary_kind(content) == reference(content)


def test_leading_white_space_of_every_length_around_the_window() -> None:
    for length in (0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 4096, 5000):
        for body in (b"%PDF-1.4 x", b"<html>" + b"\x01" * 40, b"<p>" + b"a" * 2000):
            content = b" " * length + body
            assert binary_kind(content) == reference(content), length


def test_a_large_body_is_not_copied_to_sniff_it() -> None:
    body = b"\r\n<!DOCTYPE html>" + b"x" * 4_000_000  # a page that starts with a line break
    tracemalloc.start()
    try:
        binary_kind(body)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak
