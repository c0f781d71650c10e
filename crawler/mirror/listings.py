"""Home and category pages of the three sites, plus print copies and plain pages.

Part of the offline mirror.  :mod:`crawler.mirror.site` decides *which* articles a page
lists (:class:`HomeView`, :class:`ListingView`); this module writes the markup, after the
real home pages saved on 2026-05-16 (``tests/fixtures/real/*-home-2026-05.html``): the same
chrome (:mod:`crawler.mirror.chrome`), the same teaser markup and link shapes, with
generated teasers.  What the real home pages show, and the mirror reproduces:

- Cần Thơ: every article is linked two to seven times (mega-menu, slider, "tin mới",
  section boxes), always by its absolute ``https://baocantho.com.vn/<slug>-a<ID>.html``.
- An Giang: a top block (three teasers, a slider, "tin mới"), then one box per section;
  links to the ``tintucmientay.baoangiang.com.vn`` subdomain and to ``/video/xem-video/…-<n>.html``
  items sit among them.
- Huế (DotNetNuke): only six articles are in the HTML (``div.big-news``, ``div.sub-news``,
  ``article > h3.i-title > a.item-title``); the section blocks are empty
  ``div.block-news homeblockN`` filled by a script; video items
  (``/video/[<cate>/]<slug>-<7 digits>.html``), English ``news.huengaynay.vn`` items and
  tag pages (``/topic/<slug>-<n>.html``) stand beside them, and a sidebar banner and the
  footer link two more articles.

Category pages of no site have been seen: they reuse the home page's chrome and teaser
markup, with the pagination of SITES.md (VDOC ``?p=N``, Huế ``/p/N``) behind an
``a.next`` link.  Every page also links non-article pages (video, e-paper, events,
search, classifieds) so that a crawler meets the URLs it must leave alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from crawler.mirror.chrome import (
    AG,
    CT,
    HUE_NEW,
    angiang_footer,
    angiang_header,
    cantho_footer,
    cantho_header,
    dnn_module,
    dnn_page,
)
from crawler.mirror.generator import Headline
from crawler.mirror.html_body import attr, esc
from crawler.mirror.sources import ANGIANG, CANTHO
from crawler.mirror.spec import ArticleSpec, Para
from crawler.mirror.templates_hue import dnn_teaser

# Video items of the real Huế home page: another id space (seven digits), not articles.
HUE_VIDEOS = (("khach-tay-tap-nau-mon-hue", "van-hoa-giai-tri", "1875312", "Khách Tây tập nấu món Huế"),
              ("check-in-cau-vuot-cua-bien-thuan-an", "doi-song", "1875309", "“Check in” cầu vượt cửa biển Thuận An"),
              ("sang-tao-cung-nen-thom", "van-hoa-giai-tri", "1875307", "Sáng tạo cùng nến thơm"))
HUE_ENGLISH = (("culture/vietnam-s-oldest-cadastral-record-preserved-in-hue-147039",
                "Vietnam’s oldest cadastral record"),
               ("life/going-to-hue-for-healing-147035", "Going to Hue for Healing"))
AG_VIDEOS = (("ngan-ngo-mua-tram-chin-7908", "Ngẩn ngơ mùa tràm chín"),
             ("dau-an-tam-linh-noi-cua-bien-phu-quoc-7830", "Dấu ấn tâm linh nơi cửa biển Phú Quốc"))
AG_WEST = (("vinh-long-danh-thuc-vuong-quoc-do-gach-gom-a485672", "Vĩnh Long đánh thức “vương quốc đỏ” gạch gốm"),)


@dataclass(frozen=True, slots=True)
class ListingView:
    """A category page: its heading trail, entries and the way on."""

    title: str
    crumbs: tuple[tuple[str, str], ...]  # (absolute href, name), home not included
    heads: Sequence[Headline]
    prev_url: str | None
    next_url: str | None
    page: int
    rss_url: str | None = None


@dataclass(frozen=True, slots=True)
class HomeView:
    """A home page: the newest articles, and the newest of each section (top-level slug -> headlines)."""

    newest: Sequence[Headline]
    sections: Mapping[str, Sequence[Headline]] = field(default_factory=dict)
    extra: Sequence[tuple[str, Headline]] = ()  # Huế: (URL, headline) linked by a banner and the footer


def _pager(view: ListingView) -> str:
    links = []
    if view.prev_url:
        links.append(f'<a class="prev" href="{attr(view.prev_url)}">‹ Trang trước</a>')
    links.append(f'<span class="current">{view.page}</span>')
    if view.next_url:
        links.append(f'<a class="next" href="{attr(view.next_url)}">Trang sau ›</a>')
    return '<div class="pagination">' + " ".join(links) + "</div>"


def _vdoc_head(title: str, canonical: str, base: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<title>{esc(title)}</title>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="robots" content="index,follow" />
<base href="{base}" />
<link rel="canonical" href="{attr(canonical)}" />
<link href="css/bootstrap.min.css" rel="stylesheet">
</head>
"""


