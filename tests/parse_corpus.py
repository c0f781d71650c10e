"""Pages to parse, and edits of them: the corpus of the parse-equivalence test (tests/test_parse_same_results.py).

- every real page of ``tests/fixtures/real/``: the article pages through their family's adapter (with the generic
  one behind it, as ``get_adapter`` binds it), and every page (the home pages too) through the ``generic`` adapter;
- the mirror's article pages (every source and family, Huế's three eras, a redesigned template), no server: the
  pages are asked of :class:`crawler.mirror.site.Site` directly;
- edits of any page (:func:`variant`): an element removed, duplicated, moved into another, wrapped, unwrapped, its
  class or id changed to one an adapter looks for, text with odd white space or characters inserted.

Pure and deterministic: a page and a seed give the same variant on every run.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import Sources, load_sources
from crawler.mirror.site import Site
from crawler.models import Article, ExtractionFailure
from crawler.net.urls import host_key
from crawler.parse.adapters import Adapter, get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import render_snapshot

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
URLS = {
    "baocantho-a80443": "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
    "baoangiang-a367201": "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
}
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    adapter: Adapter
    content: bytes
    content_type: str | None
    url: str


def outcome(page: Page, content: bytes | None = None) -> str:
    """What the crawler makes of a page: the article (every field) and its snapshot, or the failure."""
    result = parse_response(page.adapter, page.content if content is None else content, page.content_type, page.url)
    if isinstance(result, ExtractionFailure):
        return f"failure {result!r}"
    assert isinstance(result, Article)
    return f"{result!r}\n{render_snapshot(result)}"


@cache
def _sources() -> Sources:
    return load_sources(None)


@cache
def _generic(host: str, path_id: str) -> Adapter:
    """A generic adapter whose source holds ``host`` and reads ids of the shape ``path_id`` (a regex)."""
    import tempfile

    text = f"""
sources:
  any:
    name: Any paper
    adapter: generic
    hosts: [{host}]
    base_url: https://{host}/
    start_pages: [/]
    article_url_pattern:
      - '{path_id}'
"""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sources.yaml"
        config.write_text(text, encoding="utf-8")
        return get_adapter(load_sources(config).get("any"))


def _family(url: str) -> Adapter | None:
    host = host_key(url)
    for source in _sources():
        if host in source.hosts and source.article_id(url) is not None:
            return get_adapter(source)
    return None


def real_pages() -> list[Page]:
    """Every real page: articles through their family (or generic) adapter, and every page through generic."""
    pages = []
    for path in sorted(REAL.glob("*.html")):
        name = path.stem
        content = path.read_bytes()
        url_file = REAL / f"{name}.url"
        if url_file.is_file() or name in URLS:
            url = url_file.read_text(encoding="utf-8").strip() if url_file.is_file() else URLS[name]
            family = _family(url)
            if family is not None:
                pages.append(Page(f"{name} ({family.source.adapter})", family, content, HTML, url))
        else:
            host = name.split("-home-")[0]
            url = f"https://{host}.vn/tin-tuc/bai-viet-mau-1234567.html"
        generic = _generic(host_key(url), r"(?P<id>[1-9][0-9]{4,})(?:[^0-9/][^/]*)?/?$")
        pages.append(Page(f"{name} (generic)", generic, content, HTML, url))
    return pages


def mirror_pages(articles: int = 12, seeds: tuple[int, ...] = (1, 5)) -> list[Page]:
    """The mirror's article pages, every source and family; one seed also with every source redesigned."""
    pages = []
    for seed in seeds:
        for redesigned in (False, True) if seed == seeds[0] else (False,):
            # a redesigned template no adapter knows: the generic fallback's pages (a few are enough)
            site = Site(articles if not redesigned else 2, seed, families=True,
                        redesigned=_all_sources(articles) if redesigned else ())
            for key, catalog in site.catalogs.items():
                adapter = get_adapter(_sources().get(key))
                for index in range(catalog.count):
                    head = site.generator.headline(key, index)
                    page = site.page(head.host, head.path, rewrite=False)
                    if page.status == 200:
                        tag = "redesigned " if redesigned else ""
                        pages.append(Page(f"{tag}{head.url} (seed {seed})", adapter, page.body, HTML, head.url))
    return pages


@cache
def _all_sources(articles: int) -> tuple[str, ...]:
    return tuple(Site(articles, 1, families=True).catalogs)


# -- edits ---------------------------------------------------------------------------------------------------------

