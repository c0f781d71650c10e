"""What the crawl process asks an archive worker to do, and what comes back (plain records).

The crawl process fetches; everything done to the bytes after that happens in an archive
worker (:mod:`crawler.crawl.archive_worker`): writing the WARC records first, then decoding, parsing and
writing the snapshot file.  An :class:`ArchiveJob` carries the exchanges as they went over
the wire; the :class:`ArchiveReply` carries where they were written and what the page held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from crawler.archive.snapshots import WrittenSnapshot
from crawler.discovery import FeedEntry
from crawler.models import Article, ExtractionFailure, FetchResult, ListingPage, WarcLocation, pickled_by_fields

JobKind = Literal["record", "listing", "feed", "sitemap", "article", "snapshot"]
RevisitProfile = Literal["server-not-modified", "identical-payload-digest"]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Revisit:
    """Write the final response as a ``revisit`` record referring to an earlier capture."""

    profile: RevisitProfile
    refers_to_uri: str
    refers_to_date: str
    payload_digest: str | None = None
    reread: WarcLocation | None = None  # a 304'd page: where its body was recorded (parsed from there)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ArchiveJob:
    """One page (its redirect hops included) to write, and, for ``kind``, to parse.

    - ``record``: write the exchanges only (robots.txt, a failed redirect chain);
    - ``listing`` / ``feed`` / ``sitemap``: write, then parse the final 200 (or the body a
      ``revisit`` re-reads) for links;
    - ``article``: write, then parse, render and store the snapshot of ``expected_id`` given
      ``latest`` (:meth:`crawler.archive.catalog.Store.latest`); with an ``identical-payload-digest``
      ``revisit`` (``--refresh``) a final 200 whose payload has that digest is written as a revisit;
    - ``snapshot``: store ``article`` / ``text`` parsed earlier (an article URL that redirected to another id).
    """

    kind: JobKind
    source: str
    hops: tuple[FetchResult, ...] = ()
    revisit: Revisit | None = None
    expected_id: str = ""
    latest: tuple[int, str, str] | None = None
    extra_host: str | None = None  # a host outside the source an article URL redirected to
    article: Article | None = None
    text: str = ""
    location: WarcLocation | None = None
    fetched_at: datetime | None = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ArchiveReply:
    """What became of a job.  ``fatal`` means the archive's storage failed: the run must stop."""

    locations: tuple[WarcLocation, ...] = ()
    digest: str | None = None  # payload digest of the final response
    revisit: bool = False  # the final response went in as a revisit record
    problem: str | None = None  # the page could not be read (decoding, too complex, unreadable WARC)
    transient: bool = False  # ... and that problem may go away (a damaged transfer, bytes that are not HTML)
    extraction: ExtractionFailure | None = None
    written: WrittenSnapshot | None = None
    pending: tuple[Article, str] | None = None  # the URL redirected to another article (its id, not expected_id)
    published: datetime | None = None
    template: str | None = None
    listing: ListingPage | None = None
    entries: tuple[FeedEntry, ...] = ()
    children: tuple[str, ...] = ()  # sitemaps named by a sitemap index
    fatal: str | None = None
    died: bool = False  # the worker process died on this job (crash, or killed after the deadline)
    overran: bool = False  # ... killed because the job outlasted the deadline (the page will do it again)
    stopped: bool = False  # not done: the run stopped first (the page stays in the frontier)
