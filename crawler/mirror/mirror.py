"""The public face of the offline mirror: :class:`Mirror` (tests) and :func:`serve` (CLI).

Part of the offline mirror.  A :class:`Mirror` owns a :class:`~crawler.mirror.site.Site`
(content and routing) and a :class:`~crawler.mirror.server.MirrorServer` (sockets);
it exposes what tests need to compare a crawl with the truth: the ids a source
serves, their URLs on the mirror and the snapshot each article should give.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable
from types import TracebackType

from crawler.mirror import family_site, hue_extra
from crawler.mirror.catalog import SEED
from crawler.mirror.family_sources import FAMILY_SOURCES
from crawler.mirror.faults import FaultSpec, SpecPolicy
from crawler.mirror.images import IMAGE_HOSTS
from crawler.mirror.server import MirrorServer, RequestLogEntry
from crawler.mirror.site import PER_PAGE, Site
from crawler.mirror.snapshot import snapshot
from crawler.mirror.sources import HOSTS, SOURCES
from crawler.mirror.spec import ArticleSpec


class Mirror:
    """The four mirrored hosts on 127.0.0.1; use as a context manager or call start()/stop().

    ``articles`` is the number of generated articles per source (the seed articles of
    ``baocantho`` and ``hue`` come on top; Huế's two oldest are of its VDOC era (2022), the next two
    of its category-path era (2023-2024), every later one DotNetNuke's (2025-): an article's page is a
    function of (seed, source, id) only, whatever ``articles``); ``robots`` maps a real host name to the
    robots.txt text to serve instead of the default.  Article pages of the sources in
    ``redesigned`` are served in a new template that no adapter knows (listings and
    feeds unchanged): the way a site redesign looks to the crawler.  With ``families`` the mirror
    also serves one paper of each other CMS family (Mediatech ``baotayninh.vn``, the Java platform
    ``baodongnai.com.vn``, OneCMS ``baonghean.vn``: :mod:`crawler.mirror.family_sources`), each on
    a port of its own after the four hosts and the image hosts.
    """

    def __init__(self, articles: int = 60, seed: int = 1, robots: dict[str, str] | None = None,
                 redesigned: Iterable[str] = (), faults: str | FaultSpec | None = None,
                 families: bool = False) -> None:
        if articles < 0:
            raise ValueError("articles must be >= 0")
        self.site = Site(articles, seed, robots, redesigned=redesigned, families=families)
        spec = FaultSpec.parse(faults) if isinstance(faults, str) else faults
        # ``faults``: see crawler.mirror.faults (e.g. "transient=0.2"); ``self.faults.injected`` counts them.
        self.faults: SpecPolicy | None = SpecPolicy(spec, self._page_html) if spec is not None else None
        self.seed = seed
        self.origins: dict[str, str] = {}
        self.request_log: list[RequestLogEntry] = []
        self._server: MirrorServer | None = None
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, base_port: int | None = None) -> None:
        """Listen on free ports (or consecutive ones from ``base_port``: :data:`HOSTS`, then the image hosts)."""
        with self._lock:
            if self._server is not None:
                return
            server = MirrorServer(self.site, self.request_log, self.faults)
            ports = server.start(HOSTS + IMAGE_HOSTS + self.site.family_hosts, base_port)
            self.origins = {host: f"http://127.0.0.1:{port}" for host, port in ports.items()}
            self.site.set_origins(self.origins)
            self._server = server

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> Mirror:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _page_html(self, host: str, target: str) -> bytes | None:
        page = self.site.page(host, target)
        return page.body if page.status == 200 else None

    # -- the truth -----------------------------------------------------------------------

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self.site.catalogs)

    def article_ids(self, source: str) -> list[str]:
        """Every article id the mirror serves for ``source``, oldest first (seed article included)."""
        catalog = self.site.catalogs[source]
        ids = [catalog.article_id(SEED)] if catalog.seed_id is not None else []
        ids.extend(catalog.article_id(i) for i in range(catalog.count))
        return ids

    def article(self, source: str, article_id: str) -> ArticleSpec:
        """The structured description of an article (fields as the snapshot shows them)."""
        return self.site.article(source, article_id)

    def article_url(self, source: str, article_id: str) -> str:
        """The article's URL on the mirror origin of its primary host."""
        spec = self.article(source, article_id)
        return self.mirror_url(spec.url)

    def origin_args(self) -> list[str]:
        """``--origin HOST=URL`` for every mirrored host: what ``crawler fetch|crawl|replay|parse`` take."""
        return [f"--origin {host}={origin}" for host, origin in self.origins.items()]

    def mirror_url(self, real_url: str) -> str:
        """Map ``https://<real host>/path`` to the mirror origin of that host."""
        for host, origin in self.origins.items():
            prefix = f"https://{host}"
            if real_url == prefix or real_url.startswith(prefix + "/"):
                return origin + real_url[len(prefix) :]
        if not self.origins:
            raise RuntimeError("the mirror is not started")
        raise KeyError(real_url)

    def expected_snapshot(self, source: str, article_id: str) -> str:
        """The FORMAT.md snapshot text the article should give (computed from its description)."""
        return snapshot(self.article(source, article_id))

    def listing(self, source: str, path: str, page: int = 1) -> list[str]:
        """Ids of the articles a listing page shows (``/`` or a category path), once each.

        ``path`` is a start page as in ``sources.yaml`` (``/``, ``/thoi-su/``,
        ``/kinh-te/thong-tin-thi-truong``); ``page`` counts from 1 (``?p=N`` or ``/p/N``; a
        page past the end lists nothing), its entries newest first.  The home page is not
        paginated: whatever the page number, it shows what :meth:`Site.home_ids` says, in
        page order (the newest articles and the newest of each section; on Huế's only
        six of them, a banner's older article and the footer's).
        """
        catalog = self.site.catalogs[source]
        if page < 1:
            raise ValueError("page counts from 1")
        if source in FAMILY_SOURCES:
            found = family_site.view(self.site, source, path, page)
            if found is None:
                raise KeyError(path)
            return found.ids()
        if path == "/":
            return self.site.home_ids(source)
        if source == "hue" and path.strip("/") in hue_extra.SECTIONS:
            indices = hue_extra.section_indices(self.site, path.strip("/"), (page - 1) * PER_PAGE, PER_PAGE)
            return [catalog.article_id(i) for i in indices]
        segments = path.strip("/").split("/")
        if not 1 <= len(segments) <= 2:
            raise KeyError(path)
        leaves = SOURCES[source].leaves_under(segments[0], segments[1] if len(segments) == 2 else None)
        if not leaves:
            raise KeyError(path)
        indices = catalog.listing(leaves, (page - 1) * PER_PAGE, PER_PAGE)
        return [catalog.article_id(i) for i in indices]

    def revise(self, source: str, article_id: str) -> int:
        """The site edits an article (not a seed article): a correction paragraph ends its body.

        The page's text and ETag change (its Last-Modified does not);
        :meth:`expected_snapshot` follows.  Each call adds one more paragraph; returns
        the article's revision number.
        """
        return self.site.revise(source, article_id)

    def add_articles(self, source: str, n: int) -> None:
        """Publish ``n`` newer articles: they top the home page, listings and feeds."""
        if n < 0:
            raise ValueError("n must be >= 0")
        self.site.publish(source, n)


def serve(port: int | None, articles: int, seed: int, faults: str | None = None, families: bool = True) -> None:
    """Run a mirror in the foreground (``crawler mirror``): print the origins, serve until Ctrl-C.

    Prints one ``host<TAB>origin`` line per host, then a blank line and the same as an
    ``--origin HOST=URL ...`` argument list to paste after ``crawler fetch|crawl|replay|parse``.
    With ``port`` the hosts listen on consecutive ports from ``port`` (in the order
    printed); without, on free ports.  ``families``: the family papers too (see :class:`Mirror`).
    """
    mirror = Mirror(articles=articles, seed=seed, faults=faults, families=families)
    mirror.start(port)
    # SIGTERM stops it as cleanly as Ctrl-C; SIGINT is handled explicitly too, as `crawler crawl` does:
    # started from a script in the background, a process inherits SIGINT ignored, and Python then
    # leaves it ignored (a CI run saw `crawler mirror` outlive its Ctrl-C that way).
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for host, origin in mirror.origins.items():
            print(f"{host}\t{origin}", flush=True)
        # Ready to paste after a crawler command (the real configuration, pointed at this mirror).
        print("\n" + " ".join(mirror.origin_args()), flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        mirror.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
