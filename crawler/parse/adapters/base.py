"""The adapter contract and the page helpers adapters share (the registry: :mod:`.registry`).

An adapter is sans-io: ``(html bytes or str, url) -> Article | ExtractionFailure`` and
``(html, url) -> ListingPage``.  It imports no httpx, trio or warcio.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from selectolax.lexbor import LexborCSSSelector, LexborHTMLParser, LexborNode, SelectolaxError

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.net.urls import absolute, url_path
from crawler.parse.adapters.blocks import SKIP_TAGS, BodyText, extract_blocks
from crawler.parse.normalize import SHARE_LABEL, VN_TZ, choose_charset, clean_line, decode_html, find_vn_datetime

HOME_LABELS = frozenset({"trang chủ", "trang nhất", "home", "trang chu"})
SEPARATORS = frozenset({">", "›", "»", "/", "|", "»»", "-", "→"})
BYLINE_RE = re.compile(r"^(Bài|Tin|Ảnh|Bài và ảnh|Bài, ảnh|Tin, ảnh|Tin và ảnh|Video|Clip)\s*:", re.IGNORECASE)


class Adapter(Protocol):
    """What every adapter provides; looked up by short name with :func:`crawler.parse.adapters.get_adapter`."""

    source: SourceConfig

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure: ...

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage: ...


class Tree(LexborHTMLParser):
    """A parsed page whose selector queries (its own and its nodes') share one CSS engine per thread.

    selectolax gives each parsed document a CSS parser and selector engine of its own, made at its
    first query and destroyed with it: a sixth of an adapter's selector time on a small page.  Every
    query (``tree.css``, ``node.css_first``...) asks the document's ``selector`` for it; this one
    answers with the thread's engine (a query holds the GIL from start to end: no two interleave).
    """

    @property
    def selector(self) -> LexborCSSSelector:
        engine: LexborCSSSelector | None = getattr(_ENGINES, "engine", None)
        if engine is None:
            engine = _ENGINES.engine = LexborCSSSelector()  # type: ignore[no-untyped-call]
        return engine


_ENGINES = threading.local()


def parse_html(html: bytes | str, content_type: str | None = None) -> LexborHTMLParser:
    """An HTML5 tree of a page (a :class:`Tree`); bytes are decoded per :func:`~crawler.parse.normalize.choose_charset`.

    Valid UTF-8 goes to the parser as bytes (lexbor reads UTF-8 natively: no round trip
    through a Python str); other charsets are decoded first.
    """
    if isinstance(html, str):
        return Tree(html)
    codec = choose_charset(html, content_type)
    if codec == "utf-8":
        return Tree(html)
    return Tree(decode_html(html, content_type))


def node_text(node: LexborNode | None) -> str:
    """The cleaned one-line text of a node ('' for None); comments and scripts excluded."""
    if node is None:
        return ""
    child = node.child
    if child is not None and child.next is None and child.tag == "-text":
        # An element holding one text node (a link, a date, a title): what extract_blocks makes of it,
        # without its walk.  Elements it skips whole (scripts, forms, ...) and comments read as ''.
        tag = node.tag or ""
        if tag in SKIP_TAGS or tag[:1] in ("-", "!"):
            return ""
        text = child.text_content
        if not text or text.isspace():
            return ""
        line = clean_line(text)
        return clean_line(line) if line else ""
    return clean_line(" ".join(extract_blocks(node).blocks))


def first_css(root: LexborHTMLParser | LexborNode, selectors: Iterable[str], *,
              often_missing: bool = False) -> tuple[LexborNode, str] | None:
    """The first node matching the first selector that matches anything, with its rule name.

    ``often_missing``: the part is one most pages lack (a kicker, an old template's breadcrumb); one query for all the
    selectors answers such a page (:func:`any_css`) instead of one query per selector.
    """
    if often_missing:
        selectors = tuple(selectors)  # asked twice: an iterator would be spent by the first
        if not any_css(root, selectors):
            return None
    for selector in selectors:
        node = root.css_first(selector)
        if node is not None:
            return node, f"css:{selector}"
    return None


def css_in_order(root: LexborHTMLParser | LexborNode, selector: str) -> Iterator[LexborNode]:
    """``root.css(selector)``, one by one, the first asked alone: a caller that takes the first (a date, a
    title) never has the rest of the page walked for the others."""
    first = root.css_first(selector)
    if first is None:
        return
    yield first
    yield from root.css(selector)[1:]


def any_css(root: LexborHTMLParser | LexborNode, selectors: Iterable[str]) -> bool:
    """False when none of ``selectors`` matches anything in ``root``: one query for the list of them all.

    True also when the list cannot be asked as one (:func:`_selector_list`): the caller asks each selector then.
    """
    joined = _selector_list(tuple(selectors))
    if joined is None:
        return True
    try:
        return root.css_first(joined) is not None
    except SelectolaxError:
        return True


@functools.lru_cache(maxsize=512)
def _selector_list(selectors: tuple[str, ...]) -> str | None:
    """The selectors as one selector list (``a, b``) that matches what any of them matches, or None.

    Joined with commas, a selector could run into the next one: a comment it opens (``.a /*``), an escape or a
    string, a bracket or a parenthesis it leaves open, a comma of its own.  Only selectors without ``\\``, ``/``
    and ``,``, with their quotes, brackets and parentheses paired, are joined; one selector is asked as it is.
    """
    if len(selectors) < 2:
        return None
    for selector in selectors:
        if (_UNJOINABLE.search(selector) or selector.count('"') % 2 or selector.count("'") % 2
                or selector.count("(") != selector.count(")") or selector.count("[") != selector.count("]")):
            return None
    return ", ".join(selectors)


_UNJOINABLE = re.compile(r"[\\/,]")


def meta_content(tree: LexborHTMLParser, *names: str) -> str | None:
    for name in names:
        node = tree.css_first(f'meta[property="{name}"]') or tree.css_first(f'meta[name="{name}"]')
        if node is not None:
            value = node.attributes.get("content")
            if value and value.strip():
                return value.strip()
    return None


def base_href(tree: LexborHTMLParser, url: str) -> str:
    """The URL relative links resolve against (``<base href>`` when the page has one)."""
    node = tree.css_first("base[href]")
    if node is not None:
        href = absolute(url, node.attributes.get("href") or "")
        if href:
            return href
    return url


def canonical_url(tree: LexborHTMLParser, url: str) -> tuple[str, str]:
    node = tree.css_first('link[rel="canonical"]')
    if node is not None:
        href = absolute(url, node.attributes.get("href") or "")
        if href:
            return href, "css:link[rel=canonical]"
    og = meta_content(tree, "og:url")
    if og:
        href = absolute(url, og)
        if href:
            return href, "meta:og:url"
    return url, "url"


def json_ld(tree: LexborHTMLParser) -> list[dict[str, object]]:
    """JSON-LD objects of the page, tolerant of raw newlines inside strings (seen on baocantho)."""
    found: list[dict[str, object]] = []
    for script in tree.css('script[type="application/ld+json"]'):
        raw = script.text(deep=True) or ""
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        items = data if isinstance(data, list) else [data]
        found.extend(item for item in items if isinstance(item, dict))
    return found


def json_ld_datetime(tree: LexborHTMLParser) -> datetime | None:
    """``datePublished`` from JSON-LD when it carries a time (a date alone is not enough)."""
    for item in json_ld(tree):
        value = item.get("datePublished")
        if isinstance(value, str) and "T" in value:
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                continue
            return parsed.astimezone(VN_TZ) if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)
    return None


def find_date(tree: LexborHTMLParser, selectors: Iterable[str]) -> tuple[datetime, str] | None:
    for selector in selectors:
        for node in css_in_order(tree, selector):
            found = find_vn_datetime(node_text(node))
            if found is not None:
                return found, f"css:{selector}"
    published = json_ld_datetime(tree)
    if published is not None:
        return published, "json-ld:datePublished"
    meta = meta_content(tree, "article:published_time")
    if meta:
        try:
            parsed = datetime.fromisoformat(meta)
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return parsed.astimezone(VN_TZ), "meta:article:published_time"
    return None


def breadcrumb_from_links(links: Iterable[LexborNode]) -> tuple[str, ...]:
    """Link texts of a breadcrumb, without the home link and separator glyphs."""
    items: list[str] = []
    for link in links:
        text = node_text(link)
        if not text or text.lower() in HOME_LABELS or text in SEPARATORS:
            continue
        if not items or items[-1] != text:
            items.append(text)
    return tuple(items)


def breadcrumb_by_selectors(tree: LexborHTMLParser, selectors: Iterable[str],
                            rules: dict[str, str]) -> tuple[tuple[str, ...], list[LexborNode]]:
    """The breadcrumb of the first selector whose element has link texts, and those links (for slugs);
    the rule that found it goes to ``rules["breadcrumb"]``."""
    links: list[LexborNode] = []
    for selector in selectors:
        node = tree.css_first(selector)
        if node is None:
            continue
        links = node.css("a")
        crumbs = breadcrumb_from_links(links)
        if crumbs:
            rules["breadcrumb"] = f"css:{selector} a"
            return crumbs, links
    return (), links


def cut_at_share_label(blocks: list[str]) -> bool:
    """The share label ends the article wherever a template puts it: drop it and what follows.

    ``blocks`` are clean lines already (from :func:`extract_blocks`).
    """
    for i, block in enumerate(blocks):
        if block.startswith(SHARE_LABEL) and block.rstrip(" :：") == SHARE_LABEL:
            del blocks[i:]
            return True
    return False


def split_byline(body: BodyText, byline_node: LexborNode | None) -> tuple[list[str], str | None]:
    """Remove the byline's lines from the end of the body blocks when they are its last blocks."""
    blocks = list(body.blocks)
    if byline_node is None:
        return blocks, None
    lines = extract_blocks(byline_node).blocks
    if not lines or len(lines) > len(blocks) or blocks[-len(lines):] != lines:
        return blocks, None
    return blocks[: -len(lines)], "\n".join(lines)


def failure(source: SourceConfig, url: str, field_name: str, reason: str) -> ExtractionFailure:
    return ExtractionFailure(source=source.key, url=url, field=field_name, reason=reason)


def parse_listing_links(source: SourceConfig, html: bytes | str, url: str) -> ListingPage:
    """Article links of a listing page and the next page.

    The links are those ``source.article_id`` accepts (on the source's hosts, an article
    URL shape, a valid id), in page order, one per article id: the first link to an id
    wins (a page that links ``…-a123.html`` and ``amp.aspx?newid=123`` lists one article).
    Relative links resolve against the page's ``<base href>``, as a browser does.
    """
    tree = parse_html(html)
    base = base_href(tree, url)
    seen: set[str] = set()
    ids: set[str] = set()
    articles: list[str] = []
    for link in tree.css("a[href]"):
        href = absolute(base, link.attributes.get("href") or "")
        if href is None or href in seen:
            continue
        seen.add(href)
        article_id = source.article_id(href)
        if article_id is not None and article_id not in ids:
            ids.add(article_id)
            articles.append(href)
    next_url = next_page_url(source, url) if articles and source.pagination != "none" else None
    return ListingPage(article_urls=tuple(articles), next_url=next_url)


def next_page_url(source: SourceConfig, url: str) -> str:
    """The page after ``url`` in the source's pagination scheme (``?p=N`` or ``/p/N``)."""
    kind, name = source.pagination.split(":", 1)
    parts = urlsplit(url)
    if kind == "query":
        query = dict(parse_qsl(parts.query))
        page = int(query.get(name, "1")) if query.get(name, "1").isdigit() else 1
        query[name] = str(page + 1)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
    match = re.search(rf"/{re.escape(name)}/(\d+)/?$", parts.path)
    if match:
        path = parts.path[: match.start()] + f"/{name}/{int(match.group(1)) + 1}"
    else:
        path = parts.path.rstrip("/") + f"/{name}/2"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def slugs_from_links(links: list[LexborNode]) -> tuple[str, ...]:
    """The last path segment of each link, once each, in order (``/kinh-te/thong-tin-thi-truong/`` ->
    ``thong-tin-thi-truong``; ``https://baocantho.com.vn/news/y-te/`` -> ``y-te``)."""
    slugs: list[str] = []
    for link in links:
        path = url_path(link.attributes.get("href") or "").strip("/")
        if path:
            slugs.append(path.rsplit("/", 1)[-1])
    return tuple(dict.fromkeys(slugs))
