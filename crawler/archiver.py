"""One article, end to end: fetch (following redirects) -> WARC (raw first) -> adapter -> snapshot store.

Shared by ``crawler fetch``, the demo walk and the crawl engine, so that every entry
point produces the same artefacts from the same response bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from crawler.adapters import Adapter, get_adapter
from crawler.config import SourceConfig, Sources
from crawler.errors import FetchError
from crawler.extraction import parse_response
from crawler.fetcher import Fetcher, RedirectError
from crawler.lock import ArchiveLock
from crawler.models import Article, ExtractionFailure, FetchResult, WarcLocation
from crawler.normalize import render_snapshot
from crawler.recovery import Recovered, reconcile, recover_warcs
from crawler.store import CacheEntry, SnapshotRecord, Store
from crawler.warc import WarcWriter

DEFAULT_WARC_SIZE = 1_000_000_000

__all__ = ["Archive", "Outcome", "archive_article", "parse_response"]

Status = Literal["archived", "unchanged", "not-article", "http-error", "fetch-failed", "extraction-failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one URL; ``message`` says why when it was not archived."""

    url: str
    source: str
    status: Status
    snapshot: SnapshotRecord | None = None
    article: Article | None = None
    failure: ExtractionFailure | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("archived", "unchanged")


class Archive:
    """An archive directory: one WARC writer per source (opened lazily) and the snapshot store."""

    def __init__(self, root: Path, sources: Sources, *, warc_size: int = DEFAULT_WARC_SIZE,
                 gzip_level: int = 6, wait: bool = False) -> None:
        """Lock the archive (:class:`ArchiveBusy` when another run holds it), then recover from a crash."""
        self.root = root
        self.sources = sources
        self.warc_size = warc_size
        self.gzip_level = gzip_level
        self._lock = ArchiveLock(root, wait=wait).__enter__()
        try:
            self.store = Store(root)
            self.recovered: list[Recovered] = recover_warcs(root / "warc") + reconcile(self.store)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self._writers: dict[str, WarcWriter] = {}
        self._adapters: dict[str, Adapter] = {}

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            for writer in self._writers.values():
                writer.close()
            self._writers.clear()
            self.store.close()
        finally:
            self._lock.__exit__(None, None, None)

    def adapter(self, source: SourceConfig) -> Adapter:
        if source.key not in self._adapters:
            self._adapters[source.key] = get_adapter(source)
        return self._adapters[source.key]

    def writer(self, source: SourceConfig) -> WarcWriter:
        if source.key not in self._writers:
            info = {"x-crawler-source": source.key, "x-crawler-source-name": source.name}
            if source.origins:  # fetched from a mirror: the records name the real URLs, this says where from
                info["x-crawler-origins"] = source.origins.describe()
            self._writers[source.key] = WarcWriter(
                self.root / "warc", source.key, max_size=self.warc_size, gzip_level=self.gzip_level, info=info,
            )
        return self._writers[source.key]

    def record(self, source: SourceConfig, results: list[FetchResult]) -> list[WarcLocation]:
        """Write every exchange to the source's WARC before anything parses it."""
        writer = self.writer(source)
        return [writer.write_exchange(result) for result in results]

    def store_article(self, source: SourceConfig, result: FetchResult, location: WarcLocation, *,
                      cache: CacheEntry | None = None) -> Outcome:
        """Parse a recorded 200 response and store its snapshot (and, given ``cache``, its validators)."""
        parsed = parse_response(self.adapter(source), result.content, result.header("content-type"), result.url)
        if isinstance(parsed, ExtractionFailure):
            return Outcome(result.url, source.key, "extraction-failed", failure=parsed, message=str(parsed))
        record = self.store.save(parsed, render_snapshot(parsed), location, result.fetched_at, cache=cache)
        return Outcome(result.url, source.key, "archived" if record.created else "unchanged", snapshot=record,
                       article=parsed)


async def archive_article(fetcher: Fetcher, archive: Archive, source: SourceConfig, url: str) -> Outcome:
    """Fetch one article URL of ``source`` and archive it (WARC + snapshot + catalog row)."""
    if source.article_id(url) is None:
        return Outcome(url, source.key, "not-article",
                       message=f"{url} is not an article URL of {source.key} (pattern {source.article_url_pattern})")
    try:
        results = await fetcher.fetch_following(url, allow=source.covers)
    except FetchError as err:
        if isinstance(err, RedirectError) and err.hops:
            archive.record(source, list(err.hops))  # raw first, even for a bad redirect chain
        return Outcome(url, source.key, "fetch-failed", message=str(err))
    locations = archive.record(source, results)
    final = results[-1]
    if final.status != 200:
        return Outcome(url, source.key, "http-error", message=f"{final.url}: HTTP {final.status} {final.reason}")
    return archive.store_article(source, final, locations[-1])
