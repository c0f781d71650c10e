"""Routing of the mirrored portals: (real host, request target) -> :class:`Page`.

Part of the offline mirror; pure (no sockets), so it serves the HTTP server, the tests
and the static export (:mod:`crawler.mirror.export`) alike.  URL scheme per host (paths),
after the real sites' 2026 home pages (``tests/fixtures/real/*-home-2026-05.html``):

VDOC hosts (``baocantho.com.vn``, ``baoangiang.com.vn``)
    ``/`` home, ``/<cate>/`` and ``/<cate>/<sub>/`` with ``?p=N`` (20 a page, newest first,
    a page past the end lists nothing; without the trailing slash: 301 to it), articles
    ``/<slug>-a<ID>.html``, print copies ``/print/<slug>-a<ID>.html``, Cần Thơ's feed
    ``/rss/home`` (the home page's link) and ``/rss/subcate/<sub>/``, An Giang's sitemaps
    (named in its robots.txt), ``/robots.txt``; plain 200 pages for the sections without
    articles (video, e-paper, events, search, English, Khmer, classifieds, ...).
``huengaynay.vn`` (Huế ngày nay, DotNetNuke)
    ``/`` home, ``/<cate>`` and ``/<cate>/<sub>`` (no trailing slash; with one: 301 to
    without) paged ``/p/N``, articles ``/<cate>[/<sub>]/<slug>-<ID>.html`` -- every
    article id of the database, whatever its era, in the DNN template --,
    ``/amp.aspx?newid=<ID>``, ``/robots.txt``; plain pages for ``/video…``, ``/topic/…``,
    ``/tim-kiem…``, ``/so-do-website``, ``/xem-bao``, ``/gui-bai``.  No feed (the home page
    links none).
``baothuathienhue.vn`` (the old name)
    The real host redirects its home page to ``https://huengaynay.vn/``; the mirror does the
    same for every URL (301, same path and query) except the pages of the articles published
    under it, which it still serves in the template of their era: the VDOC era's
    ``/<slug>-a<ID>.html`` and the category-path era's ``/<cate>/<sub>/<slug>-<ID>.html``;
    plus ``/amp.aspx?newid=<ID>`` and ``/robots.txt``.  Whether the real old host still
    answers old article URLs is not known; the mirror answers them so that a crawl meets
    all three templates, and listings link every article by the URL it was published
    under (the real home page links an old article by its DotNetNuke URL too: the home's
    banner does the same, so a crawl meets both shapes of one article).

Pages are rendered with real absolute URLs (``https://baocantho.com.vn/…``).  :meth:`Site.page`
rewrites them, and ``Location`` headers, to the mirror origins of :meth:`Site.set_origins`
(``rewrite=False`` serves them unchanged: what the server does when a request's ``Host``
header names the real host).  A bounded LRU keeps the pages it returned.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from crawler.mirror import family_site, feeds, hue_extra, listings
from crawler.mirror.catalog import SEED, Catalog
from crawler.mirror.chrome import CT_HIDDEN
from crawler.mirror.family_sources import FAMILY_HOSTS, FAMILY_SOURCES
from crawler.mirror.generator import Generator, Headline
from crawler.mirror.images import IMAGE_HOSTS, image_page, is_image_target
from crawler.mirror.responses import HTML, RSS, TEXT, XML, Page
from crawler.mirror.seeds import seed_page, seed_spec
from crawler.mirror.sources import HOST_SOURCE, HOSTS, HUE_NEW_HOST, HUE_OLD_HOST, SOURCES, VN_TZ
from crawler.mirror.spec import ArticleSpec, Para
from crawler.mirror.static import is_site_image, is_static_target, static_page
from crawler.mirror.templates_hue import amp_page, render_hue_a, render_hue_dnn
from crawler.mirror.templates_vdoc import render_angiang, render_cantho, render_hue_vdoc, render_redesigned

PER_PAGE = 20
FEED_SIZE = 20
SITEMAP_SIZE = 500
SECTION_SIZE = 4  # newest teasers per section on a home page (Cần Thơ's mega-menus and boxes, An Giang's boxes)
NEWEST = {"baocantho": 12, "baoangiang": 19, "hue": 6}  # the home pages' "newest" teasers
EPOCH = datetime(2024, 1, 1, tzinfo=VN_TZ)  # Last-Modified of pages that list nothing

_VDOC_ARTICLE = re.compile(r"/(?:print/)?[a-z0-9-]*-a([0-9]+)\.html")
_HUE_ARTICLE = re.compile(r"/(?:[a-z0-9-]+/){1,2}[a-z0-9-]*-([0-9]+)\.html")
_HUE_LISTING = re.compile(r"/([a-z0-9-]+)(?:/([a-z0-9-]+))?(?:/p/([0-9]+))?")
_VDOC_PLAIN = ("/video/", "/xem-bao/", "/su-kien/", "/tim-kiem", "/news/", "/khmer/", "/bang-gia-quang-cao",
               "/rao-vat", "/dia-phuong", "/tin-longform.html", "/tin-infographics.html", "/gop-y.html",
               "/gui-bai.html", "/dat-bao.html", "/cong-luan-quan-tam-", "/lien-he-quang-cao.html",
               "/lich-cup-dien.html", "/da-phuong-tien/", "/anh/", "/podcast", "/infographic", "/emagazine/")
_HUE_PLAIN = ("/video", "/topic/", "/tim-kiem", "/so-do-website", "/xem-bao", "/gui-bai", "/dai-hoi-dang")
_HOST_URL = re.compile("https://(" + "|".join(re.escape(h) for h in HOSTS + IMAGE_HOSTS + FAMILY_HOSTS)
                       + ")(?![A-Za-z0-9.-])")


class Site:
    """All four hosts: catalogs, generator, page cache and origin rewriting."""

    def __init__(self, articles: int, seed: int, robots: dict[str, str] | None = None, cache_pages: int = 512,
                 redesigned: Iterable[str] = (), families: bool = False) -> None:
        self.catalogs = {
            key: Catalog(info, seed, articles, seed_spec(key).article_id if info.seed_leaf is not None else None)
            for key, info in SOURCES.items()
        }
        # With ``families``: one paper per other CMS family as well (crawler.mirror.family_sources).
        self.family_hosts: tuple[str, ...] = FAMILY_HOSTS if families else ()
        if families:
            self.catalogs.update({key: Catalog(info, seed, articles) for key, info in FAMILY_SOURCES.items()})
        self.host_source = {**HOST_SOURCE, **{h: key for key, info in FAMILY_SOURCES.items() for h in info.hosts
                                               if families}}
        self.generator = Generator(self.catalogs, seed)
        self.robots = dict(robots or {})
        self.redesigned = frozenset(redesigned)
        unknown = self.redesigned - set(self.catalogs)
        if unknown:
            raise ValueError(f"no such source to redesign: {sorted(unknown)}")
        self.revisions: dict[tuple[str, str], int] = {}
        self.origins: dict[str, str] = {h: f"https://{h}" for h in HOSTS + IMAGE_HOSTS + self.family_hosts}
        self._cache: OrderedDict[tuple[str, str, int, bool], Page] = OrderedDict()
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

    def page(self, host: str, target: str, *, rewrite: bool = True) -> Page:
        """The page for ``target`` on real host ``host`` (cached).

        With ``rewrite`` (the default) every real URL in the body and in a ``Location``
        header points at the mirror origins; without, the page is as the real site would send it.
        """
        key = (host, target, self._version, rewrite)
        with self._lock:
            page = self._cache.get(key)
            if page is not None:
                self._cache.move_to_end(key)
                return page
        page = self._render(host, target)
        if rewrite:
            page = self._rewrite(page)
        with self._lock:
            if key[2] == self._version:
                self._cache[key] = page
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return page

    def rewrite_url(self, text: str) -> str:
        """``text`` with every ``https://<mirrored host>`` replaced by that host's origin."""
        origins = self.origins
        return _HOST_URL.sub(lambda m: origins.get(m.group(1), m.group(0)), text)

    def _rewrite(self, page: Page) -> Page:
        body = self.rewrite_url(page.body.decode("utf-8")).encode("utf-8") if b"https://" in page.body else page.body
        headers = tuple((k, self.rewrite_url(v) if k == "Location" else v) for k, v in page.extra_headers)
        if body is page.body and headers == page.extra_headers:
            return page
        return Page(page.status, body, page.content_type, page.last_modified, headers)

    def _finish(self, text: str, content_type: str = HTML, last_modified: datetime | None = None) -> Page:
        return Page(200, text.encode("utf-8"), content_type, last_modified)

    def _render(self, host: str, target: str) -> Page:
        if is_static_target(target):  # stylesheets, their fonts and images, on every host (crawler.mirror.static)
            return static_page(host, target)
        if host in IMAGE_HOSTS:  # the file hosts: images only (no robots.txt: everything allowed)
            return image_page(target) if is_image_target(target) else not_found()
        if is_site_image(target):  # a portal's own logos, icons and thumbnails (page requisites)
            return image_page(target)
        source = self.host_source.get(host)
        if source is None:
            return not_found()
        parts = urlsplit(target)
        path, query = parts.path or "/", parse_qs(parts.query)
        if source in FAMILY_SOURCES:
            if path == "/robots.txt":
                return self._finish(feeds.robots(host, self.robots), TEXT, EPOCH)
            return family_site.render(self, source, path, query)
        if path.startswith("/image/fckeditor/") and is_image_target(path):  # Cần Thơ keeps images on its host
            return image_page(path)
        if path == "/robots.txt":
            return self._finish(feeds.robots(host, self.robots), TEXT, EPOCH)
        if host == HUE_OLD_HOST:
            return self._hue_old(target, path, query)
        if source == "hue":
            return self._hue(path, query)
        return self._vdoc(host, source, path, query)

    def _article_page(self, source: str, host: str, article_id: str, path: str, *, dnn: bool = False) -> Page | None:
        """The page of ``article_id`` if ``host`` + ``path`` is where it was published (or, ``dnn``, its
        huengaynay.vn path)."""
        catalog = self.catalogs[source]
        index = catalog.index_of(article_id)
        if index is None:
            return None
        head = self.generator.headline(source, index)
        if (head.dnn_path if dnn else head.path) != path or (not dnn and head.host != host):
            return None
        if source in self.redesigned:
            text = render_redesigned(self._spec(source, index))
        elif dnn:
            # The sidebar's "latest" teasers: the four published just before this article, so that the page
            # never changes when newer articles are published (a demo on a grown mirror finds it unchanged).
            before = [self.generator.headline(source, i) for i in range(index - 1, max(index - 5, -1), -1)]
            text = render_hue_dnn(self._spec(source, index), f"https://{HUE_NEW_HOST}{path}", before)
        elif index == SEED:
            text = seed_page(source).decode("utf-8")
        else:
            spec = self._spec(source, index)
            render = {"baocantho": render_cantho, "baoangiang": render_angiang, "hue-vdoc": render_hue_vdoc,
                      "hue-a": render_hue_a}[spec.template]
            text = render(spec)
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
        match = re.fullmatch(r"/sitemaps/articles-([0-9]+)\.xml", path)
        if match is None or not 1 <= int(match.group(1)) <= files:
            return not_found()
        heads = self._heads(source, everything, (int(match.group(1)) - 1) * SITEMAP_SIZE, SITEMAP_SIZE)
        return self._finish(feeds.sitemap(heads, news=False), XML, max((h.published for h in heads), default=EPOCH))

    def _everything(self, source: str) -> frozenset[int]:
        return frozenset(range(len(self.catalogs[source].info.leaves)))

    def _heads(self, source: str, leaves: frozenset[int], offset: int, limit: int) -> list[Headline]:
        return [self.generator.headline(source, i) for i in self.catalogs[source].listing(leaves, offset, limit)]

    def _listing_page(self, text: str, heads: Iterable[Headline]) -> Page:
        return self._finish(text, HTML, max((h.published for h in heads), default=EPOCH))

    # -- home pages ------------------------------------------------------------------------

    def home_view(self, source: str) -> listings.HomeView:
        """What a source's home page shows (see :mod:`crawler.mirror.listings`)."""
        info = SOURCES[source]
        newest = self._heads(source, self._everything(source), 0, NEWEST[source])
        if source == "hue":
            catalog = self.catalogs[source]
            extra: list[tuple[str, Headline]] = []
            if catalog.count and catalog.era(0) != "dnn":  # the oldest article, by its DotNetNuke URL
                oldest = self.generator.headline(source, 0)
                extra.append((f"https://{HUE_NEW_HOST}{oldest.dnn_path}", oldest))
            if catalog.rename_index < catalog.count:  # the first article of the DotNetNuke era
                first = self.generator.headline(source, catalog.rename_index)
                extra.append((first.url, first))
            return listings.HomeView(newest, {}, tuple(extra))
        sections = {slug: self._heads(source, info.leaves_under(slug), 0, SECTION_SIZE) for slug in info.tops()}
        return listings.HomeView(newest, sections)

    def home_ids(self, source: str) -> list[str]:
        """The article ids a source's home page links, in page order, once each."""
        if source in FAMILY_SOURCES:
            found = family_site.view(self, source, "/", 1)
            return found.ids() if found is not None else []
        view = self.home_view(source)
        if source == "hue":
            heads = [*view.newest, *(h for _url, h in view.extra)]
        elif source == "baocantho":  # mega-menus first (the hidden sections have none), then the top, then boxes
            mega = [h for slug, hs in view.sections.items() if slug not in CT_HIDDEN for h in hs]
            heads = [*mega, *view.newest, *(h for hs in view.sections.values() for h in hs)]
        else:
            heads = [*view.newest, *(h for hs in view.sections.values() for h in hs)]
        return list(dict.fromkeys(h.article_id for h in heads))

    def _home(self, source: str) -> Page:
        view = self.home_view(source)
        render = {"baocantho": listings.cantho_home, "baoangiang": listings.angiang_home, "hue": listings.hue_home}
        heads = [*view.newest, *(h for hs in view.sections.values() for h in hs), *(h for _u, h in view.extra)]
        return self._listing_page(render[source](view), heads)

    # -- VDOC ------------------------------------------------------------------------------

    def _vdoc(self, host: str, source: str, path: str, query: dict[str, list[str]]) -> Page:
        info = SOURCES[source]
        origin = f"https://{host}"
        if path == "/":
            return self._home(source)
        if source == "baocantho" and path == "/rss/home":
            heads = self._heads(source, self._everything(source), 0, FEED_SIZE)
            return self._feed(f"{origin}/", heads)
        if source == "baoangiang" and (path == "/sitemap.xml" or path.startswith("/sitemaps/")):
            return self._sitemap(source, origin, path, self._everything(source))
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
            return self._article_page(source, host, match.group(1), path) or not_found()
        if path.startswith(_VDOC_PLAIN):
            return self._finish(listings.simple_page(info.key, f"Trang {path} của {host}"), HTML, EPOCH)
        segments = path.strip("/").split("/")
        if not 1 <= len(segments) <= 2:
            return not_found()
        leaves = info.leaves_under(segments[0], segments[1] if len(segments) == 2 else None)
        if not leaves:
            return not_found()
        if not path.endswith("/"):  # the real menu has /cong-nghe/khoa-hoc-thuong-thuc once, without "/"
            return redirect(f"{origin}{path}/")
        raw_page = query.get("p", ["1"])[0]
        if not raw_page.isdigit() or not raw_page.isascii() or int(raw_page) < 1:
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
        crumbs: list[tuple[str, str]] = [(f"{origin}{info.listing_path(first.slug)}", first.name)]
        if all(info.leaves[n].sub == first.sub for n in leaves) and first.sub:
            crumbs.append((f"{origin}{info.listing_path(first.slug, first.sub)}", first.sub_name or ""))
        prev_url = (f"{origin}{path}" if page == 2 else page_url(page - 1)) if page > 1 else None
        next_url = page_url(page + 1) if offset + PER_PAGE < total else None
        title = crumbs[-1][1]
        if source == "hue":
            view = listings.ListingView(title, tuple(crumbs), heads, prev_url, next_url, page)
            return self._listing_page(listings.hue_category(view), heads)
        single = len(crumbs) == 2
        home_feed = f"{origin}/rss/home" if source == "baocantho" else None
        rss = f"{origin}/rss/subcate/{first.sub}/" if single else home_feed
        view = listings.ListingView(title, tuple(crumbs), heads, prev_url, next_url, page, rss)
        return self._listing_page(listings.vdoc_category(source, view), heads)

    def _feed(self, link: str, heads: list[Headline]) -> Page:
        text = feeds.rss("Tin mới nhất", link, "Tin tức mới nhất", heads)
        return self._finish(text, RSS, max((h.published for h in heads), default=EPOCH))

    # -- Huế -------------------------------------------------------------------------------

    def _amp(self, query: dict[str, list[str]]) -> Page:
        article_id = query.get("newid", [""])[0]
        if self.catalogs["hue"].index_of(article_id) is None:
            return not_found()
        spec = self.article("hue", article_id)
        return self._finish(amp_page(spec), HTML, spec.published)

    def _hue_old(self, target: str, path: str, query: dict[str, list[str]]) -> Page:
        """baothuathienhue.vn: the pages of its own articles; everything else moved to huengaynay.vn."""
        if path == "/amp.aspx":
            return self._amp(query)
        match = _VDOC_ARTICLE.fullmatch(path) or _HUE_ARTICLE.fullmatch(path)
        if match and not path.startswith("/print/"):
            page = self._article_page("hue", HUE_OLD_HOST, match.group(1), path)
            if page is not None:
                return page
        return redirect(f"https://{HUE_NEW_HOST}{target}")

    def _hue(self, path: str, query: dict[str, list[str]]) -> Page:
        info = SOURCES["hue"]
        origin = f"https://{HUE_NEW_HOST}"
        if path == "/":
            return self._home("hue")
        if path == "/amp.aspx":
            return self._amp(query)
        extra = hue_extra.render(self, path)  # the site map, its feeds, /goc-anh-hue and /e-magazine
        if extra is not None:
            return extra
        if path.startswith(_HUE_PLAIN):
            return self._finish(listings.simple_page("Huế", f"Trang {path} của {HUE_NEW_HOST}"), HTML, EPOCH)
        match = _HUE_ARTICLE.fullmatch(path)
        if match:
            return self._article_page("hue", HUE_NEW_HOST, match.group(1), path, dnn=True) or not_found()
        match = _HUE_LISTING.fullmatch(path.rstrip("/"))
        if not match:
            return not_found()
        cate, sub, number = match.groups()
        leaves = info.leaves_under(cate, sub)
        if not leaves:
            return not_found()
        if path.endswith("/"):  # DotNetNuke's links have no trailing slash
            return redirect(f"{origin}{path.rstrip('/')}")
        page = int(number) if number else 1
        if page < 1:
            return not_found()
        base = info.listing_path(cate, sub)
        return self._category("hue", HUE_NEW_HOST, base, leaves, page, lambda n: f"{origin}{base}/p/{n}")


def revised(spec: ArticleSpec, revision: int) -> ArticleSpec:
    """``spec`` after ``revision`` edits: one correction paragraph per edit at the end of the body."""
    notes = tuple(
        Para((f"Cập nhật lần {n}: bài viết đã được biên tập lại, bổ sung số liệu mới nhất về {spec.category.name}.",))
        for n in range(1, revision + 1)
    )
    return replace(spec, body=(*spec.body, *notes))


def not_found() -> Page:
    return Page(404, listings.simple_page("404", "Không tìm thấy trang").encode("utf-8"))


def redirect(location: str) -> Page:
    """A permanent redirect (``Location`` on a real host; rewritten like the body)."""
    body = listings.simple_page("301", f"Moved to {location}").encode("utf-8")
    return Page(301, body, HTML, None, (("Location", location),))
