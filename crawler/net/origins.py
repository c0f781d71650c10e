"""Serving a real host from another origin (the offline mirror): curl's ``--connect-to``, for the crawler.

``--origin baocantho.com.vn=http://127.0.0.1:8001`` means: whenever the crawler would
connect to ``https://baocantho.com.vn``, it connects to ``http://127.0.0.1:8001`` instead
and sends the request it would have sent to the real host (same path, ``Host:
baocantho.com.vn``).  Everything else keeps the real URL: the frontier, the catalog, the
WARC-Target-URI of every record (so two mirror runs on different ports archive an article
under one URI, and replay tools look pages up by their real address).  The WARC stays
truthful about where the bytes came from: ``WARC-IP-Address`` is the mirror's address and
each file's ``warcinfo`` names the mapping (``x-crawler-origins``).  See
docs/decisions/0002-mirror-origins.md.

A page served by the mirror to a browser links to the mirror's own origins; such a URL
(``http://127.0.0.1:8001/x-a1.html``) found anywhere is mapped back to the real one with
:meth:`Origins.real`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import urlsplit

from crawler.errors import ConfigError
from crawler.net.urls import host_key


@dataclass(frozen=True, slots=True)
class Origins:
    """Real origin -> origin actually connected to, and back.

    ``wire`` maps a real host key (``baocantho.com.vn``) to the origin to connect to
    (``http://127.0.0.1:8001``); ``back`` maps that origin's host key (``127.0.0.1:8001``)
    to the real origin (``https://baocantho.com.vn``).
    """

    wire: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    back: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __bool__(self) -> bool:
        return bool(self.wire)

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]], real_origins: Mapping[str, str]) -> Origins:
        """``pairs`` of (real host, origin URL); ``real_origins`` maps each configured host key to its
        real origin (``https://host``).  A host no source has, or a malformed origin, is a
        :class:`ConfigError`: a typo must not send a test crawl to the real newspapers."""
        wire: dict[str, str] = {}
        back: dict[str, str] = {}
        for host, url in pairs:
            key = host_key(host.strip())
            if not key or key not in real_origins:
                known = ", ".join(sorted(real_origins))
                raise ConfigError(f"--origin {host}={url}: no configured source has host {host!r} (known: {known})")
            try:
                parts = urlsplit(url.strip())
                parts.port  # noqa: B018 -- raises ValueError for a bad port
            except ValueError as err:
                raise ConfigError(f"--origin {host}={url}: not a usable origin URL ({err})") from None
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
                    or parts.query or parts.fragment or parts.username or parts.password:
                raise ConfigError(f"--origin {host}={url}: the origin must be scheme://host[:port], "
                                  f"e.g. http://127.0.0.1:8001")
            origin = f"{parts.scheme}://{parts.netloc}"
            target = host_key(origin)
            if target in back and back[target] != real_origins[key]:
                raise ConfigError(f"--origin {host}={url}: {origin} already serves another host")
            if key in wire and wire[key] != origin:
                raise ConfigError(f"--origin given twice for {host!r}")
            wire[key] = origin
            back[target] = real_origins[key]
        return cls(MappingProxyType(wire), MappingProxyType(back))

    def connect_url(self, url: str) -> str | None:
        """The URL to connect to for a real URL, or None when its host is not remapped."""
        if not self.wire:
            return None
        origin = self.wire.get(host_key(url))
        if origin is None:
            return None
        return origin + _rest(url)

    def real(self, url: str) -> str:
        """A URL on a mirror origin, mapped back to the real host; any other URL unchanged."""
        if not self.back:
            return url
        origin = self.back.get(host_key(url))
        if origin is None:
            return url
        return origin + _rest(url)

    def describe(self) -> str:
        """``host=origin`` pairs, for the warcinfo record."""
        return " ".join(f"{host}={origin}" for host, origin in sorted(self.wire.items()))


NO_ORIGINS = Origins()


# scheme://authority of a URL, when both are plain ASCII (nothing urlsplit strips, removes or checks
# further: C0 controls, spaces, tab, CR, LF, non-ASCII): the Host is that of this prefix alone, whatever
# follows (urlsplit's netloc ends at the first of "/?#").
_PLAIN_ORIGIN = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#\x00-\x20\x7f-\U0010ffff]*(?=[/?#]|$)")


def host_header(url: str) -> str:
    """The ``Host`` header a request for ``url`` carries: the host (IDNA) and a port unless the default.

    Worked out once per scheme and authority (every request of a mirror run asks).
    """
    origin = _PLAIN_ORIGIN.match(url)
    if origin is not None:
        return _origin_host_header(origin.group(0))
    return _host_header(url)


@functools.lru_cache(maxsize=1024)
def _origin_host_header(origin: str) -> str:
    return _host_header(origin)


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").encode("idna").decode("ascii")
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = 443 if parts.scheme == "https" else 80
    return host if port is None or port == default else f"{host}:{port}"


def _rest(url: str) -> str:
    """Path, query (and nothing else) of an absolute URL, ``/`` when it has no path."""
    scheme_end = url.find("//")
    slash = url.find("/", scheme_end + 2) if scheme_end >= 0 else -1
    query = url.find("?", scheme_end + 2) if scheme_end >= 0 else -1
    cut = min(i for i in (slash, query, len(url)) if i >= 0)
    rest = url[cut:].split("#", 1)[0]
    return rest if rest.startswith("/") else "/" + rest
