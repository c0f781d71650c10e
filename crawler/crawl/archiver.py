"""An archive directory, and one article end to end: fetch -> WARC (raw first) -> adapter -> snapshot -> catalog.

:class:`Archive` is what every writing command opens first: it takes the archive's lock and
runs crash recovery (:mod:`crawler.archive.recovery`).  :func:`archive_article` is ``crawler fetch``:
the same archive worker (:mod:`crawler.crawl.archive_worker`) as the crawl, in this process, so that every
entry point produces the same artefacts from the same response bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from crawler.archive.catalog import Store
from crawler.archive.catalog_schema import JOURNALS_SCHEMA
from crawler.archive.crawl_state import CacheEntry
from crawler.archive.lock import ArchiveLock
from crawler.archive.recovery import Recovered, reconcile, recover_warcs, replay_journals, sweep_archive
from crawler.archive.snapshots import WrittenSnapshot
from crawler.archive.warc import WARC_GZIP_LEVEL
from crawler.config import SourceConfig, Sources
from crawler.crawl.archive_jobs import ArchiveJob, Revisit
from crawler.errors import ArchiveError, FetchError, StorageError
from crawler.models import ExtractionFailure, FetchResult
from crawler.net.fetcher import Fetcher
from crawler.net.redirects import RedirectError

if TYPE_CHECKING:
    from crawler.crawl.archive_worker import ArchiveWorker  # imported by worker(): crawl processes never parse

DEFAULT_WARC_SIZE = 1_000_000_000
ARCHIVE_DIRS = ("warc", "text", "runs", "orphans", "journal")

__all__ = ["Archive", "Outcome", "archive_article"]

Status = Literal["archived", "unchanged", "already-archived", "revisit", "not-article", "http-error",
                 "fetch-failed", "extraction-failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one URL; ``message`` says why when it was not archived."""

    url: str
    source: str
    status: Status
    written: WrittenSnapshot | None = None
    text_path: Path | None = None
    failure: ExtractionFailure | None = None
    message: str = ""
    response: FetchResult | None = None  # the page's final response, when it was fetched (a 304 included)

    @property
    def ok(self) -> bool:
        return self.status in ("archived", "unchanged", "already-archived", "revisit")


class Archive:
    """An archive directory: its lock, its catalog, and the WARC settings of its writers."""

    def __init__(self, root: Path, sources: Sources, *, warc_size: int = DEFAULT_WARC_SIZE,
                 gzip_level: int = WARC_GZIP_LEVEL, wait: bool = False) -> None:
        """Lock the archive (:class:`ArchiveBusy` when another run holds it), then recover from a crash."""
        self.root = root
        self.sources = sources
        self.warc_size = warc_size
        self.gzip_level = gzip_level
        self._lock = ArchiveLock(root, wait=wait).__enter__()
        try:
            for name in ARCHIVE_DIRS:  # found now, not as a traceback when the first file is written there
                if (root / name).exists() and not (root / name).is_dir():
                    raise ArchiveError(f"{root / name} is not a directory (the archive keeps its {name} files there)")
            self.store = Store(root)
            try:
                self.recovered: list[Recovered] = (sweep_archive(root) + recover_warcs(root / "warc")
                                                   + replay_journals(self.store))
                if self.store.upgraded_from is not None and self.store.upgraded_from < JOURNALS_SCHEMA:
                    self.recovered += reconcile(self.store)  # once: archives written before journals
            except OSError as err:  # e.g. a full disk while closing a killed run's WARC
                self.store.close()
                raise StorageError(f"cannot recover archive {root} after a crash: {err}") from err
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.store.close()
        finally:
            self._lock.__exit__(None, None, None)

    def worker(self) -> ArchiveWorker:
        """An archive worker running in this process (close it when done)."""
        from crawler.crawl.archive_worker import ArchiveWorker

        return ArchiveWorker(self.root, self.sources, warc_size=self.warc_size, gzip_level=self.gzip_level)


async def archive_article(fetcher: Fetcher, archive: Archive, source: SourceConfig, url: str, *,
                          refresh: bool = False) -> Outcome:
    """Fetch one article URL of ``source`` and archive it (WARC + snapshot + catalog row).

    An article already in the catalog is not fetched (``already-archived``) unless
    ``refresh``: then the request is conditional on the validators remembered for the URL,
    and a 304 or an identical body is recorded as a ``revisit`` record; a changed text
    becomes a new version.
    """
    article_id = source.article_id(url)
    if article_id is None:
        return Outcome(url, source.key, "not-article",
                       message=f"{url} is not an article URL of {source.key} (pattern {source.article_url_pattern})")
    store = archive.store
    stored = store.latest(source.key, article_id)
    if stored is not None and not refresh:
        return Outcome(url, source.key, "already-archived", text_path=archive.root / stored[2],
                       message=f"already archived: {url}")
    cached = store.cached(url) if stored is not None else None
    worker = archive.worker()
    try:
        try:
            validators = cached.conditional_headers() if cached is not None else {}
            results = await fetcher.fetch_following(url, validators, allow=source.covers)
        except FetchError as err:
            if isinstance(err, RedirectError) and err.hops:  # raw first, even for a bad redirect chain
                _check(worker.handle(ArchiveJob("record", source.key, err.hops)).fatal)
            return Outcome(url, source.key, "fetch-failed", message=str(err))
        final = results[-1]
        revisit = None
        if cached is not None:
            revisit = Revisit("server-not-modified", cached.url, cached.warc_date,
                              payload_digest=cached.payload_digest) if final.status == 304 else \
                Revisit("identical-payload-digest", cached.url, cached.warc_date, payload_digest=cached.payload_digest)
        reply = worker.handle(ArchiveJob("article", source.key, tuple(results), revisit=revisit,
                                         expected_id=article_id, latest=stored))
        _check(reply.fatal)
        if reply.revisit:
            assert cached is not None and stored is not None
            store.commit(settled=[(source.key, article_id)])
            what = "not modified" if final.status == 304 else "unchanged"
            return Outcome(url, source.key, "revisit", text_path=archive.root / stored[2],
                           message=f"{what} since {cached.warc_date} (revisit recorded)", response=final)
        if final.status != 200:
            return Outcome(url, source.key, "http-error", message=f"{final.url}: HTTP {final.status} {final.reason}")
        if reply.problem is not None:
            return Outcome(url, source.key, "extraction-failed", message=f"{final.url}: {reply.problem}")
        if reply.extraction is not None:
            return Outcome(url, source.key, "extraction-failed", failure=reply.extraction,
                           message=str(reply.extraction))
        written = reply.written
        if reply.pending is not None:  # the page names another article id than its URL
            article, text = reply.pending
            other = worker.handle(ArchiveJob("snapshot", source.key, article=article, text=text,
                                             location=reply.locations[-1], fetched_at=final.fetched_at,
                                             latest=store.latest(source.key, article.article_id)))
            _check(other.fatal)
            written = other.written
        assert written is not None and reply.digest is not None
        store.commit([written.row] if written.row else [], settled=[(source.key, written.article_id)],
                     caches=[CacheEntry.of_response(url, final, reply.digest, reply.locations[-1])])
    finally:
        problems = worker.close()
    if problems:
        raise StorageError("; ".join(problems))
    _remove_journal(worker)
    return Outcome(url, source.key, "archived" if written.created else "unchanged", written=written,
                   text_path=archive.root / written.text_path, response=final)


def _check(fatal: str | None) -> None:
    if fatal is not None:
        raise StorageError(fatal)


def _remove_journal(worker: ArchiveWorker) -> None:
    worker.snapshots.journal_path.unlink(missing_ok=True)