# -- Cần Thơ --------------------------------------------------------------------------------------

def _ct_thumb(h: Headline, size: str) -> str:
    return f"{CT}/image/news/{h.published:%Y/%Y%m%d}/thumbnail/{size}/{h.article_id}.webp"


def _ct_box_item(h: Headline, lead: bool) -> str:
    """A teaser of a section box (``div.news-img-left``): image link, title link, and for the first the lead."""
    desc = f'<p class="b-desc justify line-clamp">{esc(h.sapo)}</p>' if lead and h.sapo else ""
    return (
        f'<div class="news-img-left"><a class="b-img" title="{attr(h.title)}" href="{attr(h.url)}">'
        f'<div class="overflow-4x3"><img loading="lazy" src="{_ct_thumb(h, "510x286")}" alt="{attr(h.title)}" '
        f"onerror=\"this.src='{CT}/image/error/300x220.jpg'\" /></div></a>"
        f'<div class="b-content"><a title="{attr(h.title)}" href="{attr(h.url)}"><h3 class="b-title">'
        f'{esc(h.title)}&nbsp;<span class="sprite icophoto"></span></h3></a>{desc}</div></div>'
    )


def cantho_home(view: HomeView) -> str:
    """baocantho.com.vn/: mega-menus, the slider, three top teasers, "tin mới", then one box per section."""
    newest = list(view.newest)
    slider = "\n".join(
        f'<li class="item-slick"><a class="b-img" title="{attr(h.title)}" href="{attr(h.url)}"><picture>'
        f'<img loading="lazy" src="{_ct_thumb(h, "470x300")}" alt="{attr(h.title)}" /></picture></a>'
        f'<a title="{attr(h.title)}" href="{attr(h.url)}"><h2 class="topnewhp1 roboto-slab">{esc(h.title)}&nbsp;'
        f'<span class="sprite icophoto"></span></h2></a>'
        + (f'<p class="i-des hidden-xs">{esc(h.sapo)}</p>' if h.sapo else "") + "</li>"
        for h in newest[:4]
    )
    top3 = "\n".join(
        f'<div class="col-sm-4 col-xs-12 item"><a title="{attr(h.title)}" href="{attr(h.url)}">'
        '<div class="overflow-4x3">'
        f'<img loading="lazy" class="i-img" src="{_ct_thumb(h, "510x286")}" alt="{attr(h.title)}"></div>'
        f'<h2 class="i-title roboto-slab">{esc(h.title)}&nbsp;<span class="sprite icophoto"></span></h2></a>'
        "<!--<p class=\"i-des\"></p>--></div>"
        for h in newest[4:7]
    )
    latest = "\n".join(
        f'<li><a title="{attr(h.title)}" href="{attr(h.url)}">{esc(h.title)}&nbsp;'
        '<span class="sprite icophoto"></span> '
        '<img loading="lazy" src="images/icons/new16x16.png" /></a></li>'
        for h in newest[:12]
    )
    boxes = []
    for slug, name in CANTHO.tops().items():
        heads = view.sections.get(slug, ())
        if not heads:
            continue
        subs = "".join(f'<li><a href="{CT}{CANTHO.listing_path(slug, leaf.sub)}">{esc(leaf.sub_name or "")}</a></li>'
                       for leaf in CANTHO.subs(slug))
        items = "\n".join(_ct_box_item(h, n == 0) for n, h in enumerate(heads))
        boxes.append(
            f'<div class="box1 box_home_style2cot5tin" data-name="{attr(name)}">'
            '<div class="catename"><div class="borbotred">'
            f'<span class="cate-title"><a class="cate1" href="{CT}/{slug}/">{esc(name)}</a></span>'
            f'<a class="icon-subMenu" href="javascript:void(0);"><i class="i-icon fa fa-bars"></i></a>'
            f'<ul class="subMyMenu">{subs}</ul></div></div>\n<div class="row">{items}</div></div>'
        )
    return (
        _vdoc_head("Báo Cần Thơ Online - Tin tức Cần Thơ cập nhật liên tục trong ngày", CT,
                   f"{CT}/static/templates/version1/homepage/")
        + f"""<body>
{cantho_header(view.sections)}<div class="wappercontainer"><div class="container"><div class="row">
<div class="col-xs-12">
<div class="col-left"><div class="box1" data-name="col-top"><div class="row overhidden">
<div class="index-silde-top-left col-xs-12 col-sm-8" id="box-col-silde-index-top"><div class="silde-pictop">
<ul class="posrelative slick-2 silde-index-top slick-slider-02" id="silde-index-top">
{slider}
</ul></div>
<div class="boxtop3 box-news-top-index marbot0"><div class="row">
{top3}
</div></div></div>
<div class="index-silde-top-right col-xs-12 col-sm-4"><div class="box-tmn"><div id="scrtinmoi" class="scrtinmoi">
<ul class="tinmoi" data-type="tin-moi">
{latest}
</ul></div></div></div></div></div>
{chr(10).join(boxes)}
<a href="{CT}/cong-luan-quan-tam-c2.html">Công luận quan tâm</a>
</div></div></div></div></div>
{cantho_footer()}</body>
</html>
"""
    )


