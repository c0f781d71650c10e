"""Following redirects: one hop at a time, each hop a :class:`~crawler.models.FetchResult` of its own.

Part of the network's fetching (:mod:`crawler.net.fetcher`): the client never follows a redirect
itself, so that every hop is archived; :class:`FollowsRedirects` (a base of
:class:`~crawler.net.fetcher.Fetcher`) resolves each ``Location``, vets it (scheme, credentials,
the caller's ``allow``, loops, length) and asks the fetcher for it.  A chain that cannot be
followed raises :class:`RedirectError`, which carries the hops fetched so far.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol
from urllib.parse import urldefrag, urljoin, urlsplit

from crawler.errors import PermanentFetchError, TransientFetchError
from crawler.models import FetchResult
from crawler.net.origins import Origins
from crawler.net.urls import absolute, has_credentials

__all__ = ["REDIRECT_STATUSES", "FollowsRedirects", "RedirectError"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class RedirectError(PermanentFetchError):
    """A redirect chain that cannot be followed (loop, too long, disallowed or bad Location).

    ``hops`` holds the responses fetched before giving up, so that they can still be archived.
    """

    def __init__(self, message: str, *, url: str, hops: tuple[FetchResult, ...]) -> None:
        super().__init__(message, url=url, status=hops[-1].status if hops else None)
        self.hops = hops


class _FetchesOnce(Protocol):
    """What following needs of a fetcher: one GET (redirects returned) and the origins it connects to."""

    origins: Origins

    async def fetch(
        self, url: str, headers: Mapping[str, str] | None = None, *, on_send: Callable[[], None] | None = None,
        give_up: Callable[[TransientFetchError], bool] | None = None,
    ) -> FetchResult: ...


class FollowsRedirects:
    """Adds :meth:`fetch_following` to a class with :meth:`fetch` and ``origins`` (the Fetcher)."""

    async def fetch_following(
        self: _FetchesOnce,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        max_redirects: int = 10,
        allow: Callable[[str], bool] = lambda u: True,
        on_send: Callable[[], None] | None = None,
        give_up: Callable[[TransientFetchError], bool] | None = None,
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
