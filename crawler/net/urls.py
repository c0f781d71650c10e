"""Pure URL helpers: host keys, joining, and same-site checks.

``host_key`` is the crawler's notion of host identity: a source *covers* a URL when the URL's
host key is one of the source's, and politeness, robots.txt and redirects are decided by it.
Whatever a host key accepts must therefore be exactly where the connection goes, so it parses
the authority the way httpx2 (the HTTP client) does and gives up (``""``) on anything the two
could read differently.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import idna

_DEFAULT_PORTS = {"http": 80, "https": 443}
# The common cases, answered without the general parser: http(s)://name.tld[:port] or a
# canonical dotted-quad IPv4 literal (no leading zeros: what ipaddress accepts), followed by the
# end of the authority.  A name's last label starts with a letter, so it is no IPv4 form.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_FAST_HOST = re.compile(
    rf"(https?)://((?:[a-z0-9-]+\.)+[a-z][a-z0-9-]*|{_OCTET}(?:\.{_OCTET}){{3}})(?::([0-9]{{1,5}}))?(?=[/?#]|$)"
)
# Longer authorities (a 253-character name, a port, credentials) have no key; this also bounds
# what the cache below holds.
_MAX_AUTHORITY = 512
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_BRACKETED = re.compile(r"\[([^\[\]]+)\](?::([^:]*))?")
_PORT = re.compile(r"[0-9]{1,5}")
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # what httpx2 validates as an IPv4 literal
_LABEL = re.compile(r"[a-z0-9_-]+")
# A last label that inet_aton (and the WHATWG URL parser) reads as a number: "127.1", "0x7f.1",
# "2130706433", "127.0.0.1." all reach an IPv4 address without being one of its literals.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
# An absolute URL made of safe characters only, with a host of letters, digits, dots, '-' and a port.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?")


def host_key(url_or_host: str) -> str:
    """The identity of the host a URL connects to: ``host[:port]``, or ``""`` when there is none.

    ``url_or_host`` is an ``http(s)://`` URL, a scheme-relative ``//authority`` or a bare
    ``host[:port]`` (sources.yaml).  The key is lower case; a default port (80 for http, 443 for
    https) is dropped from URLs (a bare string keeps any port it has: it has no scheme to have a
    default); a DNS name loses one trailing dot and a leading ``www.`` (repeatedly, as long as
    a name of two labels or more remains).  IPv6 literals keep their brackets, in compressed
    form: ``[::1]:8080`` (``::1`` port 8080) and ``[::1:8080]`` (``::1:8080`` port 80) are two
    hosts.  IPv4 literals must be dotted-quad; non-ASCII names are IDNA-encoded as httpx2 does.

    ``""`` (which no source may cover) for: another scheme, an unparsable authority (or one of
    more than 512 characters), a port that is not 1-65535 in ASCII digits, an unbracketed IPv6
    address (``::1:8080`` is ambiguous), a name with characters outside ``[a-z0-9_-.]`` or an
    empty label, and a name whose last label is numeric (``127.1``, ``www.127.0.0.1``,
    ``0x7f000001``: resolvers read them as IPv4 addresses that are not literals here).

    >>> host_key("https://WWW.BaoCanTho.com.vn:443/x")
    'baocantho.com.vn'
    >>> host_key("http://127.0.0.1:8080/")
    '127.0.0.1:8080'
    >>> host_key("http://[::1]:8080/"), host_key("http://[::1:8080]/"), host_key("::1:8080")
    ('[::1]:8080', '[::1:8080]', '')
    """
    fast = _FAST_HOST.match(url_or_host)
    if fast is not None:
        host, port = _strip_www(fast.group(2)), fast.group(3)
        number = None if port is None else int(port)
        if number is None or number == _DEFAULT_PORTS[fast.group(1)]:
            return host
        return f"{host}:{number}" if 0 < number < 65536 else ""
    if url_or_host.startswith("//"):
        scheme, rest = "", url_or_host[2:]
    elif "//" not in url_or_host:
        scheme, rest = "", url_or_host
    else:
        match = _SCHEME.match(url_or_host)
        if match is None or match.group(1).lower() not in _DEFAULT_PORTS:
            return ""
        scheme, rest = match.group(1).lower(), url_or_host[match.end():]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]  # httpx2: authority = [^/?#]*
    if len(authority) > _MAX_AUTHORITY:
        return ""
    return _authority_key(authority, scheme)


@functools.lru_cache(maxsize=4096)  # a crawl sees few authorities, each in thousands of links
def _authority_key(authority: str, scheme: str) -> str:
    hostport = authority.rpartition("@")[2]  # httpx2 and urllib split userinfo at the last '@'
    bracketed = _BRACKETED.fullmatch(hostport)
    if bracketed is not None:
        try:
            address = ipaddress.IPv6Address(bracketed.group(1))
        except ValueError:
            return ""
        host, port = f"[{address.compressed}]", bracketed.group(2)
    else:
        raw, colon, port_text = hostport.partition(":")
        name = _host_name(raw)
        if not name:
            return ""
        host, port = name, port_text if colon else None
    if port is None or port == "":  # "host:" means the default port, to httpx2 as to urllib
        return host
    if _PORT.fullmatch(port) is None or not 0 < int(port) < 65536:
        return ""
    if int(port) == _DEFAULT_PORTS.get(scheme):
        return host
    return f"{host}:{int(port)}"


def _host_name(raw: str) -> str:
    """An IPv4 literal or a DNS name, normalised; "" when it is neither."""
    if _IPV4_STYLE.fullmatch(raw):
        try:
            return str(ipaddress.IPv4Address(raw))
        except ValueError:  # "127.000.0.1", "1.2.3.256": httpx2 refuses them too
            return ""
    if raw.isascii():
        name = raw.lower()
    else:  # exactly what httpx2 does with a non-ASCII host
        try:
            name = idna.encode(raw.lower()).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return ""
    name = name.removesuffix(".")
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels) or _NUMERIC_LABEL.fullmatch(labels[-1]):
        return ""
    return _strip_www(name)


def _strip_www(name: str) -> str:
    while name.startswith("www.") and "." in name[4:]:
        name = name[4:]
    return name


def origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``, in canonical form, without its fragment; None for non-HTTP links.

    This is the edge every link crosses (listings, feeds, sitemaps, images, canonical links,
    redirects), so one URL has one form in the frontier, the WARC and the catalog:

    - surrounding white space and control characters are dropped and ASCII tabs and line
      breaks removed anywhere, as browsers do (WHATWG URL);
    - in the path and query, everything that is not allowed in an RFC 3986 URI (spaces,
      controls, U+00A0, U+2028, U+0085, zero-width and bidi characters, any non-ASCII, ``"<>`{}|\\^``,
      a ``%`` not followed by two hex digits) is percent-encoded (UTF-8), valid ``%XX`` kept;
    - a non-ASCII host is IDNA-encoded (what httpx2 sends);
    - a link with credentials (``user:pass@host``) is refused, as a redirect to one is
      (:func:`has_credentials`).
    """
    href = _TAB_OR_NEWLINE.sub("", href.strip().strip(_C0_AND_SPACE))
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
        return None
    plain = _PLAIN_URL.fullmatch(href) if href.startswith(("http://", "https://")) else None
    if plain and "/." not in href and (plain.group(1) is None or int(plain.group(1)[1:]) <= 65535) \
            and ("%" not in href or _LONE_PERCENT.search(href) is None):
        return href if plain.group(2) else href + "/"  # already absolute and normal: no urljoin needed
    try:
        joined = urljoin(base, href)
        parts = urlsplit(joined)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:  # "Invalid IPv6 URL", a port out of range, ...
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc or has_credentials(joined):
        return None
    netloc = parts.netloc
    if not netloc.isascii():
        host, colon, port = netloc.rpartition(":") if not netloc.endswith("]") else (netloc, "", "")
        if not colon or not port.isdigit():
            host, colon, port = netloc, "", ""
        try:
            netloc = idna.encode(host.lower(), uts46=True).decode("ascii") + colon + port
        except (idna.IDNAError, UnicodeError):
            return None
    try:
        return urlunsplit((parts.scheme, netloc, _uri_part(parts.path or "/"), _uri_part(parts.query), ""))
    except UnicodeEncodeError:  # a lone surrogate
        return None


