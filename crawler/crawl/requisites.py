"""The page-requisites step of a crawl (optional): what a page needs to be shown, fetched politely, into the WARC only.

With ``requisites: true`` in a source's block, or ``crawl --requisites``, every article the archive
step settles and every listing page answered in full hands its HTML to :meth:`Requisites.offer`;
the stylesheets, images and icons it names (:func:`crawler.parse.requisites.html_requisites`) on the
source's own hosts or a sub-domain of one (its image and static hosts: ``images.baoangiang.com.vn``,
``file.huengaynay.vn``) are fetched by a few tasks through the same
:class:`~crawler.crawl.fetching.Fetching` as pages (robots.txt, a gate and the source's politeness per
host, the global cap), and so are the fonts, images and imported sheets each stylesheet names
(:func:`~crawler.parse.requisites.css_requisites`, up to :data:`CSS_DEPTH` stylesheets deep).  They are
written with ``record`` jobs, as :mod:`crawler.crawl.images` writes images: WARC records, no snapshot,
no catalog row but the URL's validators (the ``http_cache`` row).

Each URL is fetched once per run (the first page that names it counts it).  A URL an earlier run
archived is fetched again with a conditional request (``If-None-Match`` / ``If-Modified-Since``): a
``304`` is written as a ``server-not-modified`` revisit, a ``200`` with the same payload as an
identical-payload revisit, anything else as a new capture; so every run's pages replay with the
requisites checked in that run.  A stylesheet answered 304 is read back from the WARC for its fonts and
images.  Caps: :data:`PER_PAGE` requisites and :data:`PAGE_BYTES` bytes per page, :data:`PER_RUN` and
:data:`RUN_BYTES` per run; what a cap stops is counted (``requisites_capped``), never an error.

:func:`page_requisites` is ``crawler fetch --requisites``: the same step, with the same fetching and
archive step as a crawl (an archive worker in this process), for one page.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import trio

from crawler.archive.catalog import Store
from crawler.archive.crawl_state import CacheEntry
from crawler.archive.warc_reading import read_response_at
from crawler.codings import ContentDecodingError
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import Revisit
from crawler.crawl.archiving import Archiving
from crawler.crawl.fetching import Fetching, Politeness
from crawler.crawl.images import widened_scope
from crawler.crawl.stats import SourceStats
from crawler.crawl.worker_pool import open_archive_pool
from crawler.errors import ArchiveError, without_url
from crawler.models import FetchResult, WarcLocation
from crawler.net.fetcher import Fetcher
from crawler.net.urls import host_key

log = logging.getLogger("crawler.crawl")

PER_PAGE = 60
PAGE_BYTES = 10_000_000
PER_RUN = 10_000
RUN_BYTES = 1_000_000_000
CSS_DEPTH = 3  # a page's sheet (1), a sheet it @imports (2), and one more
TASKS = 4


@dataclass(slots=True)
class _Page:
    """What one page's requisites have used of its caps."""

    count: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class _Job:
    source: SourceConfig
    url: str
    page: _Page
    depth: int  # 1: named by the page; n: named by a stylesheet of depth n - 1; 0: the page, to read back
    recorded: WarcLocation | None = None  # depth 0: where the page is recorded


def on_hosts(source: SourceConfig, url: str) -> bool:
    """Whether ``url`` is on one of the source's hosts or a sub-domain of one (its own file and static hosts)."""
    if not url.startswith(("http://", "https://")):
        return False
    host = host_key(url)
    return bool(host) and (source.covers(url) or any(host.endswith("." + h) for h in source.hosts))


