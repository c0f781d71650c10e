"""Text anchors: how a family adapter finds an article's fields when its selectors miss.

A family adapter tries its own selectors first; when one misses, these rules find the field
from what every news page has (an ``<h1>`` equal to ``og:title``, a date with a time near
it, the element after it holding the most paragraphs), and the adapter reports
``rules["template"] == "anchors"`` so that a redesign shows as a shift of templates in the
run summary and in ``crawler report``.  :func:`parse_by_anchors` reads a whole page this way
(the ``bbg`` adapter, whose article markup has not been seen, uses nothing else).

Sans-io, like every adapter module.
"""

from __future__ import annotations

import re
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure
from crawler.net.urls import url_path
from crawler.parse.adapters.base import (
    BYLINE_RE,
    base_href,
    breadcrumb_from_links,
    canonical_url,
    cut_at_share_label,
    failure,
    json_ld_datetime,
    meta_content,
    node_text,
    slugs_from_links,
)
from crawler.parse.adapters.blocks import BodyText, extract_blocks
from crawler.parse.normalize import VN_TZ, clean_line, find_vn_datetime

# Chrome inside a body found by density: never part of the text.
DROP = (".tags-box", ".after-author", ".related", ".box-related", ".tinlienquan", "#comment", ".comments",
        ".social-share", ".share", ".ads", ".banner", '[class*="AMN_res"]')
DROP_SELECTOR = ", ".join(DROP)
_RIGHT = re.compile(r"text-align\s*:\s*right", re.IGNORECASE)
# Template placeholders a page shows where an author would be (FORMAT.md: chrome).
PLACEHOLDER_BYLINES = frozenset({"bút danh", "tác giả"})


def title_node(tree: LexborHTMLParser) -> tuple[LexborNode, str] | None:
    """The ``<h1>`` equal to ``og:title``, else the longest ``<h1>``, with the rule that found it."""
    og = clean_line(meta_content(tree, "og:title") or "")
    headings = [(h, text) for h in tree.css("h1") if (text := node_text(h))]
    for heading, text in headings:
        if og and text == og:
            return heading, "text:h1 equal to og:title"
    if headings:
        return max(headings, key=lambda pair: len(pair[1]))[0], "text:longest h1"
    return None


def date_near(title: LexborNode, levels: int = 4) -> datetime | None:
    """The first date with a time in the title's container, widening up to ``levels`` levels."""
    node: LexborNode | None = title.parent
    for _ in range(levels):
        if node is None:
            break
        for text_node in node.traverse(include_text=True):
            if text_node.tag == "-text":
                found = find_vn_datetime(text_node.text_content or "")
                if found is not None:
                    return found
        node = node.parent
    return None


def structured_date(tree: LexborHTMLParser) -> tuple[datetime, str] | None:
    """``datePublished`` of JSON-LD, else ``article:published_time`` (with a time and an offset)."""
    published = json_ld_datetime(tree)
    if published is not None:
        return published, "json-ld:datePublished"
    meta = meta_content(tree, "article:published_time")
    if meta and "T" in meta:
        try:
            parsed = datetime.fromisoformat(meta)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return parsed.astimezone(VN_TZ), "meta:article:published_time"
    return None


def densest_after(title: LexborNode) -> LexborNode | None:
    """The element after the title with the most direct ``<p>`` children (None when none has any)."""
    best: tuple[int, LexborNode | None] = (0, None)
    for node in following(title):
        if node.tag in ("p", "h1", "script", "style", "a", "span"):
            continue
        count = 0
        child = node.child
        while child is not None:
            count += child.tag == "p"
            child = child.next
        if count > best[0]:
            best = (count, node)
    return best[1]


def following(start: LexborNode) -> list[LexborNode]:
    """Elements after ``start`` in document order (its following siblings and theirs, up to the body)."""
    found: list[LexborNode] = []
    node: LexborNode | None = start
    while node is not None and node.tag not in ("body", "html"):
        sibling = node.next
        while sibling is not None:
            if sibling.is_element_node:
                found.append(sibling)
                found.extend(d for d in sibling.traverse() if d.is_element_node and d is not sibling)
            sibling = sibling.next
        node = node.parent
    return found


