"""Routing of the mirrored portals: (real host, request target) -> :class:`Page`.

Part of the offline mirror; pure (no sockets), so it serves the HTTP server, the
tests and, later, a static export alike.  URL scheme per host (paths):

VDOC hosts (``baocantho.com.vn``, ``baoangiang.com.vn``)
    ``/`` home (newest 30), ``/<cate>/`` and ``/<cate>/<sub>/`` with ``?p=N`` (20 a page,
    newest first, a page past the end lists nothing), articles ``/<slug>-a<ID>.html``,
    print copies ``/print/<slug>-a<ID>.html``, RSS ``/rss/home.rss`` and
    ``/rss/subcate/<sub>/`` (newest 20), ``/robots.txt``; plain 200 pages under
    ``/video/``, ``/xem-bao/``, ``/su-kien/``, ``/tim-kiem``, ``/news/``, ``/khmer/``.
Huế hosts (``baothuathienhue.vn``, ``huengaynay.vn``: one database, both serve everything)
    ``/`` home, ``/<cate>/[<sub>/]`` with ``/p/N``, articles ``/<cate>/[<sub>/]<slug>-<ID>.html``,
    ``/amp.aspx?newid=<ID>``, ``/rss/<cate>.rss`` (``huengaynay.vn`` only), ``/robots.txt``;
    plain pages under ``/topic/`` and ``/tim-kiem``.

Pages are written with real absolute URLs and rewritten to the mirror origins on the
way out (:meth:`Site.set_origins`); a bounded LRU keeps the rendered pages.

Extension seam (static export, not implemented): an exporter can call
:meth:`Site.page` for every target a crawl discovers (or that the catalog
enumerates) with origins set to the export's base URL, and write ``Page.body`` to
``<dir>/<host>/<path>``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from crawler.mirror import feeds, listings
from crawler.mirror.catalog import SEED, Catalog
from crawler.mirror.generator import Generator, Headline
from crawler.mirror.responses import HTML, RSS, TEXT, XML, Page
from crawler.mirror.seeds import seed_page, seed_spec
from crawler.mirror.sources import HOST_SOURCE, HOSTS, HUE_NEW_HOST, SOURCES, VN_TZ
from crawler.mirror.spec import ArticleSpec, Para
from crawler.mirror.templates_hue import render_hue
from crawler.mirror.templates_vdoc import render_angiang, render_cantho, render_redesigned

PER_PAGE = 20
HOME_SIZE = 30
FEED_SIZE = 20
SITEMAP_SIZE = 500
EPOCH = datetime(2024, 1, 1, tzinfo=VN_TZ)  # Last-Modified of pages that list nothing

_VDOC_ARTICLE = re.compile(r"/(?:print/)?[a-z0-9-]*-a(\d+)\.html")
_HUE_ARTICLE = re.compile(r"/(?:[a-z0-9-]+/){1,2}[a-z0-9-]*-(\d+)\.html")
_HUE_LISTING = re.compile(r"/([a-z0-9-]+)/(?:([a-z0-9-]+)/)?(?:p/(\d+))?")
_VDOC_PLAIN = ("/video/", "/xem-bao/", "/su-kien/", "/tim-kiem", "/news/", "/khmer/", "/bang-gia-quang-cao")
_HUE_PLAIN = ("/topic/", "/tim-kiem")
_HOST_URL = re.compile("https://(" + "|".join(re.escape(h) for h in HOSTS) + ")")


class Site:
    """All four hosts: catalogs, generator, page cache and origin rewriting."""

    def __init__(self, articles: int, seed: int, robots: dict[str, str] | None = None, cache_pages: int = 512,
                 redesigned: Iterable[str] = ()) -> None:
        self.catalogs = {
            key: Catalog(info, seed, articles, seed_spec(key).article_id if info.seed_leaf is not None else None)
            for key, info in SOURCES.items()
        }
        self.generator = Generator(self.catalogs, seed)
        self.robots = dict(robots or {})
        self.redesigned = frozenset(redesigned)
        unknown = self.redesigned - set(SOURCES)
        if unknown:
            raise ValueError(f"no such source to redesign: {sorted(unknown)}")
        self.revisions: dict[tuple[str, str], int] = {}
        self.origins: dict[str, str] = {h: f"https://{h}" for h in HOSTS}
        self._cache: OrderedDict[tuple[str, str, int], Page] = OrderedDict()
        self._cache_size = cache_pages
        self._lock = threading.Lock()
        self._version = 0

    # -- state ---------------------------------------------------------------------------

    def set_origins(self, origins: dict[str, str]) -> None:
        """Serve pages with links to these origins (real host -> ``http://127.0.0.1:PORT``)."""
        with self._lock:
            self.origins = dict(origins)
            self._version += 1
            self._cache.clear()

    def publish(self, source: str, n: int) -> None:
        """The site publishes ``n`` newer articles; listings and feeds change."""
        with self._lock:
            self.catalogs[source].publish(n)
            self._version += 1
            self._cache.clear()

    def revise(self, source: str, article_id: str) -> int:
        """The site edits an article: its body gains one paragraph per revision; returns the revision."""
        index = self.catalogs[source].index_of(article_id)
        if index is None:
            raise KeyError(f"{source} serves no article {article_id}")
        if index == SEED:
            raise ValueError(f"{source} {article_id} is the hand-written seed page; it cannot be revised")
        with self._lock:
            revision = self.revisions.get((source, article_id), 0) + 1
            self.revisions[(source, article_id)] = revision
            self._version += 1
            self._cache.clear()
        return revision

    def article(self, source: str, article_id: str) -> ArticleSpec:
        index = self.catalogs[source].index_of(article_id)
        if index is None:
            raise KeyError(f"{source} serves no article {article_id}")
        return self._spec(source, index)

    def _spec(self, source: str, index: int) -> ArticleSpec:
        """The article as the site shows it now (generated, then revised)."""
        spec = self.generator.article(source, index)
        revision = self.revisions.get((source, spec.article_id), 0)
        return revised(spec, revision) if revision else spec

    # -- pages ---------------------------------------------------------------------------

    def page(self, host: str, target: str) -> Page:
        """The page for ``target`` on real host ``host`` (cached, links rewritten)."""
        key = (host, target, self._version)
        with self._lock:
            page = self._cache.get(key)
            if page is not None:
                self._cache.move_to_end(key)
                return page
        page = self._render(host, target)
        with self._lock:
            if key[2] == self._version:
                self._cache[key] = page
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return page

    def _finish(self, text: str, content_type: str = HTML, last_modified: datetime | None = None) -> Page:
        origins = self.origins
        body = _HOST_URL.sub(lambda m: origins[m.group(1)], text).encode("utf-8")
        return Page(200, body, content_type, last_modified)

    def _render(self, host: str, target: str) -> Page:
        source = HOST_SOURCE.get(host)
        if source is None:
            return not_found()
        parts = urlsplit(target)
        path, query = parts.path or "/", parse_qs(parts.query)
        if path == "/robots.txt":
            return self._finish(feeds.robots(host, self.robots), TEXT, EPOCH)
        if source == "hue":
            return self._hue(host, path, query)
        return self._vdoc(host, source, path, query)

    def _article_page(self, source: str, path: str, article_id: str) -> Page | None:
        catalog = self.catalogs[source]
        index = catalog.index_of(article_id)
        if index is None:
            return None
        head = self.generator.headline(source, index)
        if head.path != path:
            return None
        if source in self.redesigned:
            text = render_redesigned(self._spec(source, index))
        elif index == SEED:
            text = seed_page(source).decode("utf-8")
        else:
            spec = self._spec(source, index)
            if spec.template == "baocantho":
                text = render_cantho(spec)
            elif spec.template == "baoangiang":
                text = render_angiang(spec)
            else:
                text = render_hue(spec)
        return self._finish(text, HTML, head.published)

    def _sitemap(self, source: str, origin: str, path: str, everything: frozenset[int]) -> Page:
        """``/sitemap.xml`` (an index) -> ``/sitemaps/news.xml`` (newest 100, Google News) and
        ``/sitemaps/articles-N.xml`` (every article, newest first, 500 a file)."""
        total = self.catalogs[source].total(everything)
        files = max(1, -(-total // SITEMAP_SIZE))
        if path == "/sitemap.xml":
            urls = [f"{origin}/sitemaps/news.xml"]
            urls += [f"{origin}/sitemaps/articles-{n}.xml" for n in range(1, files + 1)]
            return self._finish(feeds.sitemap_index(urls), XML, EPOCH)
        if path == "/sitemaps/news.xml":
            heads = self._heads(source, everything, 0, 100)
            return self._finish(feeds.sitemap(heads, news=True), XML, heads[0].published if heads else EPOCH)
        match = re.fullmatch(r"/sitemaps/articles-(\d+)\.xml", path)
        if match is None or not 1 <= int(match.group(1)) <= files:
            return not_found()
        heads = self._heads(source, everything, (int(match.group(1)) - 1) * SITEMAP_SIZE, SITEMAP_SIZE)
        return self._finish(feeds.sitemap(heads, news=False), XML, max((h.published for h in heads), default=EPOCH))

    def _heads(self, source: str, leaves: frozenset[int], offset: int, limit: int) -> list[Headline]:
        return [self.generator.headline(source, i) for i in self.catalogs[source].listing(leaves, offset, limit)]

    def _listing_page(self, text: str, heads: list[Headline]) -> Page:
        return self._finish(text, HTML, max((h.published for h in heads), default=EPOCH))

    def _vdoc(self, host: str, source: str, path: str, query: dict[str, list[str]]) -> Page:
        info = SOURCES[source]
        origin = f"https://{host}"
        everything = frozenset(range(len(info.leaves)))
        if path == "/":
            heads = self._heads(source, everything, 0, HOME_SIZE)
            view = listings.ListingView("Trang chủ", (), heads, None, None, 1)
            return self._listing_page(listings.vdoc_listing(info, origin, view), heads)
        if path == "/rss/home.rss":
            heads = self._heads(source, everything, 0, FEED_SIZE)
            return self._feed(f"{origin}/", heads)
        if source == "baoangiang" and (path == "/sitemap.xml" or path.startswith("/sitemaps/")):
            return self._sitemap(source, origin, path, everything)
        if path.startswith("/rss/subcate/"):
            sub = path.removeprefix("/rss/subcate/").rstrip("/")
            leaves = frozenset(n for n, leaf in enumerate(info.leaves) if leaf.sub == sub)
            return self._feed(f"{origin}/", self._heads(source, leaves, 0, FEED_SIZE)) if leaves else not_found()
        match = _VDOC_ARTICLE.fullmatch(path)
        if match:
            if path.startswith("/print/"):
                index = self.catalogs[source].index_of(match.group(1))
                if index is None or self.generator.headline(source, index).path != path.removeprefix("/print"):
                    return not_found()
                spec = self._spec(source, index)
                return self._finish(listings.print_page(spec), HTML, spec.published)
            return self._article_page(source, path, match.group(1)) or not_found()
        if path.startswith(_VDOC_PLAIN):
            return self._finish(listings.simple_page(info.key, f"Trang {path} của {host}"), HTML, EPOCH)
        segments = path.strip("/").split("/")
        if not path.endswith("/") or len(segments) > 2:
            return not_found()
        leaves = info.leaves_under(segments[0], segments[1] if len(segments) == 2 else None)
        raw_page = query.get("p", ["1"])[0]
        if not leaves or not raw_page.isdigit() or int(raw_page) < 1:
            return not_found()
        return self._category(source, host, path, leaves, int(raw_page), lambda n: f"{origin}{path}?p={n}")

    def _category(
        self, source: str, host: str, path: str, leaves: frozenset[int], page: int, page_url: Callable[[int], str]
    ) -> Page:
        info = SOURCES[source]
        origin = f"https://{host}"
        offset = (page - 1) * PER_PAGE
        heads = self._heads(source, leaves, offset, PER_PAGE)
        total = self.catalogs[source].total(leaves)
        first = info.leaves[min(leaves)]
        crumbs: list[tuple[str, str]] = [(f"{origin}/{first.slug}/", first.name)]
        if len(leaves) == 1 and first.sub:
            crumbs.append((f"{origin}{first.path}", first.sub_name or ""))
        prev_url = (f"{origin}{path}" if page == 2 else page_url(page - 1)) if page > 1 else None
        next_url = page_url(page + 1) if offset + PER_PAGE < total else None
        title = crumbs[-1][1]
        if source == "hue":
            rss = f"https://{HUE_NEW_HOST}/rss/{first.slug}.rss"
            view = listings.ListingView(title, tuple(crumbs), heads, prev_url, next_url, page, rss)
            return self._listing_page(listings.hue_listing(origin, view), heads)
        rss = f"{origin}/rss/subcate/{first.sub}/" if len(leaves) == 1 and first.sub else f"{origin}/rss/home.rss"
        view = listings.ListingView(title, tuple(crumbs), heads, prev_url, next_url, page, rss)
        return self._listing_page(listings.vdoc_listing(info, origin, view), heads)

    def _feed(self, link: str, heads: list[Headline]) -> Page:
        text = feeds.rss("Tin mới nhất", link, "Tin tức mới nhất", heads)
        return self._finish(text, RSS, max((h.published for h in heads), default=EPOCH))

    def _hue(self, host: str, path: str, query: dict[str, list[str]]) -> Page:
        info = SOURCES["hue"]
        origin = f"https://{host}"
        if path == "/":
            heads = self._heads("hue", frozenset(range(len(info.leaves))), 0, HOME_SIZE)
            view = listings.ListingView("Trang chủ", (), heads, None, None, 1)
            return self._listing_page(listings.hue_listing(origin, view), heads)
        if path == "/amp.aspx":
            article_id = query.get("newid", [""])[0]
            if self.catalogs["hue"].index_of(article_id) is None:
                return not_found()
            spec = self.article("hue", article_id)
            return self._finish(listings.amp_page(spec), HTML, spec.published)
        if path.startswith("/rss/") and path.endswith(".rss"):
            leaves = info.leaves_under(path[5:-4])
            if host != HUE_NEW_HOST or not leaves:
                return not_found()
            return self._feed(f"{origin}/", self._heads("hue", leaves, 0, FEED_SIZE))
        match = _HUE_ARTICLE.fullmatch(path)
        if match:
            return self._article_page("hue", path, match.group(1)) or not_found()
        if path.startswith(_HUE_PLAIN):
            return self._finish(listings.simple_page("Huế", f"Trang {path} của {host}"), HTML, EPOCH)
        match = _HUE_LISTING.fullmatch(path)
        if not match or (match.group(3) is None and not path.endswith("/")):
            return not_found()
        cate, sub, number = match.groups()
        leaves = info.leaves_under(cate, sub)
        page = int(number) if number else 1
        if not leaves or page < 1:
            return not_found()
        base = f"/{cate}/{sub}/" if sub else f"/{cate}/"
        return self._category("hue", host, base, leaves, page, lambda n: f"{origin}{base}p/{n}")


def revised(spec: ArticleSpec, revision: int) -> ArticleSpec:
    """``spec`` after ``revision`` edits: one correction paragraph per edit at the end of the body."""
    notes = tuple(
        Para((f"Cập nhật lần {n}: bài viết đã được biên tập lại, bổ sung số liệu mới nhất về {spec.category.name}.",))
        for n in range(1, revision + 1)
    )
    return replace(spec, body=(*spec.body, *notes))


def not_found() -> Page:
    return Page(404, listings.simple_page("404", "Không tìm thấy trang").encode("utf-8"))
