"""Sitemap bytes (urlset, sitemap index, Google News sitemaps, .xml.gz) -> URLs (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from crawler.discovery.feeds import FeedEntry, parse_date
from crawler.discovery.xmlsafe import XMLFormatError, local, parse_xml
from crawler.net.urls import absolute


@dataclass(slots=True)
class SitemapResult:
    """Page URLs (with lastmod / news publication date) and child sitemaps of an index."""

    urls: list[FeedEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)


def parse_sitemap(data: bytes, url: str) -> SitemapResult:
    root = parse_xml(data)
    kind = local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise XMLFormatError(f"{url}: not a sitemap (root element <{kind}>)")
    result = SitemapResult()
    for element in root:
        name = local(element.tag)
        if name not in ("url", "sitemap"):
            continue
        loc: str | None = None
        date: datetime | None = None
        for child in element.iter():
            cname = local(child.tag)
            if cname == "loc" and child.text and loc is None:
                loc = child.text.strip()
            elif cname == "publication_date" and child.text:
                date = parse_date(child.text) or date  # news:publication_date wins over lastmod
            elif cname == "lastmod" and child.text and date is None:
                date = parse_date(child.text)
        target = absolute(url, loc) if loc else None
        if not target:
            continue
        if name == "sitemap":
            result.sitemaps.append(target)
        else:
            result.urls.append(FeedEntry(target, date))
    return result
