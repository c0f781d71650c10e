"""Issue 22: what replay's skipping path computes faster is what it computed before.

The engine finds a record's host once per ``scheme://authority`` (``_Sources.host``): the host key of a
URL must not depend on what follows its authority, nor on the URLs looked up before it.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.config import Sources
from crawler.net.urls import host_key
from crawler.replay.engine import ReplayConfig, _Sources

_SCHEMES = ["http://", "https://", "HTTP://", "Https://", "http:", "https:/", "ftp://", "//", ""]
_AUTHORITIES = ["baocantho.com.vn", "WWW.BaoCanTho.com.vn", "www.www.a.vn", "a.vn:443", "a.vn:80", "a.vn:0",
                "a.vn:99999", "a.vn:", "127.0.0.1:8080", "127.000.0.1", "127.1", "[::1]:8080", "[::1:8080]",
                "user@a.vn", "u:p@a.vn:8443", "a..vn", "a.vn.", "xn--bo-cn-th-5ya.vn", "báo.vn", "a_b.vn",
                "a.vn\\b.vn", "a vn", "", "a.vn%2F", "0x7f000001"]
_RESTS = ["", "/", "/x-1.html", "?q=1", "#f", "/a?b#c", "/a@b.vn/", "\\x", ":8080/x", "//b.vn/"]


@settings(deadline=None, max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(_SCHEMES), st.one_of(st.sampled_from(_AUTHORITIES), st.text(max_size=12)),
                          st.one_of(st.sampled_from(_RESTS), st.text(max_size=8))), min_size=1, max_size=12))
@example([("https://", "a.vn", "/x"), ("https://", "a.vn", "?y"), ("https://", "a.vn:443", "#z")])
def test_the_host_of_a_url_is_host_key_whatever_came_before(parts: list[tuple[str, str, str]]) -> None:
    resolver = _Sources(ReplayConfig(Sources(())), Path("x.warc.gz"), {})
    for scheme, authority, rest in parts:
        url = scheme + authority + rest
        assert resolver.host(url) == host_key(url), url
        assert resolver.host(url) == host_key(url), url  # the second time, from the cache
