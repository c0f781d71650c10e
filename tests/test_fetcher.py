"""crawler.net.fetcher: error mapping (httpx2.MockTransport) and real sockets (a tiny server on 127.0.0.1)."""

from __future__ import annotations

import gzip
import socketserver
import ssl
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import brotli
import httpx2
import pytest
import trio
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler import USER_AGENT
from crawler.archive.warc import WarcWriter
from crawler.archive.warc_reading import check_file, iter_responses
from crawler.codings import MAX_DECODED_BYTES, ContentDecodingError, decode_content
from crawler.errors import FetchError, PermanentFetchError, TransientFetchError
from crawler.models import FetchResult
from crawler.net.fetch_policy import DEFAULT_POLICY, FetchPolicy, HostUnreachable, UnrequestedCoding, parse_retry_after
from crawler.net.fetcher import Fetcher
from crawler.net.redirects import RedirectError
from crawler.net.urls import host_key

from .test_urls import NASTY, connects_to, key_of
from .warc_samples import chunk, warcio_check

T = TypeVar("T")
PAGE = "<html><body><p>Tin tức Cần Thơ, Huế, Hậu Giang</p></body></html>".encode() * 20


class Sleeps:
    """A fake ``sleep`` for the fetcher's back-off: records the delays, returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await trio.lowlevel.checkpoint()


def run(fn: Callable[[], Awaitable[T]]) -> T:
    return trio.run(fn)


def fetch(url: str, policy: FetchPolicy = DEFAULT_POLICY, **kwargs: object) -> tuple[FetchResult, Sleeps]:
    sleeps = Sleeps()

    async def main() -> FetchResult:
        async with Fetcher(policy, sleep=sleeps, **kwargs) as fetcher:  # type: ignore[arg-type]
            return await fetcher.fetch(url)

    return run(main), sleeps


def fetch_error(url: str, policy: FetchPolicy = DEFAULT_POLICY, **kwargs: object) -> tuple[FetchError, Sleeps]:
    sleeps = Sleeps()

    async def main() -> None:
        async with Fetcher(policy, sleep=sleeps, **kwargs) as fetcher:  # type: ignore[arg-type]
            await fetcher.fetch(url)

    with pytest.raises(FetchError) as info:
        run(main)
    return info.value, sleeps


# -- a raw HTTP/1.1 server on 127.0.0.1 ---------------------------------------------


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    *,
    chunked: bool = False,
    reason: str | None = None,
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason if reason is not None else 'OK' if status == 200 else 'Status'}"]
    lines += [f"{k}: {v}" for k, v in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        body = chunk(body, 100)
    else:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


Route = Callable[["Server", dict[str, str]], bytes | Iterator[bytes] | None]


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes: dict[str, Route] = {}
        self.close_after = {"/cut"}  # paths after whose reply the connection is dropped
        self.hits: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class Handler(socketserver.StreamRequestHandler):
    server: Server

    def handle(self) -> None:
        try:
            while not self.server.stop.is_set():
                line = self.rfile.readline(65537)
                if not line:
                    return
                target = line.split(b" ")[1].decode()
                headers: dict[str, str] = {}
                while (header := self.rfile.readline(65537)) not in (b"\r\n", b"\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                path = urlsplit(target).path
                with self.server.lock:
                    self.server.hits[path] = self.server.hits.get(path, 0) + 1
                    self.server.requests.append((target, headers))
                route = self.server.routes.get(path)
                reply = route(self.server, headers) if route else http_response(404, b"not here")
                if reply is None:
                    return  # the route wants the connection dropped
                for part in [reply] if isinstance(reply, bytes) else reply:  # an iterator: sent piece by piece
                    self.wfile.write(part)
                    self.wfile.flush()
                if path in self.server.close_after:
                    return
        except OSError:
            return


def hits_before(server: Server, path: str, n: int, early: bytes, late: bytes) -> bytes:
    with server.lock:
        count = server.hits[path]
    return early if count <= n else late


def drip(server: Server, reply: bytes) -> Iterator[bytes]:
    """The head at once, then the body one byte every 0.1 s (each read well within any timeout)."""
    head, _, body = reply.partition(b"\r\n\r\n")
    yield head + b"\r\n\r\n"
    for i in range(len(body)):
        if server.stop.wait(0.1):
            return
        yield body[i:i + 1]


def routes() -> dict[str, Route]:
    big = b"x" * 5000
    return {
        "/plain": lambda s, h: http_response(200, PAGE, (("Content-Type", "text/html; charset=utf-8"),)),
        "/chunked-gzip": lambda s, h: http_response(
            200, gzip.compress(PAGE), (("Content-Encoding", "gzip"),), chunked=True
        ),
        "/br": lambda s, h: http_response(200, brotli.compress(PAGE), (("Content-Encoding", "br"),)),
        "/deflate": lambda s, h: http_response(200, zlib.compress(PAGE), (("Content-Encoding", "deflate"),)),
        "/flaky": lambda s, h: hits_before(
            s, "/flaky", 2, http_response(503, b"busy", reason="Service Unavailable"), http_response(200, PAGE)
        ),
        "/busy": lambda s, h: hits_before(
            s, "/busy", 1, http_response(429, b"slow down", (("Retry-After", "2"),)), http_response(200, PAGE)
        ),
        "/missing": lambda s, h: http_response(404, b"gone", reason="Not Found"),
        "/slow": lambda s, h: None if s.stop.wait(2) else http_response(200, PAGE),
        "/drip": lambda s, h: drip(s, http_response(200, PAGE)),
        "/big": lambda s, h: http_response(200, big),
        "/big-chunked": lambda s, h: http_response(200, big, chunked=True),
        "/bomb": lambda s, h: http_response(200, gzip.compress(b"\0" * 3_000_000), (("Content-Encoding", "gzip"),)),
        "/not-gzip": lambda s, h: http_response(200, PAGE, (("Content-Encoding", "gzip"),)),
        "/cut": lambda s, h: b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly a little",
        "/loop-a": lambda s, h: http_response(302, b"", (("Location", "/loop-b"),), reason="Found"),
        "/loop-b": lambda s, h: http_response(301, b"", (("Location", "loop-a"),), reason="Moved Permanently"),
        "/hop1": lambda s, h: http_response(301, b"", (("Location", "/hop2?x=1#frag"),)),
        "/hop2": lambda s, h: http_response(307, b"", (("Location", s.url("/plain")),)),
    }


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = Server()
    srv.routes.update(routes())
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


# -- real sockets ---------------------------------------------------------------------


def test_plain_response_and_heads(server: Server) -> None:
    result, sleeps = fetch(server.url("/plain?q=1"))
    assert (result.status, result.reason, result.http_version) == (200, "OK", "HTTP/1.1")
    assert result.body == result.content == PAGE
    assert result.url == server.url("/plain?q=1")
    assert result.peer_ip == "127.0.0.1"
    assert result.fetched_at.tzinfo is not None
    assert result.header("content-type") == "text/html; charset=utf-8"
    assert result.request_head.startswith(b"GET /plain?q=1 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert result.request_head.endswith(b"\r\n\r\n")
    assert f"User-Agent: {USER_AGENT}\r\n".encode() in result.request_head
    assert b"Accept-Encoding: gzip, deflate\r\n" in result.request_head
    assert result.response_head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: %d\r\n" % len(PAGE) in result.response_head
    assert result.response_head.endswith(b"\r\n\r\n")
    assert sleeps.calls == []
    _, headers = server.requests[-1]
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["user-agent"] == USER_AGENT


def test_chunked_gzip_body_is_dechunked_not_decoded(server: Server) -> None:
    result, _ = fetch(server.url("/chunked-gzip"))
    assert gzip.decompress(result.body) == PAGE
    assert result.body[:2] == b"\x1f\x8b"  # content encoding kept
    assert result.content == PAGE
    assert b"Transfer-Encoding: chunked\r\n" in result.response_head  # as received; warc renames it


def test_deflate_is_decoded(server: Server) -> None:
    result, _ = fetch(server.url("/deflate"))
    assert result.content == PAGE
    assert result.body != PAGE


def test_a_coding_we_did_not_offer_is_refused_not_retried(server: Server) -> None:
    # br: warcio check crashes on such a record (issue 17, 23); see tests/test_network_hardening.py
    with pytest.raises(UnrequestedCoding, match="Content-Encoding br was not offered") as caught:
        fetch(server.url("/br"))
    assert not isinstance(caught.value, PermanentFetchError)
    assert server.hits["/br"] == 1


def test_503_then_200_is_retried(server: Server) -> None:
    result, sleeps = fetch(server.url("/flaky"))
    assert result.status == 200 and result.content == PAGE
    assert server.hits["/flaky"] == 3
    assert len(sleeps.calls) == 2
    assert all(0 < s <= 30 for s in sleeps.calls)


def test_429_retry_after_is_honoured(server: Server) -> None:
    result, sleeps = fetch(server.url("/busy"))
    assert result.status == 200
    assert len(sleeps.calls) == 1 and sleeps.calls[0] >= 2


def test_404_is_returned_not_retried(server: Server) -> None:
    before = server.hits.get("/missing", 0)
    result, sleeps = fetch(server.url("/missing"))
    assert (result.status, result.reason, result.content) == (404, "Not Found", b"gone")
    assert server.hits["/missing"] == before + 1
    assert sleeps.calls == []


def test_timeout_is_transient(server: Server) -> None:
    error, sleeps = fetch_error(server.url("/slow"), FetchPolicy(timeout=0.2, retries=1))
    assert isinstance(error, TransientFetchError)
    assert "timed out" in str(error) and "gave up after 2 attempts" in str(error)
    assert len(sleeps.calls) == 1


def test_total_timeout_is_transient(server: Server) -> None:
    error, _ = fetch_error(server.url("/slow"), FetchPolicy(timeout=5, total_timeout=0.2, retries=0))
    assert isinstance(error, TransientFetchError)
    assert "no complete response within 0.2 s" in str(error)


@pytest.mark.parametrize("path", ["/slow", "/drip"])
def test_total_timeout_is_not_retried_within_the_run(server: Server, path: str) -> None:
    # A server that drips its answer (one byte per second, under the per-read timeout) would cost
    # the whole deadline on every attempt: one attempt, then the page waits for a later run.
    before = server.hits.get(path, 0)
    started = time.monotonic()
    error, sleeps = fetch_error(server.url(path), FetchPolicy(timeout=5, total_timeout=0.3, retries=3))
    assert isinstance(error, TransientFetchError)
    assert "no complete response within 0.3 s" in str(error) and "attempts" not in str(error)
    assert server.hits[path] == before + 1 and sleeps.calls == []
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
def test_oversize_is_permanent(server: Server, path: str) -> None:
    error, sleeps = fetch_error(server.url(path), FetchPolicy(max_bytes=1000))
    assert isinstance(error, PermanentFetchError)
    assert "exceeds 1000 bytes" in str(error)
    assert sleeps.calls == []
    result, _ = fetch(server.url(path), FetchPolicy(max_bytes=5000))
    assert len(result.body) == 5000


def test_bodies_are_kept_as_sent_and_decoded_on_demand_with_a_cap(server: Server) -> None:
    # The fetcher only stores the wire bytes; whoever parses decodes them (an archive worker in a
    # crawl), with the same cap as replay: a gzip bomb or a false Content-Encoding fails there.
    bomb, _ = fetch(server.url("/bomb"))
    assert len(bomb.body) < 10_000
    with pytest.raises(ContentDecodingError, match=f"decoded body exceeds {MAX_DECODED_BYTES} bytes"):
        decode_content(gzip.compress(b"\0" * (MAX_DECODED_BYTES + 1)), "gzip", limit=MAX_DECODED_BYTES)
    assert len(bomb.content) == 3_000_000
    wrong, _ = fetch(server.url("/not-gzip"))
    assert wrong.body == PAGE
    with pytest.raises(ContentDecodingError, match="gzip"):
        wrong.content  # noqa: B018


def test_remote_disconnect_is_transient(server: Server) -> None:
    error, sleeps = fetch_error(server.url("/cut"), FetchPolicy(retries=2))
    assert isinstance(error, TransientFetchError)
    assert len(sleeps.calls) == 2


def test_connection_refused_is_transient() -> None:
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as closed:
        port = closed.server_address[1]
    error, _ = fetch_error(f"http://127.0.0.1:{port}/", FetchPolicy(retries=0))
    assert isinstance(error, TransientFetchError)
    assert error.status is None


def test_redirect_loop_is_permanent(server: Server) -> None:
    async def main() -> None:
        async with Fetcher(sleep=Sleeps()) as fetcher:
            await fetcher.fetch_following(server.url("/loop-a"))

    with pytest.raises(RedirectError) as info:
        run(main)
    assert isinstance(info.value, PermanentFetchError)
    assert "redirect loop" in str(info.value) and server.url("/loop-a") in str(info.value)
    assert [hop.status for hop in info.value.hops] == [302, 301]


def test_fetch_following_returns_every_hop(server: Server) -> None:
    async def main() -> list[FetchResult]:
        async with Fetcher(sleep=Sleeps()) as fetcher:
            return await fetcher.fetch_following(server.url("/hop1"), {"If-None-Match": '"abc"', "X-Test": "1"})

    hops = run(main)
    assert [(h.url, h.status) for h in hops] == [
        (server.url("/hop1"), 301),
        (server.url("/hop2?x=1"), 307),
        (server.url("/plain"), 200),
    ]
    assert hops[-1].content == PAGE
    sent = [headers for target, headers in server.requests[-3:]]
    assert [h.get("if-none-match") for h in sent] == ['"abc"', None, None]
    assert [h.get("x-test") for h in sent] == ["1", "1", "1"]


def test_fetch_following_limits(server: Server) -> None:
    async def follow(**kwargs: object) -> list[FetchResult]:
        async with Fetcher(sleep=Sleeps()) as fetcher:
            return await fetcher.fetch_following(server.url("/hop1"), **kwargs)  # type: ignore[arg-type]

    with pytest.raises(RedirectError, match="more than 1 redirects") as info:
        trio.run(lambda: follow(max_redirects=1))
    assert len(info.value.hops) == 2
    with pytest.raises(RedirectError, match="/plain not allowed"):
        trio.run(lambda: follow(allow=lambda u: "plain" not in u))
    assert len(trio.run(lambda: follow(max_redirects=2))) == 3


def test_fetched_exchange_archives_and_reads_back(server: Server, tmp_path: Path) -> None:
    async def main() -> list[FetchResult]:
        async with Fetcher(sleep=Sleeps()) as fetcher:
            return [await fetcher.fetch(server.url(p)) for p in ("/chunked-gzip", "/deflate", "/plain", "/missing")]

    results = run(main)
    with WarcWriter(tmp_path, "live") as writer:
        locations = [writer.write_exchange(r) for r in results]
    [path] = writer.closed_paths
    responses = list(iter_responses(path))
    assert [r.content for r in responses] == [r.content for r in results]
    assert [r.offset for r in responses] == [loc.offset for loc in locations]
    assert all(r.problems == () for r in responses)
    assert check_file(path) == []
    # Every coding the fetcher returns is one warcio reads (br is refused: UnrequestedCoding).
    status, output = warcio_check(path)
    assert status == 0, output


# -- error mapping with MockTransport ---------------------------------------------------


def mock(handler: Callable[[httpx2.Request], httpx2.Response]) -> Callable[[], httpx2.AsyncBaseTransport]:
    return lambda: httpx2.MockTransport(handler)


def raising(
    exc_type: type[Exception], calls: list[httpx2.Request] | None = None
) -> Callable[[], httpx2.AsyncBaseTransport]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if calls is not None:
            calls.append(request)
        raise exc_type("boom")

    return mock(handler)


@pytest.mark.parametrize(
    "exc_type",
    [
        httpx2.ConnectError,
        httpx2.ConnectTimeout,
        httpx2.ReadTimeout,
        httpx2.WriteTimeout,
        httpx2.PoolTimeout,
        httpx2.ReadError,
        httpx2.WriteError,
        httpx2.RemoteProtocolError,
        httpx2.ProxyError,
        httpx2.CloseError,
    ],
)
def test_transient_errors_are_retried(exc_type: type[Exception]) -> None:
    calls: list[httpx2.Request] = []
    error, sleeps = fetch_error(
        "http://example.test/a", FetchPolicy(retries=3), transport_factory=raising(exc_type, calls)
    )
    # A connection that could not be made keeps its kind (the crawl tells "nothing reachable" by it).
    connect = exc_type in (httpx2.ConnectError, httpx2.ConnectTimeout)
    assert type(error) is (HostUnreachable if connect else TransientFetchError)
    assert len(calls) == 4 and len(sleeps.calls) == 3
    assert "gave up after 4 attempts" in str(error)
    assert isinstance(error.__cause__, TransientFetchError)


@pytest.mark.parametrize("exc_type", [httpx2.LocalProtocolError, httpx2.UnsupportedProtocol])
def test_permanent_errors_are_not_retried(exc_type: type[Exception]) -> None:
    calls: list[httpx2.Request] = []
    error, sleeps = fetch_error("http://example.test/a", transport_factory=raising(exc_type, calls))
    assert type(error) is PermanentFetchError
    assert len(calls) == 1 and sleeps.calls == []


def test_certificate_errors_are_permanent() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        try:
            raise ssl.SSLCertVerificationError("certificate verify failed")
        except ssl.SSLError as exc:
            raise httpx2.ConnectError(str(exc)) from exc

    error, sleeps = fetch_error("https://example.test/", transport_factory=mock(handler))
    assert type(error) is PermanentFetchError and "certificate" in str(error)
    assert sleeps.calls == []


@pytest.mark.parametrize(
    "url", ["ftp://example.test/x", "not a url", "http://", "http:///path", "http://[::1/", "http://ex\x00ample/"]
)
def test_bad_urls_are_permanent(url: str) -> None:
    error, _ = fetch_error(url, transport_factory=mock(lambda r: httpx2.Response(200)))
    assert isinstance(error, PermanentFetchError)
    assert error.url == url


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_server_errors_are_transient_with_status(status: int) -> None:
    error, sleeps = fetch_error(
        "http://example.test/", FetchPolicy(retries=2), transport_factory=mock(lambda r: httpx2.Response(status))
    )
    assert isinstance(error, TransientFetchError) and error.status == status
    assert len(sleeps.calls) == 2


@pytest.mark.parametrize("status", [200, 204, 301, 304, 400, 401, 403, 404, 410, 451])
def test_other_statuses_are_returned(status: int) -> None:
    calls: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        return httpx2.Response(status, content=b"" if status in (204, 304) else b"body")

    result, sleeps = fetch("http://example.test/", transport_factory=mock(handler))
    assert result.status == status and len(calls) == 1 and sleeps.calls == []
    assert result.peer_ip is None  # no socket behind a MockTransport


def test_long_retry_after_goes_back_to_the_caller() -> None:
    transport = mock(lambda r: httpx2.Response(503, headers={"Retry-After": "3600"}))
    error, sleeps = fetch_error("http://example.test/", FetchPolicy(max_retry_after=120), transport_factory=transport)
    assert isinstance(error, TransientFetchError)
    assert error.retry_after == 3600 and error.status == 503
    assert sleeps.calls == []


def test_retry_after_http_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=30)
    answers = iter([httpx2.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)})])

    def handler(request: httpx2.Request) -> httpx2.Response:
        return next(answers, httpx2.Response(200, content=b"ok"))

    result, sleeps = fetch("http://example.test/", transport_factory=mock(handler))
    assert result.content == b"ok"
    assert len(sleeps.calls) == 1 and 25 <= sleeps.calls[0] <= 31


def test_parse_retry_after() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 7 ", now) == 7
    assert parse_retry_after("Mon, 01 Jan 2024 00:01:00 GMT", now) == 60
    assert parse_retry_after("Sun, 31 Dec 2023 00:00:00 GMT", now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_declared_oversize_is_refused_before_reading() -> None:
    transport = mock(lambda r: httpx2.Response(200, headers={"Content-Length": "999999"}, content=b"x" * 999999))
    error, _ = fetch_error("http://example.test/", FetchPolicy(max_bytes=10), transport_factory=transport)
    assert isinstance(error, PermanentFetchError) and "999999" in str(error)


def test_one_client_per_origin_and_headers() -> None:
    built: list[int] = []
    seen: list[httpx2.Request] = []

    def factory() -> httpx2.AsyncBaseTransport:
        built.append(1)

        def handler(request: httpx2.Request) -> httpx2.Response:
            seen.append(request)
            return httpx2.Response(200, content=b"ok", headers={"Location": "/x"})

        return httpx2.MockTransport(handler)

    async def main() -> None:
        async with Fetcher(transport_factory=factory, sleep=Sleeps()) as fetcher:
            for url in (
                "http://a.test/1",
                "http://a.test:80/2",
                "https://a.test/",
                "http://b.test/",
                "http://a.test:81/",
            ):
                await fetcher.fetch(url, {"Accept-Language": "en"})
        with pytest.raises(RuntimeError):
            await fetcher.fetch("http://a.test/")

    run(main)
    assert len(built) == 4
    assert all(r.headers["accept-language"] == "en" for r in seen)
    assert all(r.headers["accept-encoding"] == "gzip, deflate" for r in seen)
    assert all(r.headers["user-agent"] == USER_AGENT for r in seen)


def test_nothing_from_httpx_leaks() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.DecodingError("odd")

    error, _ = fetch_error("http://example.test/", FetchPolicy(retries=0), transport_factory=mock(handler))
    assert isinstance(error, FetchError)
    assert not isinstance(error, httpx2.HTTPError)


# -- redirect vetting: the host a Location is vetted for is the host connected to ------------------


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=NASTY.replace("\n", "").replace("\r", "").replace("\x00", "") + "/", max_size=40),
       st.sampled_from(["http://127.0.0.1:8001/a/b", "https://baocantho.com.vn/x/", "http://[::1]:8080/"]))
@example("http://baocantho.com.vn@127.0.0.1/", "http://127.0.0.1:8001/a/b")
@example("http://baocantho.com.vn\\@127.0.0.1:8001/", "http://127.0.0.1:8001/a/b")
@example("http://[::1:8080]/p", "http://[::1]:8080/")
@example("http://www.127.0.0.1:8001/", "http://127.0.0.1:8001/a/b")
@example("http://127.0.0.1:+8001/", "http://127.0.0.1:8001/a/b")
@example("\t//baocantho.com.vn\t:443/", "https://baocantho.com.vn/x/")
@example("http:\\\\127.0.0.1/", "https://baocantho.com.vn/x/")
@example("http://%31%32%37.0.0.1:8001/", "http://127.0.0.1:8001/a/b")
@example("http://bàocantho.com.vn/", "https://baocantho.com.vn/x/")
def test_a_followed_redirect_connects_where_it_was_vetted(location: str, start: str) -> None:
    """``allow`` = "has a host identity" (what ``SourceConfig.covers`` builds on): every hop the
    Fetcher follows goes to exactly the host and port ``host_key`` gave for the vetted string."""
    requested: list[httpx2.URL] = []
    vetted: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requested.append(request.url)
        if len(requested) == 1:
            return httpx2.Response(302, headers=[(b"Location", location.encode("utf-8"))])
        return httpx2.Response(200, content=b"ok")

    def allow(url: str) -> bool:
        vetted.append(url)
        return host_key(url) != ""

    async def main() -> None:
        async with Fetcher(FetchPolicy(retries=0), transport_factory=mock(handler), sleep=Sleeps()) as fetcher:
            await fetcher.fetch_following(start, allow=allow)

    try:
        run(main)
    except FetchError:
        pass
    if len(requested) > 1:
        assert len(vetted) == 1
        target = connects_to(requested[1])
        assert target is not None and key_of(*target) == host_key(vetted[0]), (location, vetted[0], requested[1])


@pytest.mark.parametrize("location", [":K:", ":", "://x", "https:x", ":@", "http:", "\\\\evil.test/x"])
def test_an_odd_location_is_a_redirect_hop_not_a_crash(location: str) -> None:
    """httpx2 prepares ``next_request`` even when not following, and a Location like ``:K:`` made
    it raise a bare ValueError out of the fetch (a traceback in the crawl).  The 3xx is returned."""
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(302, headers=[(b"Location", location.encode())], content=b"")

    result, _ = fetch("http://127.0.0.1:8001/a/b", FetchPolicy(retries=0), transport_factory=mock(handler))
    assert result.status == 302 and result.header("location") == location


def test_an_odd_location_over_real_sockets(server: Server) -> None:
    server.routes["/a/odd"] = lambda s, h: http_response(302, b"", (("Location", ":K:"),), reason="Found")
    server.routes["/a/:K:"] = lambda s, h: http_response(200, PAGE)

    async def main() -> list[FetchResult]:
        async with Fetcher(sleep=Sleeps()) as fetcher:
            return await fetcher.fetch_following(server.url("/a/odd"))

    hops = run(main)
    assert [(h.status, h.url) for h in hops] == [(302, server.url("/a/odd")), (200, server.url("/a/:K:"))]
