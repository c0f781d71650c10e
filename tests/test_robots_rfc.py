"""robots.txt per RFC 9309 on the real crawl path (issue 17, item 5): unreachable means disallow all
for the run (5xx, 429, a hang, a damaged body, a redirect chain that cannot be followed), 4xx
means no rules, an oversized or bomb-sized file is read up to its first 500 KiB."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import brotli
import pytest

import crawler.crawl.fetching
from crawler.cli import main
from crawler.codings import decode_prefix
from crawler.net.robots import ROBOTS_MAX_BYTES, Robots

from .conftest import FIXTURES, one_source_config, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
ARTICLE_PATH = "/chong-mu-loa-a80443.html"
DISALLOW_ARTICLE = b"User-agent: *\nDisallow: /chong\n"

Answer = Callable[[BaseHTTPRequestHandler], None]


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"",
          headers: tuple[tuple[str, str], ...] = ()) -> None:
    handler.send_response(status)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Site(BaseHTTPRequestHandler):
    robots: ClassVar[Answer]
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if self.path.startswith("/robots"):
            type(self).robots(self)
        elif self.path == "/":
            send_html(self, f'<a href="{ARTICLE_PATH}">a</a>'.encode())
        elif self.path == ARTICLE_PATH:
            send_html(self, ARTICLE)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    _Site.requests = []
    with serving(_Site) as port:
        path = one_source_config(tmp_path / "sources.yaml", "site", port)
        path.write_text(path.read_text(encoding="utf-8").replace("respect_robots: false", "respect_robots: true"),
                        encoding="utf-8")
        yield path, port


def _crawl(config: Path, archive: Path) -> tuple[int, float]:
    started = time.monotonic()
    code = main(["crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--quiet"])
    return code, time.monotonic() - started


def _status(code: int, retry_after: str | None = None) -> Answer:
    return lambda h: _send(h, code, b"", (("Retry-After", retry_after),) if retry_after else ())


def _hang(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"User-agent: *\n")
    handler.wfile.flush()
    time.sleep(8)  # longer than the deadline the test sets


UNREACHABLE: dict[str, Answer] = {
    # a coding we did not offer (the fetcher refuses it: other WARC readers cannot read br), a bomb at that
    "br-bomb-200-MB": lambda h: _big(DISALLOW_ARTICLE + b"\n" * 200_000_000, "br")(h),
    "500": _status(500),
    "503-retry-after": _status(503, "119"),
    "429": _status(429),
    "hang": _hang,
    "damaged-gzip": lambda h: _send(h, 200, b"\x1f\x8b\x08\x00garbage" * 10, (("Content-Encoding", "gzip"),)),
    "loop": lambda h: _send(h, 301, b"", (("Location", "/robots-a.txt" if h.path == "/robots.txt" else "/robots.txt"),)),  # noqa: E501
    "six-hops": lambda h: _send(h, 302, b"", (("Location", h.path.replace(".txt", "x.txt")),)),
    "to-an-address": lambda h: _send(h, 302, b"", (("Location", "http://10.1.2.3/robots.txt"),)),
    "userinfo": lambda h: _send(h, 302, b"", (("Location", "http://user:pw@example.org/robots.txt"),)),
}


@pytest.mark.parametrize("kind", list(UNREACHABLE))
def test_an_unreachable_robots_txt_keeps_the_host_for_the_next_run(kind: str, site: tuple[Path, int], tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(crawler.crawl.fetching, "ROBOTS_DEADLINE", 2.0)
    _Site.robots = staticmethod(UNREACHABLE[kind])  # type: ignore[assignment]
    config, _ = site
    code, seconds = _crawl(config, tmp_path / "archive")
    err = capsys.readouterr().err
    assert seconds < 20, f"{kind}: the run took {seconds:.0f} s"
    assert "/" not in _Site.requests and ARTICLE_PATH not in _Site.requests, (kind, _Site.requests)
    assert code == 4 and "robots.txt unreachable" in err, (code, err)
    # ... and the next run asks robots.txt again (no memory of "disallow all" across runs).
    before = sum(p.startswith("/robots") for p in _Site.requests)
    _crawl(config, tmp_path / "archive")
    assert sum(p.startswith("/robots") for p in _Site.requests) > before


def _big(body: bytes, coding: str | None) -> Answer:
    if coding == "gzip":
        body = gzip.compress(body, 6)
    elif coding == "deflate":
        body = zlib.compress(body, 6)
    elif coding == "br":
        body = brotli.compress(body, quality=5)
    headers = (("Content-Type", "text/plain"),) + ((("Content-Encoding", coding),) if coding else ())
    return lambda h: _send(h, 200, body, headers)


READABLE: dict[str, Answer] = {
    "3-MB": _big(DISALLOW_ARTICLE + b"# padding\n" * 300_000, None),
    "gzip-bomb-200-MB": _big(DISALLOW_ARTICLE + b"#" * 200_000_000, "gzip"),
    "deflate-bomb-200-MB": _big(DISALLOW_ARTICLE + b"\n" * 200_000_000, "deflate"),
    "redirected-5-hops": lambda h: _send(h, 302, b"", (("Location", h.path.replace(".txt", "x.txt")),))
    if h.path.count("x") < 5 else _send(h, 200, DISALLOW_ARTICLE),
}


@pytest.mark.parametrize("kind", list(READABLE))
def test_a_large_or_redirected_robots_txt_is_obeyed(kind: str, site: tuple[Path, int], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _Site.robots = staticmethod(READABLE[kind])  # type: ignore[assignment]
    config, _ = site
    tracemalloc.start()
    try:
        _, seconds = _crawl(config, tmp_path / "archive")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    capsys.readouterr()
    assert "/" in _Site.requests and ARTICLE_PATH not in _Site.requests, (kind, _Site.requests)
    assert seconds < 30 and peak < 150 * 1024 * 1024, (seconds, peak)


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_a_4xx_robots_txt_means_no_rules(status: int, site: tuple[Path, int], tmp_path: Path) -> None:
    _Site.robots = staticmethod(_status(status))  # type: ignore[assignment]
    code, _ = _crawl(site[0], tmp_path / "archive")
    assert code == 0 and ARTICLE_PATH in _Site.requests


def test_a_cut_robots_txt_loses_its_incomplete_last_line() -> None:
    head = b"User-agent: *\nDisallow: /\n"
    text = head + b"#" * (ROBOTS_MAX_BYTES - len(head) - 1 - len(b"Allow: /")) + b"\nAllow: /public/only\n"
    assert text[:ROBOTS_MAX_BYTES].endswith(b"\nAllow: /")
    robots = Robots.parse_prefix(text, "crawler")
    assert not robots.allowed("https://x.vn/private")  # "Allow: /" (a cut line) would allow everything


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "gzip, br"])
def test_decode_prefix_stops_at_the_size(coding: str) -> None:
    plain = b"abc\n" * 1_000_000
    body = plain
    for one in [c.strip() for c in coding.split(",")]:
        if one == "gzip":
            body = gzip.compress(body)
        elif one == "deflate":
            import zlib
            body = zlib.compress(body)
        else:
            body = brotli.compress(body)
    assert decode_prefix(body, coding, 1000) == plain[:1000]
    assert decode_prefix(body, coding, 10**8) == plain