def vdoc_category(source: str, view: ListingView) -> str:
    """A category page of Cần Thơ or An Giang: the site's chrome, the heading trail, section-box teasers."""
    origin, header, footer, base, site = (
        (CT, cantho_header(), cantho_footer(), f"{CT}/static/templates/version1/homepage/", "Báo Cần Thơ Online")
        if source == "baocantho" else
        (AG, angiang_header(), angiang_footer(), "https://images.baoangiang.com.vn/static/templates/version1/homepage/",
         "Báo An Giang Online"))
    links = [f'<a href="{attr(h)}">{esc(n)}</a>' for h, n in view.crumbs]
    crumbs = "".join(links[:1] + [f'<span class="fw400"> > {link}</span>' for link in links[1:]])
    rss = f'<a class="rss" href="{attr(view.rss_url)}"><span class="sprite rss"></span></a>' if view.rss_url else ""
    items = "\n".join(_ct_box_item(h, True) for h in view.heads)
    empty = "" if view.heads else '<p class="no-data">Không có dữ liệu</p>'
    canonical = view.crumbs[-1][0] if view.crumbs else origin
    return (
        _vdoc_head(f"{view.title} - {site}", canonical, base)
        + f"""<body>
{header}<div class="wappercontainer"><div class="container"><div class="col-left">
<div class="titlecate"><h1>{crumbs}</h1></div>{rss}
<div class="box1 list-news">
{items}{empty}
</div>
{_pager(view)}
</div>
<div class="col-right"><a href="{origin}/tim-kiem.html?q=tin+moi">Tìm kiếm</a>
<a href="{origin}/xem-bao/bao-ngay/">Báo in</a>
<a href="{origin}/video/">Video</a></div></div></div>
{footer}</body>
</html>
"""
    )


# -- An Giang -------------------------------------------------------------------------------------

def _ag_img(h: Headline, size: str) -> str:
    return f"https://images.baoangiang.com.vn/image/news/{h.published:%Y/%Y%m%d}/thumbnail/{size}/{h.article_id}.jpg"


