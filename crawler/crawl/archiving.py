"""The archive step of a crawl: fetched pages to the archive workers, their replies into the catalog.

Every exchange goes to an archive worker (:mod:`crawler.crawl.worker_pool`) as an
:class:`~crawler.crawl.archive_jobs.ArchiveJob`; the worker writes the WARC records, then parses.  Here the
replies become catalog rows, committed in batches (:data:`BATCH` rows or :data:`BATCH_SECONDS`,
whichever comes first; a crash in between loses nothing: the workers' journals hold the rows,
:mod:`crawler.archive.recovery`), the articles' fate in the frontier (archived, or failed and when to
try again), and the run's figures.  A reply saying the storage failed raises
:class:`~crawler.errors.StorageError`, which ends the run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import trio

from crawler.archive.catalog import Store
from crawler.archive.crawl_state import CacheEntry
from crawler.archive.snapshots import SnapshotRow
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import ArchiveJob, ArchiveReply, JobKind, Revisit
from crawler.crawl.stats import Listener, SourceStats
from crawler.crawl.worker_pool import ArchivePool
from crawler.errors import StorageError
from crawler.models import FetchResult, WarcLocation
from crawler.net.urls import host_key

log = logging.getLogger("crawler.crawl")

BATCH = 200
BATCH_SECONDS = 1.0
MAX_BATCH = 4 * BATCH  # rows a batch may reach while the indexer is in a chunk; then the commit waits for it
MAX_BATCH_SECONDS = 2 * BATCH_SECONDS  # the same for the age of a batch
RETRY_SECONDS = 0.002  # the flusher's next try when the indexer was in a chunk
TURN_POLL = 0.001
TURN_PATIENCE = 0.1


@asynccontextmanager
async def write_turn(store: Store) -> AsyncIterator[None]:
    """This process's catalog write turn for the block (which must not await): polled every :data:`TURN_POLL`
    while the search indexer behind the crawl is in a chunk (up to ~20 ms), so that the event loop serves its
    other tasks meanwhile instead of waiting; after :data:`TURN_PATIENCE` the write waits for it as before."""
    deadline = trio.current_time() + TURN_PATIENCE
    turn = store.try_turn()
    while turn is None and trio.current_time() < deadline:
        await trio.sleep(TURN_POLL)
        turn = store.try_turn()
    try:
        yield
    finally:
        if turn is not None:
            turn.release()


@dataclass(slots=True)
class PageTracker:
    """With ``--since``: the articles a listing page offered, and whether any was recent."""

    pending: int = 0
    recent: bool = False
    done: trio.Event = field(default_factory=trio.Event)

    def settle(self, recent: bool) -> None:
        self.pending -= 1
        self.recent = self.recent or recent
        if self.pending <= 0:
            self.done.set()


@dataclass(frozen=True, slots=True)
class ArticleFetch:
    """An article URL fetched, waiting for the archive step."""

    source: SourceConfig
    url: str
    results: list[FetchResult]
    cached: CacheEntry | None  # --refresh: the last full response recorded for the URL
    tracker: PageTracker | None


class Archiving:
    """Jobs to the archive pool, replies to the catalog and the stats (one per run)."""

    def __init__(self, store: Store, pool: ArchivePool, stats: dict[str, SourceStats], listener: Listener, *,
                 since: datetime | None = None) -> None:
        self.store = store
        self.pool = pool
        self.stats = stats
        self.listener = listener
        self.since = since
        self._rows: list[SnapshotRow] = []
        self._settled: list[tuple[str, str]] = []
        self._caches: list[CacheEntry] = []
        self._latest: dict[tuple[str, str], tuple[int, str, str]] = {}  # rows not committed yet
        self._archived: dict[str, set[str]] = {}  # source -> archived article ids (loaded once, kept current)
        self._first_pending: float | None = None
        self._busy: dict[tuple[str, str], trio.Event] = {}  # (source, article id) being archived
        # crawler.crawl.images: told of each article settled (source, id, metadata JSON or None)
        self.images: Callable[[SourceConfig, str, str | None], None] | None = None
        # crawler.crawl.requisites: told of each page archived (source, its final response, and for a 304
        # where the page it confirmed is recorded)
        self.requisites: Callable[[SourceConfig, FetchResult, WarcLocation | None], None] | None = None

    # -- the catalog, in batches ---------------------------------------------------------------

    def _ids(self, key: str) -> set[str]:
        ids = self._archived.get(key)
        if ids is None:
            ids = self._archived[key] = self.store.archived_ids(key)
        return ids

    def latest(self, key: str, article_id: str) -> tuple[int, str, str] | None:
        pending = self._latest.get((key, article_id))
        if pending is not None or article_id not in self._ids(key):
            return pending
        return self.store.latest(key, article_id)

    def archived(self, key: str, article_id: str) -> bool:
        return article_id in self._ids(key)

    def _add(self, row: SnapshotRow | None = None, settled: tuple[str, str] | None = None,
             cache: CacheEntry | None = None) -> None:
        if row is not None:
            self._rows.append(row)
            self._latest[(row.source, row.article_id)] = (row.version, row.sha256, row.text_path)
            self._ids(row.source).add(row.article_id)
        if settled is not None:
            self._settled.append(settled)
        if cache is not None:
            self._caches.append(cache)
        if self._first_pending is None:
            self._first_pending = trio.current_time()
        waiting = len(self._rows) + len(self._settled) + len(self._caches)
        if waiting >= BATCH:
            self.flush(wait=waiting >= MAX_BATCH)

    def remember(self, cache: CacheEntry) -> None:
        """Remember a listing page's validators (committed with the next batch)."""
        self._add(cache=cache)

    def flush(self, *, wait: bool = True) -> None:
        """Commit what is waiting (one transaction).  ``wait`` False: only when the search indexer behind the crawl
        is between two chunks, as it is most of the time; while it is in one (up to ~20 ms), the batch waits for
        the next try rather than the event loop (the rows are in the workers' journals meanwhile)."""
        if not (self._rows or self._settled or self._caches):
            return
        turn = self.store.try_turn()
        if turn is None and not wait:
            return
        try:
            rows, settled, caches = self._rows, self._settled, self._caches
            self._rows, self._settled, self._caches = [], [], []
            self._first_pending = None
            self.store.commit(rows, settled=settled, caches=caches)
        finally:
            if turn is not None:
                turn.release()
        for row in rows:
            self._latest.pop((row.source, row.article_id), None)

    async def flusher(self) -> None:
        """Commit at least every :data:`BATCH_SECONDS` while the run goes on (trying again every few ms while the
        indexer is in a chunk, and waiting for it once the batch is :data:`MAX_BATCH_SECONDS` old)."""
        while True:
            pending = self._first_pending
            if pending is None or trio.current_time() - pending < BATCH_SECONDS:
                await trio.sleep(BATCH_SECONDS / 2)
                continue
            self.flush(wait=trio.current_time() - pending >= MAX_BATCH_SECONDS)
            if self._first_pending is not None:
                await trio.sleep(RETRY_SECONDS)

    # -- jobs ----------------------------------------------------------------------------------

    async def _submit(self, job: ArchiveJob) -> ArchiveReply:
        reply = await self.pool.submit(job)
        if reply.fatal is not None:
            raise StorageError(reply.fatal)
        return reply

    async def record(self, source: SourceConfig, results: list[FetchResult], *,
                     revisit: Revisit | None = None) -> ArchiveReply:
        """Write exchanges that nothing parses (robots.txt, a failed redirect chain, images)."""
        return await self._submit(ArchiveJob("record", source.key, tuple(results), revisit=revisit))

    async def page(self, source: SourceConfig, kind: JobKind, results: list[FetchResult],
                   cached: CacheEntry | None) -> ArchiveReply:
        """Write a listing page, feed or sitemap and parse it (from the WARC when the server said 304)."""
        final = results[-1]
        revisit = None
        if final.status == 304 and cached is not None:
            # WARC 1.1: a server-not-modified revisit's payload is the original's (its digest is written).
            revisit = Revisit("server-not-modified", cached.url, cached.warc_date, payload_digest=cached.payload_digest,
                              reread=WarcLocation(cached.warc_file, cached.warc_offset))
        reply = await self._submit(ArchiveJob(kind, source.key, tuple(results), revisit=revisit))
        if self.requisites is not None and kind == "listing" and reply.problem is None:
            if final.status == 200:
                self.requisites(source, final, None)
            elif revisit is not None:  # a 304: the page as recorded before names them
                self.requisites(source, final, revisit.reread)
        return reply

    async def article(self, fetched: ArticleFetch) -> None:
        """Archive one fetched article and settle it (archived, unchanged or failed)."""
        source, stats = fetched.source, self.stats[fetched.source.key]
        key = source.key
        final = fetched.results[-1]
        article_id = source.article_id(fetched.url) or ""
        cached = fetched.cached
        revisit = None if cached is None else Revisit("identical-payload-digest", cached.url, cached.warc_date,
                                                      payload_digest=cached.payload_digest)
        busy = self._busy[(key, article_id)] = trio.Event()
        try:
            reply = await self._submit(ArchiveJob(
                "article", key, tuple(fetched.results), revisit=revisit, expected_id=article_id,
                latest=self.latest(key, article_id),
                extra_host=None if source.covers(final.url) else host_key(final.url)))
        finally:
            del self._busy[(key, article_id)]
            busy.set()
        if reply.stopped:
            self._track(fetched, False)
            return  # still pending: the next run archives it
        stats.articles_tried += 1
        if reply.revisit:
            stats.articles_ok += 1
            stats.unchanged += 1
            self._add(settled=(key, article_id))
            self.listener("revisit", key, fetched.url)
            self._track(fetched, True)
            if self.images is not None:
                self.images(source, article_id, None)
            if self.requisites is not None:
                self.requisites(source, final, None)
            return
        if reply.died or reply.problem is not None:
            # A page that outlasts the archive worker's deadline, or cannot be decoded: it will do so again.
            # A crash may be the machine's (out of memory): tried again on the normal schedule.
            # A damaged transfer or bytes that are not HTML (reply.transient) may be gone next run.
            crashed = reply.died and not reply.overran
            self.fail(fetched, reply.problem or "the archive worker failed",
                      permanent=not crashed and not reply.transient)
            return
        if final.status != 200:
            self.fail(fetched, f"HTTP {final.status} {final.reason}".strip(),
                      permanent=400 <= final.status < 500 and final.status not in (408, 425, 429))
            return
        stats.articles_ok += 1
        if reply.template:
            stats.templates[reply.template] += 1
        if reply.extraction is not None:
            stats.extraction_failures += 1
            self.fail(fetched, str(reply.extraction), permanent=True)
            return
        assert reply.digest is not None
        cache = CacheEntry.of_response(fetched.url, final, reply.digest, reply.locations[-1])
        written = reply.written
        if reply.pending is not None:
            # The page names another article id than its URL: store it under that id, once no job holds it.
            article, text = reply.pending
            while (other := self._busy.get((key, article.article_id))) is not None:
                await other.wait()
            stored = await self._submit(ArchiveJob(
                "snapshot", key, article=article, text=text, location=reply.locations[-1],
                fetched_at=final.fetched_at, latest=self.latest(key, article.article_id)))
            if stored.written is None:
                self.fail(fetched, stored.problem or "the snapshot could not be stored", permanent=False)
                return
            written = stored.written
            self._add(settled=(key, article.article_id))
        assert written is not None
        self._add(written.row, (key, article_id), cache)
        if written.created:
            if written.version == 1:
                stats.new += 1
            else:
                stats.changed += 1
        else:
            stats.unchanged += 1
        self.listener("archived", key, fetched.url)
        if self.images is not None:
            self.images(source, written.article_id, written.row.meta if written.row is not None else None)
        if self.requisites is not None:
            self.requisites(source, final, None)
        self._track(fetched, self.since is None or (reply.published is not None and reply.published >= self.since))

    def fail(self, fetched: ArticleFetch, why: str, *, permanent: bool) -> None:
        """An article failed: recorded in the stats, and in the frontier with when to try it again."""
        source = fetched.source
        self.stats[source.key].failures[fetched.url] = why
        article_id = source.article_id(fetched.url)
        if article_id is not None:
            self.store.fail(source.key, article_id, fetched.url, why, permanent=permanent)
        self.listener("failed", source.key, fetched.url)
        self._track(fetched, False)

    @staticmethod
    def _track(fetched: ArticleFetch, recent: bool) -> None:
        if fetched.tracker is not None:
            fetched.tracker.settle(recent)
