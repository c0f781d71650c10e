"""Links are made canonical at the edge (issue 17, items 7 and 21): spaces, controls, invisible and
non-ASCII characters are percent-encoded so every URL that reaches the WARC is a valid URI, and a
link with credentials is refused like a redirect to one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.cli import main
from crawler.net.urls import absolute, host_key

from .conftest import FIXTURES, one_source_config, send_html, serving
from .warc_samples import warcio_check

# RFC 3986 URI: scheme "://" authority path-abempty ["?" query]; every '%' starts a valid escape.
_URI = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*)?")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
NASTY = [" ", "\u00a0", "\u2028", "\u2029", "\u0085", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e",
         "\u2066", "\u061c", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "%", "%2", "\"", "<", ">", "`", "{", "}", "|",
         "\\", "^", "[", "]", "ệ", "\U0001f600", "?", "#"]
BASE = "https://baocantho.com.vn/tin-tuc/"


def _valid_uri(url: str) -> bool:
    return _URI.fullmatch(url) is not None and _BAD_PERCENT.search(url) is None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=3)), max_size=8),
       st.sampled_from(["", "/", "https://baocantho.com.vn/", "//baocantho.com.vn/", "?q=", "../"]))
def test_every_link_comes_out_a_valid_uri(pieces: list[str], prefix: str) -> None:
    href = prefix + "".join(pieces) + "-a123.html"
    url = absolute(BASE, href)
    if url is None:
        return
    assert _valid_uri(url), (href, url)
    assert absolute(BASE, url) == url  # canonical: a second pass changes nothing
    assert host_key(url)


@pytest.mark.parametrize("char", [" ", "\u00a0", "\u2028", "\u0085", "\u200b", "\u202e", "ệ"])
def test_one_link_has_one_form(char: str) -> None:
    raw = absolute(BASE, f"/a{char}b-a1.html")
    assert raw is not None and _valid_uri(raw)
    assert absolute(BASE, raw) == raw
    assert unquote(raw) == f"https://baocantho.com.vn/a{char}b-a1.html"  # encoded, not dropped or changed
    assert absolute(BASE, f"  \t/a{char}b-a1.html\n ") == raw  # surrounding white space stripped


@pytest.mark.parametrize("href", ["http://user:pass@baocantho.com.vn/x-a1.html", "//user@baocantho.com.vn/x-a1.html",
                                  "https://baocantho.com.vn@127.0.0.1/x-a1.html", "http://:@baocantho.com.vn/x",
                                  "http://a%40b@baocantho.com.vn/x"])
def test_a_link_with_credentials_is_refused(href: str) -> None:
    assert absolute(BASE, href) is None


LINKS = ["/tin tuc-a80443.html", "/tin\u00a0tuc-a80444.html", "/tin\u2028tuc-a80445.html", "/tin\u0085tuc-a80446.html",
         "/tin\u200btuc-a80447.html", "/tin\u202etuc-a80448.html", " /ti%zzn-a80449.html ", "/tiếng-việt-a80450.html",
         "/a|b{c}-a80451.html"]


class _Site(BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []
    port: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path == "/":
            links = "".join(f'<a href="{href}">x</a>' for href in LINKS)
            creds = f'<a href="http://user:pass@127.0.0.1:{type(self).port}/cred-a80452.html">c</a>'
            send_html(self, (links + creds).encode())
        elif self.path.endswith(".html") and "-a804" in self.path:
            page = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
            article_id = self.path.rsplit("-a", 1)[1].removesuffix(".html")
            send_html(self, page.replace(b"80443", article_id.encode()))
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    _Site.requests = []
    with serving(_Site) as port:
        _Site.port = port
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def test_hostile_links_are_archived_as_valid_uris_and_verify_passes(site: Path, tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    main(["crawl", "--sources", str(site), "--archive", str(archive), "--no-progress", "--quiet"])
    capsys.readouterr()
    assert not [p for p in _Site.requests if "cred" in p]  # the credentials link was not followed
    assert len([p for p in _Site.requests if "-a804" in p]) == len(LINKS)
    warcs = sorted(archive.rglob("*.warc.gz"))
    assert warcs
    uris = []
    for warc in warcs:
        data = __import__("gzip").decompress(warc.read_bytes())
        uris += [m.decode("utf-8") for m in re.findall(rb"WARC-Target-URI: ([^\r\n]*)", data)]
    assert uris and all(_valid_uri(u) for u in uris), [u for u in uris if not _valid_uri(u)]
    assert main(["verify", "--archive", str(archive)]) == 0, capsys.readouterr()
    status, out = warcio_check(*warcs)
    assert status == 0, out
    for _ in range(2):  # later runs settle: nothing is fetched again under another form
        before = len(_Site.requests)
        main(["crawl", "--sources", str(site), "--archive", str(archive), "--no-progress", "--quiet"])
        assert not [p for p in _Site.requests[before:] if "-a804" in p]
    assert main(["verify", "--archive", str(archive)]) == 0


def test_configured_urls_get_the_same_canonical_form() -> None:
    from crawler.config import parse_sources
    data = {"sources": {"s": {"name": "S", "adapter": "vdoc", "hosts": ["x.vn"], "base_url": "https://x.vn/",
                              "start_pages": ["/tin-tức/", "/a|b", "https://x.vn/p?q=cà"],
                              "article_url_pattern": r"-(?P<id>[0-9]+)\.html$", "pagination": "query:p",
                              "listing_depth": 1}}}
    pages = parse_sources(data).get("s").start_pages
    assert pages == tuple(absolute("https://x.vn/", p) for p in ("/tin-tức/", "/a|b", "https://x.vn/p?q=cà"))
    assert all(_valid_uri(p) for p in pages)
