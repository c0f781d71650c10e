"""Huế ngày nay beyond its menu: the site map ``/so-do-website`` with its RSS feeds, and two sections.

Part of the offline mirror (SITES.md, DotNetNuke paragraph): Huế's RSS icon links its human site
map ``/so-do-website``; the sibling sites of the same DNN module family publish feeds at
``/so-do-website/rss/<N>``, so the mirror's site map lists one section per line with its feed
``/so-do-website/rss/<N>`` (``N`` the section's number in the menu, from 1; the newest 20 of the
section).  Articles also sit under ``/goc-anh-hue/`` (photo stories) and ``/e-magazine/`` (long
reads), not linked from the home page: the mirror lists a deterministic share of the DotNetNuke-era
articles there too (about one in four and one in six) on ``/goc-anh-hue`` and ``/e-magazine``
(``/p/N`` pages, 20 a page), linked by their usual URLs.  (Whether the real site serves them at
``/goc-anh-hue/<slug>-<ID>.html`` is not known; the source's URL pattern accepts that shape.)
"""

from __future__ import annotations

import re

from crawler.mirror import listings
from crawler.mirror.catalog import mix
from crawler.mirror.family_site import EPOCH, Site
from crawler.mirror.html_body import attr, esc
from crawler.mirror.responses import HTML, Page
from crawler.mirror.sources import HUE, HUE_NEW_HOST

HUE_NEW = f"https://{HUE_NEW_HOST}"
SECTIONS = {"goc-anh-hue": ("Góc ảnh Huế", 4), "e-magazine": ("E-magazine", 6)}  # slug -> (name, one in N)
PER_PAGE = 20
FEED_SIZE = 20
_FEED = re.compile(r"/so-do-website/rss/([0-9]{1,4})")
_SECTION = re.compile(r"/(goc-anh-hue|e-magazine)(?:/p/([0-9]{1,6}))?")


def feed_number(slug: str) -> int:
    """The number of a top-level section's feed (its place in the menu, from 1)."""
    return list(HUE.tops()).index(slug) + 1


def in_section(site: Site, slug: str, index: int) -> bool:
    catalog = site.catalogs["hue"]
    return index >= catalog.rename_index and mix(catalog.seed, "hue-section", slug, index) % SECTIONS[slug][1] == 0


def section_indices(site: Site, slug: str, offset: int, limit: int) -> list[int]:
    """Indices of the section's articles, newest first."""
    out: list[int] = []
    skipped = 0
    for index in range(site.catalogs["hue"].count - 1, site.catalogs["hue"].rename_index - 1, -1):
        if in_section(site, slug, index):
            if skipped < offset:
                skipped += 1
                continue
            out.append(index)
            if len(out) >= limit:
                break
    return out


def render(site: Site, path: str) -> Page | None:
    """The page of ``path`` if it is one of this module's, else None."""

    if path == "/so-do-website":
        return Page(200, site_map().encode("utf-8"), HTML, EPOCH)
    match = _FEED.fullmatch(path)
    if match:
        tops = list(HUE.tops())
        n = int(match.group(1))
        if not 1 <= n <= len(tops):
            return Page(404, listings.simple_page("404", "Không tìm thấy trang").encode("utf-8"))
        leaves = HUE.leaves_under(tops[n - 1])
        return site._feed(f"{HUE_NEW}{HUE.listing_path(tops[n - 1])}", site._heads("hue", leaves, 0, FEED_SIZE))
    match = _SECTION.fullmatch(path)
    if match:
        slug, number = match.group(1), int(match.group(2) or 1)
        if number < 1:
            return None
        heads = [site.generator.headline("hue", i) for i in section_indices(site, slug, (number - 1) * PER_PAGE,
                                                                              PER_PAGE + 1)]
        more = len(heads) > PER_PAGE
        heads = heads[:PER_PAGE]
        view = listings.ListingView(
            SECTIONS[slug][0], ((f"{HUE_NEW}/{slug}", SECTIONS[slug][0]),),
            heads,
            f"{HUE_NEW}/{slug}" + (f"/p/{number - 1}" if number > 2 else "") if number > 1 else None,
            f"{HUE_NEW}/{slug}/p/{number + 1}" if more else None, number)
        return site._listing_page(listings.hue_category(view), heads)
    return None


def site_map() -> str:
    """``/so-do-website``: every section with its subsections and its RSS link."""
    rows = []
    for slug, name in HUE.tops().items():
        subs = "".join(f'<li><a href="{HUE_NEW}{HUE.listing_path(slug, leaf.sub)}">{esc(leaf.sub_name or "")}</a></li>'
                       for leaf in HUE.subs(slug))
        rows.append(f'<li class="sitemap-item"><a href="{HUE_NEW}{HUE.listing_path(slug)}" title="{attr(name)}">'
                    f'{esc(name)}</a> <a class="rss" href="/so-do-website/rss/{feed_number(slug)}" title="RSS '
                    f'{attr(name)}"><img src="/Portals/0/rss.png" alt="RSS"></a><ul>{subs}</ul></li>')
    for slug, (name, _n) in SECTIONS.items():
        rows.append(f'<li class="sitemap-item"><a href="{HUE_NEW}/{slug}" title="{attr(name)}">{esc(name)}</a></li>')
    body = "\n".join(rows)
    return (f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>Sơ đồ website - Huế ngày nay</title>'
            f'<link rel="canonical" href="{HUE_NEW}/so-do-website"></head>\n<body><div class="DnnModule">'
            f'<h1 class="title-sitemap">Sơ đồ website</h1>\n<ul class="sitemap">\n{body}\n</ul>\n'
            f'<p><a href="{HUE_NEW}/">Trang chủ</a> <a href="{HUE_NEW}/video">Video</a></p></div></body></html>\n')
