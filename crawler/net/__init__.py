"""The network: one URL in, one exchange (wire bytes and raw heads) out.

Owns: fetching (:mod:`.fetcher` and :mod:`.wire`, the only httpx users; its policy and errors in
:mod:`.fetch_policy`, redirects in :mod:`.redirects`), connections and the address check
(:mod:`.connect`), serving a real host from another origin (:mod:`.origins`), per-host
politeness (:mod:`.politeness`), robots.txt (:mod:`.robots`) and URL helpers (:mod:`.urls`).
May import: :mod:`crawler.models`, :mod:`crawler.codings`, :mod:`crawler.errors` (the base) only;
it knows nothing of sources, pages or archives.
Offers: :class:`~crawler.net.fetcher.Fetcher`, :class:`~crawler.net.politeness.HostGate`,
:func:`~crawler.net.urls.host_key` and friends.
"""