def angiang_home(view: HomeView) -> str:
    """baoangiang.com.vn/: three teasers, the slider, "tin mới", then one box per section."""
    newest = list(view.newest)
    top3 = "\n".join(
        f'<div class="col-xs-12 item"><a title="" href="{attr(h.url)}"><div class="b-img"><div class="overflow-5x3">'
        f'<img class="i-img" src="{_ag_img(h, "336x224")}" alt="" title="" /></div></div>'
        f'<h2 class="i-title roboto-slab">{esc(h.title)}</h2></a></div>'
        for h in newest[:3]
    )
    slider = "\n".join(
        f'<li class="item-slick item-news"><div class="i-title-abs"><a title="{attr(h.title)}" href="{attr(h.url)}">'
        f'<h2 class="i-title roboto-slab i-title-big">{esc(h.title)}</h2></a>'
        f'<p class="pubdate hide">{h.published:%H:%M}</p></div></li>'
        for h in newest[3:7]
    )
    latest = "\n".join(
        f'<li><a class="b-title" title="{attr(h.title)}" href="{attr(h.url)}">{esc(h.title)}</a></li>'
        for h in newest[7:19]
    )
    videos = "".join(f'<li class="item video-img-left"><a class="b-img" title="{attr(t)}" '
                     f'href="{AG}/video/xem-video/{path}.html">{esc(t)}</a></li>' for path, t in AG_VIDEOS)
    west = "".join(f'<li><a href="https://tintucmientay.baoangiang.com.vn/{path}.html">{esc(t)}</a></li>'
                   for path, t in AG_WEST)
    boxes = []
    for slug, name in ANGIANG.tops().items():
        heads = view.sections.get(slug, ())
        if not heads:
            continue
        subs = "".join(f'<a class="cate2" href="{AG}{ANGIANG.listing_path(slug, leaf.sub)}">'
                       f'{esc(leaf.sub_name or "")}</a>' for leaf in ANGIANG.subs(slug))
        items = "\n".join(
            f'<div class="news-img-top"><a class="b-img" title="{attr(h.title)}" href="{attr(h.url)}">'
            f'<div class="overflow-5x3"><img src="{_ag_img(h, "510x286")}" alt="{attr(h.title)}" /></div></a>'
            f'<a title="{attr(h.title)}" href="{attr(h.url)}"><h3 class="b-title">{esc(h.title)}</h3></a></div>'
            for h in heads
        )
        boxes.append(f'<div class="box1 box_home_style"><div class="catename"><span class="cate-title">'
                     f'<a class="cate1" href="{AG}/{slug}/">{esc(name)}</a></span> {subs}</div>\n{items}</div>')
    return (
        _vdoc_head("Báo An Giang Online", AG, "https://images.baoangiang.com.vn/static/templates/version1/homepage/")
        + f"""<body data="index/index/cate=/subcate=">
{angiang_header()}<section class="wappercontainer"><div class="top_home homev2">
<div class="top_col1"><div class="boxtop3 box-news-top-index"><div class="row">
{top3}
</div></div></div>
<div class="top_col2"><div class="silde-pictop"><ul class="posrelative slick-2 silde-index-top slick-slider-02">
{slider}
</ul></div></div>
<div class="top_col3"><div class="box-tmn"><div id="scrtinmoi" class="scrtinmoi"><ul class="tinmoi" data-type="tin-moi">
{latest}
</ul></div></div></div></div>
<div class="kpag homev2"><div class="catename">
<a class="cate1" href="{AG}/video/kham-pha-an-giang.html">KHÁM PHÁ AN GIANG</a></div>
<ul class="list-video">{videos}</ul></div>
{chr(10).join(boxes)}
<div class="box1"><div class="catename">
<a class="cate1" href="https://tintucmientay.baoangiang.com.vn/">Tin tức miền Tây</a></div>
<ul>{west}</ul></div>
<div class="box1"><a href="{AG}/da-phuong-tien/">ĐA PHƯƠNG TIỆN</a> <a href="{AG}/anh/">Ảnh</a>
<a href="{AG}/podcast">Podcast</a></div>
</section>
{angiang_footer()}</body>
</html>
"""
    )


# -- Huế ngày nay (DotNetNuke) ---------------------------------------------------------------------

def _big_news(h: Headline) -> str:
    return (
        f'<div class="big-news"><a title="{attr(h.title)}" href="{attr(h.url)}"><div class="article-thumbnail '
        f'animation-scale"><img alt="{attr(h.title)}" src="https://file.huengaynay.vn/data/0/images/'
        f'{h.published:%Y/%m/%d}/upload_3831/{h.article_id}.jpg?w=766" /></div></a><div class="i-title">'
        f'<a class="item-title" title="{attr(h.title)}" href="{attr(h.url)}">{esc(h.title)}</a></div></div>'
    )


