"""Page chrome of the three mirrored sites: headers, menus and footers, after the real 2026 home pages.

Part of the offline mirror.  The real pages (``tests/fixtures/real/*-home-2026-05.html``,
saved 2026-05-16) are the model: the same menus with the same link shapes and markup
habits, lightened (no scripts, styles or ad iframes).  The templates of article and
listing pages put these around their content.

- Cần Thơ (VDOC): ``nav.nav-main > ul > li`` per section with a ``div.mega-menu``
  (``ul.list-bc`` subsections, ``ul.list-block`` four newest teasers of the section), a
  ``li.menushow`` for the sections hidden behind the burger, the "Dòng sự kiện" ticker
  (``/su-kien/…``), e-paper, ad rates and the feed link ``/rss/home``; English ``/news/``
  and Khmer ``/khmer/`` at the top.
- An Giang (VDOC, newer revision): ``ul#nav1.nav-mobi`` section list with the
  ``/dia-phuong/<commune>`` submenu (no trailing slash), the ``tintucmientay`` subdomain,
  video, e-paper; ``<base href>`` on ``images.baoangiang.com.vn`` as on the real site.
- Huế ngày nay (DotNetNuke): ``div.topHeader`` (``/so-do-website``, ``/gui-bai``,
  ``/xem-bao``, ``news.huengaynay.vn``), ``div.main-menu > ul`` with Festival, Media
  (``/video…``) and the sections, every link without a trailing slash, some absolute
  (``https://huengaynay.vn/the-thao/the-thao-trong-nuoc``) and some relative.

All URLs are written on the real hosts; the server rewrites them (see :mod:`crawler.mirror.site`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from crawler.mirror.generator import Headline
from crawler.mirror.html_body import attr, esc
from crawler.mirror.sources import ANGIANG, CANTHO, HUE, SourceInfo

CT = "https://baocantho.com.vn"
AG = "https://baoangiang.com.vn"
HUE_NEW = "https://huengaynay.vn"
HUE_OLD = "https://baothuathienhue.vn"
# Sections of the real menus that are links behind the burger rather than top-level entries.
CT_HIDDEN = ("bat-dong-san-do-thi", "nong-dan-ti-phu", "khoi-nghiep")
AG_COMMUNES = (("an-bien", "An Biên"), ("chau-doc", "Châu Đốc"), ("long-xuyen", "Long Xuyên"),
               ("phu-quoc", "Phú Quốc"), ("rach-gia", "Rạch Giá"), ("tri-ton", "Tri Tôn"))
CT_EVENTS = (("dai-hoi-dai-bieu-toan-quoc-lan-thu-xiv-cua-dang.36.html", "Đại hội đại biểu toàn quốc lần thứ XIV"),
             ("can-tho-nang-dong-va-phat-trien.9.html", "Cần Thơ năng động và phát triển"))


def _sub_links(info: SourceInfo, origin: str, slug: str, css: str) -> str:
    return "".join(
        f'<li class="{css}"><a href="{origin}{info.listing_path(slug, leaf.sub)}" title="{attr(leaf.sub_name or "")}">'
        f"{esc(leaf.sub_name or '')}</a></li>"
        for leaf in info.subs(slug)
    )


def mega_teaser(h: Headline) -> str:
    """A teaser of Cần Thơ's mega-menus: a 16x9 thumbnail link and a title link."""
    return (
        f'<li><div class="overflow-16x9"><a href="{attr(h.url)}"><img loading="lazy" title="{attr(h.title)}" '
        f'src="{CT}/image/news/{h.published:%Y/%Y%m%d}/thumbnail/336x224/{h.article_id}.webp" width="175px" '
        f'alt="{attr(h.title)}" /></a></div>\n<a title="{attr(h.title)}" href="{attr(h.url)}">{esc(h.title)}</a></li>'
    )


