"""HTTP semantics of the mirror, without sockets: pages, validators, encodings, framing.

Part of the offline mirror.  :class:`Page` is what the site renders for a URL (status,
identity body, validators); :func:`respond` turns it into a :class:`Response` for
one request: conditional requests (``If-None-Match`` before ``If-Modified-Since``)
get ``304``; clients that accept gzip get a gzip body for about half the paths; about
a third of the paths are sent with ``Transfer-Encoding: chunked``.  Both choices are
deterministic functions of the request target, so a test can find both framings.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http import HTTPStatus

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request; header names are lower case."""

    host: str  # the real host name this port stands for
    method: str
    target: str
    headers: dict[str, str]


@dataclass(slots=True)
class Page:
    """A rendered resource.  ``gzip_body`` is filled lazily and kept with the page."""

    status: int
    body: bytes
    content_type: str = HTML
    last_modified: datetime | None = None
    extra_headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = field(default=None)
    gzip_body: bytes | None = None

    def __post_init__(self) -> None:
        if self.status == 200 and self.etag is None:
            self.etag = '"' + hashlib.blake2b(self.body, digest_size=10).hexdigest() + '"'

    def gzipped(self) -> bytes:
        if self.gzip_body is None:
            self.gzip_body = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self.gzip_body


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes  # the entity body as sent (maybe gzip); empty for HEAD and 304
    chunked: bool = False

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Unknown"


def _path_bits(target: str) -> int:
    return zlib.crc32(target.encode("utf-8", "surrogateescape"))


def gzip_target(target: str) -> bool:
    """About half of the paths are served gzip-encoded (when the client accepts it)."""
    return _path_bits(target) % 2 == 0


def chunked_target(target: str) -> bool:
    """About a third of the paths are framed with ``Transfer-Encoding: chunked``."""
    return (_path_bits(target) >> 1) % 3 == 0


def accepts_gzip(value: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value accepts gzip (``gzip`` or ``*`` with q > 0)."""
    if not value:
        return False
    for part in value.split(","):
        token, *params = (p.strip() for p in part.split(";"))
        if token.lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params:
            key, _, val = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(val)
                except ValueError:
                    q = 0.0
        return q > 0
    return False


def _not_modified(page: Page, headers: dict[str, str]) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None and page.etag is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or page.etag in tags or page.etag[:-1] + '-gzip"' in tags
    ims = headers.get("if-modified-since")
    if ims is not None and page.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return page.last_modified.replace(microsecond=0) <= since
    return False


def respond(page: Page, request: Request) -> Response:
    """The response to ``request`` for ``page`` (status, headers, body, framing)."""
    headers: list[tuple[str, str]] = []
    ok = page.status == 200
    encodable = ok and gzip_target(request.target)
    if page.etag:
        use_gzip = encodable and accepts_gzip(request.headers.get("accept-encoding"))
        headers.append(("ETag", page.etag[:-1] + '-gzip"' if use_gzip else page.etag))
    if page.last_modified is not None:
        headers.append(("Last-Modified", http_date(page.last_modified)))
    if encodable:
        headers.append(("Vary", "Accept-Encoding"))
    headers.extend(page.extra_headers)
    if ok and (request.method == "GET" or request.method == "HEAD") and _not_modified(page, request.headers):
        return Response(304, headers, b"")
    body = page.body
    if encodable and accepts_gzip(request.headers.get("accept-encoding")):
        body = page.gzipped()
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Type", page.content_type))
    chunked = chunked_target(request.target) and bool(body)
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    else:
        headers.append(("Content-Length", str(len(body))))
    return Response(page.status, headers, b"" if request.method == "HEAD" else body, chunked)


def http_date(when: datetime) -> str:
    """RFC 9110 IMF-fixdate, e.g. ``Fri, 26 Mar 2021 14:27:00 GMT``."""
    return format_datetime(when.astimezone(UTC), usegmt=True)
