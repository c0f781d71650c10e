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
    """robots.txt for a real host name, honouring the per-host overrides."""
    if overrides and host in overrides:
        return overrides[host]
    return DEFAULT_ROBOTS
