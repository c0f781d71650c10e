"""Adapter for the VDOC news CMS family (Báo Cần Thơ, Báo An Giang, ...).

Two template revisions are known (SITES.md): the Cần Thơ one
(``div.titlecate h1`` breadcrumb, ``span.pubdate``, ``h1.margintopbot10.fw700``;
https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html)
and the newer An Giang one (``ul.breadcrumb``, ``div.pubdate``, ``div.detail-title h1``,
``div.detail-desc p.fontd``, ``p.author``;
https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html).
The default selector lists cover both; a site's ``options:`` in sources.yaml may put
its own selectors first (``selectors: {title: [...]}``), add chrome to drop
(``drop: [...]``) and name its lead prefixes (``sapo_prefixes: ["(CT)"]``).

Every article it returns says ``rules["family"] == rules["template"] == "vdoc"``.  The Huế adapter hands
pages of Huế's VDOC era (2021-2022) to this one (:func:`is_vdoc_page`,
:meth:`VdocAdapter.parse_tree`), so both sources read VDOC markup by the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.net.urls import url_path, valid_article_id
from crawler.parse.adapters.base import (
    BYLINE_RE,
    base_href,
    breadcrumb_by_selectors,
    canonical_url,
    cut_at_share_label,
    failure,
    find_date,
    first_css,
    meta_content,
    node_text,
    parse_html,
    parse_listing_links,
    slugs_from_links,
    split_byline,
)
from crawler.parse.adapters.blocks import extract_blocks
from crawler.parse.normalize import clean_line, find_vn_datetime

# One entry per field of crawler.config.checks.SELECTOR_FIELDS (a test keeps the two equal).
DEFAULT_SELECTORS: Mapping[str, Sequence[str]] = {
    "breadcrumb": ("div.titlecate h1", "ul.breadcrumb", ".mybreadcrumb .breadcrumb", "div.breadcrumb"),
    "date": ("span.pubdate", "div.pubdate", ".detail-date-share .pubdate", ".pubdate"),
    "title": ("h1.margintopbot10.fw700", "div.detail-title h1", "h1.detail-title", "h1.fw700"),
    "kicker": ("div.detail-title .kicker", "h2.sapo-kicker", ".detail-kicker", ".kicker", ".supertitle"),
    "sapo": ("div.detail-desc p.fontd", "div.detail-desc", "p.fontd", ".detail-sapo", ".sapo"),
    "body": ("#newscontents .content-fck", "#newscontents", ".detail-content", ".content-fck"),
    "byline": ("p.author", 'p[align="right"]', 'p[style*="text-align: right"]', 'p[style*="text-align:right"]'),
}
DEFAULT_DROP = (
    '[class^="AMN_res"]', '[class*=" AMN_res"]', ".detail-related", ".detail-tag", "#comment", ".sharemxh",
    "#linkshare", ".pubshare", ".boxpayk", ".related-news", ".box-related", ".tinlienquan", ".ads", ".banner",
)  # fmt: skip


# What only a VDOC article page has: the body container and the hidden id input of its comment form.
VDOC_MARKERS = "#newscontents, input#txtnewsid"
# A dash after a lead prefix: "(CT) - ", "TTH.VN - ".
_DASH = re.compile(r"\s*[-–—]")


def is_vdoc_page(tree: LexborHTMLParser) -> bool:
    """Whether a page carries the VDOC article markers (``#newscontents`` or ``input#txtnewsid``)."""
    return tree.css_first(VDOC_MARKERS) is not None


class VdocAdapter:
    """Parses article and listing pages of a VDOC-family site; configured per site.

    ``fallbacks`` adds selectors tried after the built-in ones (the Huế adapter's
    ``#clear span`` date of Huế's VDOC pages).
    """

    def __init__(self, source: SourceConfig, fallbacks: Mapping[str, Sequence[str]] | None = None) -> None:
        self.source = source
        options: Mapping[str, Any] = source.options
        overrides = options.get("selectors") or {}
        extra = fallbacks or {}
        self.selectors: dict[str, tuple[str, ...]] = {
            name: tuple(overrides.get(name, ())) + tuple(defaults) + tuple(extra.get(name, ()))
            for name, defaults in DEFAULT_SELECTORS.items()
        }
        self.drop: tuple[str, ...] = tuple(options.get("drop", ())) + DEFAULT_DROP
        self.drop_selector = ", ".join(self.drop)
        self.sapo_prefixes: tuple[str, ...] = tuple(options.get("sapo_prefixes", ()))

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        return self.parse_tree(parse_html(html), url)

    def parse_tree(self, tree: LexborHTMLParser, url: str) -> Article | ExtractionFailure:
        """:meth:`parse_article` on a page parsed already."""
        rules: dict[str, str] = {"family": "vdoc", "template": "vdoc"}

        title_hit = first_css(tree, self.selectors["title"])
        title = node_text(title_hit[0]) if title_hit else ""
        if title_hit and title:
            rules["title"] = title_hit[1]
        else:
            title = clean_line(meta_content(tree, "og:title") or "")
            rules["title"] = "meta:og:title"
        if not title:
            return failure(self.source, url, "title", "no title element and no og:title")

        date_hit = find_date(tree, self.selectors["date"])
        if date_hit is None:
            return failure(self.source, url, "date", "no DD/MM/YYYY - HH:MM date and no timed datePublished")
        published, rules["date"] = date_hit

        body_hit = first_css(tree, self.selectors["body"])
        if body_hit is None:
            return failure(self.source, url, "body", "no body container (#newscontents / .content-fck)")
        body_node, rules["body"] = body_hit
        # One selector list, one query; chrome is skipped during the walk, not removed from the tree.
        chrome = {node.mem_id for node in body_node.css(self.drop_selector)}
        body = extract_blocks(body_node, base_url=base_href(tree, url), skip_ids=chrome)
        if cut_at_share_label(body.blocks):
            rules["end"] = "text:share-label"
        blocks, byline = list(body.blocks), None
        for selector in self.selectors["byline"]:
            candidates = body_node.css(selector)
            if candidates:
                blocks, byline = split_byline(body, candidates[-1])
                if byline is not None:
                    rules["byline"] = f"css:{selector} (last, ends the body)"
                    break
        if byline is None and blocks and BYLINE_RE.match(blocks[-1]):
            byline = blocks.pop()
            rules["byline"] = "text:byline-pattern"

        sapo = self._sapo(tree, rules)
        if sapo is None and blocks and self._has_sapo_prefix(blocks[0]):
            sapo = blocks.pop(0)
            rules["sapo"] = "text:sapo-prefix"
        if not blocks:
            return failure(self.source, url, "body", "the body has no text")

        article_id, rules["article_id"] = self._article_id(tree, url)
        if not article_id:
            return failure(self.source, url, "article_id", "no #txtnewsid and the URL has no id")
        canonical, rules["canonical_url"] = canonical_url(tree, url)
        breadcrumb, slugs = self._breadcrumb(tree, rules)
        caption_text = {image.caption for image in body.images if image.caption}
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=breadcrumb,
            category_slugs=slugs,
            published=published,
            kicker=self._kicker(tree, title_hit[0] if title_hit else None, rules),
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(body.images),
            rules=rules | ({"captions": "layout:image-container"} if caption_text else {}),
        )

    def _has_sapo_prefix(self, text: str) -> bool:
        """``(CT) - …``: one of the site's lead prefixes followed by a dash."""
        return any(text.startswith(prefix) and _DASH.match(text, len(prefix)) for prefix in self.sapo_prefixes)

    def _sapo(self, tree: LexborHTMLParser, rules: dict[str, str]) -> str | None:
        hit = first_css(tree, self.selectors["sapo"])
        if hit is None:
            return None
        text = node_text(hit[0])
        if not text:
            return None
        rules["sapo"] = hit[1]
        return text

    def _kicker(self, tree: LexborHTMLParser, title_node: LexborNode | None, rules: dict[str, str]) -> str | None:
        hit = first_css(tree, self.selectors["kicker"], often_missing=True)
        kicker = node_text(hit[0]) if hit is not None else ""
        if hit is not None and kicker:
            rules["kicker"] = hit[1]
            return kicker
        # The Cần Thơ template leaves a slot between the share bar (which holds the date) and the title.
        node = title_node.prev if title_node is not None else None
        while node is not None:
            if node.is_element_node:
                if "sharemxh" in (node.attributes.get("class") or "").split():
                    break
                text = node_text(node)
                if find_vn_datetime(text):
                    break
                if node.tag not in ("script", "style") and text:
                    rules["kicker"] = "layout:between-date-bar-and-title"
                    return text
            node = node.prev
        return None

    def _article_id(self, tree: LexborHTMLParser, url: str) -> tuple[str, str]:
        node = tree.css_first("#txtnewsid")
        value = valid_article_id((node.attributes.get("value") or "").strip() if node is not None else "")
        if value is not None:
            return value, "css:#txtnewsid"
        from_url = self.source.article_id(url)
        if from_url is None:
            match = _trailing_id(url)
            return (match, "url:trailing-id") if match else ("", "none")
        return from_url, "url:article_url_pattern"

    def _breadcrumb(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        crumbs, links = breadcrumb_by_selectors(tree, self.selectors["breadcrumb"], rules)
        slugs = tuple(
            value
            for value in (
                (n.attributes.get("value") or "").strip() if n is not None else ""
                for n in (tree.css_first("#txtnewscate"), tree.css_first("#txtnewssubcate"))
            )
            if value
        )
        if slugs:
            rules["category_slugs"] = "css:#txtnewscate,#txtnewssubcate"
        else:
            slugs = _slugs_from_body_data(tree) or slugs_from_links(links)
            rules["category_slugs"] = "body[data] / breadcrumb links"
        return crumbs, slugs


def _trailing_id(url: str) -> str | None:
    """The number that ends the URL's last path segment (``…-a123.html`` -> 123), when it is a valid id."""
    stem = url_path(url).rsplit("/", 1)[-1].removesuffix(".html")
    match = re.search(r"[0-9]+$", stem)
    return valid_article_id(match.group()) if match else None


def _slugs_from_body_data(tree: LexborHTMLParser) -> tuple[str, ...]:
    # baoangiang: <body data="cate/detail/cate=suc-khoe/subcate=bac-si-cua-ban">
    body = tree.body
    data = (body.attributes.get("data") or "") if body is not None else ""
    found = []
    for part in data.split("/"):
        key, _, value = part.partition("=")
        if key in ("cate", "subcate") and value:
            found.append(value)
    return tuple(found)
