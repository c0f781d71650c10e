"""The mirror's HTTP/1.1 server: asyncio streams, one listening port per mirrored host.

Part of the offline mirror.  A small hand-written parser (request line + headers;
request bodies are read by ``Content-Length`` and ignored) serves GET and HEAD with
keep-alive and pipelining, a listen backlog of 1024, and runs its event loop in a
background thread so that synchronous tests and the trio-based crawler can both use
it.  Each port stands for one real host; the ``Host`` header only decides whether the
page's URLs are rewritten to the mirror's origins (:func:`names_real_host`).
Every request is appended to the request log as a :class:`RequestLogEntry`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate
from typing import NamedTuple

from crawler.errors import MirrorError
from crawler.mirror.faults import FaultPolicy
from crawler.mirror.responses import Request, Response, respond
from crawler.mirror.site import Site, not_found
from crawler.net.urls import host_key

BACKLOG = 1024
CHUNK = 8192
MAX_HEAD = 64 * 1024


class RequestLogEntry(NamedTuple):
    """One request as the mirror saw it; ``path`` is the request target (path and query).

    ``host`` is the mirror address the request arrived at (``127.0.0.1:PORT``, the
    netloc of ``Mirror.origins[real_host]``); ``real_host`` is the portal it stands for.
    """

    time: float  # time.monotonic() when the request head had arrived
    host: str  # "127.0.0.1:PORT"
    method: str
    path: str
    status: int
    headers: dict[str, str]  # request headers, names in lower case
    real_host: str  # e.g. "baocantho.com.vn"


class _Clock:
    """The ``Date`` header, formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._second, self._value = second, formatdate(second, usegmt=True)
        return self._value


def _parse(head: bytes, host: str) -> tuple[Request, bool] | None:
    """Parse a request head; returns (request, keep_alive) or None if malformed."""
    lines = head.decode("latin-1").lstrip("\r\n").split("\r\n")
    method, _, rest = lines[0].partition(" ")
    target, _, version = rest.rpartition(" ")
    if not method or not target or not version.startswith("HTTP/1."):
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            return None
        key = name.lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    return Request(host, method, target, headers), keep_alive


def names_real_host(request: Request) -> bool:
    """Whether the request's ``Host`` header names the real host this port stands for.

    A crawler that connects to the mirror in place of the real site (curl's
    ``--connect-to``, ``crawler --origin``) sends ``Host: baocantho.com.vn``: it gets the
    page as the real site would send it, real URLs and real ``Location`` headers.  A
    browser or wget pointed at ``http://127.0.0.1:PORT`` sends that address: it gets
    links rewritten to the mirror's origins, so it stays on the mirror.
    """
    value = request.headers.get("host")
    if value is None:
        return False
    # An authority: a default port (80 for http, 443 for the https the crawler asks for) is no port.
    real = host_key(request.host)
    return real in (host_key("http://" + value.strip()), host_key("https://" + value.strip()))


def _frame(body: bytes) -> Iterable[bytes]:
    for start in range(0, len(body), CHUNK):
        piece = body[start : start + CHUNK]
        yield b"%x\r\n" % len(piece)
        yield piece
        yield b"\r\n"
    yield b"0\r\n\r\n"


class MirrorServer:
    """Serves a :class:`Site` on 127.0.0.1, one port per host, from a background thread."""

    def __init__(self, site: Site, log: list[RequestLogEntry], faults: FaultPolicy | None = None) -> None:
        self.site = site
        self.log = log
        self.faults = faults
        self._log_lock = threading.Lock()
        self._clock = _Clock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.ports: dict[str, int] = {}

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, hosts: Iterable[str], base_port: int | None = None) -> dict[str, int]:
        """Bind one port per host (consecutive from ``base_port``, or free ones) and serve."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._bind(list(hosts), base_port))
        except OSError as err:
            loop.run_until_complete(self._close())
            loop.close()
            raise MirrorError(f"cannot listen on 127.0.0.1: {err}") from err
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="crawler-mirror", daemon=True)
        self._thread.start()
        return dict(self.ports)

    async def _bind(self, hosts: list[str], base_port: int | None) -> None:
        for n, host in enumerate(hosts):
            port = 0 if base_port is None else base_port + n
            server = await asyncio.start_server(
                functools.partial(self._connection, host), "127.0.0.1", port, backlog=BACKLOG, limit=MAX_HEAD
            )
            self._servers.append(server)
            self.ports[host] = server.sockets[0].getsockname()[1]

    def _run(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def stop(self) -> None:
        """Close every listener and connection, stop the loop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        self._loop = self._thread = None

    async def _close(self) -> None:
        for server in self._servers:
            server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    # -- requests ------------------------------------------------------------------------

    async def _connection(self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(host, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _serve(self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                arrived = time.monotonic()
            except asyncio.LimitOverrunError:
                writer.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                             b"Connection: close\r\n\r\n")
                return
            parsed = _parse(head, host)
            if parsed is None:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            request, keep_alive = parsed
            length = request.headers.get("content-length", "0")
            if "transfer-encoding" in request.headers or not length.isdigit():
                writer.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                return
            if int(length):
                await reader.readexactly(int(length))
            response = self._respond(request)
            wire = self._wire(response, keep_alive)
            status = response.status
            fault = self.faults(request) if self.faults is not None else None
            if fault is not None:
                status, keep_alive = await fault.deliver(request, wire, status, writer)
                self._record(arrived, request, status)  # what the fault made of it
            else:
                # Logged before the answer leaves: a client that has its response finds it in the log.
                self._record(arrived, request, status)
                writer.write(wire)
                await writer.drain()
            if not keep_alive:
                return

    def _respond(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            page = not_found()
            return Response(405, [("Allow", "GET, HEAD"), ("Content-Type", page.content_type),
                                  ("Content-Length", str(len(page.body)))], page.body)
        try:
            page = self.site.page(request.host, request.target, rewrite=not names_real_host(request))
        except Exception as err:  # a bug of the mirror: answer 500 (and say what), never drop the connection
            body = f"mirror error: {type(err).__name__}: {err}".encode("utf-8", "replace")
            return Response(500, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
                            body)
        return respond(page, request)

    def _wire(self, response: Response, keep_alive: bool) -> bytes:
        lines = [f"HTTP/1.1 {response.status} {response.reason}", f"Date: {self._clock.now()}"]
        lines.append("Server: crawler-mirror")
        lines.extend(f"{name}: {value}" for name, value in response.headers)
        if not keep_alive:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if response.chunked and response.body:
            return head + b"".join(_frame(response.body))
        return head + response.body

    def _record(self, arrived: float, request: Request, status: int) -> None:
        netloc = f"127.0.0.1:{self.ports[request.host]}"
        entry = RequestLogEntry(arrived, netloc, request.method, request.target, status, request.headers,
                                request.host)
        with self._log_lock:
            self.log.append(entry)
