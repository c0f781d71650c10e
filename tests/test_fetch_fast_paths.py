"""The fetch path's shortcuts (issue 22: CPU per page of a crawl) give what the plain code gives.

``host_header`` is worked out once per scheme and authority, the response's header text in one pass,
and the address check of a response cached per (host, address): each is compared here with the plain
computation on generated inputs, exceptions included.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx2
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.net import fetcher as fetcher_module
from crawler.net import origins, wire
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from tests.conftest import send_html, serving

HOSTS = ["baocantho.com.vn", "WWW.Ex.COM", "127.0.0.1", "[::1]", "[fe80::1%25eth0]", "xn--d1acufc.xn--p1ai",
         "bücher.de", "user:pw@h.vn", "a@b@c.vn", "h.vn.", "[::1", "ex ample.vn", "ex\tample.vn", "", "h_v.vn"]
PORTS = ["", ":", ":80", ":443", ":8080", ":0", ":65535", ":65536", ":99999", ":-1", ":8o", ": 80"]
RESTS = ["", "/", "/a/b-1.html", "?q=1", "#f", "/x y", "/cà", "/\r\nX: y", "/\x00", "\t/", "//x", "/a?b#c"]


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTPS", "ftp", "h", " https", "\x01http"]))
    sep = draw(st.sampled_from(["://", "://", ":/", ":"]))
    host = draw(st.one_of(st.sampled_from(HOSTS), st.text(max_size=12)))
    rest = draw(st.one_of(st.sampled_from(RESTS), st.text(max_size=8)))
    return f"{scheme}{sep}{host}{draw(st.sampled_from(PORTS))}{rest}"


def outcome(function: Callable[[str], str], url: str) -> object:
    try:
        return function(url)
    except Exception as exc:  # the same error, raised by both
        return type(exc), str(exc)


@settings(max_examples=800)
@given(urls())
def test_the_host_header_of_a_url_is_that_of_its_parts(url: str) -> None:
    assert outcome(origins.host_header, url) == outcome(origins._host_header, url)
    assert outcome(origins.host_header, url) == outcome(origins._host_header, url)  # from the cache now


@given(st.lists(st.tuples(st.binary(max_size=12), st.one_of(st.binary(max_size=20),
                                                            st.text(max_size=8).map(lambda t: t.encode())))))
def test_header_text_all_at_once_is_header_text_of_each(raw: list[tuple[bytes, bytes]]) -> None:
    assert wire.header_pairs(raw) == tuple((wire.header_text(k), wire.header_text(v)) for k, v in raw)
    assert wire.header_pairs(iter(raw)) == wire.header_pairs(raw)


ADDRESSES = ["127.0.0.1", "10.0.0.1", "8.8.8.8", "::1", "2001:4860:4860::8888", "fe80::1%eth0", "::ffff:127.0.0.1",
             "169.254.1.1", "x", "", "192.168.1.1"]


@given(st.sampled_from(["example.vn", "127.0.0.1", "[::1]", "8.8.8.8", "bad host"]),
       st.one_of(st.sampled_from(ADDRESSES), st.text(max_size=10)))
def test_the_cached_address_check_answers_as_the_check(host: str, peer: str) -> None:
    plain = wire.is_refused_address.__wrapped__(host, peer)
    assert wire.is_refused_address(host, peer) is plain
    assert wire.is_refused_address(host, peer) is plain


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        send_html(self, b"<p>ok</p>")

    def log_message(self, *args: object) -> None:
        pass


def test_plain_http_clients_do_not_load_the_certificate_authorities(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CA bundle (~20-80 ms of CPU) is loaded by the first https client, not by a run that only speaks
    plain HTTP (the offline mirror); an https client still gets it, and the plain one's stand-in context
    trusts nobody (were it ever asked for TLS, every certificate would be refused)."""
    made: list[ssl.SSLContext] = []
    real = httpx2.create_ssl_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(fetcher_module.httpx2, "create_ssl_context", counting)

    async def go() -> None:
        with serving(_Page) as port:
            async with Fetcher(FetchPolicy(allow_private_addresses=True)) as fetcher:
                for path in ("/a", "/b"):
                    result = await fetcher.fetch(f"http://127.0.0.1:{port}{path}")
                    assert result.status == 200 and result.body == b"<p>ok</p>"
                assert made == []
                plain = fetcher._client(httpx2.URL(f"http://127.0.0.1:{port}/"))
                context = plain._transport._pool._ssl_context  # type: ignore[attr-defined]
                assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
                assert context.cert_store_stats()["x509_ca"] == 0
                secure = fetcher._client(httpx2.URL("https://example.org/"))
                assert len(made) == 1
                assert secure._transport._pool._ssl_context is made[0]  # type: ignore[attr-defined]
                fetcher._client(httpx2.URL("https://example.net/"))
                assert len(made) == 1  # one for all https clients

    trio.run(go)
