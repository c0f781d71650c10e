"""Issue 22: a body of one gzip member is inflated without extra copies; the cap and concatenated members
behave exactly as before (the slow path), at and around the cap."""

from __future__ import annotations

import gzip
import zlib

import pytest

from crawler.codings import TooLargeError, decode_content

BODY = ("Quảng Trị: mưa lớn " * 500).encode("utf-8")


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate"])
@pytest.mark.parametrize("delta", [None, 0, 1, -1])
@pytest.mark.parametrize("members", [1, 2])
def test_the_cap_and_the_members_whatever_the_path(coding: str, delta: int | None, members: int) -> None:
    one = gzip.compress(BODY, mtime=0) if coding != "deflate" else zlib.compress(BODY)
    data = one * members
    whole = BODY * (members if coding != "deflate" else 1)  # deflate is one stream: what follows is ignored
    limit = None if delta is None else len(whole) + delta
    if limit is not None and len(whole) > limit:
        with pytest.raises(TooLargeError):
            decode_content(data, coding, limit=limit)
    else:
        decoded = decode_content(data, coding, limit=limit)
        assert decoded == whole and type(decoded) is bytes


def test_trailing_junk_after_one_member_is_ignored() -> None:
    assert decode_content(gzip.compress(BODY, mtime=0) + b"junk", "gzip") == BODY