# Words an adapter's selectors or text rules look for: an element given one of them changes what is read.
CLASS_WORDS = (
    "kicker", "sapo", "author", "date", "pubdate", "detail-title", "fw700 margintopbot10", "content-fck",
    "breadcrumb", "share", "related", "tags", "sc-longform-header-author", "sc-longform-header-kicker", "note",
    "wp-caption", "title", "time", "i-date", "post-title", "noidung", "tacgia", "detail-sapo", "ads", "name",
    "reply", "td-post-content", "entry", "lbPublishedDate", "supertitle", "AMN_res x", "hidden", "desc",
)
IDS = ("newscontents", "txtnewsid", "content-detail", "post-id", "page_info", "comment", "cate-url")
TEXTS = (
    "  ", "\u00a0", "\t\n ", "\u200b", "\ufeff", "\u2003x\u3000", "e\u0301", "Chia sẻ bài viết", "Chia sẻ bài viết:",
    "Bài: Nguyễn Văn A", "Theo TTXVN", "05/03/2026 10:17", "10:17, Thứ Năm, 05/03/2026", "Copy Link", "\r\n",
    "Tin, ảnh: B", "x\u0000y", "\u2028", "Nguồn: baonghean.vn", "<b>in</b>", "HNN.VN - lời dẫn", "(CT) - lời dẫn",
    "Trang chủ", "»", "&nbsp;&#8203;", "a\u00adb", "\U0001f600", "\x85",
)
TAGS = ("p", "div", "span", "h1", "h2", "a", "br", "img", "table", "figure", "figcaption", "li", "em", "td")


def variant(content: bytes, seed: int, edits: int = 3) -> bytes:
    """``content`` with ``edits`` random edits (seeded), serialised again as UTF-8."""
    rng = random.Random(seed)
    tree = LexborHTMLParser(content)
    for _ in range(edits):
        elements = [n for n in (tree.body or tree.root).traverse() if n.is_element_node and n.tag != "body"]
        if not elements:
            break
        _edit(tree, rng, rng.choice(elements), elements)
    return (tree.html or "").encode("utf-8", "surrogatepass")


def _edit(tree: LexborHTMLParser, rng: random.Random, node: LexborNode, elements: list[LexborNode]) -> None:
    kind = rng.randrange(10)
    if kind == 0:
        node.decompose()
    elif kind == 1:
        node.insert_after(node.clone())
    elif kind == 2:
        other = rng.choice(elements)
        if other.mem_id != node.mem_id and not _inside(other, node):
            other.insert_child(node.clone())
            node.decompose()
    elif kind == 3:
        node.unwrap()
    elif kind == 4:
        node.attrs["class"] = rng.choice(CLASS_WORDS)
    elif kind == 5:
        node.attrs["id"] = rng.choice(IDS)
    elif kind == 6:
        text = rng.choice(TEXTS)
        target = rng.choice((node.insert_before, node.insert_after, node.insert_child))
        target(text)
    elif kind == 7:
        wrapper = tree.create_node(rng.choice(TAGS))
        if rng.random() < 0.5:
            wrapper.attrs["class"] = rng.choice(CLASS_WORDS)
        wrapper.insert_child(rng.choice(TEXTS) if rng.random() < 0.5 else "Một câu của bài viết.")
        rng.choice((node.insert_before, node.insert_after, node.insert_child))(wrapper)
    elif kind == 8:
        for name in list(node.attributes):
            if rng.random() < 0.5:
                del node.attrs[name]
        if rng.random() < 0.3:
            node.attrs["style"] = rng.choice(("text-align: right", "display:none", "TEXT-ALIGN:RIGHT"))
        if rng.random() < 0.3:
            node.attrs["align"] = "right"
    else:
        for text_node in node.traverse(include_text=True):
            if text_node.tag == "-text" and rng.random() < 0.5:
                text_node.insert_after(rng.choice(TEXTS))


def seed_legacy(page: Page) -> bool:
    """Whether the page is one of the real ones (they are re-encoded in the legacy code page too)."""
    return page.url.startswith("https://") and (REAL / f"{page.name.split(' ')[0]}.html").is_file()


def _inside(node: LexborNode, container: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == container.mem_id:
            return True
        parent = parent.parent
    return False


def corpus(variants_per_page: int = 0, articles: int = 12) -> Iterator[tuple[Page, bytes, str]]:
    """(page, content, label): every page as it is, then ``variants_per_page`` edited copies of each."""
    for page in real_pages() + mirror_pages(articles):
        yield page, page.content, page.name
        if seed_legacy(page):
            # the same page in the legacy Vietnamese code page, declared in the header: decoded before the parse
            legacy = Page(page.name, page.adapter, page.content, "text/html; charset=windows-1258", page.url)
            yield legacy, page.content.decode("utf-8").encode("cp1258", "xmlcharrefreplace"), f"{page.name} cp1258"
        for seed in range(variants_per_page):
            yield page, variant(page.content, seed * 7919 + len(page.content)), f"{page.name} variant {seed}"
