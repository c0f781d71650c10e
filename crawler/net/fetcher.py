"""HTTP fetching: one URL in, one :class:`~crawler.models.FetchResult` (wire bytes, raw heads) out.

In the flow ``scheduler ─▶ fetcher ─▶ warc``, the scheduler asks for a URL when politeness
allows it; :class:`Fetcher` performs one GET (retrying transient failures of that single
request with back-off), and hands back the exchange as it went over the wire so that the
WARC writer can archive it before anything parses it.  This module (with :mod:`crawler.net.wire`,
the exchange's bytes, and :mod:`crawler.net.connect`, the connection layer below it, which
refuses host names that resolve to non-public addresses before anything is sent) is the only one that
imports httpx2 and tenacity; every httpx2
exception is mapped onto :mod:`crawler.errors` (transient vs permanent).  Redirects are not followed by the client:
:meth:`Fetcher.fetch_following` (:mod:`crawler.net.redirects`) follows them one hop at a time so each hop is archived.
The request policy and the errors of a fetch are in :mod:`crawler.net.fetch_policy`.

What a server sends is not trusted to come back: cookies are not kept (no ``Cookie`` header is
ever sent; see :func:`_no_cookies`), a request header value that is not plain visible ASCII is
dropped when it is an optional ``If-*`` validator and refused otherwise, and a response in a
content coding we did not offer is not returned (:class:`~crawler.net.fetch_policy.UnrequestedCoding`).
"""

from __future__ import annotations

import http.cookiejar
import ssl
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractContextManager, aclosing, nullcontext, suppress
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

import httpx2
import trio

from crawler.errors import PermanentFetchError, TransientFetchError
from crawler.models import FetchResult
from crawler.net.connect import CheckedBackend, CheckedTransport, Resolver
from crawler.net.fetch_policy import (
    ACCEPT,
    ACCEPT_ENCODING,
    ACCEPT_LANGUAGE,
    DEFAULT_POLICY,
    ConnectionRefused,
    ExchangeTooSlow,
    FetchPolicy,
    HostNotFound,
    HostUnreachable,
    UnrequestedCoding,
    certificate_reason,
    checked_request_headers,
    exception_name,
    is_certificate_error,
    name_not_found,
    parse_retry_after,
    unrequested_codings,
    was_refused,
)
from crawler.net.origins import NO_ORIGINS, Origins, host_header
from crawler.net.redirects import FollowsRedirects
from crawler.net.urls import host_key
from crawler.net.wire import header_pairs, is_refused_address, peer_ip_of, request_head, response_head

if TYPE_CHECKING:
    from tenacity import RetryCallState, wait_exponential_jitter

__all__ = ["Fetcher"]

_LIMITS = httpx2.Limits(max_connections=8, max_keepalive_connections=4)


def _no_cookies() -> http.cookiejar.CookieJar:
    """A cookie jar that keeps nothing: no cookie a site sets is ever sent back.

    Dropped, not bounded: the crawler reads public pages and needs no session, a cookie sent back
    would be archived in every request record (48 KB from a site setting 16 cookies of 3 KB), and
    it would let a site tie our requests together.  A site that insists (sets a cookie and
    redirects to the same URL) ends as a redirect loop, with that reason.
    """
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


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
            raise httpx2.RemoteProtocolError(f"unusable Location: {exception_name(exc)}", request=request) from None


