"""Adapter for the OneCMS family (Báo Nghệ An, Báo Đà Nẵng, Báo Hải Phòng).

Recognised by assets on ``*.1cdn.vn`` and the ``sc-longform-header-*`` classes (SITES.md).
Article URLs are ``/<slug>-<ID>.html`` with a decimal id of 6-8 digits.  The article markup
(baonghean 10264116, baodanang 3102163):

- breadcrumb ``nav[aria-label=breadcrumb] ol.breadcrumb li.breadcrumb-item`` (first item
  "Trang chủ"); some articles show none, and then the snapshot has no breadcrumb line;
- the header ``div.sc-longform-header`` inside the body: a category label
  ``span.sc-longform-header-cate`` (not a kicker), title ``h1.sc-longform-header-title``,
  author ``span.sc-longform-header-author``, date ``span.sc-longform-header-date``
  (``21/11/2023 09:28``), lead ``p.sc-longform-header-sapo`` (may be empty);
- body ``div.c-news-detail div.b-maincontent`` > ``article.entry`` or ``div.entry``; captions
  in ``td.image_desc``, ``figcaption`` or an italic ``<p>`` after an image;
- chrome: the share bar ``div.c-share-detail``, tags ``div.c-widget-tags``, the source box
  ``div.c-author-page`` ("Nguồn …", "Link bài gốc", "Copy Link"), ad zones ``.oneads``;
- the canonical URL is ``<link rel=canonical>`` or, on one site, ``<meta name="canonical">``;
- ``meta article:published_time`` is US-ordered (``11/21/2023 9:28:56 AM``): read as such.

The header author is printed as the byline after the body; when the body ends with the same
name (or a right-aligned author line) it is printed once.  Sites that hide the header author
with CSS (a ``<style>`` rule or inline ``display:none``, or ``options.header_author_hidden``)
print only the body's author line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.net.urls import absolute, valid_article_id
from crawler.parse.adapters.base import meta_content, node_text
from crawler.parse.adapters.family import FamilyAdapter
from crawler.parse.normalize import VN_TZ, clean_line

HEADER = ".sc-longform-header"
BODY_ROOT = "div.c-news-detail div.b-maincontent"
_HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2})(?::\d{2})?\s*([AP]M)?$", re.IGNORECASE)
_MEDIA = re.compile(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}")
_GTAG_ID = re.compile(r"""['"]articleId['"]\s*:\s*['"]([0-9]+)['"]""")


class OnecmsAdapter(FamilyAdapter):
    FAMILY = "onecms"
    MARKERS = f'{HEADER}, [class*="sc-longform-header-"], link[href*=".1cdn.vn/"], div.c-news-detail'
    SELECTORS: ClassVar[Mapping[str, Sequence[str]]] = {
        "breadcrumb": ('nav[aria-label="breadcrumb"] ol.breadcrumb', ".c-detail-head ol.breadcrumb", "ol.breadcrumb"),
        "date": (f"{HEADER}-date", ".c-detail-head .date", ".sc-longform-header-meta"),
        "title": (f"h1{HEADER}-title", f"{HEADER}-title", f"{BODY_ROOT} h1", ".c-detail-head h1"),
        "kicker": (f"{HEADER}-subtitle", ".sc-longform-header-kicker"),
        "sapo": (f"{HEADER}-sapo", "div.c-news-detail .sapo"),
        "body": (f"{BODY_ROOT} article.entry", f"{BODY_ROOT} div.entry", f"{BODY_ROOT} .entry", BODY_ROOT),
        "byline": ("p.author", "div.author", ".c-news-detail .author"),
    }
    DROP = (
        HEADER, ".c-share-detail", ".c-share-scroll", ".c-widget-tags", ".c-author-page", ".oneads",
        ".c-banner-inpage", ".AdsBetweenContent", ".c-box", ".box-icon-top_ggnews", ".onecms_related",
        ".c-article-reaction", ".toast", ".c-comments", ".c-news-topmore",
    )  # fmt: skip

    def header_author(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[str, str] | None:
        node = tree.css_first(f"{HEADER}-author")
        text = node_text(node)
        if node is None or not text:
            return None
        if self.source.options.get("header_author_hidden") is True or _hidden(tree, node):
            rules["header_author"] = "hidden"
            return None
        return text, f"css:{HEADER}-author (header)"

    def more_dates(self, tree: LexborHTMLParser) -> tuple[datetime, str] | None:
        value = meta_content(tree, "article:published_time") or ""
        match = _US_DATE.match(value.strip())
        if match is None:
            return None
        month, day, year, hour, minute, half = match.groups()
        h = int(hour)
        if half:
            h = h % 12 + (12 if half.upper() == "PM" else 0)
        try:
            published = datetime(int(year), int(month), int(day), h, int(minute), tzinfo=VN_TZ)
        except ValueError:
            return None
        return published, "meta:article:published_time (M/D/Y)"

    def page_article_id(self, tree: LexborHTMLParser) -> tuple[str | None, str]:
        found = valid_article_id(meta_content(tree, "dable:item_id"))
        if found is not None:
            return found, "meta:dable:item_id"
        for script in tree.css("script"):
            match = _GTAG_ID.search(script.text(deep=True) or "")
            if match is not None:
                return valid_article_id(match.group(1)), "script:articleId"
        return None, "none"

    def canonical(self, tree: LexborHTMLParser, url: str) -> tuple[str, str]:
        link = tree.css_first('link[rel="canonical"]')
        if link is None:
            meta = tree.css_first('meta[name="canonical"]')
            href = absolute(url, (meta.attributes.get("content") or "").strip()) if meta is not None else None
            if href:
                return href, "css:meta[name=canonical]"
        return super().canonical(tree, url)

    def breadcrumb_slugs(self, tree: LexborHTMLParser) -> tuple[str, ...]:
        channel = meta_content(tree, "channel:url")
        if not channel:
            return ()
        path = (absolute("https://x.invalid/", channel) or "").split("/", 3)[-1].strip("/")
        return tuple(s for s in path.split("/") if s)


def _hidden(tree: LexborHTMLParser, node: LexborNode) -> bool:
    """Whether CSS on the page hides the header author (inline, or a ``<style>`` rule naming its class)."""
    current: LexborNode | None = node
    for _ in range(4):
        if current is None:
            break
        if _HIDDEN.search(current.attributes.get("style") or ""):
            return True
        current = current.parent
    for style in tree.css("style"):
        css = _MEDIA.sub("", clean_line(style.text(deep=True) or ""))  # a rule for small screens only is no hiding
        for rule in re.finditer(r"([^{}]*)\{([^{}]*)\}", css):
            selectors, body = rule.group(1), rule.group(2)
            if "sc-longform-header-author" in selectors and _HIDDEN.search(body) and ":" not in selectors.split(
                "sc-longform-header-author", 1)[1][:1]:
                return True
    return False
