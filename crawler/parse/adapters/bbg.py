"""Adapter for Bắc Ninh's own CMS (``adapter: bbg``): baobacninhtv.vn, which absorbed baobacgiang.vn.

Article URLs are ``/<slug>-postid<ID>.bbg`` with a decimal id
(https://baobacninhtv.vn/dac-sac-le-hoi-tien-luc-nam-2026-postid444795.bbg), a few under a
section path (``/bg/infographics/<slug>-postid<ID>.bbg``); the home page has ``<base href="/">``
and relative links, which :func:`~crawler.parse.adapters.base.parse_listing_links` resolves against it.

No article page of this CMS has been seen (SITES.md), so no selector is guessed: every article
is read by the text anchors of :mod:`.anchors` and says ``rules["template"] == "anchors"``
(``rules["family"] == "bbg"``).  When real pages show the markup, selectors go here.
"""

from __future__ import annotations

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters.anchors import parse_by_anchors
from crawler.parse.adapters.base import parse_html, parse_listing_links

FAMILY = "bbg"


class BbgAdapter:
    """Listings of Bắc Ninh's ``.bbg`` site; its articles by text anchors (markup not seen)."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        return parse_by_anchors(self.source, parse_html(html), url, rules={"family": FAMILY})
