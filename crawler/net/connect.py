"""The connection layer: resolve a host name, check every address, connect to a checked one.

In the flow ``fetcher ─▶ httpx2 client ─▶ connection pool ─▶ network backend``, this module
is the network backend (and the transport that installs it).  The pool asks it for a TCP
stream to ``host:port`` each time it opens a *new* connection (keep-alive reuse does not come
here).  For a host *name*, :class:`CheckedBackend` resolves the name once, refuses the
connection when any address is loopback, private, link-local or otherwise not public
(:func:`is_public_address`), and then connects to one of the addresses it checked: there is no
second resolution a DNS-rebinding server could answer differently.  Nothing has been sent at
that point, not even a TCP SYN.  The URL is left alone, so the TLS server name (SNI and the
certificate check) and the ``Host`` header stay the URL's host.

IP literals are not checked: they only come from configuration (the offline mirror at
``127.0.0.1:PORT``).  ``allow_private=True`` (``FetchPolicy.allow_private_addresses``) keeps
the resolution but skips the check.  See docs/decisions/0006-address-checks.md.

A kept-alive connection is also guarded against desynchronisation: when a response ends and the
server has already sent more bytes (a second, unsolicited response; bytes past the body's
Content-Length; the body of a 204 or 304, which has none), those bytes would be read as the
answer to the next request on that connection.  Such a connection is closed instead of going
back to the pool (:class:`_DesyncGuard`); bytes that arrive later, on an idle connection, make
httpcore close it before reuse.
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence

import h11
import httpcore2
import httpx2
import trio

from crawler.errors import PermanentFetchError, describe_exception

__all__ = [
    "AddressRefusedError",
    "CheckedBackend",
    "CheckedTransport",
    "Resolver",
    "is_public_address",
    "system_resolver",
]

# (host name, port) -> the IP addresses to try, in order.  Tests inject a fake one.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

# Happy eyeballs (RFC 8305): the next address is tried when the previous one has not connected
# within this delay (or as soon as it fails).  The value trio's open_tcp_stream uses.
HAPPY_EYEBALLS_DELAY = 0.25

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


class AddressRefusedError(PermanentFetchError):
    """A host name resolved to a non-public address: refused before anything was sent."""


class _Refused(Exception):
    """Raised inside the connection pool; :class:`CheckedTransport` turns it into an error with the URL."""


def _named(exc: BaseException) -> str:
    """``Class: message`` (a bare OSError's message can be empty: "cannot connect ()" named nothing)."""
    text = describe_exception(exc)
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for a globally routable unicast address; False for loopback, private, link-local, ...

    IPv6 forms that carry an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``, 6to4 ``2002::/16``,
    NAT64 ``64:ff9b::/96``) are judged by that IPv4 address: ``::ffff:127.0.0.1`` reaches the
    loopback interface.  Multicast, reserved and the deprecated site-local ``fec0::/10`` are not
    public either (``is_global`` alone lets some of them through).
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public_address(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of ``host`` from the system resolver (getaddrinfo in a worker thread), in order.

    The order is getaddrinfo's (RFC 6724 preferences), duplicates dropped, then the first
    address of the other family moved to second place (RFC 8305 §4), as trio does.
    """
    infos = await trio.socket.getaddrinfo(host, port, type=trio.socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    first_v6 = ":" in addresses[0] if addresses else False
    for index, address in enumerate(addresses[1:], start=1):
        if (":" in address) != first_v6:
            addresses.insert(1, addresses.pop(index))
            break
    return addresses


_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


class _Lookup:
    """One name lookup in flight, and its outcome for those waiting on it."""

    __slots__ = ("addresses", "done", "error")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.addresses: list[str] | None = None
        self.error: OSError | None = None


class CheckedBackend(httpcore2.AsyncNetworkBackend):
    """A trio network backend that resolves names itself and connects only to checked addresses."""

    def __init__(self, *, allow_private: bool = False, resolver: Resolver | None = None) -> None:
        self.allow_private = allow_private
        self._resolve = resolver or system_resolver
        self._lookups: dict[tuple[str, int], _Lookup] = {}  # in flight: concurrent connections share one
        self._missing: dict[str, OSError] = {}  # names the resolver said do not exist
        # Connects to one IP literal: trio's getaddrinfo answers a numeric host without a lookup.
        self._inner = httpcore2.TrioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        if not 0 < port < 65536:
            raise _Refused(f"port {port} of host {host} is out of range; refused")
        options = list(socket_options) if socket_options is not None else []
        if _ip_literal(host) is not None:
            return await self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=options
            )
        try:
            # One deadline for resolution and connection, as trio's open_tcp_stream has.
            with trio.fail_after(math.inf if timeout is None else timeout):
                addresses = await self._checked_addresses(host, port)
                return await self._connect_first(host, addresses, port, local_address, options)
        except trio.TooSlowError:
            raise httpcore2.ConnectTimeout(f"timed out connecting to {host}:{port}") from None

    async def _shared_lookup(self, host: str, port: int) -> list[str]:
        """The resolver's answer; connections started while a lookup of the same name is in flight wait for
        it instead of asking again (a name that does not exist is asked once, not once per connection)."""
        key = (host, port)
        missing = self._missing.get(host)
        if missing is not None:  # said not to exist: not asked again by this client (its run)
            raise type(missing)(*missing.args)
        lookup = self._lookups.get(key)
        if lookup is not None:
            await lookup.done.wait()
            if lookup.error is not None:  # the same error, a fresh object (its errno tells "no such name")
                raise type(lookup.error)(*lookup.error.args)
            if lookup.addresses is not None:
                return list(lookup.addresses)
            # the first asker was cancelled: ask ourselves
        lookup = self._lookups[key] = _Lookup()
        try:
            lookup.addresses = list(await self._resolve(host, port))
            return list(lookup.addresses)
        except OSError as exc:
            lookup.error = exc
            if isinstance(exc, socket.gaierror) and exc.errno in _NO_SUCH_NAME:
                self._missing[host] = exc
            raise
        finally:
            lookup.done.set()
            if self._lookups.get(key) is lookup:
                del self._lookups[key]

    async def _checked_addresses(self, host: str, port: int) -> list[str]:
        try:
            addresses = await self._shared_lookup(host, port)
        except OSError as exc:  # socket.gaierror: unknown name, no network, ...
            raise httpcore2.ConnectError(f"cannot resolve {host}: {_named(exc)}") from exc
        if not addresses:
            raise httpcore2.ConnectError(f"cannot resolve {host}: no address")
        for address in addresses:
            ip = _ip_literal(address)
            if ip is None:  # a resolver must answer with addresses; anything else is not connected to
                raise _Refused(f"host {host} resolves to {address!r}, which is not an IP address; refused")
            if not self.allow_private and not is_public_address(ip):
                raise _Refused(f"host {host} resolves to the non-public address {address}; "
                               "refused before connecting")
        return addresses

    async def _connect_first(
        self, host: str, addresses: list[str], port: int, local_address: str | None,
        options: list[httpcore2.SOCKET_OPTION],
    ) -> httpcore2.AsyncNetworkStream:
        """A stream to the first of ``addresses`` that accepts, attempts staggered as in happy eyeballs."""

        async def connect(address: str) -> httpcore2.AsyncNetworkStream:
            return await self._inner.connect_tcp(address, port, local_address=local_address, socket_options=options)

        if len(addresses) == 1:
            return await connect(addresses[0])
        winner: httpcore2.AsyncNetworkStream | None = None
        errors: list[str] = []

        async def attempt(address: str, failed: trio.Event, scope: trio.CancelScope) -> None:
            nonlocal winner
            try:
                stream = await connect(address)
            except Exception as exc:  # any failure of one address: try the next
                errors.append(f"{address}: {_named(exc)}")
                failed.set()
                return
            if winner is None:
                winner = stream
                scope.cancel()
            else:  # two attempts connected in the same instant: keep the first
                await stream.aclose()

        async with trio.open_nursery() as nursery:
            for address in addresses:
                failed = trio.Event()
                nursery.start_soon(attempt, address, failed, nursery.cancel_scope)
                with trio.move_on_after(HAPPY_EYEBALLS_DELAY):
                    await failed.wait()
        if winner is None:
            raise httpcore2.ConnectError(f"cannot connect to {host}:{port} ({'; '.join(errors)})")
        return winner

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 -- httpcore's interface
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise _Refused(f"unix socket {path}: not used by the crawler; refused")

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(seconds)


class CheckedTransport(httpx2.AsyncHTTPTransport):
    """httpx2's HTTP transport with its connection pool on a :class:`CheckedBackend`.

    A refused address surfaces as :class:`AddressRefusedError` (a permanent fetch failure of the
    URL).  No proxy, no environment: proxies would hide the address actually connected to.
    """

    def __init__(self, *, verify: ssl.SSLContext | None, limits: httpx2.Limits, backend: CheckedBackend) -> None:
        """``verify``: the TLS context; None for a transport that only speaks plain HTTP (its stand-in
        trusts no certificate authority: were it ever asked for TLS, it would refuse every server)."""
        if verify is None:
            verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies (CERT_REQUIRED, host names), knows no CA
        super().__init__(verify=verify, limits=limits, trust_env=False)
        # httpx2's transport takes no network backend; the pool it wraps does.  Replace the pool
        # (it has no connections yet) by one built with the same settings and our backend.
        if not isinstance(getattr(self, "_pool", None), httpcore2.AsyncConnectionPool):
            raise RuntimeError(
                "httpx2.AsyncHTTPTransport no longer keeps its pool in _pool; update crawler.net.connect")
        self._pool = _GuardedPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )
        self.backend = backend

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await super().handle_async_request(request)
        except _Refused as exc:
            raise AddressRefusedError(str(exc), url=str(request.url)) from None


def _has_leftover_bytes(connection: httpcore2.AsyncConnectionInterface) -> bool:
    """Whether the HTTP/1.1 connection under ``connection`` holds bytes its last response did not use.

    httpcore keeps the h11 state machine private; if its layout changes, an HTTP/1.1 connection
    counts as having leftover bytes (it is closed after each response: slower, never desynchronised).
    """
    inner = getattr(connection, "_connection", None)
    if not isinstance(inner, httpcore2.AsyncHTTP11Connection):
        return False  # not connected, or HTTP/2 (framed: nothing can be left over)
    state = getattr(inner, "_h11_state", None)
    if not isinstance(state, h11.Connection):
        return True
    data, closed = state.trailing_data
    return bool(data) or closed


class _DesyncGuard:
    """A response body stream that closes its connection, once the response is done, if bytes are left over."""

    def __init__(self, stream: AsyncIterable[bytes], connection: httpcore2.AsyncConnectionInterface) -> None:
        self._stream = stream
        self._connection = connection

    def __aiter__(self) -> AsyncIterator[bytes]:
        # The body's own iterator, not a generator around it: one layer less per chunk of every response.
        return self._stream.__aiter__()

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()  # the connection goes back to idle (or is closed by httpcore)
        if _has_leftover_bytes(self._connection) and not self._connection.is_closed():
            await self._connection.aclose()  # the pool drops a closed connection


class _GuardedConnection(httpcore2.AsyncConnectionInterface):
    """One pooled connection (delegated to httpcore's) whose responses are :class:`_DesyncGuard`-ed."""

    def __init__(self, connection: httpcore2.AsyncConnectionInterface) -> None:
        self._inner = connection

    async def handle_async_request(self, request: httpcore2.Request) -> httpcore2.Response:
        response = await self._inner.handle_async_request(request)
        response.stream = _DesyncGuard(response.stream, self._inner)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    def can_handle_request(self, origin: httpcore2.Origin) -> bool:
        return self._inner.can_handle_request(origin)

    def is_available(self) -> bool:
        return self._inner.is_available()

    def has_expired(self) -> bool:
        return self._inner.has_expired()

    def is_idle(self) -> bool:
        return self._inner.is_idle()

    def is_closed(self) -> bool:
        return self._inner.is_closed()

    def info(self) -> str:
        return self._inner.info()

    def __repr__(self) -> str:
        return f"<guarded {self._inner!r}>"


class _GuardedPool(httpcore2.AsyncConnectionPool):
    """httpcore's pool, each of its connections wrapped in a :class:`_GuardedConnection`."""

    def create_connection(self, origin: httpcore2.Origin) -> httpcore2.AsyncConnectionInterface:
        return _GuardedConnection(super().create_connection(origin))
