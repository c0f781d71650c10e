"""One article, end to end: fetch (following redirects) -> WARC (raw first) -> adapter -> snapshot store.

Shared by ``crawler fetch``, the demo walk and the crawl engine, so that every entry
point produces the same artefacts from the same response bytes: the :class:`Archive`,
:func:`archive_article`, and the crawl state's helpers (:func:`cache_entry`,
:func:`payload_digest`, :func:`conditional_headers`) that decide between a new
record and a ``revisit``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from crawler.adapters import Adapter, get_adapter
from crawler.config import SourceConfig, Sources
from crawler.errors import ArchiveError, FetchError
from crawler.extraction import parse_response
from crawler.fetcher import Fetcher, RedirectError
from crawler.lock import ArchiveLock
from crawler.models import Article, ExtractionFailure, FetchResult, WarcLocation
from crawler.normalize import render_snapshot
from crawler.recovery import Recovered, reconcile, recover_warcs
from crawler.store import CacheEntry, SnapshotRecord, Store
from crawler.warc import WarcWriter

DEFAULT_WARC_SIZE = 1_000_000_000
ARCHIVE_DIRS = ("warc", "text", "runs", "orphans")

__all__ = ["Archive", "Outcome", "archive_article", "cache_entry", "conditional_headers", "parse_response",
           "payload_digest", "warc_date"]

Status = Literal["archived", "unchanged", "already-archived", "revisit", "not-article", "http-error",
                 "fetch-failed", "extraction-failed"]


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
        return self.status in ("archived", "unchanged", "already-archived", "revisit")


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
            for name in ARCHIVE_DIRS:  # found now, not as a traceback when the first file is written there
                if (root / name).exists() and not (root / name).is_dir():
                    raise ArchiveError(f"{root / name} is not a directory (the archive keeps its {name} files there)")
            self.store = Store(root)
            try:
                self.recovered: list[Recovered] = recover_warcs(root / "warc") + reconcile(self.store)
            except OSError as err:  # e.g. a full disk while closing a killed run's WARC
                self.store.close()
                raise ArchiveError(f"cannot recover archive {root} after a crash: {err}") from err
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
            self._writers[source.key] = WarcWriter(
                self.root / "warc", source.key, max_size=self.warc_size, gzip_level=self.gzip_level,
                info={"x-crawler-source": source.key, "x-crawler-source-name": source.name},
            )
        return self._writers[source.key]

    def record(self, source: SourceConfig, results: list[FetchResult]) -> list[WarcLocation]:
        """Write every exchange to the source's WARC before anything parses it."""
        writer = self.writer(source)
        return [writer.write_exchange(result) for result in results]

    def record_revisit(self, source: SourceConfig, results: list[FetchResult], cached: CacheEntry,
                       profile: Literal["server-not-modified", "identical-payload-digest"]) -> WarcLocation:
        """Write the redirect hops, then the final response as a ``revisit`` of the ``cached`` capture."""
        writer = self.writer(source)
        for hop in results[:-1]:
            writer.write_exchange(hop)
        return writer.write_revisit(
            results[-1], refers_to_uri=cached.url, refers_to_date=cached.warc_date, profile=profile,
            payload_digest=cached.payload_digest if profile == "identical-payload-digest" else None)

    def latest_snapshot(self, source: SourceConfig, article_id: str) -> SnapshotRecord | None:
        """The newest stored version of an article, None when it is not archived."""
        latest = self.store.latest(source.key, article_id)
        if latest is None:
            return None
        version, sha256, text_path = latest
        path = self.root / text_path
        return SnapshotRecord(source.key, article_id, version, path, path.with_suffix(".json"), sha256,
                              created=False)

    def store_article(self, source: SourceConfig, result: FetchResult, location: WarcLocation, *,
                      cache: CacheEntry | None = None) -> Outcome:
        """Parse a recorded 200 response and store its snapshot (and, given ``cache``, its validators)."""
        parsed = parse_response(self.adapter(source), result.content, result.header("content-type"), result.url)
        if isinstance(parsed, ExtractionFailure):
            return Outcome(result.url, source.key, "extraction-failed", failure=parsed, message=str(parsed))
        record = self.store.save(parsed, render_snapshot(parsed), location, result.fetched_at, cache=cache)
        return Outcome(result.url, source.key, "archived" if record.created else "unchanged", snapshot=record,
                       article=parsed)


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
    stored = archive.latest_snapshot(source, article_id)
    if stored is not None and not refresh:
        return Outcome(url, source.key, "already-archived", snapshot=stored, message=f"already archived: {url}")
    cached = archive.store.cached(url) if stored is not None else None
    try:
        results = await fetcher.fetch_following(url, conditional_headers(cached), allow=source.covers)
    except FetchError as err:
        if isinstance(err, RedirectError) and err.hops:
            archive.record(source, list(err.hops))  # raw first, even for a bad redirect chain
        return Outcome(url, source.key, "fetch-failed", message=str(err))
    final = results[-1]
    if cached is not None and final.status == 304:
        archive.record_revisit(source, results, cached, "server-not-modified")
        return Outcome(url, source.key, "revisit", snapshot=stored,
                       message=f"not modified since {cached.warc_date} (revisit recorded)")
    if cached is not None and final.status == 200 and payload_digest(final.body) == cached.payload_digest:
        archive.record_revisit(source, results, cached, "identical-payload-digest")
        return Outcome(url, source.key, "revisit", snapshot=stored,
                       message=f"unchanged since {cached.warc_date} (revisit recorded)")
    locations = archive.record(source, results)
    if final.status != 200:
        return Outcome(url, source.key, "http-error", message=f"{final.url}: HTTP {final.status} {final.reason}")
    return archive.store_article(source, final, locations[-1], cache=cache_entry(url, final, locations[-1]))


def conditional_headers(cached: CacheEntry | None) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` from the validators remembered for a URL."""
    headers: dict[str, str] = {}
    if cached is not None:
        if cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
    return headers


def cache_entry(url: str, final: FetchResult, location: WarcLocation) -> CacheEntry:
    """What the crawl state remembers of a 200 response recorded at ``location``."""
    return CacheEntry(url=url, etag=final.header("etag"), last_modified=final.header("last-modified"),
                      status=final.status, payload_digest=payload_digest(final.body), warc_file=location.filename,
                      warc_offset=location.offset, warc_date=warc_date(final.fetched_at))


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (``sha1:`` + base32), as the WARC writer computes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