def cantho_header(mega: Mapping[str, Sequence[Headline]] | None = None) -> str:
    """Cần Thơ's header: language links, the section menu with mega-menus, the event ticker, the feed link."""
    items = [f'<li class=""><a href="{CT}/" title="Home"><i class="fs14 fas fa-home" aria-hidden="true"></i></a></li>']
    for slug, name in CANTHO.tops().items():
        if slug in CT_HIDDEN:
            continue
        subs = _sub_links(CANTHO, CT, slug, "level1")
        block = "".join(mega_teaser(h) for h in (mega or {}).get(slug, ()))
        inner = (f'<div class="mega-menu"><ul class="list-bc">{subs}</ul><ul class="list-block">{block}</ul></div>'
                 if subs or block else "")
        items.append(f'<li ><a href="{CT}/{slug}/" title="{attr(name)}">{esc(name)}</a>\n{inner}</li>')
    items.append(
        f'<li class="menuhide hidden-sm"><a href="{CT}/video/" title="Media">Media</a><div class="mega-menu">'
        f'<ul class="list-bc"><li class="level1"><a href="{CT}/video/" title="Video">Video</a></li>'
        f'<li class="level1"><a href="{CT}/tin-longform.html" title="Longform">Longform</a></li>'
        f'<li class="level1"><a href="{CT}/tin-infographics.html" title="Infographics">Infographics</a></li>'
        "</ul></div></li>"
    )
    hidden = "".join(f'<li><a href="{CT}/{slug}/" title="{attr(name)}">{esc(name)}</a></li>'
                     for slug, name in CANTHO.tops().items() if slug in CT_HIDDEN)
    items.append(f'<li class="menushow posrelative"><a href="javascript:void(0);"><i class="fa fa-bars"></i></a>'
                 f'<ul class="subMyMenu" id="subMyMenu999">{hidden}</ul></li>')
    events = "".join(f'<li><a href="{CT}/su-kien/{path}">{esc(name)}</a></li>' for path, name in CT_EVENTS)
    return f"""<div class="wapperheader">
<div class="col-top-head">
<a href="{CT}/">Tiếng Việt</a> | <a href="{CT}/news/">English</a> |
<a style="font-family:'khmer'" href="{CT}/khmer/">ភាសាខ្មែរ</a>
<a target="_blank" href="https://www.youtube.com/channel/UCnJlzor57g0Z2m58vJgWcoQ">
<img src="images/graphics/youtube.png"></a>
<form class="frm-nav-search"><input name="q" id="q" class="qsearch" type="text" placeholder="Tìm kiếm"></form></div>
<div class="col-top-logo"><a href="{CT}/">
<img class="i-logo" src="images/graphics-new/logo_baocantho.png?id=1.004" /></a></div>
<div class="wrapper-scroll-top" id="wrapper-scroll-top"><div class="container"><div class="wappermenu">
<nav class="nav-main"><ul class="clearfix">
{chr(10).join(items)}
</ul></nav></div></div></div>
<div class="subnavmenu"><div class="evtname"><span>Dòng sự kiện</span>
<div id="vTicker-event-news" class="event-news"><ul>{events}</ul></div></div>
<div class="col-top-head canhphai"><span class="item item-blue">
<a target="xembaogiay" href="{CT}/xem-bao/bao-ngay/">Đọc báo giấy Online</a></span>
<span class="item item-orance"><a href="{CT}/bang-gia-quang-cao-bao-in.html">Bảng giá quảng cáo - Đặt báo</a></span>
<span class="item"><a href="{CT}/rss/home"><span class="sprite rss"></span></a></span></div></div>
</div>
"""


def cantho_footer() -> str:
    return f"""<div class="footer"><ul class="footer-nav"><li><a href="{CT}/khmer/">Khmer</a></li><li>
<a href="{CT}/news/">English</a></li>
<li><a href="{CT}/video/">Video</a></li><li><a href="{CT}/xem-bao/bao-ngay/">Báo in</a></li><li>
<a href="{CT}/gop-y.html">Góp ý</a></li>
<li><a href="{CT}/rao-vat/?istype=2">Rao vặt</a></li></ul>
<p>Giấy phép số 789/GP-BTTTT, do Bộ Thông Tin và Truyền Thông cấp ngày 02-12-2021</p>
<p class="fright canhphai vdoc margintop6">Phát triển bởi: <a rel="nofollow" href="https://vdoc.com.vn">&nbsp;VDOC</a></p></div>
"""


