"""``crawler sources --suggest URL [PAGE | --fetch]``: a ready ``sources.yaml`` entry from a paper's home page.

Where it sits: beside ``crawler sources``.  The family comes from the page's markers
(:func:`crawler.parse.families.recognise`), the start pages from its menu (same-host section links,
in menu order, without the sections an archive of articles leaves out: video, podcasts, e-paper,
English, search, contact …), the feeds from its ``<link rel=alternate>`` and RSS links, and the
article URL pattern from the family.  The entry is checked by the same validation as
``sources.yaml`` itself (:func:`crawler.config.parse_sources`) and comes with the number of article
links the page shows under it, so a pattern that finds nothing is seen at once.  Pure: bytes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import trio
import yaml
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig, parse_sources
from crawler.errors import FetchError
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.net.origins import Origins
from crawler.net.urls import absolute, host_key
from crawler.parse.adapters.base import base_href, parse_listing_links
from crawler.parse.families import Family, recognise

# Section paths an archive of articles leaves out (README "Sources": video, English, Khmer, classifieds,
# e-paper, podcasts, photo hubs, search, contact ...), matched against each path segment.
LEFT_OUT = re.compile(
    r"^(?:video|videos|media|multimedia|podcasts?|truyen-hinh|phat-thanh|radio|tv|e-?paper|xem-bao|bao-in|"
    r"bao-giay|news|en|english|khmer|cn|fr|ru|rao-vat.*|quang-cao|lien-he|gioi-thieu|tim-kiem|search|"
    r"dang-nhap|login|rss|so-do-website|sitemap|topic|tag|tags|anh|photo|infographics?|longform|e-magazine|"
    r"emagazine|podcast|thoi-tiet|lich-am|lich-van-nien)$",
    re.IGNORECASE,
)
MENU = "nav, header, [class*=menu], [id*=menu], [class*=nav], [id*=nav]"
MAX_START_PAGES = 24


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A sources.yaml entry (as YAML text), the family it came from, and what it found on the page."""

    key: str
    family: Family
    entry: str
    article_links: int
    source: SourceConfig


def source_key(host: str) -> str:
    """``baotayninh.vn`` -> ``baotayninh``; ``phuyen.baodaklak.vn`` -> ``phuyen-baodaklak``."""
    labels = host_key(host).split(".")
    kept = [label for label in labels[:-1] if label not in ("www", "com", "org", "net", "gov", "edu")] or labels
    key = re.sub(r"[^a-z0-9-]", "-", "-".join(kept).lower()).strip("-") or "paper"
    return key if key[0].isalpha() else f"s-{key}"


def fetch_home(url: str, pairs: list[tuple[str, str]] | None = None, *, timeout: float = 30.0) -> tuple[str, bytes]:
    """The home page at ``url`` (redirects followed, to any http(s) host the address checks allow): its final
    URL and its body, de-chunked and content-decoded.  ``pairs``: ``--origin HOST=URL`` remappings (a mirror).
    Raises :class:`~crawler.errors.FetchError` (an HTTP status other than 200 included)."""
    real = {host_key(host): f"https://{host_key(host)}" for host, _ in pairs or []}
    origins = Origins.build(pairs or [], real)

    async def get() -> tuple[str, bytes]:
        policy = FetchPolicy(timeout=timeout, retries=1, backoff_base=0.2)
        async with Fetcher(policy, origins=origins) as fetcher:
            hops = await fetcher.fetch_following(url)
        final = hops[-1]  # URLs name the real hosts, whatever origin served them
        if final.status != 200:
            raise FetchError(f"HTTP {final.status} {final.reason}".strip(), url=final.url)
        return final.url, final.content

    return trio.run(get)


def suggest(url: str, html: bytes, *, also: tuple[str, ...] = ()) -> Suggestion:
    """The sources.yaml entry for the paper whose home page ``html`` was served at ``url``; ``also``: other
    hosts of the paper (the host a fetch was redirected from: an absorbed paper's old host)."""
    parts = urlsplit(url)
    host = host_key(parts.hostname or "")
    family = recognise(html)
    tree = LexborHTMLParser(html)
    base = base_href(tree, url)
    title_node = tree.css_first("title")
    title = (title_node.text(deep=True) if title_node is not None else "") or host
    key = source_key(host)
    block: dict[str, object] = {
        "name": " ".join(title.split())[:120],
        "adapter": family.adapter,
        "hosts": [host, *(h for h in dict.fromkeys(host_key(a) for a in also) if h and h != host)],
        "base_url": f"{parts.scheme}://{parts.netloc}/",
        "start_pages": ["/", *start_pages(tree, base, host, family)],
        "feeds": feeds(tree, base, host),
        "article_url_pattern": family.article_url_pattern,
        "pagination": family.pagination,
    }
    source = parse_sources({"sources": {key: block}}, origin="the suggested entry").get(key)
    listed = parse_listing_links(source, html, url)
    entry = yaml.safe_dump({key: block}, allow_unicode=True, sort_keys=False, width=110)
    note = f"  # {family.note}\n" if family.note else ""
    header = (f"# {host}: CMS family {family.name}; {len(listed.article_urls)} article links on the page "
              f"under the pattern below\n{note}")
    return Suggestion(key, family, header + entry, len(listed.article_urls), source)


def start_pages(tree: LexborHTMLParser, base: str, host: str, family: Family) -> list[str]:
    """The top-level sections of the page's menus, in menu order (same host, no article, none left out);
    subsections only when the menus have fewer than three top-level ones (their articles are filed under
    the sections too)."""
    raw = family.article_url_pattern
    pattern = re.compile(raw if isinstance(raw, str) else raw[0]["pattern"])
    found: list[str] = []
    for menu in tree.css(MENU):
        for link in menu.css("a[href]"):
            path = _section_path(link, base, host, pattern)
            if path and path not in found:
                found.append(path)
    top = [path for path in found if path.strip("/").count("/") == 0]
    return (top if len(top) >= 3 else found)[:MAX_START_PAGES]


def _section_path(link: LexborNode, base: str, host: str, article: re.Pattern[str]) -> str | None:
    href = absolute(base, link.attributes.get("href") or "")
    if href is None:
        return None
    parts = urlsplit(href)
    if host_key(parts.hostname or "") != host or parts.query or parts.fragment or article.search(parts.path):
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not 1 <= len(segments) <= 2 or any(LEFT_OUT.match(s) for s in segments):
        return None
    if segments[-1].endswith((".html", ".htm", ".aspx", ".bbg", ".php")) and "." in segments[-1][:-4]:
        return None
    return parts.path


def feeds(tree: LexborHTMLParser, base: str, host: str) -> list[str]:
    """RSS/Atom feeds the page links: ``<link rel=alternate type=…rss…>``, and links to ``/rss…`` pages."""
    found: list[str] = []
    for node in tree.css('link[rel="alternate"][type*="rss"], link[rel="alternate"][type*="atom"], a[href*="rss"]'):
        href = absolute(base, node.attributes.get("href") or "")
        if href is None:
            continue
        parts = urlsplit(href)
        if host_key(parts.hostname or "") == host and "rss" in parts.path.lower() and parts.path not in found:
            found.append(parts.path)
    return found[:8]