def _sub_news(heads: Sequence[Headline]) -> str:
    items = "".join(f'<li><a title="{attr(h.title)}" href="{attr(h.url)}">{esc(h.title)}</a></li>' for h in heads)
    return f'<div class="sub-news"><ul>{items}</ul></div>'


def _homeblock(n: int, module: int) -> str:
    # Empty on the real page: a script fills it from /api/home/homeBlockEN.asmx (no crawler runs it).
    return dnn_module(module, f'<div class="block-news homeblock{n}"></div>\n<script type="text/javascript">'
                              f"function getDataBlock{n}() {{ $.ajax({{ type: \"GET\", "
                              "url: '/api/home/homeBlockEN.asmx/"
                              f"values?pid=' + 0 + \"&setupKey=HOMEBLOCK_{n}\" }}); }}</script>")


def hue_home(view: HomeView) -> str:
    """huengaynay.vn/: six teasers in two modules, media and English modules, empty script-filled blocks."""
    newest = list(view.newest)
    first = dnn_module(2609, '<div class="tintuc post-slide">\n' + (_big_news(newest[0]) if newest else "")
                       + _sub_news(newest[1:3]) + "\n</div>")
    second = dnn_module(5777, '<div class="post-slide list-lasted">\n'
                        + (dnn_teaser(newest[3], newest[3].url) if len(newest) > 3 else "")
                        + '<div class="clear"></div>' + _sub_news(newest[4:6]) + "\n</div>")
    videos = "".join(f'<li><a href="{HUE_NEW}/video/{cate}/{slug}-{vid}.html" class=\'videoItem\'>{esc(t)}</a></li>'
                     for slug, cate, vid, t in HUE_VIDEOS)
    slug, _cate, vid, title = HUE_VIDEOS[0]
    media = dnn_module(5779, f'<div class="post-media" id="viewInfo"><div class=\'video-img\'><h3 class="title-media">'
                             f'<a href="{HUE_NEW}/video" title="Media">Media</a></h3>'
                             f'<a href="{HUE_NEW}/video/{slug}-{vid}.html"'
                             f' class=\'videoItem\'>{esc(title)}</a></div><ul>{videos}</ul></div>')
    english = dnn_module(5873, '<div class="news-en">' + "".join(
        f'<div class="big-news"><div class="i-title"><a class="item-title" title="{attr(t)}" '
        f'href="https://news.huengaynay.vn/{path}.html">{esc(t)}</a></div></div>'
        for path, t in HUE_ENGLISH) + "</div>")
    banners = [f'<div class="advrtise"><a rel="nofollow" target="_self" '
               f'href="{HUE_NEW}/topic/ngay-chu-nhat-xanh-40.html" title="Chủ Nhật Xanh">'
               '<img src="https://file.huengaynay.vn/data/0/images/2024/03/26/upload_3836/cnx.jpg" '
               'alt="Chủ Nhật Xanh" /></a></div>',
               '<div class="advrtise"><a rel="nofollow" target="_self" href="/ban-doc/nhip-cau-va-tam-long" '
               'title="Quỹ Sen Xanh"><img src="https://file.huengaynay.vn/data/0/images/2024/12/31/upload_3836/sx.jpg" '
               'alt="Quỹ Sen Xanh" /></a></div>']
    footer_link = ""
    for n, (url, h) in enumerate(view.extra):
        if n == 0:  # a banner to an older article, by its DotNetNuke URL (as 140183 on the real page)
            banners.append(f'<div class="advrtise"><a rel="nofollow" target="_self" href="{attr(url)}" '
                           f'title="{attr(h.title)}"><img src="https://file.huengaynay.vn/data/0/images/banner.gif" '
                           f'alt="{attr(h.title)}" /></a></div>')
        else:  # the footer's link (the real one announces the change of domain name)
            footer_link = f'<p><a href="{attr(url)}" title="{attr(h.title)}">{esc(h.title)}</a></p>'
    banners.append(f'<div class="advrtise"><a rel="nofollow" target="_self" href="{HUE_NEW}/tim-kiem-xa-phuong" '
                   'title="Tra cứu xã phường"><img src="https://file.huengaynay.vn/data/0/images/xa-phuong.gif" />'
                   "</a></div>")
    side = dnn_module(5888, '<div class="advrtise0">' + "".join(banners) + "</div>")
    body = f"""<div class="container container0"><div class="main-block">
<div id="dnn_mainblock_left">{first}</div>
<div id="dnn_mainblock_center">{second}</div>
</div></div>
<div class="container container0"><div class="row"><div class="col-md-12"><div id="dnn_homeMedia">{media}</div>
</div></div>
<div class="row"><div class="col-md-4"><div id="dnn_homeThoiSuLeft">{english}</div></div>
<div class="col-md-8"><div id="dnn_homeThoiSu">{_homeblock(1, 2594)}</div></div></div></div>
<div class="container"><div class="row"><div class="col-md-8 col-sm-12 col-xs-12">
<div id="dnn_block2_1">{_homeblock(2, 2602)}{_homeblock(4, 5791)}</div></div>
<div class="col-md-4 col-sm-12 col-xs-12"><div id="dnn_block2_2">{side}</div></div></div></div>
{footer_link}"""
    return dnn_page("HueNgayNay - Tin tức Thừa Thiên Huế cập nhật liên tục trong ngày", f"{HUE_NEW}/",
                    '<meta itemprop="url" property="og:url" content="https://huengaynay.vn/" />\n', body)


