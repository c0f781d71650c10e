"""What a fetch asks for and how it may fail: the request policy, the fetch errors, their reading.

Part of the network's fetching (:mod:`crawler.net.fetcher`, which performs the exchanges): the
headers every request offers (``Accept*``; the content codings offered, and
:func:`unrequested_codings` for a response in another), :class:`FetchPolicy` (limits, retries,
timeouts), the errors a fetch raises beyond :mod:`crawler.errors` (:class:`UnrequestedCoding`,
:class:`ExchangeTooSlow`, :class:`HostUnreachable` and its kinds
:class:`HostNotFound` and :class:`ConnectionRefused`) and the reading of what failed (a name that does
not exist, a refused connection, a rejected certificate, a ``Retry-After`` value), and the check of request headers
before they are sent (:func:`checked_request_headers`).  No httpx2 here: plain values only.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import crawler
from crawler.codings import MAX_BODY_BYTES
from crawler.errors import PermanentFetchError, TransientFetchError, describe_exception
from crawler.net.validators import header_value_problem

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "vi,en;q=0.5"
# Set explicitly: httpx's default depends on which optional decoders happen to import.
# Not "br": warcio 1.8 cannot decode br with brotli 1.2, so `warcio check` and other tools would
# fail on our WARCs.  A response in any coding not offered here is refused (UnrequestedCoding).
ACCEPT_ENCODING = "gzip, deflate"
OFFERED_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "identity"})


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and retry behaviour of a :class:`~crawler.net.fetcher.Fetcher` (one policy per crawl, or per source)."""

    timeout: float = 30.0  # per request phase (connect/read/write/pool)
    max_bytes: int = MAX_BODY_BYTES  # cap on the wire body; larger -> PermanentFetchError
    retries: int = 3  # attempts after the first, for transient failures
    backoff_base: float = 0.5  # exponential back-off with jitter
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # a longer Retry-After is returned to the caller, not waited for
    user_agent: str = crawler.USER_AGENT
    # Whole exchange, body included: a server dripping one byte per `timeout` cannot hold a task forever.
    total_timeout: float | None = 300.0
    # A host *name* that resolves to a loopback, private or link-local address is refused before
    # connecting (SSRF, DNS rebinding; crawler.net.connect).  IP literals are allowed: they only come
    # from configuration (the mirror).
    allow_private_addresses: bool = False

    def __post_init__(self) -> None:
        if self.retries < 0 or self.max_bytes < 0:
            raise ValueError("retries and max_bytes must not be negative")
        if self.timeout <= 0 or (self.total_timeout is not None and self.total_timeout <= 0):
            raise ValueError("timeouts must be positive")
DEFAULT_POLICY = FetchPolicy()


class HostUnreachable(TransientFetchError):
    """Nothing was exchanged with the host: its name did not resolve, or no connection could be made
    (refused, no route, no answer to the connection attempt)."""


class HostNotFound(HostUnreachable):
    """The host name does not exist (NXDOMAIN: ``EAI_NONAME``, or ``EAI_NODATA``, a name without address).

    Not retried, and the :class:`~crawler.net.fetcher.Fetcher` asks for no other URL of the host while
    it lives (one run, one command): every later one fails at once with the same reason.  Transient all
    the same: a name can come back (a lapsed domain renewed, a resolver that was cut off), so the next
    run asks again.  A failure of the resolver itself (``EAI_AGAIN``, ``EAI_FAIL``) is not this: it is
    retried as usual.
    """


class ConnectionRefused(HostUnreachable):
    """The host refused the connection (nothing listens there)."""


class UnrequestedCoding(TransientFetchError):
    """A response in a content coding we did not offer (``br``, ``zstd``, ``compress``, or a stack with one).

    Not archived: other WARC readers fail on such a record (``warcio check`` crashes on ``br``),
    and a server that ignores ``Accept-Encoding`` is misconfigured, often only for a while (one
    CDN node).  Transient, so the article is tried again by later runs (the frontier puts it on
    the slow schedule after a few), but not retried within the run: the same node answers.
    """


class ExchangeTooSlow(TransientFetchError):
    """No complete response within ``total_timeout`` (a server dripping its answer).

    Not retried within the run: each attempt would cost the whole deadline again, so a few such
    URLs could hold a run for hours. The page is tried again by a later run (the frontier's
    schedule), and the failure counts towards giving the host up.
    """


def was_refused(exc: BaseException) -> bool:
    """Whether every connection attempt behind ``exc`` was refused (trio groups one error per address)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    refused = False
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, BaseExceptionGroup):
            todo.extend(error.exceptions)
        elif isinstance(error, ConnectionRefusedError):
            refused = True
        elif isinstance(error, OSError) and error.errno is not None:
            return False  # another cause (unreachable network, timeout...): retried as usual
        for linked in (error.__cause__, error.__context__):
            if linked is not None:
                todo.append(linked)
    return refused


# getaddrinfo's answers for a name that does not exist (NXDOMAIN) or has no address; not EAI_AGAIN
# (the resolver cannot answer for now) nor EAI_FAIL (it failed): those are retried.
NAME_NOT_FOUND = frozenset(code for name in ("EAI_NONAME", "EAI_NODATA") if (code := getattr(socket, name, None)))


def name_not_found(exc: BaseException) -> socket.gaierror | None:
    """The resolver's "no such name" behind ``exc`` (anywhere in its causes or group), or None."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, socket.gaierror) and error.errno in NAME_NOT_FOUND:
            return error
        if isinstance(error, BaseExceptionGroup):
            todo.extend(error.exceptions)
        todo.extend(linked for linked in (error.__cause__, error.__context__) if linked is not None)
    return None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def exception_name(exc: BaseException) -> str:
    """``Class: message`` of ``exc``; never an empty message (see :func:`describe_exception`)."""
    text = describe_exception(exc)
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def certificate_reason(exc: BaseException) -> str:
    """The certificate error behind ``exc``, named even when its message is empty."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            detail = getattr(seen, "verify_message", None) or describe_exception(seen)
            return detail if detail.startswith(type(seen).__name__) else f"{type(seen).__name__}: {detail}"
        seen = seen.__cause__ or seen.__context__
    return exception_name(exc)


def unrequested_codings(values: list[str]) -> list[str]:
    """The content codings in ``values`` (every Content-Encoding header) that we did not offer."""
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    return [c for c in codings if c and c not in OFFERED_CODINGS]


def checked_request_headers(url: str, headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
    """``headers`` fit to send: an ``If-*`` header whose value is not plain visible ASCII is dropped
    (the request is then unconditional); any other such header refuses the request."""
    if not headers:
        return headers
    checked: dict[str, str] = {}
    for name, value in headers.items():
        problem = header_value_problem(value) if isinstance(value, str) else f"{type(value).__name__}, not text"
        if problem is None:
            checked[name] = value
        elif not name.lower().startswith("if-"):
            raise PermanentFetchError(f"cannot send request: header {name} has an unusable value ({problem})",
                                      url=url)
    return checked


def is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
