"""The crawl state the catalog keeps, as values: the HTTP cache rows and the frontier's failure schedule.

Part of the catalog (:mod:`crawler.archive.catalog`, whose :class:`~crawler.archive.catalog.Store`
reads and writes the ``http_cache`` and ``frontier`` tables): :class:`CacheEntry` is what is
remembered of a URL's last full response (its validators, sent back as a conditional request,
and its WARC place); :class:`FailedArticle`, :data:`MAX_ATTEMPTS`, :data:`BACKOFF` and
:func:`next_try_after` say when an article that failed is tried again.  No sqlite3 here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crawler.models import FetchResult, WarcLocation
from crawler.net.validators import sendable_validator

MAX_ATTEMPTS = 3  # runs in which an article may fail transiently before it is retried on the slow schedule
# After a permanent failure (or MAX_ATTEMPTS transient ones) an article is tried again after these
# waits, the last one repeating: a page that failed is not downloaded every 15 minutes forever.
BACKOFF = (timedelta(hours=1), timedelta(hours=6), timedelta(days=1), timedelta(weeks=1))


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the crawl state remembers of a URL's last full response."""

    url: str
    etag: str | None
    last_modified: str | None
    status: int
    payload_digest: str
    warc_file: str
    warc_offset: int
    warc_date: str

    def conditional_headers(self) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` from the remembered validators.

        Checked again here (:func:`~crawler.net.validators.sendable_validator`): a catalog written by
        an older version may hold any value a server sent.  An unusable one is left out.
        """
        headers: dict[str, str] = {}
        etag = sendable_validator("etag", self.etag)
        if etag:
            headers["If-None-Match"] = etag
        last_modified = sendable_validator("last-modified", self.last_modified)
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return headers

    @classmethod
    def of_response(cls, url: str, final: FetchResult, digest: str, location: WarcLocation) -> CacheEntry:
        """What to remember of a 200 response to ``url`` recorded at ``location`` with payload ``digest``."""
        # Only validators that may be sent back are remembered (non-ASCII, control characters,
        # overlong values or a Last-Modified that is no date: the next request is unconditional).
        return cls(url=url, etag=sendable_validator("etag", final.header("etag")),
                   last_modified=sendable_validator("last-modified", final.header("last-modified")),
                   status=final.status, payload_digest=digest, warc_file=location.filename,
                   warc_offset=location.offset,
                   warc_date=final.fetched_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


@dataclass(frozen=True, slots=True)
class FailedArticle:
    """An article that failed, and when it is tried again (``crawler failed``)."""

    source: str
    article_id: str
    url: str
    attempts: int
    failed: bool  # on the slow schedule (permanent failure, or MAX_ATTEMPTS transient ones)
    next_try: str | None
    last_error: str | None


def next_try_after(failures: int, now: datetime) -> datetime:
    """When an article on the slow schedule is tried again after its ``failures``-th failure there."""
    return now + BACKOFF[min(max(failures, 1), len(BACKOFF)) - 1]
