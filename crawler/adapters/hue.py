"""Adapter for Báo Huế ngày nay (huengaynay.vn), formerly Báo Thừa Thiên Huế (baothuathienhue.vn).

No saved article page of this site exists (SITES.md), so every field is found by a
selector first and by a text anchor when no selector matches, and the rule that
found it is reported in ``Article.rules``:

- title: ``h1.detail-title`` …, else the ``<h1>`` whose text equals ``og:title``, else the first ``<h1>``;
- date: date selectors, else the first ``DD/MM/YYYY - HH:MM`` text near the title;
- breadcrumb: breadcrumb selectors, else the links before the title whose paths are
  directory prefixes of the article's path (``/chinh-tri-xa-hoi/`` for
  ``/chinh-tri-xa-hoi/theo-dong-thoi-su/<slug>-144988.html``);
- sapo: sapo selectors, else the first block after the title that starts with a lead
  prefix (``TTH.VN - `` in 2022, ``options.sapo_prefixes``);
- body: body selectors, else the element holding the most paragraphs after the title;
- byline: the last body block matching ``^(Bài|Tin|Ảnh|Bài, ảnh|…)\\s*:``;
- end of the article: the ``Chia sẻ bài viết`` label (a box such as
  "ĐỒNG HÀNH CÙNG DOANH NGHIỆP" after it is never part of the text).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.adapters.base import (
    BYLINE_RE,
    base_href,
    breadcrumb_from_links,
    canonical_url,
    cut_at_share_label,
    failure,
    find_date,
    first_css,
    meta_content,
    node_text,
    parse_html,
    parse_listing_links,
)
from crawler.adapters.blocks import extract_blocks
from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.normalize import clean_line, find_vn_datetime
from crawler.urls import url_path

TITLE = ("h1.detail-title", ".detail-title h1", "h1.article-title")
DATE = ("span.date", ".detail-date", ".pubdate", "span.pubdate")
BREADCRUMB = ("div.breadcrumb", "ul.breadcrumb", ".breadcrumbs")
SAPO = ("div.detail-sapo", ".detail-sapo", "p.sapo", ".sapo")
BODY = ("div.detail-content", "#newscontents .content-fck", ".content-fck")
DROP = (".detail-related", ".detail-tag", ".tags", ".related", "#comment", ".comments", '[class*="AMN_res"]')
DROP_SELECTOR = ", ".join(DROP)


class HueAdapter:
    """Parses Huế article pages by selectors with text anchors as the fallback."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        prefixes: Sequence[str] = source.options.get("sapo_prefixes", ("TTH.VN", "HNN"))
        alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        self.sapo_re = re.compile(rf"^(?:{alternatives})\s*[-–—]\s*") if alternatives else None

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        tree = parse_html(html)
        rules: dict[str, str] = {}
        title_node = self._title_node(tree, rules)
        title = node_text(title_node)
        if not title:
            return failure(self.source, url, "title", "no <h1> title and no og:title")
        assert title_node is not None

        date_hit = find_date(tree, DATE)
        if date_hit is None:
            near = _date_near(title_node)
            if near is None:
                return failure(self.source, url, "date", "no DD/MM/YYYY - HH:MM date near the title")
            date_hit = (near, "text:date-pattern near the title")
        published, rules["date"] = date_hit

        body_node = self._body_node(tree, title_node, rules)
        if body_node is None:
            return failure(self.source, url, "body", "no body container and no paragraphs after the title")
        # One selector list, one query; chrome is skipped during the walk, not removed from the tree.
        chrome = {node.mem_id for node in body_node.css(DROP_SELECTOR)}
        body = extract_blocks(body_node, base_url=base_href(tree, url), skip=lambda n: n.mem_id in chrome)
        blocks = list(body.blocks)
        if cut_at_share_label(blocks):
            rules["end"] = "text:share-label"

        sapo = None
        sapo_hit = first_css(tree, SAPO)
        if sapo_hit is not None and node_text(sapo_hit[0]):
            sapo, rules["sapo"] = node_text(sapo_hit[0]), sapo_hit[1]
            if blocks and blocks[0] == sapo:
                blocks.pop(0)
        elif blocks and self.sapo_re is not None and self.sapo_re.match(blocks[0]):
            sapo = blocks.pop(0)
            rules["sapo"] = "text:lead-prefix"
        elif self.sapo_re is not None:
            lead = _lead_between(title_node, body_node, self.sapo_re)
            if lead:
                sapo, rules["sapo"] = lead, "text:lead-prefix before the body"

        byline = None
        for i in range(len(blocks) - 1, max(len(blocks) - 4, -1), -1):
            if BYLINE_RE.match(blocks[i]):
                byline = "\n".join(blocks[i:])
                del blocks[i:]
                rules["byline"] = "text:byline-pattern"
                break
        if not blocks:
            return failure(self.source, url, "body", "the body has no text")

        article_id = self.source.article_id(url) or _id_from_page(tree)
        if not article_id:
            return failure(self.source, url, "article_id", "the URL and the page carry no article id")
        rules["article_id"] = "url:article_url_pattern" if self.source.article_id(url) else "meta:article:id"
        canonical, rules["canonical_url"] = canonical_url(tree, url)
        breadcrumb = self._breadcrumb(tree, title_node, url, rules)
        segments = [s for s in url_path(url).split("/")[1:-1] if s]
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=breadcrumb,
            category_slugs=tuple(segments),
            published=published,
            kicker=self._kicker(tree, title_node, rules),
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(body.images),
            rules=rules,
        )

    def _title_node(self, tree: LexborHTMLParser, rules: dict[str, str]) -> LexborNode | None:
        hit = first_css(tree, TITLE)
        if hit is not None and node_text(hit[0]):
            rules["title"] = hit[1]
            return hit[0]
        og = clean_line(meta_content(tree, "og:title") or "")
        headings = [h for h in tree.css("h1") if node_text(h)]
        for heading in headings:
            if og and node_text(heading) == og:
                rules["title"] = "text:h1 equal to og:title"
                return heading
        if headings:
            rules["title"] = "text:longest h1"
            return max(headings, key=lambda h: len(node_text(h)))
        return None

    def _body_node(self, tree: LexborHTMLParser, title: LexborNode, rules: dict[str, str]) -> LexborNode | None:
        hit = first_css(tree, BODY)
        if hit is not None:
            rules["body"] = hit[1]
            return hit[0]
        # Text anchor: the element after the title with the most direct <p> children.
        best: tuple[int, LexborNode | None] = (0, None)
        for node in _following(title):
            if not node.is_element_node or node.tag in ("p", "h1", "script", "style"):
                continue
            count = sum(1 for child in _children(node) if child.tag == "p")
            if count > best[0]:
                best = (count, node)
        if best[1] is not None:
            rules["body"] = "text:most paragraphs after the title"
        return best[1]

    def _kicker(self, tree: LexborHTMLParser, title: LexborNode, rules: dict[str, str]) -> str | None:
        hit = first_css(tree, (".detail-kicker", ".kicker", ".supertitle", "h2.sapo-kicker"))
        if hit is not None and node_text(hit[0]):
            rules["kicker"] = hit[1]
            return node_text(hit[0])
        # Text anchor: a short heading or paragraph right before the title, with no links and no date.
        node = title.prev
        while node is not None and not node.is_element_node:
            node = node.prev
        if node is None or node.tag not in ("h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong"):
            return None
        text = node_text(node)
        if not text or len(text) > 300 or node.css_first("a") is not None or find_vn_datetime(text):
            return None
        rules["kicker"] = "text:short element right before the title"
        return text

    def _breadcrumb(
        self, tree: LexborHTMLParser, title: LexborNode, url: str, rules: dict[str, str]
    ) -> tuple[str, ...]:
        hit = first_css(tree, BREADCRUMB)
        if hit is not None:
            crumbs = breadcrumb_from_links(hit[0].css("a"))
            if crumbs:
                rules["breadcrumb"] = hit[1] + " a"
                return crumbs
        # Text anchor: the last group of links before the title that point at directory
        # prefixes of the article path (the category and subcategory).
        path = url_path(url)
        prefixes = {path[: i + 1] for i, char in enumerate(path) if char == "/" and i > 0}
        groups: dict[int, list[LexborNode]] = {}
        order: list[int] = []
        for link in _preceding_links(title):
            link_path = url_path(link.attributes.get("href") or "")
            if link_path in prefixes or link_path.rstrip("/") + "/" in prefixes:
                parent = link.parent
                while parent is not None and parent.tag in ("li", "span", "h2", "h3", "h4", "strong", "b"):
                    parent = parent.parent
                key = parent.mem_id if parent is not None else 0
                if key not in groups:
                    groups[key] = []
                    order.append(key)
                groups[key].append(link)
        if not order:
            return ()
        rules["breadcrumb"] = "text:category links before the title"
        return breadcrumb_from_links(groups[order[-1]])


