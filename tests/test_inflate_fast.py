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
def test_the_usual_body_is_inflated_by_isal(monkeypatch: pytest.MonkeyPatch, coding: str, how: str) -> None:
    from isal import isal_zlib

    used: list[int] = []
    real = isal_zlib.decompressobj

    def spy(wbits: int) -> object:
        used.append(wbits)
        return real(wbits)

    monkeypatch.setattr(isal_zlib, "decompressobj", spy)
    page = "<p>Cần Thơ</p>".encode() * 2000
    assert decode_content(_encode(page, how), coding) == page
    assert used
