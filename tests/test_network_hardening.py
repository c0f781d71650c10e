"""What a lying or careless server can do to the network client and its cache (issue 17: 1, 19, 22, 23, 25, 33).

Every server here is a real one on 127.0.0.1: either :func:`serving` (http.server, whose header
values we give as latin-1 text so any byte 0x00-0xFF reaches the wire) or :func:`raw_serving`, a
socket server that answers each request with bytes we choose (several responses at once, a
response cut short, bytes after the body).
"""

from __future__ import annotations

import gzip
import socket
import ssl
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import brotli
import httpcore2
import httpx2
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from crawler.archive.crawl_state import CacheEntry
from crawler.cli import main
from crawler.codings import binary_kind
from crawler.config import load_sources
from crawler.crawl.archiver import Archive
from crawler.errors import PermanentFetchError, TransientFetchError, describe_exception
from crawler.net.connect import CheckedBackend, Resolver
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.net.validators import MAX_VALIDATOR_LENGTH, header_value_problem, sendable_validator

from .conftest import FIXTURES, one_source_config, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
ARTICLE_PATH = "/chong-mu-loa-a80443.html"
LISTING = f'<html><body><a href="{ARTICLE_PATH}">a</a></body></html>'.encode()


def _wire(text: bytes) -> str:
    """Header bytes as the latin-1 text http.server writes back as the same bytes."""
    return text.decode("latin-1")


def crawl(config: Path, archive: Path) -> int:
    return main(["crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--quiet"])


