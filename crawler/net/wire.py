"""One exchange as it went over the wire: the heads as bytes, header text, the peer's address.

Part of the network's fetching (:mod:`crawler.net.fetcher`): what a
:class:`~crawler.models.FetchResult` records of an httpx2 exchange for the WARC writer (the request
and response heads as sent and received, header bytes as text) and the address the connection
reached, with the second-line check that a host name did not lead to a non-public address.
"""

from __future__ import annotations

import functools
import ipaddress
import weakref
from collections.abc import Iterable
from contextlib import suppress

import httpx2


def header_text(value: bytes) -> str:
    # Header bytes are mostly ASCII; some servers send UTF-8 (e.g. a Vietnamese Location).
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def header_pairs(raw: Iterable[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    """``(name, value)`` of each raw header as text, each as :func:`header_text` makes it.

    All at once while every one is UTF-8 (nearly always: one loop without a call per name and
    value); one by one otherwise, each falling back to latin-1 on its own.
    """
    raw = tuple(raw)
    try:
        return tuple([(name.decode("utf-8"), value.decode("utf-8")) for name, value in raw])
    except UnicodeDecodeError:
        return tuple([(header_text(name), header_text(value)) for name, value in raw])


# The peer address of each open connection (a getpeername() per response otherwise); weak keys, so
# an entry goes with its connection and a new connection is always asked afresh.
_PEERS: weakref.WeakKeyDictionary[object, str | None] = weakref.WeakKeyDictionary()


def peer_ip_of(response: httpx2.Response) -> str | None:
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


def request_head(request: httpx2.Request) -> bytes:
    lines = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def response_head(response: httpx2.Response) -> bytes:
    version = response.extensions.get("http_version", b"HTTP/1.1")
    reason = response.extensions.get("reason_phrase", response.reason_phrase.encode("ascii"))
    lines = [b"%s %d %s" % (version, response.status_code, reason)]
    lines += [name + b": " + value for name, value in response.headers.raw]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@functools.lru_cache(maxsize=1024)  # asked for every response; a crawl meets few (host, address) pairs
def is_refused_address(host: str, peer_ip: str) -> bool:
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