def has_credentials(url: str) -> bool:
    """True when the URL's authority carries a user part (``user@``, ``user:pass@``).

    Such a link or redirect is refused: ``http://covered.host@127.0.0.1/`` reads as the covered
    host to a person, and the client would turn the user part into an ``Authorization`` header
    the page chose.
    """
    rest = url.split("//", 1)[1] if "//" in url else url
    return "@" in re.split(r"[/?#\\]", rest, maxsplit=1)[0]


def _uri_part(text: str) -> str:
    if _URI_CHARS.fullmatch(text) and _LONE_PERCENT.search(text) is None:
        return text
    return quote(_LONE_PERCENT.sub("%25", text), safe=_URI_SAFE, encoding="utf-8", errors="strict")


# WHATWG: leading and trailing C0 controls and spaces are stripped, ASCII tab and newline removed.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# What RFC 3986 allows in a path or query besides unreserved characters ('%' for valid escapes).
_URI_SAFE = "!$&'()*+,;=:@/?%"
_URI_CHARS = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@/?%-]*")


def url_path(url: str) -> str:
    """The path of a URL, or "" when the URL cannot be parsed (a page's href can be anything)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


# Article ids.  A source's URL pattern says which *shape* its ids have (sources.yaml
# ``article_url_pattern: [{pattern: ..., id: hex, prefix: ...}]``); each shape is a fixed ASCII
# alphabet with a bounded length, so every id is a safe file name (``text/<source>/…/<id>.txt``)
# and one article has one id:
#
# - ``decimal``: ``[1-9][0-9]{0,17}``, no leading zero (fits a signed 64-bit integer).  ``\d`` and
#   ``str.isdigit()`` also accept Arabic-Indic, fullwidth and superscript digits, which would make
#   file names and catalog keys that no later run can settle.
# - ``hex``: ``[0-9a-f]{1,32}``, lower-cased (``…-0E36A0A/`` and ``…-0e36a0a/`` are one article);
#   leading zeros are kept (the Java platform's ids are seven digits wide: ``0e36a0a``).
#
# A *prefix* (``[a-z]{1,12}``, joined with ``-``) keeps two numberings of one source apart: Phú Yên's
# legacy decimal ids and its platform's hex ids are different counters, and a hex id may be all
# digits (``1234567``), so ``legacy-64112`` and ``1234567`` can never name the same article.  An id
# without a prefix never contains ``-``, hence no prefixed id equals an unprefixed one.
ID_SHAPES: dict[str, re.Pattern[str]] = {
    "decimal": re.compile(r"[1-9][0-9]{0,17}"),
    "hex": re.compile(r"[0-9a-f]{1,32}"),
}
ID_PREFIX = re.compile(r"[a-z]{1,12}")
MAX_ARTICLE_ID = 12 + 1 + 32  # the longest prefix, "-", the longest shape


def valid_article_id(value: str | None, shape: str = "decimal", prefix: str = "") -> str | None:
    """The canonical article id of ``value`` in ``shape`` (with ``prefix``), or None when it is none.

    The one check every article id goes through, whether it comes from a URL pattern
    or from the page (``#txtnewsid``, ``meta article:id``, a trailing number).

    >>> valid_article_id("165689"), valid_article_id("٥٠٠١"), valid_article_id("0123")
    ('165689', None, None)
    >>> valid_article_id("0E36A0A", "hex"), valid_article_id("64112", "decimal", "legacy")
    ('0e36a0a', 'legacy-64112')
    """
    if value is None or not value.isascii() or len(value) > 32:
        return None
    if shape == "hex":
        value = value.lower()
    pattern = ID_SHAPES.get(shape)
    if pattern is None or not pattern.fullmatch(value):
        return None
    if prefix:
        return f"{prefix}-{value}" if ID_PREFIX.fullmatch(prefix) else None
    return value
