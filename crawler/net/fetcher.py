"""HTTP fetching: one URL in, one :class:`~crawler.models.FetchResult` (wire bytes, raw heads) out.

In the flow ``scheduler ─▶ fetcher ─▶ warc``, the scheduler asks for a URL when politeness
allows it; :class:`Fetcher` performs one GET (retrying transient failures of that single
request with back-off), and hands back the exchange as it went over the wire so that the
WARC writer can archive it before anything parses it.  This is the only module that
imports httpx2 and tenacity (with :mod:`crawler.net.connect`, the connection layer below it, which
refuses host names that resolve to non-public addresses before anything is sent); every httpx2
exception is mapped onto :mod:`crawler.errors` (transient vs permanent).  Redirects are not followed by the client:
:meth:`Fetcher.fetch_following` follows them one hop at a time so each hop is archived.

What a server sends is not trusted to come back: cookies are not kept (no ``Cookie`` header is
ever sent; see :func:`_no_cookies`), a request header value that is not plain visible ASCII is
dropped when it is an optional ``If-*`` validator and refused otherwise, and a response in a
content coding we did not offer is not returned (:class:`UnrequestedCoding`).
"""

from __future__ import annotations

import http.cookiejar
import ipaddress
import ssl
import weakref
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, aclosing, nullcontext, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx2
import trio
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    wait_exponential_jitter,
)

import crawler
from crawler.codings import MAX_BODY_BYTES
from crawler.errors import PermanentFetchError, TransientFetchError, describe_exception
from crawler.models import FetchResult
from crawler.net.connect import CheckedBackend, CheckedTransport, Resolver
from crawler.net.origins import NO_ORIGINS, Origins, host_header
from crawler.net.urls import absolute, has_credentials, host_key
from crawler.net.validators import header_value_problem

