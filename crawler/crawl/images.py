"""The images step of a crawl (optional): an archived article's images, fetched politely, into the WARC only.

With ``images: true`` in a source's block, or ``crawl --images``, every article the archive
step settles (archived, a new version, or unchanged on ``--refresh``) hands its image URLs
(the snapshot metadata's ``images``, :func:`crawler.archive.snapshots.metadata`) to :meth:`Images.offer`;
a few image tasks fetch them through the same :class:`~crawler.crawl.fetching.Fetching` as pages
(robots.txt, a gate and the source's politeness per host, the global cap) and write them with a
``record`` job: WARC records only, no snapshot, no catalog row but the URL's validators (the
``http_cache`` row, which is how an image is fetched once per archive).  On ``--refresh`` the
images of refreshed articles are fetched again; an unchanged one is written as an
identical-payload revisit.

Images may live on the source's hosts or on a sub-domain of one (``file.huengaynay.vn`` for
``huengaynay.vn``): a newspaper's own file hosts, nobody else's.  At most ``per_article`` images
of an article and ``per_run`` in a run are fetched; the counts and bytes go into the run's figures.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import replace

import trio

from crawler.archive.catalog import Store
from crawler.archive.crawl_state import CacheEntry
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import Revisit
from crawler.crawl.archiving import Archiving
from crawler.crawl.fetching import Fetching
from crawler.crawl.stats import SourceStats
from crawler.net.urls import host_key

PER_ARTICLE = 20
PER_RUN = 10_000
TASKS = 4  # image fetches in flight (each still waits for its host's gate)


def widened_scope(scopes: dict[str, SourceConfig], source: SourceConfig, url: str) -> SourceConfig:
    """The source with ``url``'s host among its hosts (politeness, robots.txt and redirects allowed there), kept
    in ``scopes`` per source: how images and page requisites on a paper's media hosts are fetched."""
    host = host_key(url)
    scope = scopes.get(source.key, source)
    if host not in scope.hosts:
        scope = replace(scope, hosts=(*scope.hosts, host)).with_origins(source.origins)
        scopes[source.key] = scope
    return scope


class Images:
    """The images of one run (see the module docstring); ``run()`` in the crawl's nursery, ``drain()`` at its end."""

    def __init__(self, sources: Iterable[SourceConfig], fetching: Fetching, archiving: Archiving, store: Store,
                 stats: dict[str, SourceStats], *, force: bool | None, refresh: bool,
                 stopping: Callable[[], bool], per_article: int = PER_ARTICLE, per_run: int = PER_RUN) -> None:
        self.keys = {s.key for s in sources if (s.images if force is None else force)}
        self.fetching = fetching
        self.archiving = archiving
        self.store = store
        self.stats = stats
        self.refresh = refresh
        self.stopping = stopping
        self.per_article = per_article
        self.per_run = per_run
        self.queued = 0
        self.seen: set[str] = set()  # shared with crawler.crawl.requisites: one fetch per URL and run
        self._scopes: dict[str, SourceConfig] = {}
        # Unbounded, but never more than per_run entries: offer() is called from the archive step, which
        # must not wait for a politeness delay.
        self._send, self._receive = trio.open_memory_channel[tuple[SourceConfig, str]](math.inf)
        self._done = trio.Event()

    @property
    def enabled(self) -> bool:
        return bool(self.keys)

    # -- the hook the archive step calls -------------------------------------------------------

    def offer(self, source: SourceConfig, article_id: str, meta: str | None) -> None:
        """Queue the images of an article just settled (``meta``: its metadata JSON, or None to read the catalog's)."""
        if source.key not in self.keys or self.stopping():
            return
        if meta is None:
            meta = self.store.latest_meta(source.key, article_id)
        try:
            images = json.loads(meta).get("images", []) if meta else []
        except ValueError:
            return
        for image in images[: self.per_article]:
            url = image.get("url") if isinstance(image, dict) else None
            if not isinstance(url, str) or url in self.seen or not self._allowed(source, url):
                continue
            if self.queued >= self.per_run:
                self.stats[source.key].images_capped += 1
                continue
            self.seen.add(url)
            if not self.refresh and self.store.cached(url) is not None:
                continue  # archived by an earlier run: once per archive
            self.queued += 1
            self._send.send_nowait((source, url))

    @staticmethod
    def _allowed(source: SourceConfig, url: str) -> bool:
        if not url.startswith(("http://", "https://")):
            return False
        host = host_key(url)
        return bool(host) and any(host == h or host.endswith("." + h) for h in source.hosts)

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
        """No more offers: fetch what is queued, then return."""
        self._send.close()
        await self._done.wait()

    async def _task(self, queue: trio.MemoryReceiveChannel[tuple[SourceConfig, str]]) -> None:
        async with queue:
            async for source, url in queue:
                if self.stopping():
                    continue
                await self._one(source, url)

    async def _one(self, source: SourceConfig, url: str) -> None:
        stats = self.stats[source.key]
        fetched = await self.fetching.fetch(self._scope(source, url), url, stopping=self.stopping)
        if fetched.results is None:
            if not fetched.deferred:
                stats.images_failed += 1
            return
        final = fetched.results[-1]
        cached = self.store.cached(url)
        revisit = None
        if cached is not None:
            revisit = Revisit("identical-payload-digest", cached.url, cached.warc_date,
                              payload_digest=cached.payload_digest)
        reply = await self.archiving.record(source, fetched.results, revisit=revisit)
        if final.status != 200 or reply.problem is not None:
            stats.images_failed += 1
            return
        stats.images += 1
        stats.image_bytes += len(final.body)
        if not reply.revisit and reply.digest is not None and reply.locations:
            self.archiving.remember(CacheEntry.of_response(url, final, reply.digest, reply.locations[-1]))
