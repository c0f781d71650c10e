"""What the CMS-family adapters share (Mediatech, OneCMS): one reading, the family's markup as data.

A family adapter is a :class:`FamilyAdapter` subclass that names its family (``FAMILY``), its
built-in selectors per field (:data:`FIELDS`; a site's ``options.selectors`` go first), the
chrome to skip inside the body (``DROP``; plus ``options.drop``) and the listing regions whose
links are another numbering (``LISTING_SKIP``; plus ``options.listing_skip``).  Hooks let a
family add what only it has (a header author, a date in its JSON-LD dialect).

Every article says ``rules["family"]`` (the adapter's family) and ``rules["template"]``: the
family's name when its own selectors found the title and the body, ``anchors`` when a text
anchor had to (the title as the ``<h1>`` equal to ``og:title`` or the longest one, the body as
the element holding the most paragraphs after the title): a redesign shows as a shift of
templates.  The FORMAT.md rules for other families are applied here for all of them:

- the date line comes from whatever the page prints (:func:`~crawler.parse.normalize.find_vn_datetime`
  reads ``Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]``, ``21/11/2023 09:28``, time-first forms);
- a lead equal to the first body paragraph is printed once;
- a byline shown only in the header is printed after the body; the same name at the end of the
  body and in the header is printed once;
- source boxes, share labels and template placeholders are chrome (:data:`CHROME_LINES`);
- a category label is not a kicker (kickers come from kicker selectors only).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.net.urls import absolute, url_path, valid_article_id
from crawler.parse.adapters.anchors import date_near, following
from crawler.parse.adapters.base import (
    BYLINE_RE,
    any_css,
    base_href,
    breadcrumb_by_selectors,
    canonical_url,
    css_in_order,
    cut_at_share_label,
    failure,
    find_date,
    first_css,
    json_ld,
    meta_content,
    next_page_url,
    node_text,
    parse_html,
    slugs_from_links,
)
from crawler.parse.adapters.blocks import extract_blocks
from crawler.parse.normalize import VN_TZ, clean_line

FIELDS = ("breadcrumb", "date", "title", "kicker", "sapo", "body", "byline")

# Lines that are page chrome whatever element holds them (FORMAT.md, "The same rules on other CMS families").
CHROME_LINES = re.compile(
    r"^(?:Copy Link|Link gốc|Link bài gốc|Link đã được copy|Đã copy thành công!?|Bút danh|Thông báo"
    r"|Chia sẻ (?:Facebook|Zalo|email|Twitter|X|LinkedIn)"
    r"|Theo dõi(?: .{1,60})? trên(?: (?:Google News|Google Tin tức|Zalo|Facebook|YouTube|TikTok))?"
    r"|Nguồn:? ?(?:[a-z0-9-]+\.)+[a-z]{2,}/?)$",
    re.IGNORECASE,
)
RIGHT_ALIGNED = ('p[align="right"]', 'p[style*="text-align: right"]', 'p[style*="text-align:right"]')


class FamilyAdapter:
    """Parses article and listing pages of one CMS family; configured per site in sources.yaml."""

    FAMILY: ClassVar[str] = ""
    SELECTORS: ClassVar[Mapping[str, Sequence[str]]] = {}
    DROP: ClassVar[Sequence[str]] = ()
    LISTING_SKIP: ClassVar[Sequence[str]] = ()
    # What only this family's pages carry (recorded as rules["cms"] when present).
    MARKERS: ClassVar[str] = ""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source
        options: Mapping[str, Any] = source.options
        overrides = options.get("selectors") or {}
        self.selectors: dict[str, tuple[str, ...]] = {
            name: tuple(overrides.get(name, ())) + tuple(self.SELECTORS.get(name, ())) for name in FIELDS
        }
        self.drop_selector = ", ".join((*options.get("drop", ()), *self.DROP))
        skip = (*options.get("listing_skip", ()), *self.LISTING_SKIP)
        self.listing_skip = ", ".join(skip)

    # -- listings ---------------------------------------------------------------------------

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        """Article links in page order, once per id, on the source's hosts; links inside the
        family's other-numbering regions (short-video cards, …) are not articles."""
        tree = parse_html(html)
        base = base_href(tree, url)
        skipped: set[int] = set()
        if self.listing_skip:
            for region in tree.css(self.listing_skip):
                skipped.update(link.mem_id for link in region.css("a[href]"))
        seen: set[str] = set()
        ids: set[str] = set()
        articles: list[str] = []
        for link in tree.css("a[href]"):
            if link.mem_id in skipped:
                continue
            href = absolute(base, link.attributes.get("href") or "")
            if href is None or href in seen:
                continue
            seen.add(href)
            article_id = self.source.article_id(href)
            if article_id is not None and article_id not in ids:
                ids.add(article_id)
                articles.append(href)
        next_url = next_page_url(self.source, url) if articles else None
        return ListingPage(article_urls=tuple(articles), next_url=next_url)

    # -- articles ---------------------------------------------------------------------------

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        tree = parse_html(html)
        rules: dict[str, str] = {"family": self.FAMILY}
        if self.MARKERS and tree.css_first(self.MARKERS) is None:
            rules["cms"] = "markers missing"
        own_title, title_node, title = self._title(tree, rules)
        if not title:
            title = clean_line(meta_content(tree, "og:title") or "")
            if title:
                rules["title"] = "meta:og:title"
        if not title:
            return failure(self.source, url, "title", "no title element and no og:title")

        published = self._date(tree, title_node, rules)
        if published is None:
            return failure(self.source, url, "date", "no DD/MM/YYYY HH:MM date and no timed datePublished")

        own_body, body_node = self._body(tree, title_node, rules)
        if body_node is None:
            return failure(self.source, url, "body", "no body container and no paragraphs after the title")
        chrome = {node.mem_id for node in body_node.css(self.drop_selector)} if self.drop_selector else set()
        if title_node is not None:
            chrome.add(title_node.mem_id)
        body = extract_blocks(body_node, base_url=base_href(tree, url), skip_ids=chrome)
        blocks = [block for block in body.blocks if not CHROME_LINES.match(block)]
        if cut_at_share_label(blocks):
            rules["end"] = "text:share-label"

        sapo = self._sapo(tree, blocks, rules)
        if sapo is not None and blocks and blocks[0] == sapo:
            blocks.pop(0)
            rules["sapo"] += " (equal to the first paragraph: printed once)"
        byline = self._byline(tree, body_node, blocks, rules)
        if not blocks:
            return failure(self.source, url, "body", "the body has no text")

        article_id = self.source.article_id(url)
        rules["article_id"] = "url:article_url_pattern"
        if article_id is None:
            article_id, rules["article_id"] = self.page_article_id(tree)
        if article_id is None:
            return failure(self.source, url, "article_id", "the URL and the page carry no valid article id")
        canonical, rules["canonical_url"] = self.canonical(tree, url)
        breadcrumb, slugs = self._breadcrumb(tree, rules)
        rules["template"] = self.FAMILY if own_title and own_body else "anchors"
        captions = any(image.caption for image in body.images)
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=breadcrumb,
            category_slugs=slugs,
            published=published,
            kicker=self._kicker(tree, rules),
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(body.images),
            rules=rules | ({"captions": "layout:image-container"} if captions else {}),
        )

    # -- hooks a family may override --------------------------------------------------------

    def header_author(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[str, str] | None:
        """The author shown in the article header (next to the date) and its rule, if the family has one."""
        return None

    def page_article_id(self, tree: LexborHTMLParser) -> tuple[str | None, str]:
        """The article id the page itself carries, when the URL has none."""
        return None, "none"

    def more_dates(self, tree: LexborHTMLParser) -> tuple[datetime, str] | None:
        """Dates the family gives in its own dialect (after the selectors and ISO JSON-LD)."""
        return None

    def lead_candidates(self, tree: LexborHTMLParser, blocks: list[str]) -> tuple[str, str] | None:
        """A lead found another way than by the sapo selectors."""
        return None

    def canonical(self, tree: LexborHTMLParser, url: str) -> tuple[str, str]:
        return canonical_url(tree, url)

    def breadcrumb_slugs(self, tree: LexborHTMLParser) -> tuple[str, ...]:
        """Category slugs the page names outside its breadcrumb links."""
        return ()

    # -- the steps --------------------------------------------------------------------------

    def _title(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[bool, LexborNode | None, str]:
        """Whether the family's own selectors found the title, its element and its text."""
        for selector in self.selectors["title"]:
            for node in css_in_order(tree, selector):
                text = node_text(node)
                if text:
                    rules["title"] = f"css:{selector}"
                    return True, node, text
        og = clean_line(meta_content(tree, "og:title") or "")
        headings = [(h, text) for h in tree.css("h1") if (text := node_text(h))]
        for heading, text in headings:
            if og and text == og:
                rules["title"] = "text:h1 equal to og:title"
                return False, heading, text
        if headings:
            rules["title"] = "text:longest h1"
            return (False, *max(headings, key=lambda pair: len(pair[1])))
        return False, None, ""

    def _date(self, tree: LexborHTMLParser, title: LexborNode | None, rules: dict[str, str]) -> datetime | None:
        hit = find_date(tree, self.selectors["date"]) or self.more_dates(tree)
        if hit is None and title is not None:
            near = date_near(title, levels=3)
            if near is not None:
                hit = near, "text:date-pattern near the title"
        if hit is None:
            return None
        rules["date"] = hit[1]
        return hit[0]

    def _body(
        self, tree: LexborHTMLParser, title: LexborNode | None, rules: dict[str, str]
    ) -> tuple[bool, LexborNode | None]:
        hit = first_css(tree, self.selectors["body"])
        if hit is not None:
            rules["body"] = hit[1]
            return True, hit[0]
        if title is None:
            return False, None
        best: tuple[int, LexborNode | None] = (0, None)
        for node in following(title):
            if not node.is_element_node or node.tag in ("p", "h1", "script", "style"):
                continue
            count = sum(1 for child in node.iter() if child.tag == "p")
            if count > best[0]:
                best = (count, node)
        if best[1] is not None:
            rules["body"] = "text:most paragraphs after the title"
        return False, best[1]

    def _sapo(self, tree: LexborHTMLParser, blocks: list[str], rules: dict[str, str]) -> str | None:
        for selector in self.selectors["sapo"]:
            for node in css_in_order(tree, selector):
                text = node_text(node)
                if text:
                    rules["sapo"] = f"css:{selector}"
                    return text
        other = self.lead_candidates(tree, blocks)
        if other is None:
            return None
        rules["sapo"] = other[1]
        return other[0]

    def _kicker(self, tree: LexborHTMLParser, rules: dict[str, str]) -> str | None:
        hit = first_css(tree, self.selectors["kicker"], often_missing=True)
        kicker = node_text(hit[0]) if hit is not None else ""
        if hit is None or not kicker:
            return None
        rules["kicker"] = hit[1]
        return kicker

    def _byline(self, tree: LexborHTMLParser, body: LexborNode, blocks: list[str], rules: dict[str, str]) -> str | None:
        """The author line(s), taken off the end of ``blocks``; the header author printed after them."""
        header_hit = self.header_author(tree, rules)
        header = header_hit[0] if header_hit is not None else None
        ending: str | None = None
        candidates = (*self.selectors["byline"], *RIGHT_ALIGNED)
        for selector in candidates if any_css(body, candidates) else ():
            # The last of them with text (looked for from the end: one text each until found).
            last = next((n for n in reversed(body.css(selector)) if node_text(n)), None)
            if last is None:
                continue
            lines = extract_blocks(last).blocks
            if lines and len(lines) <= len(blocks) and blocks[-len(lines):] == lines:
                del blocks[-len(lines):]
                ending, rules["byline"] = "\n".join(lines), f"css:{selector} (last, ends the body)"
                break
        if ending is None and blocks and (
            BYLINE_RE.match(blocks[-1]) or (header is not None and _same_name(blocks[-1], header))
        ):
            ending = blocks.pop()
            rules["byline"] = "text:byline-pattern" if BYLINE_RE.match(ending) else "text:header author ends the body"
        if header_hit is None or header is None:
            return ending
        if ending is None:
            rules["byline"] = header_hit[1]
            return header
        if header.casefold() in ending.casefold():
            return ending
        rules["byline"] += " + header author"
        return f"{header}\n{ending}"

    def _breadcrumb(self, tree: LexborHTMLParser, rules: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        crumbs, links = breadcrumb_by_selectors(tree, self.selectors["breadcrumb"], rules)
        slugs = slugs_from_links(links) if crumbs else ()
        if slugs:
            rules["category_slugs"] = "breadcrumb links"
        else:
            slugs = self.breadcrumb_slugs(tree) or _json_ld_breadcrumb_slugs(tree)
            rules["category_slugs"] = "page data / json-ld:BreadcrumbList" if slugs else "none"
        return crumbs, slugs


def _same_name(line: str, author: str) -> bool:
    return clean_line(line).casefold() == clean_line(author).casefold()


def _json_ld_breadcrumb_slugs(tree: LexborHTMLParser) -> tuple[str, ...]:
    """Last path segments of a JSON-LD BreadcrumbList's items (without the home page)."""
    slugs: list[str] = []
    for item in json_ld(tree):
        elements = item.get("itemListElement")
        if item.get("@type") != "BreadcrumbList" or not isinstance(elements, list):
            continue
        for element in elements:
            target = element.get("item") if isinstance(element, dict) else None
            href = target.get("@id") if isinstance(target, dict) else target
            if isinstance(href, str):
                path = url_path(href).strip("/")
                if path:
                    slugs.append(path.rsplit("/", 1)[-1])
    return tuple(dict.fromkeys(slugs))


def json_ld_local_datetime(tree: LexborHTMLParser) -> tuple[datetime, str] | None:
    """``datePublished`` written ``YYYY-MM-DD HH:MM[:SS]`` (no ``T``, no offset: local time)."""
    for item in json_ld(tree):
        value = item.get("datePublished")
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?", value.strip()):
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return parsed.replace(tzinfo=VN_TZ), "json-ld:datePublished (local)"
    return None


def id_in_text(tree: LexborHTMLParser, selector: str) -> str | None:
    node = tree.css_first(selector)
    return valid_article_id(node_text(node)) if node is not None else None

