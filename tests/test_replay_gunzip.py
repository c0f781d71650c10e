"""Issue 22: replay inflates the usual gzip body (one member) with zlib-ng (:mod:`crawler.codings`' fast path, the
crawl's too), and gives exactly what the standard library's path gives for every body, damaged ones included:
content, problems and the size cap."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler import codings
from crawler.archive.warc_reading import decode_record_body
from crawler.codings import TooLargeError

PAGE = ("<html><body><p>Tin tức Việt Nam</p>" * 300 + "</body></html>").encode("utf-8")
GZ = gzip.compress(PAGE, mtime=0)


def _both(body: bytes, headers: tuple[tuple[str, str], ...], limit: int,
          monkeypatch: pytest.MonkeyPatch) -> list[object]:
    outcomes: list[object] = []
    for fast in (True, False):
        with monkeypatch.context() as patch:
            if not fast:
                patch.setattr(codings, "_fast_zlib", None)
            try:
                outcomes.append(decode_record_body(body, headers, limit=limit))
            except TooLargeError as exc:
                outcomes.append(("too large", str(exc)))
    return outcomes


def _mutations() -> st.SearchStrategy[bytes]:
    def mutate(data: bytes, at: int, value: int, cut: int, tail: bytes) -> bytes:
        at %= len(data)
        changed = data[:at] + bytes([value]) + data[at + 1:]
        return changed[:len(changed) - cut % 12] + tail
    return st.builds(mutate, st.sampled_from([GZ, gzip.compress(b"x" * 5000), gzip.compress(b"", mtime=0),
                                              zlib.compress(PAGE)]),
                     st.integers(0, 1 << 20), st.integers(0, 255), st.integers(0, 40),
                     st.sampled_from([b"", b"junk", GZ[:30], GZ, b"\x1f\x8b", b"\x00" * 9]))


@settings(deadline=None, max_examples=300)
@given(_mutations(), st.sampled_from(["gzip", "x-gzip", " GZIP ", "gzip, identity", "identity, gzip", "deflate",
                                      "gzip, gzip", "br", ""]),
       st.sampled_from([100 * 1024 * 1024, len(PAGE), len(PAGE) - 1, 10]))
@example(GZ, "gzip", len(PAGE))
@example(GZ + GZ, "gzip", 100 * 1024 * 1024)  # two members: one stream (RFC 1952)
@example(GZ[:3] + b"\xe0" + GZ[4:], "gzip", 100 * 1024 * 1024)  # reserved flag bits: refused by zlib
@example(GZ[:-8] + bytes([GZ[-8] ^ 1]) + GZ[-7:], "gzip", 100 * 1024 * 1024)  # bad CRC
def test_fast_inflate_gives_what_the_standard_path_gives(body: bytes, coding: str, limit: int) -> None:
    headers = (("Content-Type", "text/html"), ("Content-Encoding", coding)) if coding else ()
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = _both(body, headers, limit, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("headers", [
    (("Content-Encoding", "gzip"),),
    (("content-encoding", "x-gzip"),),
    (("Content-Encoding", "GZip"), ("Transfer-Encoding", "chunked")),
])
def test_the_usual_gzip_body_is_inflated_by_zlib_ng(headers: tuple[tuple[str, str], ...],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = codings._fast_zlib
    assert real is not None

    class Spy:
        error = real.error

        @staticmethod
        def decompressobj(wbits: int) -> object:
            calls.append(wbits)
            return real.decompressobj(wbits)

    monkeypatch.setattr(codings, "_fast_zlib", Spy)
    body = GZ
    if any(k.lower() == "transfer-encoding" for k, _ in headers):
        body = b"%x\r\n" % len(GZ) + GZ + b"\r\n0\r\n\r\n"
    assert decode_record_body(body, headers) == (PAGE, [])
    assert calls == [16 + zlib.MAX_WBITS]
