"""Adapter for Báo Huế ngày nay (huengaynay.vn), formerly Báo Thừa Thiên Huế (baothuathienhue.vn).

One numbering of articles has been served by three CMS eras (SITES.md), and the
adapter first recognises which template a page is in; ``rules["template"]`` says which:

``vdoc``
    Huế's VDOC era (2021-2022, ``baothuathienhue.vn/<slug>-a<ID>.html``): a page with
    ``#newscontents`` or ``input#txtnewsid`` is read by :class:`~crawler.parse.adapters.vdoc.VdocAdapter`
    itself (the same rules, hence the same snapshot, as for Cần Thơ and An Giang),
    with a few more places to look when the VDOC defaults miss (:data:`VDOC_FALLBACKS`).
``dnn``
    DotNetNuke (``huengaynay.vn``, 2025-), the news module as the sibling site of the same
    module family reads it (baovephapluat.vn, SITES.md "DotNetNuke"; the Huế article page itself
    has not been seen): title ``h1.post-title``, date ``.lbPublishedDate`` (``Thứ Năm, 05/03/2026
    10:17``, possibly before the title and ending ``(GMT+7)``), lead ``div.post-summary h2``
    (``HNN.VN - …``), body ``div.post-content div.noidung`` (images in table rows, the caption in
    the next row), author ``div.tacgia`` (printed as the byline after the body, once).
``dnn-guess``
    The earlier guess, modelled on the classes of the real 2026 home page: ``div.detail-news``
    holding ``.list-breadcrumb``, ``article.detail`` with ``h1.i-title``, ``.i-date``, ``.i-sapo``
    and the body in ``div[id$=_ContentDetail]``.  Kept beside ``dnn`` until a real page decides.
``generic``
    A page none of the above reads (:mod:`crawler.parse.adapters.generic`).
``anchors``
    Anything else (the 2022-2024 category-path pages, AMP copies, or a DNN page whose
    markup is not the one modelled): every field is found by a selector first and by
    a text anchor when no selector matches, and the rule that found it is reported:

    - title: ``h1.detail-title`` …, else the ``<h1>`` whose text equals ``og:title``, else the longest ``<h1>``;
    - date: date selectors, else the first date-with-time text near the title;
    - breadcrumb: breadcrumb selectors, else the links before the title whose paths are
      directory prefixes of the article's path (``/chinh-tri-xa-hoi/`` for
      ``/chinh-tri-xa-hoi/theo-dong-thoi-su/<slug>-144988.html``);
    - sapo: sapo selectors, else the first block after the title that starts with a lead
      prefix (``TTH.VN - `` in 2022, ``HNN.VN - `` in 2026, ``options.sapo_prefixes``);
    - body: body selectors, else the element holding the most paragraphs after the title;
    - byline: the last body block matching ``^(Bài|Tin|Ảnh|Bài, ảnh|…)\\s*:``;
    - end of the article: the ``Chia sẻ bài viết`` label (a box such as
      "ĐỒNG HÀNH CÙNG DOANH NGHIỆP" after it is never part of the text).

A page whose CMS markers say DNN (``dnn_ctr…`` ids, ``DnnModule``) but whose fields were
found by the anchors is reported as ``anchors`` with ``rules["cms"] == "dnn"``: the sign
that the modelled DNN article markup differs from the real one.  ``rules["family"]`` is the
CMS family whose markers the page carries (``vdoc``, ``dnn``, or ``unknown``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.net.urls import url_path, valid_article_id
from crawler.parse.adapters.anchors import date_near, following
from crawler.parse.adapters.base import (
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
    slugs_from_links,
)
from crawler.parse.adapters.blocks import extract_blocks
from crawler.parse.adapters.vdoc import VdocAdapter, is_vdoc_page
from crawler.parse.normalize import clean_line, find_vn_datetime

# The DotNetNuke news module as the sibling site reads it (template "dnn"): tried first.
DNN_NEWS_TITLE = ("h1.post-title",)
DNN_NEWS_DATE = (".lbPublishedDate",)
DNN_NEWS_SAPO = ("div.post-summary h2", "div.post-summary")
DNN_NEWS_BODY = ("div.post-content div.noidung", "div.noidung")
DNN_NEWS_AUTHOR = ("div.tacgia",)
# The earlier guess after the home page's classes (template "dnn-guess").
DNN = "div.detail-news"
DNN_TITLE = (f"{DNN} h1.i-title", f"{DNN} article h1")
DNN_DATE = (f"{DNN} .i-date",)
DNN_BREADCRUMB = (f"{DNN} .list-breadcrumb",)
DNN_SAPO = (f"{DNN} .i-sapo",)
DNN_BODY = (f'{DNN} div[id$="_ContentDetail"]', f"{DNN} .i-content")
DNN_KICKER = (f"{DNN} .i-kicker",)
DNN_MARKERS = '[id^="dnn_ctr"], div.DnnModule'
# Then the selectors of other plausible templates, then the text anchors.
TITLE = (*DNN_NEWS_TITLE, *DNN_TITLE, "h1.detail-title", ".detail-title h1", "h1.article-title")
DATE = (*DNN_NEWS_DATE, *DNN_DATE, "span.date", ".detail-date", ".pubdate", "span.pubdate")
BREADCRUMB = (*DNN_BREADCRUMB, "div.breadcrumb", "ul.breadcrumb", ".breadcrumbs")
SAPO = (*DNN_NEWS_SAPO, *DNN_SAPO, "div.detail-sapo", ".detail-sapo", "p.sapo", ".sapo")
BODY = (*DNN_NEWS_BODY, *DNN_BODY, "div.detail-content", "#newscontents .content-fck", ".content-fck")
KICKER = (*DNN_KICKER, ".detail-kicker", ".kicker", ".supertitle", "h2.sapo-kicker")
DROP = (*DNN_NEWS_AUTHOR, ".detail-related", ".detail-tag", ".tags", ".related", "#comment", ".comments",
        '[class*="AMN_res"]')
DROP_SELECTOR = ", ".join(DROP)
# What urlsplit removes from a URL before reading it (so that an href holding them is read in full).
_URL_DROPPED = re.compile(r"[\t\n\r]")
# Where a public scraper of Huế's VDOC pages (2021-2022) finds the fields when the VDOC defaults miss:
# the date in "#clear span", the lead as a paragraph of "#colcate1", a category heading that is no <h1>.
VDOC_FALLBACKS = {"date": ("#clear span",), "sapo": ("#colcate1 > p",), "breadcrumb": ("div.titlecate",)}


class HueAdapter:
    """Recognises the template of a Huế page and parses it (VDOC rules, DNN selectors, text anchors)."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        self.vdoc = VdocAdapter(source, fallbacks=VDOC_FALLBACKS)
        prefixes: Sequence[str] = source.options.get("sapo_prefixes", ("TTH.VN", "HNN.VN", "HNN"))
        alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
        self.sapo_re = re.compile(rf"^(?:{alternatives})\s*[-–—]\s*") if alternatives else None

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        tree = parse_html(html)
        if is_vdoc_page(tree):
            result = self.vdoc.parse_tree(tree, url)
            if isinstance(result, Article):
                return result
            # A VDOC-looking page the VDOC rules cannot read: the anchors may.
            fallback = self._parse_generic(tree, url, cms="vdoc")
            result = fallback if isinstance(fallback, Article) else result
        else:
            cms = "dnn" if tree.css_first(DNN_MARKERS) is not None else "unknown"
            result = self._parse_generic(tree, url, cms=cms)
        return result

    def _parse_generic(self, tree: LexborHTMLParser, url: str, *, cms: str) -> Article | ExtractionFailure:
        # The family whose markers the page carries (``unknown``: none), beside the template that read it.
        rules: dict[str, str] = {"cms": cms, "family": cms}
        title_node, title = self._title_node(tree, rules)
        if not title:
            return failure(self.source, url, "title", "no <h1> title and no og:title")
        assert title_node is not None

        date_hit = find_date(tree, DATE)
        if date_hit is None:
            near = date_near(title_node)
            if near is None:
                return failure(self.source, url, "date", "no DD/MM/YYYY - HH:MM date near the title")
            date_hit = (near, "text:date-pattern near the title")
        published, rules["date"] = date_hit

        body_node = self._body_node(tree, title_node, rules)
        if body_node is None:
            return failure(self.source, url, "body", "no body container and no paragraphs after the title")
        # One selector list, one query; chrome is skipped during the walk, not removed from the tree.
        chrome = {node.mem_id for node in body_node.css(DROP_SELECTOR)}
        body = extract_blocks(body_node, base_url=base_href(tree, url), skip_ids=chrome)
        blocks = list(body.blocks)
        if cut_at_share_label(blocks):
            rules["end"] = "text:share-label"

        sapo = None
        sapo_hit = first_css(tree, SAPO)
        sapo_text = node_text(sapo_hit[0]) if sapo_hit is not None else ""
        if sapo_hit is not None and sapo_text:
            sapo, rules["sapo"] = sapo_text, sapo_hit[1]
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
        author_hit = first_css(tree, DNN_NEWS_AUTHOR)
        author = "\n".join(extract_blocks(author_hit[0]).blocks) if author_hit is not None else ""
        if author and byline is None:
            if blocks and blocks[-1].casefold() == author.casefold():
                blocks.pop()  # the same author at the end of the body and in the author box: once
            byline, rules["byline"] = author, author_hit[1] if author_hit else ""
        if not blocks:
            return failure(self.source, url, "body", "the body has no text")

        article_id, rules["article_id"] = self.source.article_id(url), "url:article_url_pattern"
        if article_id is None:
            article_id, rules["article_id"] = _id_from_page(tree), "meta:article:id"
        if article_id is None:
            return failure(self.source, url, "article_id", "the URL and the page carry no valid article id")
        canonical, rules["canonical_url"] = canonical_url(tree, url)
        breadcrumb, crumb_links = self._breadcrumb(tree, title_node, url, rules)
        # Category slugs: the breadcrumb's link paths (a DNN URL may name the category only), else the URL's.
        slugs = slugs_from_links(crumb_links) or tuple(s for s in url_path(url).split("/")[1:-1] if s)
        title_rule, body_rule = rules.get("title", ""), rules.get("body", "")
        if title_rule in _css(DNN_NEWS_TITLE) and body_rule in _css(DNN_NEWS_BODY):
            rules["template"] = "dnn"
        elif title_rule in _css(DNN_TITLE) and body_rule in _css(DNN_BODY):
            rules["template"] = "dnn-guess"
        else:
            rules["template"] = "anchors"
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=breadcrumb,
            category_slugs=slugs,
            published=published,
            kicker=self._kicker(tree, title_node, rules),
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(body.images),
            rules=rules,
        )

    def _title_node(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[LexborNode | None, str]:
        """The title element and its text (None and '' when there is none)."""
        hit = first_css(tree, TITLE)
        text = node_text(hit[0]) if hit is not None else ""
        if hit is not None and text:
            rules["title"] = hit[1]
            return hit[0], text
        og = clean_line(meta_content(tree, "og:title") or "")
        headings = [(h, text) for h in tree.css("h1") if (text := node_text(h))]
        for heading, text in headings:
            if og and text == og:
                rules["title"] = "text:h1 equal to og:title"
                return heading, text
        if headings:
            rules["title"] = "text:longest h1"
            return max(headings, key=lambda pair: len(pair[1]))
        return None, ''

    def _body_node(self, tree: LexborHTMLParser, title: LexborNode, rules: dict[str, str]) -> LexborNode | None:
        hit = first_css(tree, BODY)
        if hit is not None:
            rules["body"] = hit[1]
            return hit[0]
        # Text anchor: the element after the title with the most direct <p> children.
        best: tuple[int, LexborNode | None] = (0, None)
        for node in following(title):
            if not node.is_element_node or node.tag in ("p", "h1", "script", "style"):
                continue
            count = sum(1 for child in _children(node) if child.tag == "p")
            if count > best[0]:
                best = (count, node)
        if best[1] is not None:
            rules["body"] = "text:most paragraphs after the title"
        return best[1]

    def _kicker(self, tree: LexborHTMLParser, title: LexborNode, rules: dict[str, str]) -> str | None:
        hit = first_css(tree, KICKER, often_missing=True)
        kicker = node_text(hit[0]) if hit is not None else ""
        if hit is not None and kicker:
            rules["kicker"] = hit[1]
            return kicker
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
    ) -> tuple[tuple[str, ...], list[LexborNode]]:
        """The breadcrumb's names and the links they came from."""
        hit = first_css(tree, BREADCRUMB, often_missing=True)
        if hit is not None:
            links = hit[0].css("a")
            crumbs = breadcrumb_from_links(links)
            if crumbs:
                rules["breadcrumb"] = hit[1] + " a"
                return crumbs, links
        # Text anchor: the last group of links before the title that point at directory
        # prefixes of the article path (the category and subcategory).
        path = url_path(url)
        prefixes = {path[: i + 1] for i, char in enumerate(path) if char == "/" and i > 0}
        if not prefixes:
            return (), []
        # Every prefix starts with the shortest one ("/kinh-te/"), so a matching link's path holds it
        # without its slash; an href with tabs or newlines (urlsplit drops them) is always looked at.
        stem = min(prefixes, key=len).rstrip("/")
        groups: dict[int, list[LexborNode]] = {}
        order: list[int] = []
        for link, href in _preceding_links(title):
            if stem not in href and not _URL_DROPPED.search(href):
                continue
            link_path = url_path(href)
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
            return (), []
        rules["breadcrumb"] = "text:category links before the title"
        return breadcrumb_from_links(groups[order[-1]]), groups[order[-1]]


