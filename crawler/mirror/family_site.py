"""Routing of the family papers' hosts (``baotayninh.vn``, ``baodongnai.com.vn``, ``baonghean.vn``).

Part of the offline mirror; :class:`crawler.mirror.site.Site` hands these hosts' requests here.
URL scheme per host (paths), after the real pages (:mod:`crawler.mirror.templates_family`):

``baotayninh.vn`` (Mediatech)
    ``/`` home (newest, short videos, a block per section), ``/<cate>`` paged ``?page=N`` (20 a
    page; with a trailing slash: 301 to without), articles ``/<slug>-<ID>.html``, the short
    videos' ``/<slug>-<n>.html`` (plain pages: another numbering), ``/rss`` (the menu's link: an
    RSS feed of the newest 20), plain pages for TV, radio, podcasts, media and search.
``baodongnai.com.vn`` (the Java platform)
    ``/`` home (slider, newest, a box per section), ``/<cate>/`` and ``/<cate>/<sub>/`` (also
    without the final slash, as the real menu's ``/kham-pha-dong-nai``): the newest 20 of the
    section, no pagination (none seen); articles ``/<cate>[/<sub>]/<YYYYMM>/<slug>-<7 hex>/``
    (without the final slash: 301 to it); plain pages for media and search.
``baonghean.vn`` (OneCMS)
    ``/`` home, paged ``?page=N`` (page 1 adds a box per section), ``/<cate>`` paged ``?page=N``,
    articles ``/<slug>-<ID>.html``, plain pages for video, podcasts, search and print copies.

Everywhere ``/robots.txt`` (the default of :mod:`crawler.mirror.feeds`).  A page past a
listing's end lists nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crawler.mirror import listings
from crawler.mirror import templates_family as tf
from crawler.mirror import templates_onecms as tfo
from crawler.mirror.catalog import Catalog
from crawler.mirror.generator import Generator, Headline
from crawler.mirror.responses import HTML, Page
from crawler.mirror.sources import VN_TZ
from crawler.mirror.spec import ArticleSpec, Category

EPOCH = datetime(2024, 1, 1, tzinfo=VN_TZ)  # Last-Modified of pages that list nothing (as crawler.mirror.site)


class Site(Protocol):
    """What these pages need of :class:`crawler.mirror.site.Site` (which imports this module)."""

    catalogs: dict[str, Catalog]
    generator: Generator
    redesigned: frozenset[str]

    def _heads(self, source: str, leaves: frozenset[int], offset: int, limit: int) -> list[Headline]: ...
    def _spec(self, source: str, index: int) -> ArticleSpec: ...
    def _feed(self, link: str, heads: list[Headline]) -> Page: ...
    def _listing_page(self, text: str, heads: Iterable[Headline]) -> Page: ...
    def _everything(self, source: str) -> frozenset[int]: ...

PER_PAGE = 20
SECTION_SIZE = 4
NEWEST = {"baotayninh": 16, "baodongnai": 12, "baonghean": 20}
_DECIMAL_ARTICLE = re.compile(r"/[a-z0-9-]*-([0-9]{5,})\.html")
_HEX_ARTICLE = re.compile(r"/(?:[a-z0-9-]+/){1,2}[0-9]{6}/[a-z0-9-]+-([0-9a-f]{7})/")


@dataclass(frozen=True, slots=True)
class View:
    """What a home or section page lists: its newest entries, the sections' boxes, the next page."""

    title: str
    canonical: str
    newest: Sequence[Headline]
    sections: Sequence[tuple[Category, Sequence[Headline]]]
    next_url: str | None

    def ids(self) -> list[str]:
        """Article ids in page order, once each."""
        heads = [*self.newest, *(h for _leaf, hs in self.sections for h in hs)]
        return list(dict.fromkeys(h.article_id for h in heads))


def _leaves(site: Site, source: str, path: str) -> frozenset[int] | None:
    """The category leaves a section path lists (``/kinh-te``, ``/cong-doan/lao-dong-viec-lam/``), else None."""
    segments = path.strip("/").split("/")
    if not 1 <= len(segments) <= 2 or not all(segments):
        return None
    leaves = site.catalogs[source].info.leaves_under(segments[0], segments[1] if len(segments) == 2 else None)
    return leaves or None


def _catalog(site: Site, source: str) -> Catalog:
    return site.catalogs[source]