def right_aligned(node: LexborNode) -> bool:
    """``<p align="right">`` or ``style="text-align: right"`` (any case: ``TEXT-ALIGN: right``)."""
    attrs = node.attributes
    return (attrs.get("align") or "").strip().lower() == "right" or bool(_RIGHT.search(attrs.get("style") or ""))


def body_text(tree: LexborHTMLParser, body: LexborNode, url: str, drop: str = DROP_SELECTOR) -> BodyText:
    """The body's blocks and images, chrome (``drop``) skipped, cut at the share label."""
    chrome = {node.mem_id for node in body.css(drop)}
    text = extract_blocks(body, base_url=base_href(tree, url), skip_ids=chrome)
    cut_at_share_label(text.blocks)
    return text


def split_last_byline(body: LexborNode, blocks: list[str]) -> tuple[str | None, str]:
    """Take the byline off the end of ``blocks``: the last right-aligned ``<p>`` of the body when it
    ends the text, else a last block such as ``Bài, ảnh: …``.  Returns (byline, rule)."""
    candidates = [p for p in body.css("p") if right_aligned(p)]
    if candidates:
        lines = extract_blocks(candidates[-1]).blocks
        if lines and len(lines) <= len(blocks) and blocks[-len(lines):] == lines:
            del blocks[-len(lines):]
            return "\n".join(lines), "layout:last right-aligned p of the body"
    if blocks and BYLINE_RE.match(blocks[-1]):
        return blocks.pop(), "text:byline-pattern"
    return None, ""


def drop_lead_copy(blocks: list[str], sapo: str | None) -> bool:
    """FORMAT.md: a lead equal to the first body paragraph is printed once (as the lead)."""
    if sapo and blocks and blocks[0] == sapo:
        del blocks[0]
        return True
    return False


def category_slugs_of(url: str) -> tuple[str, ...]:
    """The directory names of an article URL's path, without numbers (``/xa-hoi/giao-duc/202605/x-1/`` ->
    ``xa-hoi, giao-duc``; ``/95/64112/x/`` -> none)."""
    segments = [p for p in url_path(url).split("/") if p]
    return tuple(p for p in segments[:-1] if not p.isdigit())


def parse_by_anchors(source: SourceConfig, tree: LexborHTMLParser, url: str, *,
                     rules: dict[str, str]) -> Article | ExtractionFailure:
    """A whole article by text anchors only; ``rules`` (e.g. ``{"family": …}``) is completed."""
    rules["template"] = "anchors"
    hit = title_node(tree)
    if hit is None:
        return failure(source, url, "title", "no <h1> title")
    title_el, rules["title"] = hit
    title = node_text(title_el)
    near = date_near(title_el)
    dated = (near, "text:date-pattern near the title") if near is not None else structured_date(tree)
    if dated is None:
        return failure(source, url, "date", "no DD/MM/YYYY HH:MM date near the title and no timed datePublished")
    published, rules["date"] = dated
    body_el = densest_after(title_el)
    if body_el is None:
        return failure(source, url, "body", "no element with paragraphs after the title")
    rules["body"] = "text:most paragraphs after the title"
    text = body_text(tree, body_el, url)
    blocks = list(text.blocks)
    byline, rule = split_last_byline(body_el, blocks)
    if byline is not None:
        rules["byline"] = rule
    if not blocks:
        return failure(source, url, "body", "the body has no text")
    article_id = source.article_id(url)
    rules["article_id"] = "url:article_url_pattern"
    if article_id is None:
        return failure(source, url, "article_id", "the URL is no article URL of the source")
    canonical, rules["canonical_url"] = canonical_url(tree, url)
    crumbs_node = tree.css_first("ol.breadcrumb, ul.breadcrumb, .breadcrumb")
    links = crumbs_node.css("a") if crumbs_node is not None else []
    breadcrumb = breadcrumb_from_links(links)
    if breadcrumb:
        rules["breadcrumb"] = "css:.breadcrumb a"
    return Article(
        source=source.key, article_id=article_id, url=url, canonical_url=canonical, breadcrumb=breadcrumb,
        category_slugs=slugs_from_links(links) or category_slugs_of(url), published=published, kicker=None,
        title=title, sapo=None, body=tuple(blocks), byline=byline, images=tuple(text.images), rules=rules,
    )
