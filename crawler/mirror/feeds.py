"""RSS 2.0 feeds and robots.txt of the mirrored sites.

Part of the offline mirror.  Feeds list the newest articles of a listing (newest
first) with RFC 822 dates in +0700; ``robots.txt`` defaults to allowing everything
but print copies and search (``/print/``, ``/tim-kiem``), and a test can replace it
per host.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import format_datetime
from html import escape

from crawler.mirror.generator import Headline

DEFAULT_ROBOTS = "User-agent: *\nDisallow: /print/\nDisallow: /tim-kiem\n"


def rss(title: str, link: str, description: str, heads: Sequence[Headline]) -> str:
    """An RSS 2.0 document (UTF-8, no final newline issues) for ``heads``."""
    items = "\n".join(
        "<item>"
        f"<title>{escape(h.title, quote=False)}</title>"
        f"<link>{escape(h.url, quote=False)}</link>"
        f'<guid isPermaLink="true">{escape(h.url, quote=False)}</guid>'
        f"<pubDate>{format_datetime(h.published)}</pubDate>"
        f"<description>{escape(h.sapo or '', quote=False)}</description>"
        "</item>"
        for h in heads
    )
    last = f"<lastBuildDate>{format_datetime(heads[0].published)}</lastBuildDate>" if heads else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        f"<title>{escape(title, quote=False)}</title>\n<link>{escape(link, quote=False)}</link>\n"
        f"<description>{escape(description, quote=False)}</description>\n<language>vi</language>\n{last}\n"
        f"{items}\n</channel>\n</rss>\n"
    )


def robots(host: str, overrides: dict[str, str] | None) -> str:
    """robots.txt for a real host name, honouring the per-host overrides.

    baoangiang.com.vn names its sitemap index there (the other hosts have no sitemap), so that
    discovery through robots.txt sitemaps is exercised end to end.
    """
    if overrides and host in overrides:
        return overrides[host]
    if host == "baoangiang.com.vn":
        return DEFAULT_ROBOTS + "Sitemap: https://baoangiang.com.vn/sitemap.xml\n"
    return DEFAULT_ROBOTS


SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def sitemap_index(urls: Sequence[str]) -> str:
    items = "\n".join(f"<sitemap><loc>{escape(u, quote=False)}</loc></sitemap>" for u in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {SITEMAP_NS}>\n{items}\n</sitemapindex>\n'


def sitemap(heads: Sequence[Headline], *, news: bool) -> str:
    """A urlset; with ``news`` a Google News sitemap (publication dates in news:news)."""
    def item(h: Headline) -> str:
        loc = f"<loc>{escape(h.url, quote=False)}</loc>"
        if news:
            return (f"<url>{loc}<news:news><news:publication_date>{h.published.isoformat()}"
                    f"</news:publication_date><news:title>{escape(h.title, quote=False)}</news:title>"
                    "</news:news></url>")
        return f"<url>{loc}<lastmod>{h.published.date().isoformat()}</lastmod></url>"

    namespaces = f"{SITEMAP_NS} {NEWS_NS}" if news else SITEMAP_NS
    items = "\n".join(item(h) for h in heads)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {namespaces}>\n{items}\n</urlset>\n'

