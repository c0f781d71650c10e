"""Pure URL helpers: host keys, joining, and same-site checks."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_FAST_HOST = re.compile(r"(https?)://([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?(?=[/?#]|$)")
# An absolute URL made of safe characters only, with a host of letters, digits, dots, '-' and a port.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?")


def host_key(url_or_host: str) -> str:
    """``host[:port]`` in lower case, default ports and a leading ``www.`` dropped.

    >>> host_key("https://WWW.BaoCanTho.com.vn:443/x")
    'baocantho.com.vn'
    >>> host_key("http://127.0.0.1:8080/")
    '127.0.0.1:8080'
    """
    fast = _FAST_HOST.match(url_or_host)
    if fast is not None:  # the common case, without urlsplit: http(s)://host[:port]/...
        host, port = fast.group(2), fast.group(3)
        host = host[4:] if host.startswith("www.") else host
        if port is None or int(port) == _DEFAULT_PORTS[fast.group(1)]:
            return host
        return f"{host}:{port}"
    if "//" not in url_or_host:
        url_or_host = "//" + url_or_host
    try:
        parts = urlsplit(url_or_host)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:  # e.g. "Invalid IPv6 URL"
        return ""
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        port = None
    default = _DEFAULT_PORTS.get(parts.scheme or "", -1)
    if port is not None and port != default and not (parts.scheme == "" and port in _DEFAULT_PORTS.values()):
        return f"{host}:{port}"
    return host


def origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base`` without its fragment; None for non-HTTP links."""
    href = href.strip()
    if not href or href.startswith(("javascript:", "mailto:", "tel:", "#", "data:")):
        return None
    plain = _PLAIN_URL.fullmatch(href) if href.startswith(("http://", "https://")) else None
    if plain and "/." not in href and (plain.group(1) is None or int(plain.group(1)[1:]) <= 65535):
        return href if plain.group(2) else href + "/"  # already absolute and normal: no urljoin needed
    try:
        joined = urljoin(base, href)
        parts = urlsplit(joined)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError:  # "Invalid IPv6 URL", a port out of range, ...
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def url_path(url: str) -> str:
    """The path of a URL, or "" when the URL cannot be parsed (a page's href can be anything)."""
    try:
        return urlsplit(url).path
    except ValueError:
        return ""


# An article id: ASCII digits only, no leading zero, at most 18 digits (fits a signed 64-bit
# integer).  ``str.isdigit()`` and ``\d`` also accept Arabic-Indic, fullwidth and superscript
# digits, which would make file names and catalog keys that no later run can settle.
_ARTICLE_ID = re.compile(r"[1-9][0-9]{0,17}")
MAX_ARTICLE_ID_DIGITS = 18


def valid_article_id(value: str | None) -> str | None:
    """``value`` when it is a valid article id (``[1-9][0-9]{0,17}``, ASCII), else None.

    The one check every article id goes through, whether it comes from a URL pattern
    or from the page (``#txtnewsid``, ``meta article:id``, a trailing number).

    >>> valid_article_id("165689"), valid_article_id("٥٠٠١"), valid_article_id("0123")
    ('165689', None, None)
    """
    if value is None or not value.isascii():
        return None
    return value if _ARTICLE_ID.fullmatch(value) else None
