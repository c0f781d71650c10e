"""Adapter for the Mediatech CMS family (Báo Tây Ninh, Cao Bằng, Hưng Yên, Lạng Sơn, Quảng Ninh).

Recognised by ``<meta name="author" content="MEDIATECH">``, assets under
``/themes/frontend/<code>/`` and images on ``media.<host>`` / ``*.mediatech.vn`` (SITES.md).
Article URLs are ``/<slug>-<ID>.html`` with a decimal id of 5+ digits; a cut slug may end
``--<ID>.html``.  The article markup (baotayninh 88701; a public scraper reads baocaobang
the same way):

- breadcrumb ``div.breadcrumbs ol.breadcrumb``; the header's ``div.title-time`` is today's
  date, not the article's;
- date ``div.content-article div.date``, printed ``Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]``;
  else the JSON-LD ``datePublished`` (``2021-12-01 11:51:00``, local time);
- title ``h1.name``; lead ``#content-detail p.sapo``.  The ``div.sapo`` beside it is a
  machine-cut copy of the lead that stops mid-word: never printed (it is the lead only on a
  page with no ``p.sapo`` whose ``div.sapo`` does not run on into the body);
- body ``#content-detail`` (it nests a second ``<html><body>``), captions ``p.wp-caption-text``;
  in-body ads ``ins.ads-zone-group``; byline the last ``div.author``;
- ``section.page-info``: ``#post-id`` (the URL's id), ``#cate-url`` / ``#parent-cate-url``.

Home pages list short videos in ``article.card-short-video`` cards whose links carry the
video's own number (``…-36611.html`` for the article ``…-146729.html``): a listing skips them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser

from crawler.parse.adapters.base import node_text
from crawler.parse.adapters.family import FamilyAdapter, id_in_text, json_ld_local_datetime

ARTICLE = ".content-article"


class MediatechAdapter(FamilyAdapter):
    FAMILY = "mediatech"
    MARKERS = 'meta[name="author"][content="MEDIATECH" i], section.page-info #post-id, #content-detail'
    SELECTORS: ClassVar[Mapping[str, Sequence[str]]] = {
        "breadcrumb": ("div.breadcrumbs ol.breadcrumb", "div.breadcrumbs", "ol.breadcrumb"),
        "date": (f"{ARTICLE} div.date", f"{ARTICLE} .date", ".detail-date", ".post-date"),
        "title": (f"{ARTICLE} h1.name", "h1.name", f"{ARTICLE} h1"),
        "kicker": (f"{ARTICLE} .kicker", f"{ARTICLE} .sub-title", f"{ARTICLE} .subtitle"),
        "sapo": ("#content-detail p.sapo", f"{ARTICLE} p.sapo", f"{ARTICLE} h2.sapo"),
        "body": ("#content-detail", f"{ARTICLE} .detail", ".detail-content"),
        "byline": ("div.author", "p.author", ".author"),
    }
    DROP = (
        ".sapo", "ins.ads-zone-group", "ins.adsbygoogle", ".ads-zone-group", ".adsbygoogle", ".topics", ".relates",
        ".box-comments", ".social", ".social-links", ".print_page", ".text_to_audio", ".related", ".tags",
        ".box-related",
    )  # fmt: skip
    LISTING_SKIP = (".card-short-video", ".video-shorts", ".block-video-shorts")

    def more_dates(self, tree: LexborHTMLParser) -> tuple[datetime, str] | None:
        return json_ld_local_datetime(tree)

    def page_article_id(self, tree: LexborHTMLParser) -> tuple[str | None, str]:
        return id_in_text(tree, "section.page-info #post-id"), "css:section.page-info #post-id"

    def lead_candidates(self, tree: LexborHTMLParser, blocks: list[str]) -> tuple[str, str] | None:
        """``div.sapo`` when the page has no ``p.sapo`` and it is not a cut copy running into the body."""
        node = tree.css_first("#content-detail div.sapo") or tree.css_first(f"{ARTICLE} div.sapo")
        text = node_text(node)
        if not text:
            return None
        first = blocks[0] if blocks else ""
        if text == first:
            return text, "css:div.sapo"
        # The cut copy: the lead, then the start of the body, cut mid-word.
        if first and (first.startswith(text) or text.startswith(first)):
            return None
        joined = " ".join(blocks)
        if text[: max(20, len(text) // 2)] in joined and not joined.startswith(text):
            return None
        return text, "css:div.sapo"

    def breadcrumb_slugs(self, tree: LexborHTMLParser) -> tuple[str, ...]:
        slugs = []
        for selector in ("#parent-cate-url", "#cate-url"):
            path = node_text(tree.css_first(selector)).strip("/")
            if path:
                slugs.append(path.rsplit("/", 1)[-1])
        return tuple(dict.fromkeys(slugs))