def view(site: Site, source: str, path: str, page: int) -> View | None:
    """The listing at ``path`` (``/`` or a section), page ``page`` (from 1); None if there is none."""
    info = _catalog(site, source).info
    origin = f"https://{info.hosts[0]}"
    everything = frozenset(range(len(info.leaves)))
    paged = source != "baodongnai"  # the Java platform's listings show no pagination
    if path == "/":
        if page > 1 and source != "baonghean":
            page = 1  # Mediatech's and the Java platform's home pages are not paged: ?page=N is the home page
        size = NEWEST[source]
        newest = site._heads(source, everything, (page - 1) * size, size)
        sections: list[tuple[Category, Sequence[Headline]]] = []
        if page == 1:
            # OneCMS's boxes hold two each: with four, the boxes would hold every article of ``?page=2``
            # and a crawler (rightly) takes a page listing nothing new for a home page without pagination.
            box = 2 if source == "baonghean" else SECTION_SIZE
            sections = [(leaf, site._heads(source, frozenset([n]), 0, box))
                        for n, leaf in enumerate(info.leaves)]
        total = _catalog(site, source).total(everything)
        more = source == "baonghean" and page * size < total
        return View(f"Báo {info.key}", origin + "/", newest, sections,
                    f"{origin}/?page={page + 1}" if more else None)
    leaves = _leaves(site, source, path)
    if leaves is None:
        return None
    first = info.leaves[min(leaves)]
    name = first.sub_name if first.sub and len(leaves) == 1 else first.name
    if not paged:
        page = 1
    heads = site._heads(source, leaves, (page - 1) * PER_PAGE, PER_PAGE)
    more = paged and page * PER_PAGE < _catalog(site, source).total(leaves)
    base = origin + path
    return View(name or "", base, heads, (), f"{base}?page={page + 1}" if more else None)


def _page_number(query: dict[str, list[str]]) -> int | None:
    raw = query.get("page", ["1"])[0]
    return int(raw) if raw.isascii() and raw.isdigit() and int(raw) >= 1 else None


def render(site: Site, source: str, path: str, query: dict[str, list[str]]) -> Page:
    """The page of ``path`` on the source's host."""
    info = _catalog(site, source).info
    origin = f"https://{info.hosts[0]}"
    plain = {"baotayninh": tf.TN_PLAIN, "baodongnai": tf.DN_PLAIN, "baonghean": tf.NA_PLAIN}[source]
    if path.startswith(plain):
        return Page(200, listings.simple_page(info.key, f"Trang {path} của {info.hosts[0]}").encode(), HTML, EPOCH)
    if source == "baotayninh" and path == "/rss":
        return site._feed(origin + "/", site._heads(source, frozenset(range(len(info.leaves))), 0, PER_PAGE))
    pattern = _HEX_ARTICLE if info.id_hex else _DECIMAL_ARTICLE
    match = pattern.fullmatch(path) or (pattern.fullmatch(path + "/") if info.id_hex else None)
    if match:
        if not path.endswith("/") and info.id_hex:
            return redirect(f"{origin}{path}/")
        if source == "baotayninh" and match.group(1) in {vid for _s, vid, _t in tf.TN_SHORTS}:
            return Page(200, listings.simple_page("Video", "Video ngắn").encode(), HTML, EPOCH)
        return article_page(site, source, match.group(1), path) or not_found()
    if source != "baodongnai" and path != "/" and path.endswith("/"):
        return redirect(f"{origin}{path.rstrip('/')}")
    page = _page_number(query)
    found = view(site, source, path, page) if page is not None else None
    if found is None:
        return not_found()
    if source == "baotayninh":
        text = tf.mediatech_listing(found.title, found.canonical, found.newest, found.sections, found.next_url,
                                    shorts=path == "/")
    elif source == "baodongnai":
        text = tf.javaplatform_listing(found.title, path, found.newest, found.sections)
    else:
        text = tfo.onecms_listing(found.title, found.canonical, found.newest, found.sections, found.next_url)
    heads = [*found.newest, *(h for _leaf, hs in found.sections for h in hs)]
    return site._listing_page(text, heads)


def article_page(site: Site, source: str, article_id: str, path: str) -> Page | None:
    """The article's page if ``path`` is where it was published."""
    catalog = _catalog(site, source)
    index = catalog.index_of(article_id)
    if index is None:
        return None
    head = site.generator.headline(source, index)
    if head.path != path:
        return None
    spec = site._spec(source, index)
    if source in site.redesigned:
        from crawler.mirror.templates_vdoc import render_redesigned

        text = render_redesigned(spec)
    elif spec.template == "mediatech":
        text = tf.render_mediatech(spec)
    elif spec.template == "javaplatform":
        text = tf.render_javaplatform(spec)
    else:
        text = tfo.render_onecms(spec)
    return Page(200, text.encode("utf-8"), HTML, head.published)


def not_found() -> Page:
    return Page(404, listings.simple_page("404", "Không tìm thấy trang").encode("utf-8"))


def redirect(location: str) -> Page:
    """A permanent redirect (``Location`` on a real host; the site rewrites it like the body)."""
    return Page(301, listings.simple_page("301", f"Moved to {location}").encode("utf-8"), HTML, None,
                (("Location", location),))


__all__ = ["View", "article_page", "render", "view"]
