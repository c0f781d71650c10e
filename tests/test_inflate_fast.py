"""crawler.codings: the usual gzip or deflate body is inflated by ISA-L; every body decodes (or fails) as with zlib."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler import codings
from crawler.codings import ContentDecodingError, decode_content


def _zlib_only(body: bytes, coding: str, limit: int | None) -> object:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(codings, "_inflate_fast", lambda *args, **kwargs: None)
        return _outcome(body, coding, limit)


def _outcome(body: bytes, coding: str, limit: int | None) -> object:
    try:
        return decode_content(body, coding, limit=limit)
    except ContentDecodingError as err:
        return (type(err), str(err))


def _encode(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, 6)
    if how == "zlib":
        return zlib.compress(data)
    if how == "raw":
        return zlib.compress(data)[2:-4]
    return gzip.compress(data[: len(data) // 2]) + gzip.compress(data[len(data) // 2 :])  # two members


def _damage(data: bytes, how: str, where: int) -> bytes:
    if not data or how == "none":
        return data
    at = where % len(data)
    if how == "flip":
        return data[:at] + bytes([data[at] ^ 0x5A]) + data[at + 1 :]
    if how == "cut":
        return data[:at]
    return data + b"trailing junk"


@settings(max_examples=300, deadline=None)
@given(content=st.binary(max_size=5000) | st.text(max_size=3000).map(str.encode),
       how=st.sampled_from(["gzip", "zlib", "raw", "members"]),
       damage=st.sampled_from(["none", "none", "flip", "cut", "junk"]), where=st.integers(0, 10**6),
       coding=st.sampled_from(["gzip", "x-gzip", "deflate"]),
       limit=st.none() | st.integers(0, 6000))
def test_every_body_decodes_or_fails_as_zlib_alone_does(content: bytes, how: str, damage: str, where: int,
                                                        coding: str, limit: int | None) -> None:
    body = _damage(_encode(content, how), damage, where)
    assert _outcome(body, coding, limit) == _zlib_only(body, coding, limit)


@pytest.mark.parametrize(("coding", "how"), [("gzip", "gzip"), ("x-gzip", "gzip"), ("deflate", "zlib"),
                                             ("deflate", "raw")])
def test_the_usual_body_is_inflated_by_zlib_ng(monkeypatch: pytest.MonkeyPatch, coding: str, how: str) -> None:
    from crawler import codings

    used: list[int] = []
    real = codings._fast_zlib

    class Spy:
        error = real.error

        @staticmethod
        def decompressobj(wbits: int) -> object:
            used.append(wbits)
            return real.decompressobj(wbits)

    monkeypatch.setattr(codings, "_fast_zlib", Spy)
    page = "<p>Cần Thơ</p>".encode() * 2000
    assert decode_content(_encode(page, how), coding) == page
    assert used


def _gz_with(flags: int = 0, method: int = 8, extra: bytes = b"") -> bytes:
    member = gzip.compress(b"<p>Hu\xe1\xba\xbf</p>" * 500, mtime=0)
    return member[:2] + bytes([method, flags]) + member[4:10] + extra + member[10:]


_Z = zlib.compress(b"<p>x</p>" * 500)
HEADER_ANOMALIES = {
    "reserved flag 0x20": _gz_with(0x20), "reserved flag 0x40": _gz_with(0x40), "reserved flag 0x80": _gz_with(0x80),
    "all reserved flags": _gz_with(0xE0), "method 0": _gz_with(method=0), "method 7": _gz_with(method=7),
    "header CRC wrong": _gz_with(0x02, extra=b"\x00\x00"),
    "zlib check bits wrong": _Z[:1] + bytes([_Z[1] ^ 1]) + _Z[2:],
    "zlib preset dictionary": _Z[:1] + bytes([(_Z[1] | 0x20) + (31 - ((_Z[0] * 256 + (_Z[1] | 0x20)) % 31)) % 31])
    + b"\x00\x00\x00\x01" + _Z[2:],
    "zlib window too large": bytes([0x88]) + _Z[1:],
}


@pytest.mark.parametrize("name", HEADER_ANOMALIES)
@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_header_zlib_refuses_is_refused_by_the_fast_path_too(name: str, coding: str) -> None:
    """The fast inflater must refuse what zlib refuses (ISA-L took reserved gzip flag bits: RFC 1952 says no)."""
    body = HEADER_ANOMALIES[name]
    assert _outcome(body, coding, None) == _zlib_only(body, coding, None)
