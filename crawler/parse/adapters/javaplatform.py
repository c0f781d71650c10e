"""Adapter for the Java multi-tenant news platform (``adapter: javaplatform``).

One platform serves many provincial papers (SITES.md): baodongnai.com.vn, baokhanhhoa.vn,
baothainguyen.vn, baotuyenquang.com.vn and the Phú Yên archive on phuyen.baodaklak.vn.  A page
of it carries ``#page_info`` with ``parent_site_id ff8080815e5b41fb015e5b817a510004``, assets
under ``/common/v1/`` or ``/common/v2/`` and files under ``/file/<32 hex>/``.  Article URLs are
``/<cate>[/<sub>…]/<YYYYMM>/<slug>-<ID>/`` with a 7-digit hex id
(https://baodongnai.com.vn/thanh-pho-dong-nai/202605/infographic-…-0e36a0a/); the Phú Yên
archive also answers at legacy ``baophuyen.vn/<cat-number>/<ID>/<slug>/`` URLs with a decimal
id (https://baophuyen.vn/95/64112/dung-mang-chat-ung-thu-vao-nha/).  Which is which is the
source's ``article_url_pattern`` (crawler.net.urls.ID_SHAPES); ``#page_info #article_id`` is a
third, internal numbering (32 hex digits) and is never used as the article id.

The article template seen (``/common/v2/``, Phú Yên 64112) is read by these selectors
(``rules["template"] == "javaplatform"`` when title, date and body were all found by the
first of them):

- breadcrumb ``nav.group-category ol.breadcrumb`` (without "Trang chủ");
- date ``div.group-time time.time``, printed time first (``10:30, 15/05/2011``);
- title ``div.detail-main-title h1.title``;
- lead ``div.content-reply p.reply``, equal to the first body paragraph: printed once;
- body ``div.td-post-content`` (inside a nested ``<html><body>`` within ``<main>``; the HTML5
  parser folds it into the page);
- byline: the last right-aligned ``<p>`` of the body (``Theo DTO``); ``div.after-author
  p.author`` holds the placeholder "Bút danh" on these pages and is used only when it names
  someone.

Whether the ``/common/v1/`` tenants print articles the same way is not verified.  When a
selector misses, later selectors of the same list and then text anchors (:mod:`.anchors`) are
tried, each field's ``rules`` entry says which rule found it, and the page's template is
``anchors``: a shift from ``javaplatform`` to ``anchors`` in the run summary is the sign that a
tenant's markup differs.  ``rules["family"]`` is always ``javaplatform``; ``rules["cms"]`` says
whether the page carries the platform's markers.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters.anchors import (
    PLACEHOLDER_BYLINES,
    body_text,
    category_slugs_of,
    date_near,
    densest_after,
    drop_lead_copy,
    split_last_byline,
    structured_date,
    title_node,
)
from crawler.parse.adapters.base import (
    breadcrumb_by_selectors,
    canonical_url,
    css_in_order,
    failure,
    find_date,
    first_css,
    meta_content,
    node_text,
    parse_html,
    parse_listing_links,
    slugs_from_links,
)

FAMILY = "javaplatform"
PARENT_SITE_ID = "ff8080815e5b41fb015e5b817a510004"
# The first selector of each list is the template seen; the others are the same parts by looser names.
BREADCRUMB = ("nav.group-category ol.breadcrumb", ".detail-header-groups ol.breadcrumb",
              ".wrapper-post-detail-header ol.breadcrumb")
DATE = ("div.group-time time.time", ".detail-header-groups time", "#wrapperPostDetailHeader time",
        ".wrapper-post-detail-header time")
TITLE = ("div.detail-main-title h1.title", "div.detail-main-title h1", "#wrapperPostDetailMain h1",
         ".wrapper-post-detail-main h1")
SAPO = ("div.content-reply p.reply", "div.content-reply", "#wrapperPostDetailMain p.reply")
BODY = ("div.td-post-content", "#content.content-detail", "div.content-detail")
AUTHOR = ("div.after-author p.author",)
# Inside the body: tag boxes, related links, share bars, ads (never text).
DROP = (".tags-box", ".after-author", ".box-related", ".related", ".social-share", ".share", ".ads", ".banner",
        "#comment", '[class*="AMN_res"]')
DROP_SELECTOR = ", ".join(DROP)


def platform_markers(tree: LexborHTMLParser) -> bool:
    """Whether a page carries the platform's markers (``#page_info``'s parent site, its asset paths)."""
    parent = tree.css_first("#page_info #parent_site_id")
    if parent is not None and node_text(parent) == PARENT_SITE_ID:
        return True
    return tree.css_first('link[href*="/common/v2/"], link[href*="/common/v1/"]') is not None


class JavaplatformAdapter:
    """Parses article and listing pages of any tenant of the Java multi-tenant platform."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        tree = parse_html(html)
        rules: dict[str, str] = {"family": FAMILY, "cms": FAMILY if platform_markers(tree) else "unknown"}
        seen = True  # every key field found by the template's own selector

        title_hit = first_css_text(tree, TITLE)
        if title_hit is None:
            title_hit = title_node(tree)
        if title_hit is None:
            return failure(self.source, url, "title", "no title (div.detail-main-title h1.title) and no <h1>")
        title_el, rules["title"] = title_hit
        seen &= rules["title"] == f"css:{TITLE[0]}"
        title = node_text(title_el)

        dated = find_date(tree, DATE)
        if dated is None:
            near = date_near(title_el)
            dated = (near, "text:date-pattern near the title") if near is not None else structured_date(tree)
        if dated is None:
            return failure(self.source, url, "date", "no date (div.group-time time.time) and none near the title")
        published, rules["date"] = dated
        seen &= rules["date"] == f"css:{DATE[0]}"

        body_hit = first_css(tree, BODY)
        if body_hit is None:
            body_el = densest_after(title_el)
            if body_el is None:
                return failure(self.source, url, "body", "no body (div.td-post-content) and no paragraphs")
            body_hit = (body_el, "text:most paragraphs after the title")
        body_el, rules["body"] = body_hit
        seen &= rules["body"] == f"css:{BODY[0]}"
        text = body_text(tree, body_el, url, DROP_SELECTOR)
        blocks = list(text.blocks)

        byline, rule = split_last_byline(body_el, blocks)
        if byline is None:
            byline, rule = self._author_box(tree, blocks)
        if byline is not None:
            rules["byline"] = rule

        sapo = None
        sapo_hit = first_css_text(tree, SAPO)
        if sapo_hit is not None:
            sapo, rules["sapo"] = node_text(sapo_hit[0]), sapo_hit[1]
            if drop_lead_copy(blocks, sapo):
                rules["sapo"] += " (equal to the first body paragraph: printed once)"
        if not blocks:
            return failure(self.source, url, "body", "the body has no text")

        article_id, rules["article_id"] = self._article_id(tree, url)
        if article_id is None:
            return failure(self.source, url, "article_id", "neither the URL nor og:url is an article URL of the source")
        canonical, rules["canonical_url"] = canonical_url(tree, url)
        breadcrumb, slugs = self._breadcrumb(tree, url, rules)
        rules["template"] = FAMILY if seen else "anchors"
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=breadcrumb,
            category_slugs=slugs,
            published=published,
            kicker=None,
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(text.images),
            rules=rules,
        )

    def _author_box(self, tree: LexborHTMLParser, blocks: list[str]) -> tuple[str | None, str]:
        """The author box under the article, unless it shows only the template's placeholder."""
        hit = first_css_text(tree, AUTHOR)
        if hit is None or node_text(hit[0]).lower() in PLACEHOLDER_BYLINES:
            return None, ""
        name = node_text(hit[0])
        if blocks and blocks[-1] == name:  # the body's last paragraph names the same author: printed once
            blocks.pop()
        return name, hit[1]

    def _article_id(self, tree: LexborHTMLParser, url: str) -> tuple[str | None, str]:
        found = self.source.article_id(url)
        if found is not None:
            return found, "url:article_url_pattern"
        # A page saved or fetched under another address: its og:url (the legacy URL on the archive pages).
        candidates = ((meta_content(tree, "og:url"), "meta:og:url"), (canonical_url(tree, url)[0], "canonical"))
        for candidate, rule in candidates:
            if candidate:
                found = self.source.article_id(candidate)
                if found is not None:
                    return found, f"{rule}:article_url_pattern"
        return None, "none"

    def _breadcrumb(self, tree: LexborHTMLParser, url: str,
                    rules: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        crumbs, links = breadcrumb_by_selectors(tree, BREADCRUMB, rules)
        if crumbs:
            return crumbs, slugs_from_links(links) or category_slugs_of(url)
        # The page's own record of its category (``#page_info #cate_title``, ``#cate_url``).
        title = node_text(tree.css_first("#page_info #cate_title"))
        if title:
            rules["breadcrumb"] = "css:#page_info #cate_title"
            cate_url = node_text(tree.css_first("#page_info #cate_url")).strip("/")
            return (title,), ((cate_url.rsplit("/", 1)[-1],) if cate_url else category_slugs_of(url))
        return (), category_slugs_of(url)


def first_css_text(root: LexborHTMLParser, selectors: tuple[str, ...]) -> tuple[LexborNode, str] | None:
    """The first node with text matching the first selector that has one, with its rule name."""
    for selector in selectors:
        for node in css_in_order(root, selector):
            if node_text(node):
                return node, f"css:{selector}"
    return None
