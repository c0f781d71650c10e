"""SURT keys: the canonical, host-reversed form of a URL that sorts a CDXJ index (``vn,com,baocantho)/thoi-su``).

Part of the CDXJ index (:mod:`crawler.archive.cdxj`, whose lines start with this key; the archive's
URL aliases, :mod:`crawler.archive.aliases`, use it too).  :func:`surt` is a port of the ``surt``
package's default canonicalisation (the key pywb and ``cdxj-indexer`` use), without its
dependencies; a test compares the two.  A plain URL takes a direct path (``_plain_surt``), every
other one the general canonicalisation (``_surt``).
"""

from __future__ import annotations

import re
import socket
import struct
from urllib.parse import quote_from_bytes, unquote_to_bytes

__all__ = ["surt"]

_SPACES = re.compile(rb"[\n\r\t]")
_MULTIPLE_PROTOCOLS = re.compile(rb"^(https?://)+")
_HAS_PROTOCOL = re.compile(rb"^([a-zA-Z][a-zA-Z0-9+\-.]*):")
_RFC2396 = re.compile(rb"^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$")
_OCTAL_IP = re.compile(rb"^(0[0-7]*)(\.[0-7]+)?(\.[0-7]+)?(\.[0-7]+)?$")
_DECIMAL_IP = re.compile(rb"^([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$")
_WWW = re.compile(rb"www\d*\.")
_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_PATH_SESSION = (
    re.compile(rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$", re.I),
    re.compile(rb"^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$", re.I),
)
_QUERY_SESSION = (
    re.compile(rb"^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$", re.I),
)


def _unescape_repeatedly(value: bytes) -> bytes:
    while True:
        once = unquote_to_bytes(value)
        if once == value:
            return value
        value = once


def _escape_once(value: bytes) -> bytes:
    return quote_from_bytes(value, safe=_SAFE).encode("ascii") if value else value


def _ip_host(host: bytes) -> bytes | None:
    """A host written as a number (``3232235777``, ``192.168.1``, octal): its dotted quad, else None.

    The ``surt`` package asks the resolver (which, for these forms, only parses them); so does
    ``inet_aton``, without a lookup.
    """
    if host.isdigit():
        return socket.inet_ntoa(struct.pack(">L", int(host) & 0xFFFFFFFF)).encode("ascii")
    if _DECIMAL_IP.match(host) or _OCTAL_IP.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host.decode("ascii"))).encode("ascii")
        except (OSError, UnicodeDecodeError):
            return None
    return None


def _normalize_path(path: bytes) -> bytes:
    if not path:
        return b"/"
    kept: list[bytes] = []
    for part in path.split(b"/")[1:]:
        if part == b".":
            continue
        if part == b"..":
            if kept:
                kept.pop()
            else:
                kept.append(part)
        else:
            kept.append(part)
    out = b"/"
    if kept:
        out += b"".join(p + b"/" for p in kept[:-1] if p)
        out += kept[-1]
    return out


def _alpha_reorder(query: bytes) -> bytes:
    if len(query) <= 1:
        return query
    pairs = sorted(tuple(arg.split(b"=", 1)) for arg in query.split(b"&"))
    return b"&".join(pair[0] if len(pair) == 1 else pair[0] + b"=" + pair[1] for pair in pairs)


def _hostinfo(netloc: bytes) -> tuple[bytes, bytes]:
    """(host, port text) as :func:`urllib.parse.urlsplit` splits a netloc (the first ``:`` ends the host)."""
    info = netloc.rpartition(b"@")[2]
    _, bracket, inside = info.partition(b"[")
    if bracket:
        host, _, rest = inside.partition(b"]")
        return host, rest.partition(b":")[2]
    host, _, port = info.partition(b":")
    return host, port


def _port(netloc: bytes) -> int | None:
    digits = _hostinfo(netloc)[1]
    if not digits:
        return None
    if not digits.isdigit() or not digits.isascii() or not 0 <= int(digits) <= 65535:
        raise ValueError("bad port")
    return int(digits) or None


def _hostname(netloc: bytes) -> bytes | None:
    return _hostinfo(netloc)[0].lower() or None


# URLs on which every step of the canonicalisation but lower-casing, sorting the query and reversing the
# host is the identity (no escapes, no dot segments, no empty segments, no "www", no number host, no
# session id): the key is computed directly, ~7x faster; everything else takes the general path.
_PLAIN = re.compile(r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::([0-9]{1,5}))?"
                    r"((?:/[A-Za-z0-9_~!$&'*+,;=:@-][A-Za-z0-9._~!$&'*+,;=:@-]*)*/?)"
                    r"(?:\?([A-Za-z0-9._~!$&'*+,;=:@/?-]*))?")
