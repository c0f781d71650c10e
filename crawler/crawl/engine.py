"""One crawl run over some sources into one archive, under trio: the three steps wired together.

One nursery per run.  Per source, :class:`~crawler.crawl.discovery.Discovery` walks listing
chains, feeds and sitemaps and offers article URLs that the source's
:class:`~crawler.crawl.frontier.Frontier` admits; they go through a bounded channel to the
source's fetch tasks (:class:`~crawler.crawl.fetching.Fetching`: robots.txt, per-host gates, a
global cap), and the fetched exchanges through a second bounded channel to the archive tasks
(:class:`~crawler.crawl.archiving.Archiving`), which hand them to the archive workers and put
their replies in the catalog.  A slow archive slows the fetchers (bounded channels), and a
slow host only holds its own fetch tasks.

Every URL settles: archived, failed (and retried on a schedule across runs), or left pending
because its host was given up or the run stopped.  A storage failure ends the run at once
with a :class:`~crawler.errors.StorageError`; anything else that goes wrong with one page
fails that page only.

A run has a time budget (``CrawlOptions.run_budget``) and each host one of its own
(``host_budget``, or its source's ``politeness.host_budget``): when one runs out, the host is
deferred (:mod:`crawler.crawl.fetching`) and its work stays for the next run; ``grace`` seconds
after the run's budget whatever is still going is cancelled, as after a second signal.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import trio

from crawler.archive.recovery import replay_journals
from crawler.archive.snapshots import JOURNAL_DIR
from crawler.config import RUN_BUDGET, SourceConfig, Sources
from crawler.crawl.archiver import Archive
from crawler.crawl.archiving import Archiving, ArticleFetch, PageTracker
from crawler.crawl.discovery import Discovery, Offer
from crawler.crawl.fetching import Fetching, Politeness
from crawler.crawl.frontier import Frontier
from crawler.crawl.images import PER_ARTICLE as IMAGES_PER_ARTICLE
from crawler.crawl.images import PER_RUN as IMAGES_PER_RUN
from crawler.crawl.images import Images
from crawler.crawl.requisites import PAGE_BYTES as REQUISITES_PAGE_BYTES
from crawler.crawl.requisites import PER_PAGE as REQUISITES_PER_PAGE
from crawler.crawl.requisites import PER_RUN as REQUISITES_PER_RUN
from crawler.crawl.requisites import RUN_BYTES as REQUISITES_RUN_BYTES
from crawler.crawl.requisites import Requisites
from crawler.crawl.stats import Listener, SourceStats
from crawler.crawl.worker_pool import JOB_DEADLINE, open_archive_pool
from crawler.errors import StorageError, internal_error
from crawler.net.fetcher import Fetcher
from crawler.net.politeness import MAX_WAIT
from crawler.net.urls import host_key

log = logging.getLogger("crawler.crawl")


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
    breaker_threshold: int = 5  # failed requests in a row after which a host is given up for the run
    max_wait: float = MAX_WAIT  # the longest Retry-After a run waits for
    workers: int = 1  # archive worker processes (0: archive in the crawl process, no deadline)
    images: bool | None = None  # archive articles' images: None = as each source says (crawler.crawl.images)
    images_per_article: int = IMAGES_PER_ARTICLE
    max_images: int = IMAGES_PER_RUN
    requisites: bool | None = None  # archive pages' stylesheets, fonts, images: None = as each source says
    requisites_per_page: int = REQUISITES_PER_PAGE
    requisite_page_bytes: int = REQUISITES_PAGE_BYTES
    max_requisites: int = REQUISITES_PER_RUN
    max_requisite_bytes: int = REQUISITES_RUN_BYTES
    deadline: float = JOB_DEADLINE  # seconds an archive worker may spend on one page
    run_budget: float | None = RUN_BUDGET  # seconds the run may fetch (None: no budget)
    host_budget: float | None = None  # seconds one host may take (None: its source's politeness.host_budget)


class Crawl:
    """One run over some sources into one archive.  ``await run()`` once; ``stop()`` from a signal."""

    def __init__(self, sources: Sources, archive: Archive, fetcher: Fetcher, options: CrawlOptions | None = None,
                 *, listener: Listener | None = None) -> None:
        self.sources = sources.reachable()  # with --origin: not the real sites of the other sources
        self.archive = archive
        self.fetcher = fetcher
        self.options = options or CrawlOptions()
        self.listener: Listener = listener or (lambda kind, source, url: None)
        self.stats = {s.key: SourceStats(s.key, archive=s.archive, expect_articles=s.expect_articles)
                      for s in self.sources}
        self._discovery_scopes: list[trio.CancelScope] = []
        self._run_scope = trio.CancelScope()
        self.stopping = False
        self.interrupted = False
        self.worker_deaths = 0
        self.fetching: Fetching | None = None  # during and after run()
        self._pool_stop: Callable[[], None] = lambda: None

    # -- control ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop discovering; in-flight fetches get ``options.grace`` seconds, then everything is cancelled."""
        if self.stopping:
            self._run_scope.cancel()  # a second signal: stop now
            return
        self.stopping = True
        self.interrupted = True
        self._pool_stop()
        for scope in self._discovery_scopes:
            scope.cancel()
        self._run_scope.deadline = min(self._run_scope.deadline, trio.current_time() + self.options.grace)

    def _politeness(self, source: SourceConfig) -> Politeness:
        o = self.options
        return Politeness(
            concurrency=o.host_concurrency or source.politeness.concurrency,
            delay=source.politeness.delay if o.delay is None else o.delay,
            respect_robots=source.politeness.respect_robots if o.respect_robots is None else o.respect_robots,
            threshold=o.breaker_threshold, max_wait=o.max_wait,
            budget=source.politeness.host_budget if o.host_budget is None else o.host_budget)

    def _seed_hosts(self) -> set[str]:
        """The hosts a run starts from: those of every source's start pages, feeds, sitemaps and feed indexes."""
        return {host for source in self.sources for host in self._seeds_of(source)}

    def _unreachable(self, host: str, why: str) -> None:
        """A host given up because it cannot be reached (its name does not exist, or no host can be): said at once."""
        for source in self.sources:
            if host in source.hosts or host in source.aliases or host in self._seeds_of(source):
                self.listener("unreachable", source.key, f"{host}: {why}")
                return
        self.listener("unreachable", "", f"{host}: {why}")

    @staticmethod
    def _seeds_of(source: SourceConfig) -> set[str]:
        return {host_key(url) for url in (*source.start_pages, *source.feeds, *source.sitemaps, *source.feed_index)}

    async def run(self) -> dict[str, SourceStats]:
        archive, options = self.archive, self.options
        store = archive.store
        # The search index follows the commits on a thread of its own (crawler.archive.search_index): the
        # loop goes on fetching while SQLite tokenizes; leaving the block waits for the last rows.
        with store.indexing_behind():
            async with open_archive_pool(archive.root, self.sources, processes=options.workers,
                                         warc_size=archive.warc_size, gzip_level=archive.gzip_level,
                                         deadline=options.deadline) as pool:
                archiving = Archiving(store, pool, self.stats, self.listener, since=options.since)
                run_deadline = math.inf if options.run_budget is None else trio.current_time() + options.run_budget
                # Past the budget, what still goes (archiving what was fetched) gets the grace a signal gives.
                self._run_scope.deadline = min(self._run_scope.deadline, run_deadline + options.grace)
                fetching = self.fetching = Fetching(self.fetcher, self._politeness, archiving.record,
                                                    global_concurrency=options.global_concurrency,
                                                    run_deadline=run_deadline, run_budget=options.run_budget,
                                                    seeds=self._seed_hosts(), on_unreachable=self._unreachable)
                frontiers = {s.key: Frontier(s, store, self.stats[s.key], budget=options.max_articles,
                                             refresh=options.refresh, archived=archiving.archived)
                             for s in self.sources}
                discovery = Discovery(fetching, archiving, store, self.stats, frontiers, self.listener,
                                      since=options.since, refresh=options.refresh)
                images = Images(self.sources, fetching, archiving, store, self.stats, force=options.images,
                                refresh=options.refresh, stopping=lambda: self.stopping,
                                per_article=options.images_per_article, per_run=options.max_images)
                archiving.images = images.offer if images.enabled else None
                requisites = Requisites(self.sources, fetching, archiving, store, self.stats, force=options.requisites,
                                        stopping=lambda: self.stopping, per_page=options.requisites_per_page,
                                        page_bytes=options.requisite_page_bytes, per_run=options.max_requisites,
                                        run_bytes=options.max_requisite_bytes, seen=images.seen)
                archiving.requisites = requisites.offer if requisites.enabled else None
                self._pool_stop = pool.stop
                try:
                    with self._run_scope:
                        await self._run(archiving, fetching, discovery, images, requisites)
                finally:
                    archiving.flush()  # raises StorageError when the catalog cannot take it: journals stay
                    out_of_time = set(fetching.out_of_time())
                    for host, why in fetching.deferred_hosts().items():
                        for source in self.sources:
                            if host in source.hosts or host in source.aliases:
                                self.stats[source.key].deferred[host] = why
                                if host in out_of_time:
                                    self.stats[source.key].out_of_time.append(host)
                    self.worker_deaths = pool.deaths
        # Every row is committed (or, for a job whose worker died, in its journal): settle the journals.
        if self.worker_deaths:
            for item in replay_journals(store):
                log.warning("recovery: %s: %s", item.path, item.what)
        else:
            _remove_journals(archive)
        return self.stats

    async def _run(self, archiving: Archiving, fetching: Fetching, discovery: Discovery,
                   images: Images, requisites: Requisites) -> None:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(archiving.flusher)
            nursery.start_soon(images.run)
            nursery.start_soon(requisites.run)
            async with trio.open_nursery() as sources:
                for source in self.sources:
                    sources.start_soon(self._crawl_source, source, fetching, discovery, archiving)
            await requisites.drain()  # every page is settled: their requisites, their images, then the end
            await images.drain()
            nursery.cancel_scope.cancel()  # the flusher

    async def _crawl_source(self, source: SourceConfig, fetching: Fetching, discovery: Discovery,
                            archiving: Archiving) -> None:
        rules = self._politeness(source)
        tasks = max(1, rules.concurrency * len(source.hosts))
        offer_send, offer_recv = trio.open_memory_channel[Offer](max(64, tasks * 4))
        async with trio.open_nursery() as nursery:
            for _ in range(tasks):
                nursery.start_soon(self._fetch_task, source, fetching, offer_recv.clone(), archiving)
            await offer_recv.aclose()
            async with offer_send:
                scope = trio.CancelScope()
                self._discovery_scopes.append(scope)
                if self.stopping:
                    scope.cancel()
                with scope:
                    await discovery.discover(source, offer_send)

    async def _fetch_task(self, source: SourceConfig, fetching: Fetching, offers: trio.MemoryReceiveChannel[Offer],
                          archiving: Archiving) -> None:
        """Fetch offered articles one after the other and have each archived before the next.

        Several such tasks run per host (its concurrency): while one waits for its archive
        worker's reply, the others fetch.
        """
        store, stats = self.archive.store, self.stats[source.key]
        async with offers:
            async for url, tracker in offers:
                if self.stopping:
                    _settle(tracker, False)
                    continue  # still pending: the next run fetches it
                cached = store.cached(url) if self.options.refresh else None
                outcome = await fetching.fetch(source, url, stopping=lambda: self.stopping)
                if outcome.results is None:
                    if outcome.deferred:  # the host was given up, or the run is stopping: pending
                        _settle(tracker, False)
                        continue
                    if outcome.disallowed:
                        stats.disallowed += 1
                    else:
                        stats.articles_tried += 1
                    await self._fail_unfetched(source, url, outcome.why, outcome.permanent, tracker)
                    continue
                await self._archive(archiving, ArticleFetch(source, url, outcome.results, cached, tracker))

    async def _fail_unfetched(self, source: SourceConfig, url: str, why: str, permanent: bool,
                              tracker: PageTracker | None) -> None:
        stats = self.stats[source.key]
        stats.failures[url] = why
        article_id = source.article_id(url)
        if article_id is not None:
            self.archive.store.fail(source.key, article_id, url, why, permanent=permanent)
        self.listener("failed", source.key, url)
        _settle(tracker, False)
        await trio.lowlevel.checkpoint()

    @staticmethod
    async def _archive(archiving: Archiving, item: ArticleFetch) -> None:
        try:
            await archiving.article(item)
        except StorageError:
            raise  # the archive cannot be written: the run ends
        except Exception as err:  # a bug on one page must not keep the others, or the run, from ending
            log.exception("archiving %s failed", item.url)
            archiving.fail(item, internal_error(err), permanent=False)


def _settle(tracker: PageTracker | None, recent: bool) -> None:
    if tracker is not None:
        tracker.settle(recent)


def _remove_journals(archive: Archive) -> None:
    directory = archive.root / JOURNAL_DIR
    if directory.is_dir():
        for journal in directory.glob("*.jsonl"):
            journal.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            directory.rmdir()



