"""Frozen records passed between the stages of the flow (fetch -> WARC -> adapter -> store)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Image:
    """An image of the article body, with its caption when the page gives one."""

    url: str
    caption: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """One article as an adapter extracted it; every text field is already normalized.

    ``body`` holds the body blocks in document order (paragraphs, subheadings, list
    items, captions, table cells), each one line of normalized text, without the
    byline.  ``rules`` maps each field name to the rule that found it, e.g.
    ``{"title": "css:h1.margintopbot10.fw700", "byline": "text:byline-pattern"}``.
    """

    source: str
    article_id: str
    url: str
    canonical_url: str
    breadcrumb: tuple[str, ...]
    category_slugs: tuple[str, ...]
    published: datetime  # timezone-aware, +07:00
    kicker: str | None
    title: str
    sapo: str | None
    body: tuple[str, ...]
    byline: str | None
    images: tuple[Image, ...] = ()
    rules: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ExtractionFailure:
    """A page that did not yield a complete article; ``field`` names what was missing."""

    source: str
    url: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: no {self.field} ({self.reason})"


@dataclass(frozen=True, slots=True)
class ListingPage:
    """What a listing (home, category, topic) page links to."""

    article_urls: tuple[str, ...]
    next_url: str | None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP exchange as it went over the wire (bodies de-chunked, not decoded).

    ``request_head`` / ``response_head`` are the raw header blocks as sent and received
    (start line plus headers, ``\\r\\n`` line ends, terminated by an empty line);
    ``body`` is the payload with any transfer encoding removed and any content
    encoding (gzip, br, ...) kept as the server sent it.  ``content`` is ``body``
    after content decoding, for the parsers.
    """

    url: str
    status: int
    reason: str
    http_version: str
    request_head: bytes
    response_head: bytes
    headers: tuple[tuple[str, str], ...]
    body: bytes
    content: bytes
    peer_ip: str | None
    fetched_at: datetime  # UTC, aware

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where a response record lives: file name (relative to the archive's warc dir) and offset."""

    filename: str
    offset: int