class Requisites:
    """The page requisites of one run (see the module docstring); ``run()`` in the nursery, ``drain()`` at its end."""

    def __init__(self, sources: Iterable[SourceConfig], fetching: Fetching, archiving: Archiving, store: Store,
                 stats: dict[str, SourceStats], *, force: bool | None, stopping: Callable[[], bool],
                 per_page: int = PER_PAGE, page_bytes: int = PAGE_BYTES, per_run: int = PER_RUN,
                 run_bytes: int = RUN_BYTES, seen: set[str] | None = None) -> None:
        self.keys = {s.key for s in sources if (s.requisites if force is None else force)}
        self.fetching = fetching
        self.archiving = archiving
        self.store = store
        self.stats = stats
        self.stopping = stopping
        self.per_page = per_page
        self.page_bytes = page_bytes
        self.per_run = per_run
        self.run_bytes = run_bytes
        self.queued = 0
        self.fetched_bytes = 0
        # URLs fetched in this run; shared with the images step, so that an image is fetched once.
        self.seen: set[str] = set() if seen is None else seen
        self._scopes: dict[str, SourceConfig] = {}
        self._send, self._receive = trio.open_memory_channel[_Job](math.inf)  # at most per_run entries
        self._done = trio.Event()
        self._outstanding = 0  # jobs queued and not finished
        self._idle = trio.Event()

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    # -- the hooks the archive step calls ------------------------------------------------------

    def offer(self, source: SourceConfig, page: FetchResult, recorded: WarcLocation | None = None) -> None:
        """Queue the requisites of the HTML page just archived (its final response; for a 304, ``recorded``:
        where the page it confirmed is, read by a task: this must not wait)."""
        if source.key not in self.keys or self.stopping():
            return
        if recorded is not None:
            self.offer_recorded(source, page.url, recorded)
            return
        if not page.body:
            return
        kind = (page.header("content-type") or "text/html").lower()
        if "html" not in kind:
            return
        from crawler.parse.requisites import html_requisites  # the parsers: loaded by the first page that asks

        try:
            urls = html_requisites(page.content, source.real_url(page.url))
        except (ContentDecodingError, ValueError, UnicodeError):
            return
        self._queue(source, urls, _Page(), 1)

    def offer_recorded(self, source: SourceConfig, url: str, recorded: WarcLocation) -> None:
        """Queue the requisites of the HTML page of ``url`` recorded at ``recorded`` (read by a task)."""
        if source.key not in self.keys or self.stopping():
            return
        self._outstanding += 1
        self._send.send_nowait(_Job(source, url, _Page(), 0, recorded))

    def _queue(self, source: SourceConfig, urls: list[str], page: _Page, depth: int) -> None:
        stats = self.stats[source.key]
        for url in urls:
            url = source.real_url(url)
            if url in self.seen or not on_hosts(source, url):
                continue
            if page.count >= self.per_page or self.queued >= self.per_run or page.bytes >= self.page_bytes:
                stats.requisites_capped += 1
                continue
            self.seen.add(url)
            page.count += 1
            self.queued += 1
            self._outstanding += 1
            self._send.send_nowait(_Job(source, url, page, depth))

    def _scope(self, source: SourceConfig, url: str) -> SourceConfig:
        return widened_scope(self._scopes, source, url)

    # -- the tasks -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Fetch what is offered until :meth:`drain` closes the queue."""
        try:
            async with self._receive, trio.open_nursery() as nursery:
                for _ in range(TASKS if self.enabled else 0):
                    nursery.start_soon(self._task, self._receive.clone())
        finally:
            self._done.set()

    async def drain(self) -> None:
        """No more pages: fetch what is queued (and what its stylesheets name), then return."""
        while self._outstanding:
            self._idle = trio.Event()
            await self._idle.wait()
        self._send.close()
        await self._done.wait()

    async def _task(self, queue: trio.MemoryReceiveChannel[_Job]) -> None:
        async with queue:
            async for job in queue:
                try:
                    if not self.stopping():
                        await self._one(job)
                finally:
                    self._outstanding -= 1  # after the stylesheet's own requisites are queued
                    if not self._outstanding:
                        self._idle.set()

    async def _one(self, job: _Job) -> None:
        source, url, stats = job.source, job.url, self.stats[job.source.key]
        if job.recorded is not None:  # a page answered 304: its requisites, as recorded
            html = await self._read(job.recorded)
            if html:
                from crawler.parse.requisites import html_requisites

                self._queue(source, html_requisites(html, source.real_url(url)), job.page, 1)
            return
        if job.page.bytes >= self.page_bytes or self.fetched_bytes >= self.run_bytes:
            stats.requisites_capped += 1
            return
        if self.fetching.fetcher.refusal(url) is not None:  # a mirror run: a host no --origin serves
            stats.requisites_unserved += 1  # not a failure of the site: it is never asked
            return
        cached = self.store.cached(url)
        headers = cached.conditional_headers() if cached is not None else {}
        fetched = await self.fetching.fetch(self._scope(source, url), url, headers, stopping=self.stopping)
        if fetched.results is None:
            if not fetched.deferred:
                stats.requisites_failed += 1
                log.info("requisite %s: %s", url, without_url(fetched.why, url))
            return
        final = fetched.results[-1]
        if final.status == 304 and cached is not None:
            revisit = Revisit("server-not-modified", cached.url, cached.warc_date, payload_digest=cached.payload_digest)
        elif cached is not None:
            revisit = Revisit("identical-payload-digest", cached.url, cached.warc_date,
                              payload_digest=cached.payload_digest)
        else:
            revisit = None
        reply = await self.archiving.record(source, fetched.results, revisit=revisit)
        if final.status not in (200, 304) or (final.status == 304 and cached is None) or reply.problem is not None:
            stats.requisites_failed += 1
            log.info("requisite %s: HTTP %s %s", url, final.status, reply.problem or "")
            return
        stats.requisites += 1
        if final.status == 304:
            stats.requisites_not_modified += 1
        size = len(final.body)
        stats.requisite_bytes += size
        job.page.bytes += size
        self.fetched_bytes += size
        if not reply.revisit and reply.digest is not None and reply.locations:
            self.archiving.remember(CacheEntry.of_response(url, final, reply.digest, reply.locations[-1]))
        if job.depth < CSS_DEPTH and _is_css(final.header("content-type"), url, cached):
            try:
                body = final.content if final.status == 200 else await self._reread(cached)
            except ContentDecodingError:
                body = b""
            if body:
                from crawler.parse.requisites import css_requisites

                self._queue(source, css_requisites(body, url), job.page, job.depth + 1)

    async def _reread(self, cached: CacheEntry | None) -> bytes:
        """The stylesheet recorded before (a 304 has no body)."""
        if cached is None:
            return b""
        return await self._read(WarcLocation(cached.warc_file, cached.warc_offset))

    async def _read(self, location: WarcLocation) -> bytes:
        path = Path(self.store.archive) / "warc" / location.filename
        try:
            response = await trio.to_thread.run_sync(read_response_at, path, location.offset)
        except (ArchiveError, OSError, ValueError):
            return b""
        return response.content


