"""A feed index page (``feed_index`` in sources.yaml, e.g. Huế's ``/so-do-website``) -> its feed URLs (pure).

A site that links no feed from its home page may list them on another page: Huế ngày nay's
RSS icon leads to its human site map, whose sibling sites link ``/so-do-website/rss/<N>``
feeds there (SITES.md).  The feeds are the page's links that stay on the source's hosts and
whose path (with ``?query`` when it has one) matches the source's ``feed_link_pattern``; in
page order, once each.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from crawler.net.urls import absolute

MAX_FEEDS = 200  # feeds taken from one index page (a site map may be long; a hostile one longer)


def feed_links(html: str, page_url: str, pattern: str, covers: Callable[[str], bool],
               real_url: Callable[[str], str] = lambda u: u) -> list[str]:
    """The feed URLs an index page links (``real_url`` maps a mirror address back to the real one)."""
    tree = LexborHTMLParser(html)
    base_node = tree.css_first("base[href]")
    base = absolute(page_url, (base_node.attributes.get("href") or "") if base_node is not None else "") or page_url
    shape = re.compile(pattern)
    found: list[str] = []
    for link in tree.css("a[href]"):
        href = absolute(base, link.attributes.get("href") or "")
        if href is None:
            continue
        url = real_url(href)
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        if covers(url) and shape.search(target) and url not in found:
            found.append(url)
            if len(found) >= MAX_FEEDS:
                break
    return found
