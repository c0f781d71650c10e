"""Frozen records passed between the stages of the flow (fetch -> WARC -> adapter -> store)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from crawler.codings import MAX_DECODED_BYTES, decode_content

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Class decorator for a frozen dataclass: pickle it as a call of its constructor with its fields.

    Records cross the crawl process -> archive worker boundary by the thousand; the default
    pickling of a slots dataclass looks its fields up on every call (~20 µs more per job).
    """
    getter: Callable[[Any], tuple[Any, ...]] = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, getter(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Image:
    """An image of the article body, with its caption when the page gives one."""

    url: str
    caption: str | None = None


@pickled_by_fields
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


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ExtractionFailure:
    """A page that did not yield a complete article; ``field`` names what was missing."""

    source: str
    url: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.url}: no {self.field} ({self.reason})"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ListingPage:
    """What a listing (home, category, topic) page links to."""

    article_urls: tuple[str, ...]
    next_url: str | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP exchange as it went over the wire (bodies de-chunked, not decoded).

    ``request_head`` / ``response_head`` are the raw header blocks as sent and received
    (start line plus headers, ``\\r\\n`` line ends, terminated by an empty line);
    ``body`` is the payload with any transfer encoding removed and any content
    encoding (gzip, br, ...) kept as the server sent it.  :attr:`content` decodes it
    (on demand: the crawl process hands the body to an archive worker, which decodes it
    there) and raises :class:`~crawler.codings.ContentDecodingError` for a damaged or
    too large body.
    """

    url: str
    status: int
    reason: str
    http_version: str
    request_head: bytes
    response_head: bytes
    headers: tuple[tuple[str, str], ...]
    body: bytes
    peer_ip: str | None
    fetched_at: datetime  # UTC, aware

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def content_encoding(self) -> str:
        """Every ``Content-Encoding`` value, in order, joined with commas ("" for none)."""
        lname = "content-encoding"
        return ", ".join(value for key, value in self.headers if key.lower() == lname)

    @property
    def content(self) -> bytes:
        """``body`` with its content encodings undone, at most :data:`~crawler.codings.MAX_DECODED_BYTES`."""
        return decode_content(self.body, self.content_encoding, limit=MAX_DECODED_BYTES)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where a response record lives: file name (relative to the archive's warc dir) and offset."""

    filename: str
    offset: int