__all__ = ["DEFAULT_POLICY", "FetchPolicy", "Fetcher", "RedirectError"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
ACCEPT_LANGUAGE = "vi,en;q=0.5"
# Set explicitly: httpx's default depends on which optional decoders happen to import.
# Not "br": warcio 1.8 cannot decode br with brotli 1.2, so `warcio check` and other tools would
# fail on our WARCs.  A response in any coding not offered here is refused (UnrequestedCoding).
ACCEPT_ENCODING = "gzip, deflate"
OFFERED_CODINGS = frozenset({"gzip", "x-gzip", "deflate", "identity"})
_LIMITS = httpx2.Limits(max_connections=8, max_keepalive_connections=4)


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and retry behaviour of a :class:`Fetcher` (one policy per crawl, or per source)."""

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


class RedirectError(PermanentFetchError):
    """A redirect chain that cannot be followed (loop, too long, disallowed or bad Location).

    ``hops`` holds the responses fetched before giving up, so that they can still be archived.
    """

    def __init__(self, message: str, *, url: str, hops: tuple[FetchResult, ...]) -> None:
        super().__init__(message, url=url, status=hops[-1].status if hops else None)
        self.hops = hops


class ConnectionRefused(TransientFetchError):
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


def _was_refused(exc: BaseException) -> bool:
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


def _retry_after(value: str | None, now: datetime) -> float | None:
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


def _text(value: bytes) -> str:
    # Header bytes are mostly ASCII; some servers send UTF-8 (e.g. a Vietnamese Location).
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _name(exc: BaseException) -> str:
    """``Class: message`` of ``exc``; never an empty message (see :func:`describe_exception`)."""
    text = describe_exception(exc)
    name = type(exc).__name__
    return text if text.startswith(name) else f"{name}: {text}"


def _certificate_reason(exc: BaseException) -> str:
    """The certificate error behind ``exc``, named even when its message is empty."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            detail = getattr(seen, "verify_message", None) or describe_exception(seen)
            return detail if detail.startswith(type(seen).__name__) else f"{type(seen).__name__}: {detail}"
        seen = seen.__cause__ or seen.__context__
    return _name(exc)


def _unrequested_codings(values: list[str]) -> list[str]:
    """The content codings in ``values`` (every Content-Encoding header) that we did not offer."""
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    return [c for c in codings if c and c not in OFFERED_CODINGS]


def _request_headers(url: str, headers: Mapping[str, str] | None) -> Mapping[str, str] | None:
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


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing: no cookie a site sets is ever sent back.

    Dropped, not bounded: the crawler reads public pages and needs no session, a cookie sent back
    would be archived in every request record (48 KB from a site setting 16 cookies of 3 KB), and
    it would let a site tie our requests together.  A site that insists (sets a cookie and
    redirects to the same URL) ends as a redirect loop, with that reason.
    """
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# The peer address of each open connection (a getpeername() per response otherwise); weak keys, so
# an entry goes with its connection and a new connection is always asked afresh.
_PEERS: weakref.WeakKeyDictionary[object, str | None] = weakref.WeakKeyDictionary()


def _peer_ip(response: httpx2.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        return _PEERS[stream]
    except (KeyError, TypeError):
        pass
    try:
        addr = stream.get_extra_info("server_addr")
    except (OSError, AttributeError, AssertionError):
        return None
    peer = addr[0] if isinstance(addr, tuple) and addr and isinstance(addr[0], str) else None
    with suppress(TypeError):  # a stream type without weak references: not cached
        _PEERS[stream] = peer
    return peer


def _request_head(request: httpx2.Request) -> bytes:
    lines = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _response_head(response: httpx2.Response) -> bytes:
    version = response.extensions.get("http_version", b"HTTP/1.1")
    reason = response.extensions.get("reason_phrase", response.reason_phrase.encode("ascii"))
    lines = [b"%s %d %s" % (version, response.status_code, reason)]
    lines += [name + b": " + value for name, value in response.headers.raw]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _refused_address(host: str, peer_ip: str) -> bool:
    """True when a host name led to a loopback, private, link-local or otherwise non-global address.

    A second line behind :mod:`crawler.net.connect` (which refuses before connecting), for transports
    that do not go through it (``transport_factory``).
    """
    try:
        ipaddress.ip_address(host.strip("[]"))
        return False  # an IP literal: it came from configuration
    except ValueError:
        pass
    try:
        address = ipaddress.ip_address(peer_ip.split("%", 1)[0])
    except ValueError:
        return True
    return not address.is_global


def _trace(on_send: Callable[[], None] | None) -> dict[str, object]:
    """httpcore's trace hook, reduced to "the request head is leaving now" (politeness counts from there)."""
    if on_send is None:
        return {}

    async def trace(event: str, info: Mapping[str, object]) -> None:
        if event.endswith("send_request_headers.started"):
            on_send()

    return {"trace": trace}


class _Client(httpx2.AsyncClient):
    """httpx2's client, minus one crash: a redirect whose Location it cannot make a URL of.

    Even with ``follow_redirects=False`` httpx2 prepares ``response.next_request``; it drops
    the ``RemoteProtocolError`` of an invalid Location, but a Location such as ``:K:`` raises a
    bare ``ValueError`` ("URL must be absolute to have an origin") out of ``client.stream``.
    We never use ``next_request`` (:meth:`Fetcher.fetch_following` resolves Locations itself),
    so any failure there becomes the error httpx2 already drops, and the 3xx is returned.
    """

    def _build_redirect_request(self, request: httpx2.Request, response: httpx2.Response) -> httpx2.Request:
        try:
            return super()._build_redirect_request(request, response)
        except (ValueError, TypeError, UnicodeError) as exc:
            raise httpx2.RemoteProtocolError(f"unusable Location: {_name(exc)}", request=request) from None


class Fetcher:
    """Async HTTP client for the crawl (use under trio, as ``async with Fetcher(policy) as f``).

    One small httpx2 client per origin (scheme, host, port), created on first use: one big
    pool gets slower per request as it grows.  ``sleep`` is what back-off waits with (tests
    inject a recorder); ``transport_factory`` builds each client's transport (tests inject
    ``httpx2.MockTransport``); without it each client gets a :class:`~crawler.net.connect.CheckedTransport`,
    whose host names are resolved by ``resolver`` (the system's by default; tests inject one).
    ``origins`` serves some real hosts from other origins (the offline mirror:
    :mod:`crawler.net.origins`): the request goes there, with the real ``Host``, and the result keeps
    the real URL.
    """

    def __init__(
        self,
        policy: FetchPolicy = DEFAULT_POLICY,
        *,
        sleep: Callable[[float], Awaitable[None]] = trio.sleep,
        transport_factory: Callable[[], httpx2.AsyncBaseTransport] | None = None,
        resolver: Resolver | None = None,
        origins: Origins = NO_ORIGINS,
    ) -> None:
        self.policy = policy
        self.origins = origins
        self._sleep = sleep
        self._transport_factory = transport_factory
        self._resolver = resolver
        self._clients: dict[tuple[str, str, int, str | None], httpx2.AsyncClient] = {}
        self._ssl: ssl.SSLContext | None = None  # one for all clients: loading the CA bundle takes ~30 ms
        self._closed = False
        self._backoff = wait_exponential_jitter(
            multiplier=policy.backoff_base, max=policy.backoff_max, jitter=policy.backoff_base
        )

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every per-host client (and their connections)."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                await client.aclose()
            except httpx2.HTTPError:  # a connection that fails to close cleanly is still gone
                pass

    def _client(self, url: httpx2.URL, host: str | None = None) -> httpx2.AsyncClient:
        """The client of ``url``'s origin; ``host``: the Host it sends (an origin standing in for a real host)."""
        key = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80), host)
        client = self._clients.get(key)
        if client is None:
            transport = self._transport()
            headers = {
                "User-Agent": self.policy.user_agent,
                "Accept": ACCEPT,
                "Accept-Language": ACCEPT_LANGUAGE,
                "Accept-Encoding": ACCEPT_ENCODING,
            }
            if host is not None:
                headers["Host"] = host
            client = _Client(
                verify=self._ssl or True,
                headers=headers,
                cookies=_no_cookies(),
                timeout=httpx2.Timeout(self.policy.timeout),
                limits=_LIMITS,
                follow_redirects=False,
                trust_env=False,  # proxies and certificates come from configuration, not the environment
                transport=transport,
            )
            self._clients[key] = client
        return client

    def _transport(self) -> httpx2.AsyncBaseTransport:
        """The transport of a new client: the injected one, or one that checks addresses before connecting."""
        if self._transport_factory is not None:
            return self._transport_factory()
        if self._ssl is None:
            self._ssl = httpx2.create_ssl_context()
        backend = CheckedBackend(allow_private=self.policy.allow_private_addresses, resolver=self._resolver)
        return CheckedTransport(verify=self._ssl, limits=_LIMITS, backend=backend)

    # -- one request ----------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        delay = self._backoff(state)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientFetchError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return delay

    def _stop(self, state: RetryCallState) -> bool:
        """Out of attempts: ``retries`` of them, but a refused connection is tried once more only
        (a host that refuses is down: the crawl's per-host breaker gives it up, in seconds)."""
        exc = state.outcome.exception() if state.outcome else None
        limit = min(self.policy.retries, 1) if isinstance(exc, ConnectionRefused) else self.policy.retries
        return state.attempt_number >= limit + 1

    def _retryable_now(self, exc: BaseException) -> bool:
        """Whether ``exc`` may be retried now: not an exchange that used its whole deadline, not a
        coding we did not offer, not a ``Retry-After`` longer than we wait."""
        if isinstance(exc, (ExchangeTooSlow, UnrequestedCoding)):
            return False
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is None or retry_after <= self.policy.max_retry_after

    async def fetch(
        self, url: str, headers: Mapping[str, str] | None = None, *, on_send: Callable[[], None] | None = None,
        give_up: Callable[[], bool] | None = None,
    ) -> FetchResult:
        """GET ``url`` once (plus retries of transient failures); redirects are returned, not followed.

        Returns every complete response below 500 except 429 (2xx, 3xx, 304, 4xx: the caller
        decides).  Raises :class:`TransientFetchError` once retries are exhausted (or when
        the server asks to wait longer than ``max_retry_after``), and
        :class:`PermanentFetchError` for bad URLs and oversized bodies.  ``give_up`` is asked
        before each retry (the crawl gives up a host that failed too often: no more retries).
        """
        if self._closed:
            raise RuntimeError("Fetcher is closed")
        headers = _request_headers(url, headers)
        # The first attempt runs outside tenacity (most requests succeed at once and its machinery
        # costs per call); after a retryable failure tenacity takes over, that failure replayed
        # as its first attempt so that its waits and attempt counts are the usual ones.
        try:
            return await self._fetch_once(url, headers, on_send)
        except TransientFetchError as exc:
            if self.policy.retries == 0 or not self._retryable_now(exc) or (give_up and give_up()):
                raise
            first: TransientFetchError | None = exc

        async def attempt() -> FetchResult:
            nonlocal first
            if first is not None:
                failed, first = first, None
                raise failed
            return await self._fetch_once(url, headers, on_send)

        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=self._stop,
            wait=self._wait,
            retry=retry_if_exception_type(TransientFetchError) & retry_if_exception(self._retryable_now)
            & retry_if_exception(lambda _exc: give_up is None or not give_up()),
            reraise=True,
        )
        try:
            result: FetchResult = await retrying(attempt)
        except TransientFetchError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts <= 1:
                raise
            reason = str(exc).removeprefix(f"{url}: ")
            raise TransientFetchError(
                f"{reason} (gave up after {attempts} attempts)",
                url=url,
                status=exc.status,
                retry_after=exc.retry_after,
            ) from exc
        return result

    def refusal(self, url: str) -> str | None:
        """Why ``url`` is never requested by this fetcher, or None.

        With ``--origin`` (a mirror) only hosts an origin serves, and the origins themselves, are
        connected to: any other host (an image sub-domain, a redirect or a link elsewhere) is
        neither resolved nor requested.
        """
        if not self.origins:
            return None
        key = host_key(url)
        if key and (key in self.origins.wire or key in self.origins.back):
            return None
        return f"host {key or url!r} is served by no --origin: not resolved or requested (mirror run)"

    async def _fetch_once(
        self, url: str, headers: Mapping[str, str] | None, on_send: Callable[[], None] | None = None
    ) -> FetchResult:
        refused = self.refusal(url)
        if refused is not None:
            raise PermanentFetchError(refused, url=url)
        try:
            wire = self.origins.connect_url(url)
            # --origin: connect elsewhere and ask for the real host's page (its client sends that Host).
            real_host = host_header(url) if wire is not None else None
            target = httpx2.URL(wire or url)  # parsed once: httpx2 checks every character in Python
        except (httpx2.InvalidURL, TypeError, ValueError, UnicodeDecodeError) as exc:
            raise PermanentFetchError(f"invalid URL: {_name(exc)}", url=url) from exc
        if target.scheme not in ("http", "https") or not target.host:
            raise PermanentFetchError("not an http(s) URL", url=url)
        client = self._client(target, real_host)
        fetched_at = datetime.now(UTC)
        deadline: AbstractContextManager[object] = (
            trio.fail_after(self.policy.total_timeout) if self.policy.total_timeout else nullcontext()
        )
        try:
            # Built apart from sending: a header httpx2 cannot encode is this URL's failure, not a crash.
            request = client.build_request("GET", target, headers=headers, extensions=_trace(on_send))
        except (httpx2.InvalidURL, httpx2.LocalProtocolError, ValueError, TypeError) as exc:
            raise PermanentFetchError(f"cannot send request ({_name(exc)})", url=url) from exc
        try:
            with deadline:
                response = await client.send(request, stream=True)
                try:
                    return await self._read(url, response, fetched_at)
                finally:
                    await response.aclose()
        except trio.TooSlowError:
            raise ExchangeTooSlow(f"no complete response within {self.policy.total_timeout} s", url=url) from None
        except httpx2.TimeoutException as exc:
            raise TransientFetchError(f"timed out ({_name(exc)})", url=url) from exc
        except (httpx2.InvalidURL, httpx2.UnsupportedProtocol, httpx2.LocalProtocolError) as exc:
            raise PermanentFetchError(f"cannot send request ({_name(exc)})", url=url) from exc
        except httpx2.ConnectError as exc:
            if _is_certificate_error(exc):
                raise PermanentFetchError(f"TLS certificate rejected: {_certificate_reason(exc)}", url=url) from exc
            if _was_refused(exc):
                raise ConnectionRefused(f"cannot connect ({_name(exc)})", url=url) from exc
            raise TransientFetchError(f"cannot connect ({_name(exc)})", url=url) from exc
        except httpx2.HTTPError as exc:  # remote protocol errors, disconnects, proxy errors, ...
            raise TransientFetchError(_name(exc), url=url) from exc
        except (httpx2.StreamError, httpx2.CookieConflict) as exc:
            raise PermanentFetchError(_name(exc), url=url) from exc

    async def _read(self, url: str, response: httpx2.Response, fetched_at: datetime) -> FetchResult:
        status = response.status_code
        if status >= 500 or status == 429:
            retry_after = None
            if status in (429, 503):
                retry_after = _retry_after(response.headers.get("retry-after"), datetime.now(UTC))
            message = f"HTTP {status} {response.reason_phrase}".rstrip()
            if retry_after is not None and retry_after > self.policy.max_retry_after:
                message += f" (Retry-After {retry_after:.0f} s is longer than we wait)"
            raise TransientFetchError(message, url=url, status=status, retry_after=retry_after)
        unrequested = _unrequested_codings(response.headers.get_list("content-encoding"))
        if unrequested:  # whatever the status: even an empty record in such a coding breaks warcio
            raise UnrequestedCoding(
                f"Content-Encoding {', '.join(unrequested)} was not offered (we ask for {ACCEPT_ENCODING}); "
                "not archived", url=url, status=status)
        peer_ip = _peer_ip(response)  # before the body: the connection may close after it
        if peer_ip and not self.policy.allow_private_addresses and _refused_address(response.url.host, peer_ip):
            await response.aclose()
            raise PermanentFetchError(
                f"host {response.url.host} resolves to the non-public address {peer_ip}; refused", url=url
            )
        limit = self.policy.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.strip().isdigit() and int(declared) > limit:
            raise PermanentFetchError(f"body of {declared} bytes exceeds {limit} bytes", url=url, status=status)
        body = await self._read_body(url, response)
        # Not decoded here: whoever parses the body decodes it (FetchResult.content), in an archive
        # worker for the crawl, after the raw bytes are in the WARC.
        return FetchResult(
            url=url,
            status=status,
            reason=response.reason_phrase,
            http_version=response.http_version,
            request_head=_request_head(response.request),
            response_head=_response_head(response),
            headers=tuple((_text(k), _text(v)) for k, v in response.headers.raw),
            body=body,
            peer_ip=peer_ip,
            fetched_at=fetched_at,
        )

    async def _read_body(self, url: str, response: httpx2.Response) -> bytes:
        """The wire body (de-chunked, still content-encoded), refused once it passes ``max_bytes``."""
        limit = self.policy.max_bytes
        chunks: list[bytes] = []
        size = 0
        if response.is_stream_consumed and isinstance(response.stream, httpx2.AsyncByteStream):
            # Built with ``content=`` (an httpx2.MockTransport handler): httpx has buffered it already.
            body = b"".join([chunk async for chunk in response.stream])
            if len(body) > limit:
                raise PermanentFetchError(f"body exceeds {limit} bytes", url=url, status=response.status_code)
            return body
        raw = response.aiter_raw()
        async with aclosing(raw):
            async for chunk in raw:
                size += len(chunk)
                if size > limit:
                    break
                chunks.append(chunk)
            else:
                return b"".join(chunks)
            # Abandoning the iteration here would leave httpcore's nested async generators to
            # trio's garbage-collection finalizer (a ResourceWarning); once the response is
            # closed they run to their end at once.
            await response.aclose()
            with suppress(httpx2.HTTPError, httpx2.StreamError):
                async for _ in raw:
                    pass
        raise PermanentFetchError(f"body exceeds {limit} bytes", url=url, status=response.status_code)

    # -- redirect chains --------------------------------------------------------

    async def fetch_following(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        max_redirects: int = 10,
        allow: Callable[[str], bool] = lambda u: True,
        on_send: Callable[[], None] | None = None,
        give_up: Callable[[], bool] | None = None,
    ) -> list[FetchResult]:
        """Fetch ``url`` and follow 301/302/303/307/308 redirects; returns every hop, in order.

        ``allow`` vets each Location (resolved against the URL that sent it, fragment
        dropped) before it is fetched; the string it vets is the one fetched, so a host check
        there (``SourceConfig.covers``) sees the host connected to.  Conditional headers
        (``If-*``) go with the first request only.  A loop, more than ``max_redirects``
        redirects, a disallowed or non-http(s) Location, or one with credentials (``user@``)
        raise :class:`RedirectError` (a :class:`PermanentFetchError`)
        carrying the hops fetched so far.
        """
        hops: list[FetchResult] = []
        seen = {urldefrag(url).url}
        current, hop_headers = url, headers
        while True:
            result = await self.fetch(current, hop_headers, on_send=on_send, give_up=give_up)
            hops.append(result)
            location = result.header("location")
            if result.status not in REDIRECT_STATUSES or not location:
                return hops
            try:
                raw = urldefrag(urljoin(current, location.strip())).url
                parts = urlsplit(raw)
            except ValueError:
                raise RedirectError(f"unusable redirect Location {location!r}", url=url, hops=tuple(hops)) from None
            if parts.scheme not in ("http", "https"):
                raise RedirectError(f"redirect to a non-http URL {raw!r}", url=url, hops=tuple(hops))
            if has_credentials(raw):  # the rule links follow too (crawler.net.urls.absolute)
                raise RedirectError(f"redirect to a URL with credentials {raw!r}", url=url, hops=tuple(hops))
            # The canonical form links get (spaces, controls, non-ASCII percent-encoded); a mirror's
            # Location may name its own address: the real URL is what we follow.
            canonical = absolute(current, location)
            if canonical is None:
                raise RedirectError(f"redirect to {raw!r} not allowed (not a usable URL)", url=url, hops=tuple(hops))
            target = self.origins.real(canonical)
            if target in seen:
                raise RedirectError(f"redirect loop at {target}", url=url, hops=tuple(hops))
            if len(hops) > max_redirects:
                raise RedirectError(f"more than {max_redirects} redirects (next: {target})", url=url, hops=tuple(hops))
            if not allow(target):
                raise RedirectError(f"redirect to {target} not allowed", url=url, hops=tuple(hops))
            seen.add(target)
            current = target
            if headers:
                hop_headers = {k: v for k, v in headers.items() if not k.lower().startswith("if-")}
