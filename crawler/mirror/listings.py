"""Listing and auxiliary pages: home, category pages, AMP and print copies, plain pages.

Part of the offline mirror.  :mod:`crawler.mirror.site` decides *which* articles a
page lists; this module only writes the markup.  VDOC listings (Cần Thơ, An Giang)
paginate with ``?p=N``, Huế listings with ``/p/N``; the templates just receive the
previous/next URLs.  Every listing also links to non-article pages (video, e-paper,
events, search, print) so that a crawler meets the URLs it must leave alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from crawler.mirror.generator import Headline
from crawler.mirror.html_body import attr, esc
from crawler.mirror.sources import SourceInfo
from crawler.mirror.spec import ArticleSpec, Para
from crawler.mirror.templates_hue import dhdn_box, hue_menu
from crawler.mirror.templates_vdoc import vdoc_menu


@dataclass(frozen=True, slots=True)
class ListingView:
    """What a listing page shows: a heading trail, the entries and the way on."""

    title: str
    crumbs: tuple[tuple[str, str], ...]  # (absolute href, name), home not included
    heads: Sequence[Headline]
    prev_url: str | None
    next_url: str | None
    page: int
    rss_url: str | None = None


def _vdoc_item(h: Headline) -> str:
    sapo = f'<p class="news-sapo">{esc(h.sapo)}</p>' if h.sapo else ""
    return (
        f'<div class="box-news"><div class="news-img"><a href="{attr(h.url)}" title="{attr(h.title)}">'
        f'<img src="https://{h.host}/image/error/300x220.jpg" alt="{attr(h.title)}"></a></div>'
        f'<h3 class="news-title"><a href="{attr(h.url)}" title="{attr(h.title)}">{esc(h.title)}</a></h3>'
        f'<div class="news-date">{h.published:%d/%m/%Y - %H:%M}</div>{sapo}</div>'
    )


def _pager(view: ListingView) -> str:
    links = []
    if view.prev_url:
        links.append(f'<a class="prev" href="{attr(view.prev_url)}">‹ Trang trước</a>')
    links.append(f'<span class="current">{view.page}</span>')
    if view.next_url:
        links.append(f'<a class="next" href="{attr(view.next_url)}">Trang sau ›</a>')
    return '<div class="pagination">' + " ".join(links) + "</div>"


def vdoc_listing(info: SourceInfo, origin: str, view: ListingView) -> str:
    """Home or category page of a VDOC site."""
    site = "Báo Cần Thơ Online" if info.key == "baocantho" else "Báo An Giang Online"
    links = [f'<a href="{attr(h)}">{esc(n)}</a>' for h, n in view.crumbs]
    crumbs = "".join(links[:1] + [f'<span class="fw400"> > {link}</span>' for link in links[1:]])
    heading = f'<div class="titlecate"><h1>{crumbs}</h1></div>' if crumbs else ""
    rss = f'<a class="rss" href="{attr(view.rss_url)}"><span class="sprite rss"></span></a>' if view.rss_url else ""
    items = "\n".join(_vdoc_item(h) for h in view.heads)
    empty = "" if view.heads else '<p class="no-data">Không có dữ liệu</p>'
    cats = "".join(f'<li><a href="{origin}/{slug}/">{esc(name)}</a></li>' for slug, name in info.tops().items())
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>{esc(view.title)} - {site}</title>
<base href="{origin}/static/templates/version1/homepage/" />
<link rel="alternate" type="application/rss+xml" href="{origin}/rss/home.rss" />
</head>
<body>
{vdoc_menu(info, origin)}<div id="content">
<div id="colcate1">
{heading}{rss}
<div class="list-news">
{items}{empty}
</div>
{_pager(view)}
</div>
<div id="colcate2"><ul class="cate-list">{cats}</ul>
<a href="{origin}/tim-kiem.html?q=tin+moi">Tìm kiếm</a> <a href="{origin}/xem-bao/bao-ngay/">Báo in</a></div>
</div>
</body>
</html>
"""


def hue_listing(origin: str, view: ListingView) -> str:
    """Home or category page of the Huế site (either host)."""
    crumbs = " › ".join(f'<a href="{attr(h)}">{esc(n)}</a>' for h, n in ((origin + "/", "Trang chủ"), *view.crumbs))
    items = "\n".join(
        f'<div class="story-item"><h3><a href="{attr(h.url)}">{esc(h.title)}</a></h3>'
        f'<span class="time">{h.published:%d/%m/%Y - %H:%M}</span>'
        + (f'<p class="sapo">{esc(h.sapo)}</p>' if h.sapo else "") + "</div>"
        for h in view.heads
    )
    rss = f'<a class="rss" href="{attr(view.rss_url)}">RSS</a>' if view.rss_url else ""
    return f"""<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>{esc(view.title)} - Báo Huế</title></head>
<body>
<div id="header"><ul class="main-menu">{hue_menu(origin)}</ul>
<a href="{origin}/tim-kiem/?q=hue">Tìm kiếm</a> <a href="{origin}/topic/chuyen-doi-so/">Chuyển đổi số</a></div>
<div class="breadcrumb">{crumbs}</div>{rss}
<div class="list-story">
{items}
</div>
{_pager(view)}
{dhdn_box(origin)}
</body>
</html>
"""


def simple_page(title: str, text: str) -> str:
    """A plain non-article page (video hub, e-paper, search, events, English section)."""
    return (
        f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title></head>\n'
        f"<body><h1>{esc(title)}</h1><p>{esc(text)}</p></body></html>\n"
    )


def amp_page(spec: ArticleSpec) -> str:
    """The AMP copy of a Huế article (``/amp.aspx?newid=ID``): canonical link, title and paragraphs."""
    paras = "\n".join(f"<p>{esc(line)}</p>" for el in spec.body if isinstance(el, Para) for line in el.lines)
    return f"""<!doctype html>
<html amp lang="vi">
<head><meta charset="utf-8"><title>{esc(spec.title)}</title>
<link rel="canonical" href="{attr(spec.url)}">
<style amp-boilerplate>body{{visibility:hidden}}</style></head>
<body><h1>{esc(spec.title)}</h1><p class="date">{spec.date_line}</p>
{paras}
</body></html>
"""


def print_page(spec: ArticleSpec) -> str:
    """The printer-friendly copy of a VDOC article (``/print/<slug>-a<ID>.html``)."""
    paras = "\n".join(f"<p>{esc(line)}</p>" for el in spec.body if isinstance(el, Para) for line in el.lines)
    return (
        f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{esc(spec.title)}</title>'
        f'<link rel="canonical" href="{attr(spec.url)}"></head>\n<body onload="window.print()">'
        f"<h1>{esc(spec.title)}</h1>\n{paras}\n</body></html>\n"
    )
