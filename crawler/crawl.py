"""The crawl engine behind ``crawler crawl``: discovery, politeness, incremental state, under trio.

One nursery per run.  Per source, discovery tasks walk listing chains, feeds and
sitemaps and *offer* article URLs; a URL is queued once per run and only when its
article is not archived yet (``--refresh`` re-queues archived ones).  Offered URLs go
through a bounded channel to the source's fetch workers; every fetch passes the
host's :class:`~crawler.politeness.HostGate` and a global limiter.  Fetched exchanges
go through a second bounded channel to the archive stage, which writes the WARC
records first, then has the snapshot parsed and written (in this process or in
extraction worker processes, :mod:`crawler.workers`) and adds its catalog row.  A slow
writer slows the fetchers (bounded channels), and a slow host only holds its own workers.

Listing pages and feeds are fetched every run with conditional requests; a 304
becomes a ``revisit`` record and the page is re-read from the WARC it was first
archived in, so articles found on it but not yet archived are not lost.  Articles
discovered but not archived are kept in the catalog's frontier table, so the next
run resumes them first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import trio

from crawler.archiver import Archive, payload_digest
from crawler.archiver import cache_entry as _cache_entry
from crawler.config import SourceConfig, Sources
from crawler.discovery import XMLFormatError, parse_feed, parse_sitemap
from crawler.errors import ArchiveError, FetchError, PermanentFetchError
from crawler.extraction import WORKER_DIED, Extracted, ExtractJob
from crawler.fetcher import Fetcher, RedirectError
from crawler.models import FetchResult, WarcLocation
from crawler.politeness import HostGate
from crawler.robots import Robots, agent_token
from crawler.store import CacheEntry
from crawler.urls import host_key, origin
from crawler.warc import read_response_at
from crawler.workers import Extractor, make_extractor

log = logging.getLogger("crawler.crawl")

MAX_ATTEMPTS = 3  # runs in which an article may fail before it leaves the frontier for good
MAX_SITEMAPS = 50  # sitemap files read per source per run (indexes can be huge)


@dataclass(slots=True)
class CrawlOptions:
    max_articles: int | None = None  # new articles per source
    since: datetime | None = None
    refresh: bool = False
    global_concurrency: int = 16
    delay: float | None = None  # overrides every source's per-host delay (CLI)
    host_concurrency: int | None = None  # overrides every source's per-host concurrency (CLI)
    respect_robots: bool | None = None  # overrides the sources' setting (CLI)
    grace: float = 10.0  # seconds in-flight fetches get after a stop request
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0
    workers: int = 0  # extraction worker processes (0: parse in the crawl process)


@dataclass(slots=True)
class SourceStats:
    source: str
    discovered: int = 0
    new: int = 0
    changed: int = 0  # --refresh: a new snapshot version
    revisits: int = 0  # 304s and identical payloads
    listings: int = 0
    feeds: int = 0
    sitemaps: int = 0
    disallowed: int = 0
    extraction_failures: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # URL -> why (permanent for this run)

    @property
    def collapsed(self) -> bool:
        """The sign of a redesign: articles were attempted, none gave a complete snapshot."""
        return self.extraction_failures > 0 and self.new + self.changed == 0 and self.extraction_failures >= min(
            3, self.discovered
        )

    def summary(self) -> str:
        return (f"{self.source}: {self.new} new, {self.changed} changed, {self.revisits} revisits, "
                f"{len(self.failures)} failures ({self.extraction_failures} extraction) "
                f"from {self.listings} listings, {self.feeds} feeds, {self.sitemaps} sitemaps")

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source, "discovered": self.discovered, "new": self.new, "changed": self.changed,
            "revisits": self.revisits, "listings": self.listings, "feeds": self.feeds, "sitemaps": self.sitemaps,
            "disallowed": self.disallowed, "extraction_failures": self.extraction_failures,
            "collapsed": self.collapsed, "failures": dict(sorted(self.failures.items())),
        }


EventKind = Literal["archived", "failed", "revisit", "discovered", "listing"]
Listener = Callable[[EventKind, str, str], None]  # (kind, source, url)


@dataclass(frozen=True, slots=True)
class _Job:
    source: SourceConfig
    url: str
    results: list[FetchResult]
    cached: CacheEntry | None
    done: trio.Event | None
    tracker: _PageTracker | None


@dataclass(frozen=True, slots=True)
class _Page:
    result: FetchResult
    content: bytes
    commit: Callable[[], None]


@dataclass(slots=True)
class _PageTracker:
    """With ``--since``: the articles a listing page offered, and whether any was recent."""

    pending: int = 0
    recent: bool = False
    done: trio.Event = field(default_factory=trio.Event)

    def settle(self, recent: bool) -> None:
        self.pending -= 1
        self.recent = self.recent or recent
        if self.pending <= 0:
            self.done.set()


class Crawl:
    """One run over some sources into one archive.  ``await run()`` once; ``stop()`` from a signal."""

    def __init__(self, sources: Sources, archive: Archive, fetcher: Fetcher, options: CrawlOptions | None = None,
                 *, listener: Listener | None = None) -> None:
        self.sources = sources
        self.archive = archive
        self.fetcher = fetcher
        self.options = options or CrawlOptions()
        self.listener = listener or (lambda kind, source, url: None)
        self.stats = {s.key: SourceStats(s.key) for s in sources}
        self.agent = agent_token(fetcher.policy.user_agent)
        self._allow_all = Robots.allow_all(self.agent)
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, Robots] = {}
        self._robots_lock: dict[str, trio.Lock] = {}
        self._seen: dict[str, set[str]] = {s.key: set() for s in sources}
        self._offered: dict[str, int] = {s.key: 0 for s in sources}
        self._limiter = trio.CapacityLimiter(max(1, self.options.global_concurrency))
        self._discovery_scopes: list[trio.CancelScope] = []
        self._run_scope = trio.CancelScope()
        self._extractor: Extractor = make_extractor(archive.root, tuple(sources), self.options.workers)
        self._extracting: dict[tuple[str, str], trio.Event] = {}  # (source, article id) in extraction
        self.stopping = False
        self.interrupted = False

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop discovering; in-flight fetches get ``options.grace`` seconds, then everything is cancelled."""
        if self.stopping:
            self._run_scope.cancel()  # a second signal: stop now
            return
        self.stopping = True
        self.interrupted = True
        for scope in self._discovery_scopes:
            scope.cancel()
        self._run_scope.deadline = min(self._run_scope.deadline, trio.current_time() + self.options.grace)

    async def run(self) -> dict[str, SourceStats]:
        with self._run_scope:
            archive_send, archive_recv = trio.open_memory_channel[_Job](32)
            try:
                async with trio.open_nursery() as nursery:
                    async with archive_recv:
                        for _ in range(self._extractor.parallelism):
                            nursery.start_soon(self._archive_stage, archive_recv.clone())
                    async with archive_send, trio.open_nursery() as sources_nursery:
                        for source in self.sources:
                            sources_nursery.start_soon(self._crawl_source, source, archive_send.clone())
            finally:
                self._extractor.close()
        return self.stats

    # -- per source --------------------------------------------------------------------------------

    def _politeness(self, source: SourceConfig) -> tuple[int, float]:
        concurrency = self.options.host_concurrency or source.politeness.concurrency
        delay = source.politeness.delay if self.options.delay is None else self.options.delay
        return concurrency, delay

    def _gate(self, source: SourceConfig, url: str) -> HostGate:
        host = host_key(url)
        if host not in self._gates:
            concurrency, delay = self._politeness(source)
            self._gates[host] = HostGate(host, concurrency=concurrency, delay=delay,
                                         threshold=self.options.breaker_threshold,
                                         cooldown=self.options.breaker_cooldown)
        return self._gates[host]

    async def _crawl_source(self, source: SourceConfig, archive_send: trio.MemorySendChannel[_Job]) -> None:
        concurrency, _ = self._politeness(source)
        workers = max(1, concurrency * len(source.hosts))
        offer_send, offer_recv = trio.open_memory_channel[tuple[str, _PageTracker | None]](max(64, workers * 4))
        async with archive_send, trio.open_nursery() as nursery:
            for _ in range(workers):
                nursery.start_soon(self._article_worker, source, offer_recv.clone(), archive_send.clone())
            await offer_recv.aclose()
            async with offer_send:
                scope = trio.CancelScope()
                self._discovery_scopes.append(scope)
                if self.stopping:
                    scope.cancel()
                with scope:
                    await self._discover(source, offer_send)

    async def _discover(self, source: SourceConfig, offer: trio.MemorySendChannel[tuple[str, _PageTracker | None]]
                        ) -> None:
        await self._offer(source, [url for _id, url, _n in self.archive.store.pending(source.key)], offer,
                          resumed=True)
        if self.options.refresh:
            await self._offer(source, [url for _id, url in self.archive.store.archived_urls(source.key)], offer,
                              resumed=True)
        async with trio.open_nursery() as nursery:
            for start in source.start_pages:
                nursery.start_soon(self._walk_listing, source, start, offer)
            nursery.start_soon(self._read_feeds, source, offer)

    def _budget_left(self, source: SourceConfig) -> bool:
        limit = self.options.max_articles
        return limit is None or self._offered[source.key] < limit

    async def _offer(self, source: SourceConfig, urls: list[str],
                     offer: trio.MemorySendChannel[tuple[str, _PageTracker | None]],
                     tracker: _PageTracker | None = None, *, resumed: bool = False) -> int:
        """Queue article URLs once per run, unless archived already (one catalog transaction for all).

        Returns how many of ``urls`` are articles not archived yet (queued now or earlier).
        """
        store, key = self.archive.store, source.key
        unarchived = 0
        queued: list[tuple[str, str]] = []
        for url in urls:
            article_id = source.article_id(url)  # None for other hosts and non-article URLs
            if article_id is None:
                continue
            archived = not resumed and store.has_article(key, article_id)
            unarchived += not archived
            if article_id in self._seen[key] or not self._budget_left(source):
                continue
            self._seen[key].add(article_id)
            if archived and not self.options.refresh:
                continue
            self._offered[key] += 1
            queued.append((article_id, url))
        if not resumed:
            store.enqueue_many(key, queued)
        for _article_id, url in queued:
            self.stats[key].discovered += 1
            self.listener("discovered", key, url)
            if tracker is not None:
                tracker.pending += 1
            await offer.send((url, tracker))
        return unarchived

    # -- discovery ---------------------------------------------------------------------------------

    async def _walk_listing(self, source: SourceConfig, start: str,
                            offer: trio.MemorySendChannel[tuple[str, _PageTracker | None]]) -> None:
        # A chain whose last walk was cut short (killed, stopped, over budget) is walked past pages
        # with nothing new: older articles may wait further on.
        finished_before = self.archive.store.walk_complete(start)
        self.archive.store.set_walk(start, complete=False)
        if await self._walk_chain(source, start, offer, stop_when_nothing_new=finished_before):
            self.archive.store.set_walk(start, complete=True)

    async def _walk_chain(self, source: SourceConfig, start: str,
                          offer: trio.MemorySendChannel[tuple[str, _PageTracker | None]], *,
                          stop_when_nothing_new: bool) -> bool:
        """Walk one listing chain; True when it reached its end (not cut short by the article budget)."""
        url: str | None = start
        depth = 0
        listed: set[str] = set()  # article ids on earlier pages of this chain
        while url is not None and depth < source.listing_depth:
            if not self._budget_left(source):
                return False
            depth += 1
            page = await self._get_page(source, url, kind="listing", first=depth == 1)
            if page is None:
                return True
            listing = self.archive.adapter(source).parse_listing(page.content, page.result.url)
            tracker = _PageTracker() if self.options.since is not None else None
            # Articles of this page not archived yet (queued now, earlier in this run, or pending).
            fresh = await self._offer(source, list(listing.article_urls), offer, tracker)
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
            url = listing.next_url
        return True

    async def _read_feeds(self, source: SourceConfig,
                          offer: trio.MemorySendChannel[tuple[str, _PageTracker | None]]) -> None:
        """Feeds, configured sitemaps, sitemaps named in robots.txt and the sitemaps their indexes name."""
        since = self.options.since
        queue: list[tuple[str, Literal["feed", "sitemap"]]] = [(u, "feed") for u in source.feeds]
        queue += [(u, "sitemap") for u in source.sitemaps]
        for site in dict.fromkeys(origin(u) for u in (source.base_url, *source.start_pages)):
            robots = await self._robots_for(source, site + "/")  # cached per host for the run
            queue += [(u, "sitemap") for u in robots.sitemaps if host_key(u) in source.hosts]
        queue = list(dict.fromkeys(queue))  # a sitemap both configured and named in robots.txt: once
        queued = {url for url, _kind in queue}
        sitemaps_read = 0
        while queue:
            url, kind = queue.pop(0)
            if kind == "sitemap":
                if sitemaps_read >= MAX_SITEMAPS:
                    continue
                sitemaps_read += 1
            page = await self._get_page(source, url, kind=kind)
            if page is None:
                continue
            try:
                if kind == "feed":
                    entries, children = parse_feed(page.content, page.result.url), []
                else:
                    parsed = parse_sitemap(page.content, page.result.url)
                    entries, children = parsed.urls, parsed.sitemaps
            except XMLFormatError as err:
                self.stats[source.key].failures[url] = f"{kind}: {err}"
                continue
            for child in children:
                if host_key(child) in source.hosts and child not in queued:
                    queued.add(child)
                    queue.append((child, "sitemap"))
            await self._offer(source, [e.url for e in entries
                                       if since is None or e.published is None or e.published >= since], offer)
            page.commit()

    async def _get_page(self, source: SourceConfig, url: str, *, kind: Literal["listing", "feed", "sitemap"],
                        first: bool = True) -> _Page | None:
        """Fetch a listing, feed or sitemap conditionally; on 304 its body comes back from the WARC.

        The validators of a 200 are remembered only on ``commit()``, once the caller has queued
        what the page links to: a run killed in between fetches the page in full next time.
        """
        stats = self.stats[source.key]
        cached = self.archive.store.cached(url)
        headers: dict[str, str] = {}
        if cached is not None:
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        results = await self._fetch(source, url, headers)
        if results is None:
            return None
        final = results[-1]
        setattr(stats, f"{kind}s", getattr(stats, f"{kind}s") + 1)
        self.listener("listing", source.key, url)
        writer = self.archive.writer(source)
        if final.status == 304 and cached is not None:
            for hop in results[:-1]:
                writer.write_exchange(hop)
            writer.write_revisit(final, refers_to_uri=cached.url, refers_to_date=cached.warc_date,
                                 profile="server-not-modified")
            stats.revisits += 1
            try:
                return _Page(final, self._read_back(source, cached), lambda: None)
            except ArchiveError as err:
                log.warning("cannot re-read %s from the WARC: %s", url, err)
                self.archive.store.forget(url)
                return None
        locations = self.archive.record(source, results)
        if final.status != 200:
            if first:  # a 404 past the first page of a listing is the end of its pagination
                stats.failures[url] = f"{kind}: HTTP {final.status}"
            return None
        return _Page(final, final.content, lambda: self._remember(url, final, locations[-1]))

    def _read_back(self, source: SourceConfig, cached: CacheEntry) -> bytes:
        directory = self.archive.root / "warc"
        path = directory / cached.warc_file
        if not path.exists():
            path = directory / (cached.warc_file + ".open")
        if not path.exists():
            raise ArchiveError(f"{cached.warc_file} is missing")
        return read_response_at(path, cached.warc_offset).content

    def _remember(self, url: str, final: FetchResult, location: WarcLocation) -> None:
        self.archive.store.remember(_cache_entry(url, final, location))

    # -- fetching ----------------------------------------------------------------------------------

    async def _robots_for(self, source: SourceConfig, url: str) -> Robots:
        host = host_key(url)
        known = self._robots.get(host)
        if known is not None:
            return known
        respect = source.politeness.respect_robots if self.options.respect_robots is None \
            else self.options.respect_robots
        if not respect:
            return self._allow_all
        lock = self._robots_lock.setdefault(host, trio.Lock())
        async with lock:
            if host not in self._robots:
                self._robots[host] = await self._fetch_robots(source, origin(url) + "/robots.txt")
                delay = self._robots[host].crawl_delay
                if delay is not None and self.options.delay is None:
                    self._gate(source, url).set_delay(min(delay, 60.0))
        return self._robots[host]

    async def _fetch_robots(self, source: SourceConfig, url: str) -> Robots:
        try:
            async with self._limiter, self._gate(source, url):
                results = await self.fetcher.fetch_following(url, allow=source.covers,
                                                              on_send=self._gate(source, url).send_hook)
        except FetchError as err:
            # Unreachable robots.txt: Google treats 5xx as "disallow all" for a while; we crawl on,
            # carefully, since the gate still spaces requests.
            log.warning("robots.txt unavailable for %s: %s", url, err)
            return Robots.allow_all(self.agent)
        self.archive.record(source, results)
        final = results[-1]
        if final.status == 200:
            return Robots.parse(final.content.decode("utf-8", "replace"), self.agent)
        return Robots.allow_all(self.agent)

    async def _fetch(self, source: SourceConfig, url: str, headers: dict[str, str] | None = None,
                     *, offer_stop: bool = False) -> list[FetchResult] | None:
        stats = self.stats[source.key]
        robots = await self._robots_for(source, url)
        if not robots.allowed(url):
            stats.disallowed += 1
            stats.failures[url] = "disallowed by robots.txt"
            return None
        gate = self._gate(source, url)
        async with self._limiter, gate:
            if self.stopping and offer_stop:
                return None  # stopped while waiting for the host: do not start another fetch
            started = trio.current_time()
            try:
                results = await self.fetcher.fetch_following(url, headers, allow=source.covers, on_send=gate.send_hook)
            except FetchError as err:
                now = trio.current_time()
                if isinstance(err, RedirectError) and err.hops:
                    self.archive.record(source, list(err.hops))  # raw first, even for a bad chain
                if isinstance(err, PermanentFetchError):
                    gate.policy.success(now, now - started)
                else:
                    gate.policy.failure(now, getattr(err, "retry_after", None))
                stats.failures[url] = str(err)
                self.listener("failed", source.key, url)
                return None
            now = trio.current_time()
            gate.policy.success(now, now - started)
        return results

    async def _article_worker(self, source: SourceConfig,
                              offers: trio.MemoryReceiveChannel[tuple[str, _PageTracker | None]],
                              archive_send: trio.MemorySendChannel[_Job]) -> None:
        async with offers, archive_send:
            async for url, tracker in offers:
                if self.stopping:
                    if tracker is not None:
                        tracker.settle(False)
                    continue
                cached = self.archive.store.cached(url) if self.options.refresh else None
                results = await self._fetch(source, url, offer_stop=True)
                if results is None:
                    if self.stopping:
                        if tracker is not None:
                            tracker.settle(False)
                        continue  # still pending: the next run fetches it
                    self._settle_failed(source, url)
                    if tracker is not None:
                        tracker.settle(False)
                    continue
                await archive_send.send(_Job(source, url, results, cached, None, tracker))

    def _settle_failed(self, source: SourceConfig, url: str) -> None:
        article_id = source.article_id(url)
        if article_id is None:
            return
        attempts = next((n for a, _u, n in self.archive.store.pending(source.key) if a == article_id), 0)
        self.archive.store.settle(source.key, article_id, done=attempts + 1 >= MAX_ATTEMPTS)

    # -- archiving -----------------------------------------------------------------------------------

    async def _archive_stage(self, jobs: trio.MemoryReceiveChannel[_Job]) -> None:
        async with jobs:
            async for job in jobs:
                try:
                    await self._archive_job(job)
                except ArchiveError:
                    self._run_scope.cancel()  # disk full or similar: stop cleanly, nothing half-written
                    raise
                await trio.lowlevel.checkpoint()

    async def _archive_job(self, job: _Job) -> None:
        source, stats = job.source, self.stats[job.source.key]
        final = job.results[-1]
        article_id = source.article_id(job.url) or ""
        writer = self.archive.writer(source)
        cached = job.cached
        if cached is not None and final.status == 200 and cached.payload_digest == payload_digest(final.body):
            for hop in job.results[:-1]:
                writer.write_exchange(hop)
            writer.write_revisit(final, refers_to_uri=cached.url, refers_to_date=cached.warc_date,
                                 profile="identical-payload-digest", payload_digest=cached.payload_digest)
            stats.revisits += 1
            self.archive.store.settle(source.key, article_id, done=True)
            self.listener("revisit", source.key, job.url)
            self._track(job, True)
            return
        locations = self.archive.record(source, job.results)
        if final.status != 200:
            self._fail(job, f"HTTP {final.status} {final.reason}".strip())
            return
        store = self.archive.store
        extracted = await self._extract(ExtractJob(
            source=source.key, url=final.url, content=final.content, content_type=final.header("content-type"),
            location=locations[-1], fetched_at=final.fetched_at, expected_id=article_id,
            latest=store.latest(source.key, article_id),
            extra_host=None if source.covers(final.url) else host_key(final.url),
        ))
        failure = extracted.failure
        if failure is not None:
            if failure.field == WORKER_DIED:
                self._fail(job, str(failure))  # not the page's fault: tried again, up to MAX_ATTEMPTS runs
                return
            stats.extraction_failures += 1
            stats.failures[job.url] = str(failure)
            store.settle(source.key, article_id, done=True)
            self.listener("failed", source.key, job.url)
            self._track(job, False)
            return
        cache = _cache_entry(job.url, final, locations[-1])
        if extracted.pending is not None:
            # The page names another article id than its URL: store it here, once no worker holds that id.
            article, text = extracted.pending
            while (busy := self._extracting.get((source.key, article.article_id))) is not None:
                await busy.wait()
            record = store.save(article, text, locations[-1], final.fetched_at, cache=cache)
            store.settle(source.key, article_id, done=True)
        else:
            assert extracted.written is not None
            record = store.commit(extracted.written, cache=cache)
        if record.created:
            if record.version == 1:
                stats.new += 1
            else:
                stats.changed += 1
        self.listener("archived", source.key, job.url)
        since = self.options.since
        self._track(job, since is None or (extracted.published is not None and extracted.published >= since))

    async def _extract(self, job: ExtractJob) -> Extracted:
        """Parse and write the snapshot files (maybe in a worker), the article id marked busy meanwhile."""
        key = (job.source, job.expected_id)
        busy = self._extracting[key] = trio.Event()
        try:
            return await self._extractor.extract(job)
        finally:
            del self._extracting[key]
            busy.set()

    def _fail(self, job: _Job, why: str) -> None:
        self.stats[job.source.key].failures[job.url] = why
        self._settle_failed(job.source, job.url)
        self.listener("failed", job.source.key, job.url)
        self._track(job, False)

    @staticmethod
    def _track(job: _Job, recent: bool) -> None:
        if job.tracker is not None:
            job.tracker.settle(recent)