def angiang_header() -> str:
    """An Giang's header: the section list, the communes submenu, the Tin tức miền Tây subdomain, media."""
    sections = "".join(f'<li class="col-xs-6"><a class="subcm" href="{AG}/{slug}/">{esc(name)}</a></li>'
                       for slug, name in ANGIANG.tops().items())
    communes = "".join(f'<li><a href="{AG}/dia-phuong/{slug}">{esc(name)}</a></li>' for slug, name in AG_COMMUNES)
    return f"""<header class="wapperheader"><div class="top_head"><div class="cate">
<a href="javascript:void(0);" data-toggle="collapse" data-target="#submenunew"><strong>Danh mục</strong></a>
<div class="submenunew collapse" id="submenunew"><ul id="nav1" class="nav-mobi nav navbar-nav navbar-left">
{sections}
<li class="col-xs-6">
<a target="_ttmt" class="subcm" href="https://tintucmientay.baoangiang.com.vn/">Tin tức miền Tây</a></li>
<li class="col-xs-6"><a class="subcm" href="{AG}/video/">Media Báo An Giang</a></li>
<li class="col-xs-6"><a class="subcm" href="{AG}/dia-phuong.html">Tin địa phương</a><div class="sub-menu">
<ul class="list-sub-menu">{communes}</ul></div></li>
</ul></div></div>
<a href="{AG}/" title="Home"><img src="images/icon/home-run.png" style="height:20px;" /></a>
<div class="right"><div class="link"><a href="{AG}/lien-he-quang-cao.html">Liên hệ quảng cáo</a> <span>|</span>
<a href="{AG}/xem-bao/bao-ngay/">Báo giấy Online</a> <span>|</span>
<a href="{AG}/lich-cup-dien.html">Lịch cúp điện</a></div></div>
</div>
<div class="col-top-logo"><a href="{AG}/"><img class="i-logo" src="images/graphics-new/logobag.png?id=1.0003" /></a>
</div>
</header>
"""


def angiang_footer() -> str:
    return f"""<footer class="footer"><a href="{AG}/rao-vat/?istype=2">Rao vặt</a>
<a href="{AG}/dat-bao.html">Đặt báo</a>
<a href="{AG}/podcast">Podcast</a> <a href="{AG}/infographic">Infographic</a> <a href="{AG}/emagazine/">Emagazine</a>
<a href="https://play.google.com/store/apps/details?id=com.baoangiang">Android</a>
<p>Báo An Giang - Cơ quan của Đảng bộ Đảng Cộng sản Việt Nam tỉnh An Giang</p></footer>
"""


def hue_vdoc_header() -> str:
    """baothuathienhue.vn's header in its VDOC era (2021-2022): not seen; the VDOC habits, Huế's sections."""
    sections = "".join(f'<li><a href="{HUE_OLD}/{slug}/">{esc(name)}</a></li>' for slug, name in HUE.tops().items())
    return (f'<div id="header"><a class="logo" href="{HUE_OLD}/"><img src="images/logo-tth.png" '
            f'alt="Báo Thừa Thiên Huế Online" /></a>\n<ul class="menu-top">{sections}</ul>\n'
            f'<form action="{HUE_OLD}/tim-kiem.html" method="get"><input name="q" type="text"></form></div>\n')