def warcio_check(archive: Path) -> list[str]:
    """``warcio check`` on every WARC of ``archive``: the complaints (none when all pass)."""
    warcio = Path(sys.executable).with_name("warcio")
    files = sorted((archive / "warc").rglob("*.warc.gz"))
    assert files
    problems = []
    for path in files:
        done = subprocess.run([str(warcio), "check", str(path)], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            problems.append(f"{path.name}: exit {done.returncode}: {(done.stdout + done.stderr)[-400:]}")
    return problems


def warc_text(archive: Path) -> bytes:
    return b"".join(gzip.decompress(p.read_bytes()) for p in sorted((archive / "warc").rglob("*.warc.gz")))


# -- 1. validators a server gave us, sent back ---------------------------------------------------


class _Validators(BaseHTTPRequestHandler):
    """A listing and an article, both with the validators of the class; records what it was sent."""

    etag: ClassVar[str | None] = None
    last_modified: ClassVar[str | None] = None
    seen: ClassVar[list[tuple[str, str | None, str | None]]] = []

    def do_GET(self) -> None:
        kind = type(self)
        kind.seen.append((self.path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")))
        body = LISTING if self.path == "/" else ARTICLE if self.path == ARTICLE_PATH else None
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if kind.etag is not None:
            self.send_header("ETag", kind.etag)
        if kind.last_modified is not None:
            self.send_header("Last-Modified", kind.last_modified)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


BAD_VALIDATORS = {
    "utf8-etag": (_wire('"cà phê"'.encode()), None),
    "localized-date": (None, _wire("Thứ Hai, 01 Tháng 1 2024".encode())),
    "both-utf8": (_wire('"cà phê"'.encode()), _wire("Thứ Hai, 01 Tháng 1 2024".encode())),
    "latin1-bytes": (_wire(b'"\xe9t\xe9"'), _wire(b"Mon, 01 Jan 2024 00:00:00 GMT\xa0")),
    # h11 refuses other control bytes in a received header; a tab gets through (and \x7f? no: refused too).
    "tab-inside": (_wire(b'"a\tb"'), _wire(b"Mon, 01 Jan 2024\t00:00:00 GMT")),
    "very-long": ('"' + "x" * 12_000 + '"', None),
    "empty": ("", ""),
    "not-a-date": (None, "yesterday"),
}


@pytest.fixture
def validators_site(tmp_path: Path) -> Iterator[Path]:
    _Validators.etag, _Validators.last_modified, _Validators.seen = None, None, []
    with serving(_Validators) as port:
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def _sent_validators(seen: list[tuple[str, str | None, str | None]]) -> list[str]:
    return [value for _, inm, ims in seen for value in (inm, ims) if value is not None]


@pytest.mark.parametrize("shape", sorted(BAD_VALIDATORS))
def test_an_invalid_validator_is_dropped_and_every_later_run_and_refresh_works(
        shape: str, validators_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _Validators.etag, _Validators.last_modified = BAD_VALIDATORS[shape]
    archive = tmp_path / "archive"
    assert crawl(validators_site, archive) == 0
    _Validators.seen.clear()
    assert crawl(validators_site, archive) == 0  # the listing's validators are not sent back
    assert ("/", None, None) in _Validators.seen
    port = validators_site.read_text().split("127.0.0.1:")[1].split('"')[0]
    url = f"http://127.0.0.1:{port}{ARTICLE_PATH}"
    capsys.readouterr()
    code = main(["fetch", "--refresh", "--sources", str(validators_site), "--archive", str(archive), url])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Traceback" not in err
    assert (ARTICLE_PATH, None, None) in _Validators.seen  # an unconditional request
    assert all(value.isascii() and value.isprintable() for value in _sent_validators(_Validators.seen))
    assert not warcio_check(archive)


def test_valid_validators_are_still_sent_back(validators_site: Path, tmp_path: Path) -> None:
    _Validators.etag, _Validators.last_modified = 'W/"a-1"', "Mon, 01 Jan 2024 00:00:00 GMT"
    archive = tmp_path / "archive"
    assert crawl(validators_site, archive) == 0
    _Validators.seen.clear()
    assert crawl(validators_site, archive) == 0
    assert ("/", 'W/"a-1"', "Mon, 01 Jan 2024 00:00:00 GMT") in _Validators.seen


@pytest.mark.parametrize("etag, last_modified", [
    ('"a"\r\nX-Injected: 1', None),
    ('"cà phê"', "Thứ Hai, 01 Tháng 1 2024"),
    ('"' + "é" * 5000 + '"', None),
    ("\x00", "\n"),
    (None, "Mon, 01 Jan 2024 00:00:00 GMT\r\nX-Injected: 1"),
])
def test_validators_in_a_catalog_from_an_older_version_do_not_crash_a_refresh(
        etag: str | None, last_modified: str | None, validators_site: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    assert crawl(validators_site, archive) == 0
    port = validators_site.read_text().split("127.0.0.1:")[1].split('"')[0]
    url = f"http://127.0.0.1:{port}{ARTICLE_PATH}"
    with Archive(archive, load_sources(validators_site)) as arch:
        cached = arch.store.cached(url)
        assert cached is not None
        # What an older version stored: the server's values, unchecked (straight into the table).
        arch.store.remember(CacheEntry(cached.url, etag, last_modified, cached.status, cached.payload_digest,
                                       cached.warc_file, cached.warc_offset, cached.warc_date))
    _Validators.seen.clear()
    capsys.readouterr()
    code = main(["fetch", "--refresh", "--sources", str(validators_site), "--archive", str(archive), url])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert _Validators.seen == [(ARTICLE_PATH, None, None)]
    assert b"X-Injected" not in warc_text(archive)


@given(st.text(max_size=300))
def test_a_sendable_validator_is_always_a_valid_header_value(value: str) -> None:
    for name in ("etag", "last-modified"):
        sent = sendable_validator(name, value)
        if sent is not None:
            assert header_value_problem(sent) is None
            assert sent.isascii() and sent.isprintable() and 0 < len(sent) <= MAX_VALIDATOR_LENGTH
            httpx2.Headers({"If-None-Match": sent})  # httpx2 can send it


@pytest.mark.parametrize("value", ['"cà phê"', "a\r\nb", "a\nb", "\x00", "é", "x" * 9000, " a", "a\t"])
def test_the_fetcher_refuses_invalid_request_header_values_without_crashing(value: str) -> None:
    sent: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request)
        return httpx2.Response(200, content=b"ok")

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=0), transport_factory=lambda: httpx2.MockTransport(handler)) as f:
            # A conditional header is optional: dropped, and the request goes out unconditional.
            result = await f.fetch("http://example.org/", {"If-None-Match": value, "If-Modified-Since": value})
            assert result.status == 200
            assert "if-none-match" not in sent[-1].headers and "if-modified-since" not in sent[-1].headers
            # Any other header with such a value: that request fails, with a reason, not a traceback.
            with pytest.raises(PermanentFetchError, match="header X-Other"):
                await f.fetch("http://example.org/", {"X-Other": value})

    trio.run(go)


# -- raw servers: several responses at once, short bodies, bytes after a body ----------------------


Responder = Callable[[bytes, int], bytes | None]
CLOSE = b"<<close>>"  # a response ending in this: the connection is closed after it


@contextmanager
def raw_serving(respond: Responder) -> Iterator[int]:
    """A loopback server answering each request head with ``respond(head, n)`` (n counts per connection)."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, suppress(OSError):  # the client may hang up at any time
            exchange(conn)

    def exchange(conn: socket.socket) -> None:
        buffer, count = b"", 0
        if True:
            while not stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                answer = respond(head, count)
                count += 1
                if answer is None:
                    return
                conn.sendall(answer.removesuffix(CLOSE))
                if answer.endswith(CLOSE):
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        # close() alone does not wake a thread blocked in accept() on Linux (the join waited its 5 s
        # in every test); shutdown() does.
        with suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        thread.join(timeout=5)
        assert not thread.is_alive(), "the test server's accept loop did not end"


def response(body: bytes, *extra: bytes, status: bytes = b"200 OK", ctype: bytes = b"text/html; charset=utf-8",
             length: int | None = None) -> bytes:
    head = [b"HTTP/1.1 " + status, b"Content-Type: " + ctype,
            b"Content-Length: %d" % (len(body) if length is None else length), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def _path(head: bytes) -> bytes:
    return head.split(b" ", 2)[1]


# -- 19. an unsolicited response on a kept-alive connection --------------------------------------

INJECTED = response(b"<html><title>INJECTED</title></html>")
DESYNC = {
    "a second response in the same write": lambda first: first + INJECTED,
    "garbage after the body": lambda first: first + b"HTTP/1.1 200 OK\r\nX: y\r\n\r\nleftover bytes",
    "a Content-Length shorter than the body": lambda first: first.replace(b"Content-Length: 5", b"Content-Length: 3")
                                                                 + INJECTED,
    "a 304 with a body": lambda first: response(b"<html>x</html>", status=b"304 Not Modified") + INJECTED,
    "a 204 with a body": lambda first: response(INJECTED, status=b"204 No Content"),
}


@pytest.mark.parametrize("shape", sorted(DESYNC))
def test_bytes_after_a_response_are_not_taken_as_the_next_answer(shape: str) -> None:
    make = DESYNC[shape]

    def respond(head: bytes, n: int) -> bytes:
        path = _path(head)
        if path == b"/first":
            return make(response(b"first"))
        return response(b"the real answer to " + path)

    async def go(port: int) -> None:
        async with Fetcher(FetchPolicy(retries=0)) as fetcher:
            await fetcher.fetch(f"http://127.0.0.1:{port}/first")
            second = await fetcher.fetch(f"http://127.0.0.1:{port}/second")
            assert second.body == b"the real answer to /second", second.body
            third = await fetcher.fetch(f"http://127.0.0.1:{port}/third")
            assert third.body == b"the real answer to /third"

    with raw_serving(respond) as port:
        trio.run(go, port)


def test_a_response_sent_later_on_an_idle_connection_is_not_taken_as_the_next_answer() -> None:
    def respond(head: bytes, n: int) -> bytes:
        path = _path(head)
        if path == b"/first":
            return response(b"first")
        return response(b"the real answer to " + path)

    late: list[socket.socket] = []

    def respond_and_inject(head: bytes, n: int) -> bytes:
        answer = respond(head, n)
        if _path(head) == b"/first":
            timer = threading.Timer(0.2, lambda: late[0].sendall(INJECTED) if late else None)
            timer.start()
        return answer

    async def go(port: int) -> None:
        async with Fetcher(FetchPolicy(retries=0)) as fetcher:
            await fetcher.fetch(f"http://127.0.0.1:{port}/first")
            await trio.sleep(0.6)
            second = await fetcher.fetch(f"http://127.0.0.1:{port}/second")
            assert second.body == b"the real answer to /second"

    # Catch the connection the server answers on, to write the late response into it.
    original = socket.socket.accept

    def accept(self: socket.socket) -> tuple[socket.socket, object]:
        conn, addr = original(self)
        late.append(conn)
        return conn, addr

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "accept", accept)
        with raw_serving(respond_and_inject) as port:
            trio.run(go, port)


def test_a_crawl_does_not_archive_an_injected_response_as_an_article(tmp_path: Path) -> None:
    fake = response(b"<html><head><title>FAKE</title></head><body>injected</body></html>")

    def respond(head: bytes, n: int) -> bytes:
        path = _path(head)
        if path == b"/":
            return response(LISTING) + fake  # the extra response waits for the next request
        if path == ARTICLE_PATH.encode():
            return response(ARTICLE)
        return response(b"", status=b"404 Not Found")

    with raw_serving(respond) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port)
        assert crawl(config, tmp_path / "archive") == 0
    assert b"FAKE" not in warc_text(tmp_path / "archive")


# -- 22. transport accidents are not permanent failures ------------------------------------------


def _failed(archive: Path, config: Path) -> list[tuple[str, bool, str | None]]:
    with Archive(archive, load_sources(config)) as arch:
        return [(f.article_id, f.failed, f.last_error) for f in arch.store.failed("site")]


ACCIDENTS = {
    # The body ends before its Content-Length and the server hangs up.
    "short body": (response(ARTICLE[:1000], length=len(ARTICLE)) + CLOSE, "complete message body"),
    # A gzip stream cut short, inside a complete HTTP message.
    "truncated gzip": (response(gzip.compress(ARTICLE)[:700], b"Content-Encoding: gzip"), "truncated"),
    "damaged deflate": (response(zlib.compress(ARTICLE)[:50] + b"\xff" * 40, b"Content-Encoding: deflate"),
                        "deflate"),
    "a PDF served as HTML": (response(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8), "PDF"),
    "a PNG served as HTML": (response(b"\x89PNG\r\n\x1a\n" + bytes(300)), "PNG"),
    "a JPEG served as HTML": (response(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256))), "JPEG"),
    "gzip bytes without Content-Encoding": (response(gzip.compress(ARTICLE)), "gzip"),
    "gzipped PDF": (response(gzip.compress(b"%PDF-1.4\n" + bytes(range(256))), b"Content-Encoding: gzip"), "PDF"),
    "binary bytes": (response(bytes(range(1, 32)) * 40), "binary"),
}


@pytest.mark.parametrize("shape", sorted(ACCIDENTS))
def test_a_transport_accident_is_a_transient_failure_with_a_reason(shape: str, tmp_path: Path) -> None:
    answer, reason = ACCIDENTS[shape]

    def respond(head: bytes, n: int) -> bytes:
        return response(LISTING) if _path(head) == b"/" else answer

    archive = tmp_path / "archive"
    with raw_serving(respond) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port)
        crawl(config, archive)
    ((article_id, slow, why),) = _failed(archive, config)
    assert article_id == "80443"
    assert not slow, f"{shape} put on the slow schedule: {why}"  # tried again next run
    assert why is not None and reason in why


def test_utf16_and_plain_html_are_not_taken_for_binary(tmp_path: Path) -> None:
    pages = {b"/": response(LISTING),
             ARTICLE_PATH.encode(): response(ARTICLE.replace(b"<html", b"\xef\xbb\xbf<html", 1))}
    with raw_serving(lambda head, n: pages.get(_path(head), response(b"", status=b"404 Not Found"))) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port)
        assert crawl(config, tmp_path / "archive") == 0
    assert binary_kind("<html>".encode("utf-16")) is None
    assert binary_kind("<html>".encode("utf-16-be")) is None
    assert binary_kind("<html>é\t\r\n\x0c".encode()) is None
    assert binary_kind(b"%PDF-1.4") is not None


# -- 23. codings we did not ask for --------------------------------------------------------------

UNREQUESTED = {
    "br": (b"br", brotli.compress(ARTICLE)),
    "BR": (b"BR", brotli.compress(ARTICLE)),
    "zstd": (b"zstd", b"(\xb5/\xfd" + bytes(20)),
    "gzip, br": (b"gzip, br", brotli.compress(gzip.compress(ARTICLE))),
    "compress": (b"compress", b"\x1f\x9d" + bytes(20)),
    "two headers": (b"gzip\r\nContent-Encoding: br", brotli.compress(gzip.compress(ARTICLE))),
}


@pytest.mark.parametrize("shape", sorted(UNREQUESTED))
def test_a_coding_we_did_not_offer_is_refused_and_every_warc_passes_warcio_check(
        shape: str, tmp_path: Path) -> None:
    coding, body = UNREQUESTED[shape]

    def respond(head: bytes, n: int) -> bytes:
        path = _path(head)
        if path == b"/":
            return response(LISTING)
        if path == b"/robots.txt":  # even an empty 404 with that coding must not reach a WARC
            return response(b"", b"Content-Encoding: " + coding, status=b"404 Not Found")
        return response(body, b"Content-Encoding: " + coding)

    archive = tmp_path / "archive"
    with raw_serving(respond) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port)
        config.write_text(config.read_text().replace("respect_robots: false", "respect_robots: true"))
        crawl(config, archive)
    assert not warcio_check(archive)
    ((_, slow, why),) = _failed(archive, config)
    assert why is not None and "Content-Encoding" in why and "not offered" in why, why
    assert not slow


@pytest.mark.parametrize("coding, body", [
    (b"gzip", gzip.compress(ARTICLE)),
    (b"x-gzip", gzip.compress(ARTICLE)),
    (b"deflate", zlib.compress(ARTICLE)),
    (b"gzip, gzip", gzip.compress(gzip.compress(ARTICLE))),
    (b"identity", ARTICLE),
])
def test_codings_we_offered_are_archived(coding: bytes, body: bytes, tmp_path: Path) -> None:
    def respond(head: bytes, n: int) -> bytes:
        return response(LISTING) if _path(head) == b"/" else response(body, b"Content-Encoding: " + coding)

    archive = tmp_path / "archive"
    with raw_serving(respond) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port)
        assert crawl(config, archive) == 0
    assert not warcio_check(archive)


# -- 25. cookies -------------------------------------------------------------------------------


class _Cookies(BaseHTTPRequestHandler):
    cookies_seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        cookie = self.headers.get("Cookie")
        if cookie is not None:
            type(self).cookies_seen.append(cookie)
        body = LISTING if self.path == "/" else ARTICLE if self.path == ARTICLE_PATH else b"nothing"
        self.send_response(200 if body != b"nothing" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        for i in range(16):  # 48 KB of cookies, for this host and for any path
            self.send_header("Set-Cookie", f"c{i}={'x' * 3000}; Path=/; Max-Age=3600")
        self.send_header("Set-Cookie", "session=abc; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_cookies_a_site_sets_are_never_sent_back(tmp_path: Path) -> None:
    _Cookies.cookies_seen = []
    archive = tmp_path / "archive"
    with serving(_Cookies) as port:
        config = one_source_config(tmp_path / "sources.yaml", "site", port,
                                   "start_pages: [/, /trang-2/, /trang-3/]")
        assert crawl(config, archive) == 0
        assert crawl(config, archive) == 0
    assert _Cookies.cookies_seen == []
    records = warc_text(archive)
    assert b"\r\nCookie:" not in records and b"\r\ncookie:" not in records
    assert b"Set-Cookie: session=abc" in records  # the responses are archived as they came


# -- 33. every failure reason names something ----------------------------------------------------


class _Silent(Exception):
    pass


@pytest.mark.parametrize("error", [
    httpx2.ConnectError(""),
    httpx2.ConnectError("", request=None),
    httpx2.ReadTimeout(""),
    httpx2.RemoteProtocolError(""),
    httpx2.ConnectError(""),
])
def test_an_exception_without_a_message_still_gives_a_reason(error: Exception) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise error

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=0), transport_factory=lambda: httpx2.MockTransport(handler)) as f:
            with pytest.raises((TransientFetchError, PermanentFetchError)) as caught:
                await f.fetch("http://example.org/")
        reason = str(caught.value).removeprefix("http://example.org/: ")
        assert type(error).__name__ in reason, reason
        assert "()" not in reason and ": )" not in reason and not reason.rstrip().endswith(":"), reason

    trio.run(go)


def test_a_certificate_error_without_a_message_names_its_class() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        try:
            raise ssl.SSLCertVerificationError()
        except ssl.SSLCertVerificationError as exc:
            raise httpx2.ConnectError("") from exc

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=0), transport_factory=lambda: httpx2.MockTransport(handler)) as f:
            with pytest.raises(PermanentFetchError) as caught:
                await f.fetch("https://example.org/")
        reason = str(caught.value)
        assert "TLS certificate rejected: SSLCertVerificationError" in reason, reason

    trio.run(go)


@pytest.mark.parametrize("error, expected", [
    (OSError(), "OSError"),
    (ConnectionRefusedError(111, ""), "ConnectionRefusedError"),
    (_Silent(), "_Silent"),
    (ValueError("   "), "ValueError"),
    (ValueError("bad thing"), "bad thing"),
    (ConnectionRefusedError(111, "Connection refused"), "Connection refused"),
])
def test_describe_exception_never_gives_an_empty_text(error: BaseException, expected: str) -> None:
    assert expected in describe_exception(error)
    assert describe_exception(error).strip()


def test_describe_exception_looks_through_an_empty_wrapper() -> None:
    try:
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except OSError as inner:
            raise httpx2.ReadError("") from inner
    except httpx2.ReadError as outer:
        text = describe_exception(outer)
    assert "ReadError" in text and "Connection reset by peer" in text



async def _two_addresses(host: str, port: int) -> list[str]:
    return ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]


async def _resolve_fails(host: str, port: int) -> list[str]:
    raise OSError()  # no message at all


async def _connect_fails(host: str, port: int, **kwargs: object) -> object:
    raise OSError()


@pytest.mark.parametrize("resolver, expected", [
    (_two_addresses, "93.184.216.34: OSError; 2606:2800:220:1:248:1893:25c8:1946: OSError"),
    (_resolve_fails, "cannot resolve example.org: OSError"),
])
def test_connection_failures_without_a_message_are_named(resolver: Resolver, expected: str) -> None:
    backend = CheckedBackend(resolver=resolver)
    backend._inner.connect_tcp = _connect_fails  # type: ignore[method-assign,assignment]

    async def go() -> None:
        with pytest.raises(httpcore2.ConnectError) as caught:
            await backend.connect_tcp("example.org", 80)
        assert expected in str(caught.value), str(caught.value)
        assert "()" not in str(caught.value)

    trio.run(go)


def test_a_page_with_a_stray_control_byte_is_still_a_page() -> None:
    """A BEL or backspace pasted into a title (the terminal test's hostile page) is text: the page is archived;
    bytes that are mostly controls, or hold NULs, are not."""
    import random

    from crawler.codings import binary_kind

    page = "<!doctype html><html><head><title>Chống \x1b]0;x\x07\x1b[2J\x08 mù lòa</title></head>".encode()
    assert binary_kind(page + b"<body>" + "Đoạn văn. ".encode() * 100) is None
    rng = random.Random(7)
    noise = bytes(rng.randrange(256) for _ in range(1024))
    assert binary_kind(b"garbage:" + noise) == "binary data"
    assert binary_kind(b"<html>\x00\x00" + b"x" * 1000) == "binary data"


@pytest.mark.parametrize(("exc", "reason"), [
    (RuntimeError(""), "internal error: RuntimeError"),
    (KeyError("x"), "internal error: KeyError: 'x'"),
    (ValueError("bad value"), "internal error: ValueError: bad value"),
])
def test_an_internal_error_reason_never_ends_in_a_dangling_colon(exc: BaseException, reason: str) -> None:
    from crawler.errors import internal_error

    assert internal_error(exc) == reason