def _children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        out.append(child)
        child = child.next
    return out


def _following(start: LexborNode) -> list[LexborNode]:
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


def _preceding_links(title: LexborNode) -> list[LexborNode]:
    """``<a href>`` elements before the title in document order."""
    body = title.parser.body if hasattr(title, "parser") else None
    root = body if body is not None else title
    links: list[LexborNode] = []
    target = title.mem_id
    for node in root.traverse():
        if node.mem_id == target:
            break
        if node.tag == "a" and node.attributes.get("href"):
            links.append(node)
    return links


def _date_near(title: LexborNode) -> datetime | None:
    """The first date in the title's container, widening up to four levels."""
    node: LexborNode | None = title.parent
    for _ in range(4):
        if node is None:
            break
        for text_node in node.traverse(include_text=True):
            if text_node.tag == "-text":
                found = find_vn_datetime(text_node.text_content or "")
                if found is not None:
                    return found
        node = node.parent
    return None


def _lead_between(title: LexborNode, body: LexborNode, pattern: re.Pattern[str]) -> str | None:
    for node in _following(title):
        if node.mem_id == body.mem_id:
            break
        text = node_text(node)
        if pattern.match(text):
            return text
    return None


def _id_from_page(tree: LexborHTMLParser) -> str | None:
    value = meta_content(tree, "article:id")
    return value if value and value.isdigit() else None
