"""RSS 2.0 / RSS 1.0 / Atom feed bytes -> article links with their dates (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from crawler.discovery.xmlsafe import XMLFormatError, local, parse_xml
from crawler.models import pickled_by_fields
from crawler.net.urls import absolute
from crawler.parse.normalize import VN_TZ


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FeedEntry:
    url: str
    published: datetime | None


def parse_feed(data: bytes, url: str) -> list[FeedEntry]:
    """Entries of a feed in document order; raises XMLFormatError / UnsafeXMLError on bad input."""
    root = parse_xml(data)
    kind = local(root.tag)
    if kind not in ("rss", "feed", "RDF"):
        raise XMLFormatError(f"{url}: not a feed (root element <{kind}>)")
    entries: list[FeedEntry] = []
    for element in root.iter():
        name = local(element.tag)
        if name not in ("item", "entry"):
            continue
        link: str | None = None
        published: datetime | None = None
        for child in element:
            cname = local(child.tag)
            if cname == "link":
                href = child.get("href")
                rel = child.get("rel", "alternate")
                if href is not None and rel == "alternate":
                    link = href
                elif href is None and child.text and link is None:
                    link = child.text
            elif cname == "guid" and link is None and child.get("isPermaLink", "true") == "true" and child.text:
                link = child.text
            elif cname in ("pubDate", "published", "updated", "date") and child.text and published is None:
                published = parse_date(child.text)
        target = absolute(url, link) if link else None
        if target:
            entries.append(FeedEntry(target, published))
    return entries


def parse_date(text: str) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps); None when unreadable or without a zone."""
    text = text.strip()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        # A plain date (a sitemap's W3C "2025-09-01") is that day in Vietnam; a zone-less time is unusable.
        return parsed.replace(tzinfo=VN_TZ) if len(text) == 10 else None
    return parsed