def _children(node: LexborNode) -> list[LexborNode]:
    out = []
    child = node.child
    while child is not None:
        out.append(child)
        child = child.next
    return out



def _preceding_links(title: LexborNode) -> list[tuple[LexborNode, str]]:
    """``<a href>`` elements before the title in document order (an ancestor of the title counts),
    with their non-empty ``href``.

    One selector query lists the body's links in document order (in lexbor, not a Python walk over
    every node); a binary search with :func:`_precedes` finds where the title comes among them.
    """
    body = title.parser.body if hasattr(title, "parser") else None
    if body is None:
        return []
    links = body.css("a[href]")
    ancestor = title.parent
    while ancestor is not None and ancestor.mem_id != body.mem_id:
        ancestor = ancestor.parent
    low, high = (0, len(links)) if ancestor is not None else (len(links), len(links))  # outside: all precede
    while low < high:
        middle = (low + high) // 2
        if _precedes(links[middle], title):
            low = middle + 1
        else:
            high = middle
    found = []
    for link in links[:low]:
        href = link.attrs.get("href")  # one attribute, not the dict of them all
        if href:
            found.append((link, href))
    return found


def _precedes(node: LexborNode, other: LexborNode) -> bool:
    """Whether ``node`` comes before ``other`` in document order (pre-order: an ancestor comes first)."""
    path: dict[int, LexborNode] = {}  # other's ancestors-or-self by mem_id, each with its child towards other
    child: LexborNode | None = None
    current: LexborNode | None = other
    while current is not None:
        path[current.mem_id] = child if child is not None else current
        child, current = current, current.parent
    child, current = None, node
    while current is not None:
        toward_other = path.get(current.mem_id)
        if toward_other is not None:
            if current.mem_id == other.mem_id:
                return False  # node is other itself or inside it
            if child is None:
                return True  # node is an ancestor of other
            # Siblings under the common ancestor: is other's branch after node's?
            target = toward_other.mem_id
            sibling = child.next
            while sibling is not None:
                if sibling.mem_id == target:
                    return True
                sibling = sibling.next
            return False
        child, current = current, current.parent
    return False


def _lead_between(title: LexborNode, body: LexborNode, pattern: re.Pattern[str]) -> str | None:
    for node in following(title):
        if node.mem_id == body.mem_id:
            break
        text = node_text(node)
        if pattern.match(text):
            return text
    return None


def _id_from_page(tree: LexborHTMLParser) -> str | None:
    return valid_article_id(meta_content(tree, "article:id"))


def _css(selectors: Sequence[str]) -> frozenset[str]:
    """The rule names :func:`first_css` gives for ``selectors``."""
    return frozenset(f"css:{selector}" for selector in selectors)
