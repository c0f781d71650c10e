"""The discovery step of a crawl: listing chains, feeds and sitemaps, turned into offered article URLs.

Per source: the articles left pending by earlier runs are offered first, then every start
page's listing chain is walked (a start page and its pagination) beside the feeds, the
configured sitemaps and those robots.txt names.  A chain is walked until a page lists nothing
left to archive (once the chain has been walked to its end before), a page repeats earlier
ones, a 404, the host is given up, or ``listing_depth``.  Listing pages and feeds are fetched
with conditional requests; on a 304 the archive worker re-reads the page from the WARC it was
first recorded in, so articles on it that are not archived yet are not lost.  The validators
of a 200 are remembered only once the page's links are in the frontier: a run killed in
between fetches the page in full next time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import trio

from crawler.archive.catalog import Store
from crawler.archive.crawl_state import CacheEntry
from crawler.codings import ContentDecodingError
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import ArchiveReply
from crawler.crawl.archiving import Archiving, PageTracker, write_turn
from crawler.crawl.fetching import Fetching
from crawler.crawl.frontier import Frontier
from crawler.crawl.stats import Listener, SourceStats
from crawler.discovery.feed_index import feed_links
from crawler.models import FetchResult
from crawler.net.urls import origin
from crawler.parse.normalize import decode_html

MAX_SITEMAPS = 50  # sitemap files read per source per run (indexes can be huge)
Offer = tuple[str, PageTracker | None]
PageKind = Literal["listing", "feed", "sitemap"]


@dataclass(frozen=True, slots=True)
class _Page:
    reply: ArchiveReply
    final: FetchResult
    commit: Callable[[], None]


class Discovery:
    """Discovery for one run; ``frontiers`` holds each source's :class:`Frontier`."""

    def __init__(self, fetching: Fetching, archiving: Archiving, store: Store, stats: dict[str, SourceStats],
                 frontiers: dict[str, Frontier], listener: Listener, *, since: datetime | None,
                 refresh: bool) -> None:
        self.fetching = fetching
        self.archiving = archiving
        self.store = store
        self.stats = stats
        self.frontiers = frontiers
        self.listener = listener
        self.since = since
        self.refresh = refresh

    async def discover(self, source: SourceConfig, offer: trio.MemorySendChannel[Offer]) -> None:
        await self.offer(source, [url for _id, url, _n in self.store.pending(source.key)], offer, resumed=True)
        if self.refresh:
            await self.offer(source, [url for _id, url in self.store.archived_urls(source.key)], offer, resumed=True)
        async with trio.open_nursery() as nursery:
            for start in source.start_pages:
                nursery.start_soon(self.walk, source, start, offer)
            nursery.start_soon(self.read_feeds, source, offer)

    async def offer(self, source: SourceConfig, urls: list[str], offer: trio.MemorySendChannel[Offer],
                    tracker: PageTracker | None = None, *, resumed: bool = False) -> int:
        """Queue the article URLs the frontier admits; returns how many of ``urls`` are not archived yet."""
        if resumed:  # nothing written
            admitted, unarchived = self.frontiers[source.key].admit(urls, resumed=True)
        else:
            async with write_turn(self.store):
                admitted, unarchived = self.frontiers[source.key].admit(urls)
        stats = self.stats[source.key]
        for _article_id, url in admitted:
            stats.discovered += 1
            self.listener("discovered", source.key, url)
            if tracker is not None:
                tracker.pending += 1
            try:  # into the channel's buffer at once (a send that does not wait is a task switch less per URL)
                offer.send_nowait((url, tracker))
            except trio.WouldBlock:
                await offer.send((url, tracker))
        if admitted:
            await trio.lowlevel.checkpoint()  # one schedule point per batch (each send was one)
        return unarchived

    # -- listing chains --------------------------------------------------------------------------

    async def walk(self, source: SourceConfig, start: str, offer: trio.MemorySendChannel[Offer]) -> None:
        # A chain whose last walk was cut short (killed, stopped, over budget) is walked past pages
        # with nothing new: older articles may wait further on.
        finished_before = self.store.walk_complete(start)
        async with write_turn(self.store):
            self.store.set_walk(start, complete=False)
        if await self._walk_chain(source, start, offer, stop_when_nothing_new=finished_before):
            async with write_turn(self.store):
                self.store.set_walk(start, complete=True)

    async def _walk_chain(self, source: SourceConfig, start: str, offer: trio.MemorySendChannel[Offer], *,
                          stop_when_nothing_new: bool) -> bool:
        """Walk one listing chain; True when it reached its end (not cut short)."""
        frontier = self.frontiers[source.key]
        url: str | None = start
        depth = 0
        listed: set[str] = set()  # article ids on earlier pages of this chain
        while url is not None and depth < source.listing_depth:
            if not frontier.budget_left():
                return False
            depth += 1
            page = await self.get_page(source, url, "listing", first=depth == 1)
            if page is None:
                return self.fetching.gate(source, url).deferred is None  # a host given up: walk it again
            listing = page.reply.listing
            if listing is None:
                return True
            tracker = PageTracker() if self.since is not None else None
            self._count_listed(source, listing.article_urls)
            # Articles of this page not archived yet (queued now, earlier in this run, or pending).
            fresh = await self.offer(source, list(listing.article_urls), offer, tracker)
            page.commit()
            ids = {i for i in map(source.article_id, listing.article_urls) if i is not None}
            if depth > 1 and ids <= listed:
                return True  # the same articles again: a page without pagination (the home page) or its end
            listed |= ids
            if fresh == 0 and depth > 1 and stop_when_nothing_new:
                return True  # nothing to archive on this page: older pages were walked before
            if tracker is not None and tracker.pending > 0:
                await tracker.done.wait()
                if not tracker.recent:
                    return True  # every article of this page is older than --since
            url = source.real_url(listing.next_url) if listing.next_url else None
        return True

    # -- feeds and sitemaps ----------------------------------------------------------------------

    async def read_feeds(self, source: SourceConfig, offer: trio.MemorySendChannel[Offer]) -> None:
        """Feeds, configured sitemaps, sitemaps named in robots.txt and the sitemaps their indexes name."""
        queue: list[tuple[str, PageKind]] = [(u, "feed") for u in source.feeds]
        for index in source.feed_index:  # pages that list feeds (Huế's site map): their feed links
            queue += [(u, "feed") for u in await self.read_feed_index(source, index)]
        queue += [(u, "sitemap") for u in source.sitemaps]
        for site in dict.fromkeys(origin(u) for u in (source.base_url, *source.start_pages)):
            robots = await self.fetching.robots_for(source, site + "/")  # cached per host for the run
            queue += [(source.real_url(u), "sitemap") for u in robots.sitemaps if source.covers(u)]
        queue = list(dict.fromkeys(queue))  # a sitemap both configured and named in robots.txt: once
        first = set(queue)
        queued = {url for url, _kind in queue}
        sitemaps_read = 0
        while queue:
            url, kind = queue.pop(0)
            if kind == "sitemap":
                if sitemaps_read >= MAX_SITEMAPS:
                    continue
                sitemaps_read += 1
            page = await self.get_page(source, url, kind, first=(url, kind) in first)
            if page is None:
                continue
            for child in map(source.real_url, page.reply.children):
                if source.covers(child) and child not in queued:
                    queued.add(child)
                    queue.append((child, "sitemap"))
            since = self.since
            self._count_listed(source, [e.url for e in page.reply.entries])
            await self.offer(source, [e.url for e in page.reply.entries
                                      if since is None or e.published is None or e.published >= since], offer)
            page.commit()

    async def read_feed_index(self, source: SourceConfig, url: str) -> list[str]:
        """The feeds a feed index page links (the page is recorded in the WARC; a failure is the run's)."""
        stats = self.stats[source.key]
        stats.entry_points += 1
        fetched = await self.fetching.fetch(source, url)
        if fetched.results is None:
            if fetched.disallowed:
                stats.disallowed += 1
            if not fetched.deferred:
                stats.failures[url] = f"feed index: {fetched.why}"
            return []
        await self.archiving.record(source, fetched.results)
        final = fetched.results[-1]
        if final.status != 200:
            stats.failures[url] = f"feed index: HTTP {final.status}"
            return []
        try:
            html = decode_html(final.content, final.header("content-type"))
        except ContentDecodingError as err:
            stats.failures[url] = f"feed index: {err}"
            return []
        stats.entry_points_ok += 1
        self.listener("listing", source.key, url)
        return feed_links(html, source.real_url(final.url), source.feed_link_pattern, source.covers, source.real_url)

    def _count_listed(self, source: SourceConfig, urls: Iterable[str]) -> None:
        """Count the article URLs of the source a page names (archived or not, recent or not): a run whose
        pages name none is flagged (:attr:`~crawler.crawl.stats.SourceStats.unreachable`)."""
        self.stats[source.key].listed += sum(source.article_id(source.real_url(u)) is not None for u in urls)

    # -- one page --------------------------------------------------------------------------------

    async def get_page(self, source: SourceConfig, url: str, kind: PageKind, *, first: bool) -> _Page | None:
        """Fetch a listing, feed or sitemap (conditionally) and have it archived and parsed."""
        stats = self.stats[source.key]
        cached = self.store.cached(url)
        headers = cached.conditional_headers() if cached is not None else {}
        if first:
            stats.entry_points += 1
        fetched = await self.fetching.fetch(source, url, headers)
        if fetched.results is None:
            if fetched.disallowed:
                stats.disallowed += 1
            if not fetched.deferred and (first or fetched.disallowed):
                stats.failures[url] = f"{kind}: {fetched.why}"
            return None
        final = fetched.results[-1]
        not_modified = final.status == 304 and cached is not None
        reply = await self.archiving.page(source, kind, fetched.results, cached if not_modified else None)
        if not not_modified and final.status != 200:
            if first:  # a 404 past the first page of a listing is the end of its pagination
                stats.failures[url] = f"{kind}: HTTP {final.status}"
            return None
        if reply.problem is not None:
            if not_modified:  # the recorded page cannot be read back: fetch it in full next time
                self.store.forget(url)
            stats.failures[url] = f"{kind}: {reply.problem}"
            return None
        setattr(stats, f"{kind}s", getattr(stats, f"{kind}s") + 1)
        if not_modified and kind == "listing":
            stats.listings_not_modified += 1
        if first:
            stats.entry_points_ok += 1
        self.listener("listing", source.key, url)
        if not_modified or reply.digest is None:
            return _Page(reply, final, lambda: None)
        cache = CacheEntry.of_response(url, final, reply.digest, reply.locations[-1])
        return _Page(reply, final, lambda: self.archiving.remember(cache))