_NOT_PLAIN_HOST = re.compile(r"www\d*\.|[0-9.]+$|0x", re.IGNORECASE)
_SESSION_WORDS = ("sid", "cfid", "session")


def _plain_surt(url: str) -> str | None:
    match = _PLAIN.fullmatch(url)
    if match is None:
        return None
    scheme, host, port, path, query = match.groups()
    if _NOT_PLAIN_HOST.match(host) or "/." in path or (query and any(w in query.lower() for w in _SESSION_WORDS)):
        return None
    if port is not None and (int(port) > 65535 or port.startswith("0")):
        return None
    key = ",".join(reversed(host.split(".")))
    if port is not None and int(port) != (80 if scheme == "http" else 443):
        key += ":" + port
    path = path.lower() or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    key += ")" + path
    if query:
        key += "?" + _alpha_reorder(query.lower().encode("ascii")).decode("ascii")
    return key


def surt(url: str) -> str:
    """The SURT key of ``url`` as ``surt.surt(url)`` computes it (``vn,com,baocantho)/thoi-su?p=2``)."""
    plain = _plain_surt(url)
    if plain is not None:
        return plain
    try:
        return _surt(url.encode("utf-8")).decode("utf-8")
    except (ValueError, UnicodeError, AssertionError):
        return url  # cdxj-indexer keeps a URL it cannot canonicalise as its own key


def _surt(raw: bytes) -> bytes:
    if not raw:
        return b"-"
    if raw.startswith(b"filedesc"):
        return raw
    raw = _SPACES.sub(b"", raw.strip())
    if raw and not _HAS_PROTOCOL.match(raw):
        raw = b"http://" + raw
    raw = _MULTIPLE_PROTOCOLS.sub(lambda m: m.group(1), raw)
    match = _RFC2396.match(raw)
    assert match is not None
    scheme = match.group(2) or b""
    netloc = match.group(5) or b""
    path: bytes | None = match.group(6) or None
    query: bytes | None = match.group(8) or None
    if netloc.endswith(b":"):
        netloc = netloc.rstrip(b":")
    port = _port(netloc)
    host = _hostname(netloc)
    if scheme.startswith(b"http") and host is None and path is not None:
        first, _, rest = path.lstrip(b"/").partition(b"/")
        host, path = first, b"/" + rest
    last_delimiter = b"?" if raw.endswith(b"?") and query is None else None
    # Google's canonicaliser
    if query:
        query = _escape_once(_unescape_repeatedly(query))
    if host:
        host = _unescape_repeatedly(host)
        try:
            host.decode("ascii")
        except UnicodeDecodeError:
            try:
                host = host.decode("utf-8", "ignore").encode("idna")
            except UnicodeError:
                pass
        host = host.replace(b"..", b".").strip(b".")
        host = _ip_host(host) or _escape_once(host.lower())
    path = _unescape_repeatedly(path or b"")
    if host:
        path = _normalize_path(path)
    path = _escape_once(path)
    # The Internet Archive's canonicaliser
    if host:
        host = host.lower()
        if scheme != b"dns":
            www = _WWW.match(host)
            if www:
                host = host[len(www.group(0)):]
    if port is not None and port == {b"http": 80, b"https": 443}.get(scheme.lower(), 0):
        port = None
    if path:
        path = path.lower()
        for pattern in _PATH_SESSION:
            found = pattern.match(path)
            if found:
                path = found.group(1) + found.group(3)
        if path.endswith(b"/") and len(path) > 1:
            path = path[:-1]
    if query:
        for pattern in _QUERY_SESSION:
            found = pattern.match(query)
            if found:
                query = found.group(1) + found.group(2) if found.group(2) else found.group(1)
        query = _alpha_reorder(query.lower())
        if query == b"":
            query = None
    elif not query:
        last_delimiter = None
    # The key: host reversed, ")", path, query
    if host:
        out = b",".join(reversed(host.split(b".")))
        if port is not None:
            out += b":%d" % port
        out += b")"
    else:
        out = scheme + b":"
    if path:
        out += path
    elif query is not None:
        out += b"/"
    if query is not None:
        out += b"?" + query
    if last_delimiter is not None:
        out += last_delimiter
    return out