def hue_header() -> str:
    """Huế ngày nay's DNN header: the info bar and the section menu, links without a trailing slash."""
    items = [f'<li><a href="{HUE_NEW}" title="Huế ngày nay Online" class="logo-avatar hidden-xs">'
             '<img src="/image/images/icon-home.svg" alt="Huế ngày nay Online" width="40px" height="30px" /></a></li>']
    for slug, name in HUE.tops().items():
        if slug == "chinh-tri-xa-hoi":  # the menu puts Media before the sections
            items.append('<li><a href="/video" title="Media">Media</a><ul><li><a href="/video/van-hoa-giai-tri" '
                         'title="Văn hóa - Giải trí">Văn hóa - Giải trí</a></li><li><a href="/video/doi-song" '
                         'title="Đời sống">Đời sống</a></li><li><a href="/video/ban-tin" title="Bản tin">Bản tin</a>'
                         "</li></ul></li>")
        subs = "".join(
            # The real menu writes some subsection links absolute, most relative.
            f'<li><a href="{HUE_NEW if slug == "the-thao" else ""}{HUE.listing_path(slug, leaf.sub)}" '
            f'title="{attr(leaf.sub_name or "")}">{esc(leaf.sub_name or "")}</a></li>'
            for leaf in HUE.subs(slug)
        )
        items.append(f'<li><a href="/{slug}" title="{attr(name)}">{esc(name)}</a>'
                     + (f"<ul>{subs}</ul>" if subs else "") + "</li>")
        if slug == "chinh-tri-xa-hoi":
            items.append('<li><a href="https://news.huengaynay.vn/" title="Hue News">Hue News</a><ul>'
                         '<li><a href="https://news.huengaynay.vn/culture" title="Culture">Culture</a></li></ul></li>')
    return f"""<div class="header"><div class="topHeader"><div class="container"><div class="header-info">
<div class="header-logo"><h1><a href="{HUE_NEW}" title="Huế ngày nay Online" class="logo-avatar hidden-xs">
<img src="https://file.huengaynay.vn/data/0/images/2024/12/30/upload_1/logo-bao-2025-final.svg"
alt="Huế ngày nay Online" width="250" height="52" /></a></h1></div>
<ul class="list-info"><li class="search-li">
<input id="seach-box" type="text" placeholder="Tìm kiếm..." class="text-search"></li>
<li><div class="date-time"><span id="date">&nbsp;</span></div></li>
<li><a href="/so-do-website" title="Sơ đồ website">
<img src="/image/tth/icon-rss.svg" alt="Rss" width="24" height="24" /></a></li>
<li><a href="/gui-bai" title="Bạn đọc gửi bài">Bạn đọc gửi bài</a></li><li>
<a href="/xem-bao" title="Đọc báo giấy Online">Đọc báo giấy Online</a></li>
<li><a href="https://news.huengaynay.vn" rel="nofollow" title="HueNews">HueNews</a></li></ul></div></div></div>
<div class="clear"></div><div class="vmenu"><div class="hidden-xs"><div class="main-menu"><div class="container"><ul>
{"".join(items)}
</ul></div></div></div></div></div>
"""


def hue_footer() -> str:
    return """<footer id="footer" class="footer"><div class="container container1300"><div class="footer-content">
<div class="ft-left">
<p>Ấn phẩm của B&aacute;o v&agrave; Ph&aacute;t thanh, Truyền h&igrave;nh Huế</p>
<p>T&ograve;a soạn: 61 Trần Th&uacute;c Nhẫn, TP.Huế</p><p>Bản quyền thuộc Huế ng&agrave;y nay</p>
</div></div></div></footer>
"""


def dnn_module(number: int, inner: str) -> str:
    """A DotNetNuke module wrapper as on the real pages (``DnnModule-N``, ``dnn_ctrN_…`` ids)."""
    return (f'<div class="DnnModule DnnModule-AddModule DnnModule-{number}"><a name="{number}"></a>'
            f'<div id="dnn_ctr{number}_ContentPane"><!-- Start_Module_{number} -->'
            f'<div id="dnn_ctr{number}_ModuleContent" class="DNNModuleContent ModAddModuleC">\n{inner}\n'
            f'<div id="dnn_ctr{number}_Main_lbm" class="clear"></div>\n'
            f"</div><!-- End_Module_{number} --></div>\n</div>")


def dnn_page(title: str, canonical: str, head_extra: str, body: str) -> str:
    """A whole DotNetNuke page of huengaynay.vn around ``body``."""
    return f"""<!DOCTYPE html>
<html lang="vi">
<head id="Head"><meta content="text/html; charset=UTF-8" http-equiv="Content-Type" />
<title>
	{esc(title)}
</title><meta id="MetaRobots" name="ROBOTS" content="INDEX, FOLLOW" />
<link href="/Resources/Shared/stylesheets/dnndefault/7.0.0/default.css?cdv=79" type="text/css" rel="stylesheet"/>
<link rel="preload" as="style" href="/portals/_default/skins/VI/main.css?v=2026.03.15.1" />
{head_extra}<link href="{attr(canonical)}" rel="canonical" /></head>
<body id="Body">
    <form method="post" action="/" id="Form" enctype="multipart/form-data">
<div class="aspNetHidden">
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="P63oK9ps4gnJm5FYEF77pwrxftsJSE2H" />
</div>
<div class="body">
{hue_header()}
{body}
{hue_footer()}
</div>
<div id="dnn_ContentPane" class="DNNEmptyPane"></div>
    </form>
</body>
</html>
"""