class Fetcher(FollowsRedirects):
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
        # Host names the resolver said do not exist -> the reason: not asked again while this fetcher lives.
        self._not_found: dict[str, str] = {}
        # tenacity (and the asyncio it imports) is loaded by the first retry, not by every crawl's start-up.
        self._backoff: wait_exponential_jitter | None = None

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
            transport = self._transport(https=url.scheme == "https")
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

    def _transport(self, *, https: bool) -> httpx2.AsyncBaseTransport:
        """The transport of a new client: the injected one, or one that checks addresses before connecting.

        A client serves one origin (its scheme included) and follows no redirect: one for ``http://``
        never sets up TLS, and does not load the certificate authorities (a mirror run never does).
        """
        if self._transport_factory is not None:
            return self._transport_factory()
        if https and self._ssl is None:
            self._ssl = httpx2.create_ssl_context()
        backend = CheckedBackend(allow_private=self.policy.allow_private_addresses, resolver=self._resolver)
        return CheckedTransport(verify=self._ssl if https else None, limits=_LIMITS, backend=backend)

    # -- one request ----------------------------------------------------------

    def _wait(self, state: RetryCallState) -> float:
        if self._backoff is None:
            from tenacity import wait_exponential_jitter

            policy = self.policy
            self._backoff = wait_exponential_jitter(
                multiplier=policy.backoff_base, max=policy.backoff_max, jitter=policy.backoff_base
            )
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
        coding we did not offer, not a name that does not exist, not a ``Retry-After`` longer than we wait."""
        if isinstance(exc, (ExchangeTooSlow, UnrequestedCoding, HostNotFound)):
            return False
        retry_after = getattr(exc, "retry_after", None)
        return retry_after is None or retry_after <= self.policy.max_retry_after

    async def fetch(
        self, url: str, headers: Mapping[str, str] | None = None, *, on_send: Callable[[], None] | None = None,
        give_up: Callable[[TransientFetchError], bool] | None = None,
    ) -> FetchResult:
        """GET ``url`` once (plus retries of transient failures); redirects are returned, not followed.

        Returns every complete response below 500 except 429 (2xx, 3xx, 304, 4xx: the caller
        decides).  Raises :class:`TransientFetchError` once retries are exhausted (or when
        the server asks to wait longer than ``max_retry_after``), and
        :class:`PermanentFetchError` for bad URLs and oversized bodies.  ``give_up`` is asked
        before each retry, with the failure (the crawl gives up a host that failed too often: no more
        retries).  A host name that does not exist raises :class:`HostNotFound` at once, not retried,
        and so does every later URL of that host (it is not resolved again by this fetcher).
        """
        if self._closed:
            raise RuntimeError("Fetcher is closed")
        headers = checked_request_headers(url, headers)
        # The first attempt runs outside tenacity (most requests succeed at once and its machinery
        # costs per call); after a retryable failure tenacity takes over, that failure replayed
        # as its first attempt so that its waits and attempt counts are the usual ones.
        try:
            return await self._fetch_once(url, headers, on_send)
        except TransientFetchError as exc:
            if self.policy.retries == 0 or not self._retryable_now(exc) or (give_up and give_up(exc)):
                raise
            first: TransientFetchError | None = exc

        from tenacity import AsyncRetrying, retry_if_exception, retry_if_exception_type

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
            & retry_if_exception(lambda exc: give_up is None or not (isinstance(exc, TransientFetchError)
                                                                     and give_up(exc))),
            reraise=True,
        )
        try:
            result: FetchResult = await retrying(attempt)
        except TransientFetchError as exc:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts <= 1:
                raise
            # The kind stays (a host that could not be reached is one still), the reason says how often.
            kind = type(exc) if isinstance(exc, HostUnreachable) else TransientFetchError
            raise kind(
                f"{exc.reason} (gave up after {attempts} attempts)",
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
            raise PermanentFetchError(f"invalid URL: {exception_name(exc)}", url=url) from exc
        if target.scheme not in ("http", "https") or not target.host:
            raise PermanentFetchError("not an http(s) URL", url=url)
        not_found = self._not_found.get(target.host.rstrip("."))  # "host." is the same name
        if not_found is not None:
            raise HostNotFound(not_found, url=url)
        client = self._client(target, real_host)
        fetched_at = datetime.now(UTC)
        deadline: AbstractContextManager[object] = (
            trio.fail_after(self.policy.total_timeout) if self.policy.total_timeout else nullcontext()
        )
        try:
            # Built apart from sending: a header httpx2 cannot encode is this URL's failure, not a crash.
            request = client.build_request("GET", target, headers=headers, extensions=_trace(on_send))
        except (httpx2.InvalidURL, httpx2.LocalProtocolError, ValueError, TypeError) as exc:
            raise PermanentFetchError(f"cannot send request ({exception_name(exc)})", url=url) from exc
        try:
            with deadline:
                response = await client.send(request, stream=True)
                try:
                    return await self._read(url, response, fetched_at)
                finally:
                    await response.aclose()
        except trio.TooSlowError:
            raise ExchangeTooSlow(f"no complete response within {self.policy.total_timeout} s", url=url) from None
        except httpx2.ConnectTimeout as exc:
            raise HostUnreachable(f"timed out connecting ({exception_name(exc)})", url=url) from exc
        except httpx2.TimeoutException as exc:
            raise TransientFetchError(f"timed out ({exception_name(exc)})", url=url) from exc
        except (httpx2.InvalidURL, httpx2.UnsupportedProtocol, httpx2.LocalProtocolError) as exc:
            raise PermanentFetchError(f"cannot send request ({exception_name(exc)})", url=url) from exc
        except httpx2.ConnectError as exc:
            if is_certificate_error(exc):
                raise PermanentFetchError(f"TLS certificate rejected: {certificate_reason(exc)}", url=url) from exc
            missing = name_not_found(exc)
            if missing is not None:
                reason = self._not_found[target.host.rstrip(".")] = (
                    f"host name not found ({exception_name(missing)})")
                raise HostNotFound(reason, url=url) from exc
            if was_refused(exc):
                # httpx's text names the host again; the address is said only when --origin sent us elsewhere.
                port = target.port or (443 if target.scheme == "https" else 80)
                elsewhere = f" by {target.host}:{port}" if wire else ""
                raise ConnectionRefused(f"connection refused{elsewhere}", url=url) from exc
            raise HostUnreachable(f"cannot connect ({exception_name(exc)})", url=url) from exc
        except httpx2.HTTPError as exc:  # remote protocol errors, disconnects, proxy errors, ...
            raise TransientFetchError(exception_name(exc), url=url) from exc
        except (httpx2.StreamError, httpx2.CookieConflict) as exc:
            raise PermanentFetchError(exception_name(exc), url=url) from exc

    async def _read(self, url: str, response: httpx2.Response, fetched_at: datetime) -> FetchResult:
        status = response.status_code
        if status >= 500 or status == 429:
            retry_after = None
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
            message = f"HTTP {status} {response.reason_phrase}".rstrip()
            if retry_after is not None and retry_after > self.policy.max_retry_after:
                message += f" (Retry-After {retry_after:.0f} s is longer than we wait)"
            raise TransientFetchError(message, url=url, status=status, retry_after=retry_after)
        unrequested = unrequested_codings(response.headers.get_list("content-encoding"))
        if unrequested:  # whatever the status: even an empty record in such a coding breaks warcio
            raise UnrequestedCoding(
                f"Content-Encoding {', '.join(unrequested)} was not offered (we ask for {ACCEPT_ENCODING}); "
                "not archived", url=url, status=status)
        peer_ip = peer_ip_of(response)  # before the body: the connection may close after it
        if peer_ip and not self.policy.allow_private_addresses and is_refused_address(response.url.host, peer_ip):
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
            request_head=request_head(response.request),
            response_head=response_head(response),
            headers=header_pairs(response.headers.raw),
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