def hue_category(view: ListingView) -> str:
    """A section page of huengaynay.vn: the first teaser big, the others as ``article`` teasers; ``/p/N`` pages."""
    heads = list(view.heads)
    crumbs = "".join(f'<li><a href="{attr(h)}" title="{attr(n)}">{esc(n)}</a></li>'
                     for h, n in ((HUE_NEW, "Trang chủ"), *view.crumbs))
    teasers = "\n".join(
        dnn_teaser(h, h.url).replace("</article>",
                                     f'<span class="i-date">{h.published:%d/%m/%Y %H:%M}</span></article>')
        for h in heads[1:]
    )
    empty = "" if heads else '<p class="no-data">Không có dữ liệu</p>'
    listing = (f'<div class="list-breadcrumb"><ul>{crumbs}</ul></div>\n<div class="tintuc post-slide">'
               + (_big_news(heads[0]) if heads else "")
               + f'</div>\n<div class="post-slide list-news">\n{teasers}{empty}\n'
               f"</div>\n{_pager(view)}")
    canonical = view.crumbs[-1][0] if view.crumbs else HUE_NEW
    body = f"""<div class="container"><div class="row"><div class="col-md-8">
<div id="dnn_mainContent">{dnn_module(2633, listing)}</div></div>
<div class="col-md-4"><a href="{HUE_NEW}/video" title="Media">Media</a>
<a href="https://news.huengaynay.vn" title="HueNews">HueNews</a></div></div></div>"""
    return dnn_page(f"{view.title} - Huế ngày nay", canonical, "", body)


# -- copies and plain pages -----------------------------------------------------------------------

def simple_page(title: str, text: str) -> str:
    """A plain non-article page (video hub, e-paper, search, events, English section)."""
    return (
        f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{esc(title)}</title></head>\n'
        f"<body><h1>{esc(title)}</h1><p>{esc(text)}</p></body></html>\n"
    )


def print_page(spec: ArticleSpec) -> str:
    """The printer-friendly copy of a VDOC article (``/print/<slug>-a<ID>.html``)."""
    paras = "\n".join(f"<p>{esc(line)}</p>" for el in spec.body if isinstance(el, Para) for line in el.lines)
    return (
        f'<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8"><title>{esc(spec.title)}</title>'
        f'<link rel="canonical" href="{attr(spec.url)}"></head>\n<body onload="window.print()">'
        f"<h1>{esc(spec.title)}</h1>\n{paras}\n</body></html>\n"
    )


__all__ = ["HomeView", "ListingView", "angiang_home", "cantho_home", "hue_category", "hue_home",
           "print_page", "simple_page", "vdoc_category"]