async def page_requisites(fetcher: Fetcher, store: Store, source: SourceConfig, url: str, page: FetchResult | None,
                          recorded: WarcLocation | None, *, delay: float | None = None, per_page: int = PER_PAGE,
                          page_bytes: int = PAGE_BYTES, warc_size: int = 1_000_000_000,
                          gzip_level: int | None = None) -> SourceStats:
    """The requisites of one page, archived as a crawl's requisites step does (``crawler fetch --requisites``).

    ``page`` is the final response of the page at ``url``, with its body; for a page not fetched now (already
    archived) or answered 304, ``recorded`` is where its HTML is in the WARC.  ``delay`` overrides the source's delay
    between two requests to one host.  Returns the figures (``requisites``, ``requisites_not_modified``, …).
    """
    stats = {source.key: SourceStats(source.key)}
    rules = Politeness(concurrency=source.politeness.concurrency,
                       delay=source.politeness.delay if delay is None else delay,
                       respect_robots=source.politeness.respect_robots, budget=source.politeness.host_budget)
    pool_options = {} if gzip_level is None else {"gzip_level": gzip_level}
    async with open_archive_pool(Path(store.archive), [source], processes=0, warc_size=warc_size,
                                 **pool_options) as pool:
        archiving = Archiving(store, pool, stats, lambda kind, key, url: None)
        fetching = Fetching(fetcher, lambda _source: rules, archiving.record, global_concurrency=TASKS,
                            run_deadline=math.inf, run_budget=None)
        requisites = Requisites([source], fetching, archiving, store, stats, force=True, stopping=lambda: False,
                                per_page=per_page, page_bytes=page_bytes, per_run=per_page)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(requisites.run)
                if page is not None and page.status == 200:
                    requisites.offer(source, page)
                elif recorded is not None:
                    requisites.offer_recorded(source, url, recorded)
                await requisites.drain()
        finally:
            archiving.flush()
    return stats[source.key]


def _is_css(content_type: str | None, url: str, cached: CacheEntry | None) -> bool:
    if content_type and "text/css" in content_type.lower():
        return True
    return url.split("?", 1)[0].lower().endswith(".css") and (content_type is None or cached is not None)
