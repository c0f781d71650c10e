"""Pages of the family papers (:mod:`crawler.mirror.family_sources`): articles, home and section pages.

Part of the offline mirror.  Each template follows a real page of ``tests/fixtures/real/``
(the parts a reader sees and their markup; the chrome around them shortened):

Mediatech (``baotayninh.vn``; article ``baotayninh-88701``, home ``baotayninh-home-2026-05``)
    ``meta[name=author]=MEDIATECH``; ``section.page-info`` (``#post-id``, ``#cate-url``); a
    header date ``div.title-time`` that is today's, not the article's; ``div.breadcrumbs
    ol.breadcrumb li.active a``; ``div.content-article``: ``h1.name``, ``div.date`` printed
    ``Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]``; ``div#content-detail`` holding the machine-cut
    ``div.sapo``, then a nested ``<html><body>`` with ``p.sapo`` (the lead), the body (captions
    ``div.wp-caption > p.wp-caption-text``) and ``div.author > strong`` (the byline);
    ``div.topics``, ``div.relates``, comments, "Cùng chuyên mục" teasers.  Home and section
    pages: ``article.card`` teasers (``card-style-horizontal thumb-left``, ``card-style-less``),
    short-video cards (``article.card-short-video``) whose links carry another numbering, the
    menu's ``/rss`` link; section pages paged ``?page=N``.
The Java platform (``baodongnai.com.vn``; article ``phuyen-64112``, home ``baodongnai-home-2026-05``)
    ``#page_info`` (``parent_site_id``, ``cate_url``, a 32-hex ``article_id`` that is not the
    URL's id), ``/common/v2/`` assets; inside ``<main>`` a nested ``<html><body>``:
    ``nav.group-category ol.breadcrumb`` (``Trang chủ`` first), ``div.group-time time.time``
    printed time first (``10:30, 15/05/2011``), ``div.detail-main-title h1.title``,
    ``div.content-reply p.reply`` (the lead, repeated in bold as the body's first paragraph),
    ``div.td-post-content`` (MS Office markup, captions in a table row), the byline a
    right-aligned last ``<p>``, ``div.after-author p.author`` = the placeholder "Bút danh",
    an empty ``div.tags-box``.  Home and section pages: ``a.avatar`` + ``a.title4`` /
    ``a.title1`` teasers with ``div.des``; no pagination seen (``pagination: none``).
OneCMS (``baonghean.vn``; articles ``baonghean-10264116``, ``baodanang-3102163``; in :mod:`.templates_onecms`)
    ``link`` to ``*.1cdn.vn``; ``nav[aria-label=breadcrumb] ol.breadcrumb`` (``Trang chủ``
    first); ``div.c-news-detail div.b-maincontent article.entry`` opening with the header
    ``div.sc-longform-header`` (category label ``span.sc-longform-header-cate``, often empty;
    ``h1.sc-longform-header-title``; author and date ``21/11/2023 09:28``; lead
    ``p.sc-longform-header-sapo``, empty when none), then the body (captions
    ``td.image_desc``), sometimes ending with the author right-aligned; the source box
    ``div.c-author-page``, share bar, tags.  ``meta article:published_time`` is US-ordered.
    No home or section page of the family was saved: their teasers here are plain
    ``h3 > a`` items in the article page's chrome (a guess).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import datetime

from crawler.mirror.family_sources import DONGNAI, DONGNAI_HOST, NGHEAN_HOST, TAYNINH, TAYNINH_HOST
from crawler.mirror.generator import Headline
from crawler.mirror.html_body import attr, esc, render_body
from crawler.mirror.spec import ArticleSpec, Category, Para

TN = f"https://{TAYNINH_HOST}"
DN = f"https://{DONGNAI_HOST}"
NA = f"https://{NGHEAN_HOST}"
# What the headers show as "today" (the pages were saved in May 2026): never the article's date.
TODAY = datetime(2026, 5, 16, 8, 40)
WEEKDAYS = ("Thứ 2", "Thứ 3", "Thứ 4", "Thứ 5", "Thứ 6", "Thứ 7", "Chủ nhật")
# Short videos on the Tây Ninh home page: another numbering (5 digits) in the article URL shape.
TN_SHORTS = (("toi-phong-tro-cua-ban-choi-trom-luon-chiec-xe-may", "36611", "Tới phòng trọ của bạn chơi, trộm luôn"
              " chiếc xe máy"), ("nguoi-dan-phan-khoi-don-tet", "36598", "Người dân phấn khởi đón Tết"))
TN_PLAIN = ("/truyen-hinh", "/phat-thanh", "/podcasts", "/multimedia", "/tim-kiem")
DN_PLAIN = ("/media/", "/tim-kiem/", "/multimedia/", "/podcast/")
NA_PLAIN = ("/tim-kiem", "/video", "/podcast", "/print/")


def _rng(spec: ArticleSpec) -> random.Random:
    return random.Random(f"render:{spec.source}:{spec.article_id}")


def _body(spec: ArticleSpec, rng: random.Random) -> str:
    return render_body(spec.body, spec.template, rng, spec.title)


def weekday_date(when: datetime) -> str:
    """Mediatech's date: ``Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]``."""
    return f"{WEEKDAYS[when.weekday()]}, {when:%d/%m/%Y | %H:%M:%S} [GMT +7]"


# -- Mediatech (baotayninh.vn) ---------------------------------------------------------------------------

def _tn_menu() -> str:
    items = ['<li class="nav-item active"> <a class="nav-link home-icon" href="/"><i class="fa fa-home"></i></a></li>',
             '<li class="nav-item "><a class="nav-link" href="/truyen-hinh">TV &amp; Video</a></li>',
             '<li class="nav-item "><a class="nav-link" href="/phat-thanh">RADIO</a></li>']
    items += [f'<li class="nav-item "><a class="nav-link" href="/{leaf.slug}">{esc(leaf.name)}</a></li>'
              for leaf in TAYNINH.leaves]
    items += ['<li class="nav-item "><a class="nav-link" href="/podcasts">Podcasts</a></li>',
              '<li class="nav-item "><a class="nav-link" href="/multimedia">Media</a></li>',
              '<li class="nav-item "><a class="nav-link" href="/rss">RSS</a></li>']
    return ('<header class="header"><div class="title-time ml-auto d-none d-md-block">'
            f'{WEEKDAYS[TODAY.weekday()]}, {TODAY:%d/%m/%Y %H:%M} [(GMT +7)]</div>\n'
            '<nav class="navbar navbar-expand-lg"><div class="collapse navbar-collapse" id="navbarTogglerDemo02">'
            '<ul class="navbar-nav mr-auto">' + " ".join(items) + "</ul></div></nav></header>\n")


def _tn_head(title: str, canonical: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="" class="desktop header-fixed layout_style_1">
</html>
<head>
    <meta charset="utf-8">
    <meta name="author" content="MEDIATECH" />
    <meta name="copyright" content="TÂY NINH" />
    <meta name="site_path" content="https://baotayninh.vn/">
    <meta name="theme_path" content="/themes/frontend/btn/">
    <title>{esc(title)}</title>
    <link rel="canonical" href="{attr(canonical)}">
{extra}    <link href="/themes/frontend/btn/Assets/css/style.css?v=1768986799"  rel="stylesheet" type="text/css">
</head>
"""


def _tn_thumb(h: Headline) -> str:
    return f"https://media.baotayninh.vn/upload/image/{h.published:%Y%m}/thumbnail/{h.article_id}_anh.jpg"


def _tn_card(h: Headline, style: str) -> str:
    """A teaser ``article.card``: thumb-left (image link and title link) or "less" (title link only)."""
    title = (f'<h3 class="card-title" title="{attr(h.title)}"> <a href="{attr(h.path)}"> <span class="main-title">'
             f" {esc(h.title)} </span> </a> </h3>")
    if style == "less":
        return f'<article class="card card-style-less " > <div class="card-content"> <div class="card-body"> {title}' \
               " <!-- --> </div> </div> </article>"
    sapo = f'<div class="card-summary">{esc(h.sapo)}</div>' if h.sapo else ""
    return (f'<article class="card card-style-horizontal thumb-left" > <div class="card-content"> <div class="row">'
            f' <div class="col-5 order-1"> <div class="card-thumb thumb166"> <a href="{attr(h.path)}"><img '
            f'class="card-img " src="{_tn_thumb(h)}" alt="{attr(h.title)}" /></a> </div></div> <div class="col-7 '
            f'order-2"> <div class="card-body"> {title} {sapo} </div></div></div></div> </article>')


def _tn_shorts() -> str:
    cards = "".join(
        f'<article class="card card-style-default card-short-video card-short-preview" data-id="{vid}"> '
        f'<div class="card-content"><div class="card-thumb"><a href="/{slug}-{vid}.html"><img class="card-img " '
        f'src="https://media.baotayninh.vn/upload/image/202605/medium/{vid}.png" alt="{attr(t)}" /></a></div>'
        f'<div class="card-body"><h3 class="card-title" title="{attr(t)}"><a href="/{slug}-{vid}.html">{esc(t)}</a>'
        "</h3></div></div></article>"
        for slug, vid, t in TN_SHORTS)
    return f'<div class="block-video-shorts">{cards}</div>'


def _tn_footer() -> str:
    return ('<footer class="footer"><p>Báo và phát thanh, truyền hình Tây Ninh</p><a href="/rss">RSS</a> '
            '<a href="/tim-kiem">Tìm kiếm</a></footer>\n')


def render_mediatech(spec: ArticleSpec) -> str:
    rng = _rng(spec)
    when = spec.published
    leaf = spec.category
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": spec.title,
                     "url": spec.url, "datePublished": f"{when:%Y-%m-%d %H:%M:%S}",
                     "author": {"@type": "Person", "name": "longantv"}, "articleSection": leaf.name + " "},
                    ensure_ascii=False, indent=4)
    extra = (f'    <meta property="og:title" content="{attr(spec.title)}">\n'
             f'    <meta property="og:url" content="{attr(spec.url)}">\n'
             f'    <script type="application/ld+json">\n{ld}\n</script>\n')
    lead = cut = ""
    if spec.sapo:
        lead = f'<p class="sapo">{esc(spec.sapo)}</p> '
        following = " ".join(line for el in spec.body if isinstance(el, Para) for line in el.lines)
        cut = f"<div class='sapo'>{esc((spec.sapo + '    ' + following)[: len(spec.sapo) + 120])}</div>"
    byline = f' <div class="author"><strong>{esc(spec.byline[0])}</strong></div>' if spec.byline else ""
    relates = ""  # empty on the real page; the older articles are in "Cùng chuyên mục"
    section = "\n".join(
        f'<article class="card card-style-horizontal thumb-left" > <div class="card-body"><h3 class="card-title">'
        f'<a href="{attr(r.url)}">{esc(r.title)}</a></h3></div> </article>' for r in spec.related)
    return _tn_head(spec.title, spec.url, extra) + f"""<body>
    <section class="page-info d-none">
        <div id="site-id">4</div>
        <div id="cate-title">{esc(leaf.name)} /</div>
        <div id="cate-url">/{leaf.slug}</div>
        <div id="parent-cate-url"></div>
        <div id="post-id">{spec.article_id}</div>
        <div id="article-title">{esc(spec.title)}</div>
        <div id="article-url">{attr(spec.url)}</div>
        <div id="article-type">news</div>
    </section>
{_tn_menu()}<div class="main-news mt-3"><div class="container"><div class="main-content">
<div class="head-main d-flex align-items-center detail-brea">
        <div class="breadcrumbs">
            <ol class="breadcrumb clearfix rounded-0 pb-1 pt-0 px-0 mb-0">
                <li class="active"><a href="/{leaf.slug}">{esc(leaf.name)} </a></li>                </li>
            </ol>
        </div>
</div>
<div class="main-two-column"><div class="main-left">
<div class="content-article  livenews">
<h1 class="name font1">
\t\t\t\t\t\t\t{esc(spec.title)}\t</h1>
<div class="text_to_audio">
</div>
<div class="date font5 text-six d-flex align-items-center">{weekday_date(when)} <span class="d-inline d-md-none ml-auto"><span class="font-default font3">A</span>&nbsp; <span class="font-up font1">A</span></div>
<div class="social mt-2 d-flex align-items-center"><div class="print_page"><span class="btn btn_print" data-url="/print/news/{spec.article_id}"><i class="fa fa-print"></i> In</span></div></div>
<div class="detail auto-gallery font3 mt-3" id="content-detail">
{cut}<!DOCTYPE html PUBLIC "-//W3C//DTD HTML 4.0 Transitional//EN" "http://www.w3.org/TR/REC-html40/loose.dtd">
<html><body>{lead}{_body(spec, rng)}{byline} </body></html>
</div>
<div class="topics">
</div>
<div class="relates"><ul>{relates}</ul>
</div>
<section class="box-comments p-0 mt-3 "><h3 class="comments-heading">Ý kiến (<span class="total-comment"></span>)</h3></section>
</div>
<div class="block-content mt-3" data-nosnippet>
<h2 class="title mb-3"><a href="javascript:;"><span class="main-title">Cùng chuyên mục</span></a></h2>
<div class="body-block card-border-bottom">
{section}
</div></div>
</div></div></div></div></div>
{_tn_footer()}</body>
</html>
"""


def mediatech_listing(title: str, canonical: str, newest: Sequence[Headline],
                      sections: Sequence[tuple[Category, Sequence[Headline]]], next_url: str | None,
                      *, shorts: bool) -> str:
    """The home page (newest, short videos, one block per section) or a section page (``?page=N``)."""
    top = "\n".join(_tn_card(h, "horizontal" if n < 8 else "less") for n, h in enumerate(newest))
    blocks = "\n".join(
        f'<div class="block-content mt-3"><h2 class="title mb-3"><a href="/{leaf.slug}"><span class="main-title">'
        f'{esc(leaf.name)}</span></a></h2><div class="body-block">'
        + "".join(f'<div class="item">{_tn_card(h, "less")}</div>' for h in heads) + "</div></div>"
        for leaf, heads in sections if heads)
    empty = "" if newest else '<p class="no-data">Không có dữ liệu</p>'
    pager = (f'<ul class="pagination"><li class="page-item"><a class="page-link" href="{attr(next_url)}">Sau</a>'
             "</li></ul>" if next_url else "")
    return _tn_head(title, canonical) + f"""<body>
{_tn_menu()}<div class="main-news mt-3"><div class="container">
<h1 class="d-none">{esc(title)}</h1>
<div class="body-block card-border-bottom">
{top}{empty}
</div>
{_tn_shorts() if shorts else ""}
{blocks}
{pager}
</div></div>
{_tn_footer()}</body>
</html>
"""


# -- the Java platform (baodongnai.com.vn) ----------------------------------------------------------------

SITE_ID = "e7837c02876411cd0187645a2551379f"
PARENT_SITE_ID = "ff8080815e5b41fb015e5b817a510004"


def _dn_page_info(cate_url: str, cate_title: str, title: str = "", internal_id: str = "") -> str:
    return (f'<div id="page_info" style="display: none">\n<div id="site_id">{SITE_ID}</div>\n'
            f'<div id="parent_site_id">{PARENT_SITE_ID}</div>\n<div id="cate_url">{attr(cate_url)}</div>\n'
            f'<div id="article_title">{esc(title)}</div>\n<div id="article_id">{internal_id}</div>\n'
            f'<div id="cate_title">{esc(cate_title)}</div>\n</div>\n')


def _dn_head(title: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html lang="vi">
 <head> <meta charset="UTF-8" />
  <title>{esc(title)}</title>
{extra}    <link href="/common/v2/css/main.css?v=1.2" rel="stylesheet">
 </head>
"""


def _dn_menu() -> str:
    links = "".join(f'<li><a href="{leaf.path}">{esc(leaf.sub_name or leaf.name)}</a></li>' for leaf in DONGNAI.leaves)
    return (f'<div class="header_top">{WEEKDAYS[TODAY.weekday()]}, {TODAY:%d/%m/%Y}</div>\n'
            '<div class="container"><div class="header_center"><a href="/"><img class="logo_header" '
            f'src="/file/{SITE_ID}/logo.png"></a></div><ul class="menu_main">{links}'
            '<li><a href="/media/">Media</a></li></ul>'
            '<form class="search-form pull-left" action="/tim-kiem/" method="get"><input name="key"></form></div>\n')


def _dn_thumb(h: Headline) -> str:
    return f"/file/{SITE_ID}/{h.published:%m%Y}/thumb_{h.article_id}.jpg?width=636&height=-&type=resize"


def _dn_teaser(h: Headline, big: bool) -> str:
    cls = "title4 row5" if big else "title1 row5"
    des = f'<div class="des"> <p>{esc(h.sapo)}</p></div>' if h.sapo and big else ""
    return (f'<div class="item"> <a href="{attr(h.path)}" class="avatar row10"><img src="{_dn_thumb(h)}" '
            f'alt="{attr(h.title)}"></a> <a href="{attr(h.path)}" class="{cls}">{esc(h.title)}</a> {des}</div>')


def _dn_footer() -> str:
    return '<footer class="footer"><p>Báo Đồng Nai điện tử</p><a href="/tim-kiem/">Tìm kiếm</a></footer>\n'


def _internal_id(spec: ArticleSpec) -> str:
    """``#page_info #article_id``: 32 hex digits of another numbering (never the URL's id)."""
    return f"{random.Random(f'internal:{spec.article_id}').getrandbits(128):032X}"


def render_javaplatform(spec: ArticleSpec) -> str:
    rng = _rng(spec)
    leaf = spec.category
    crumbs = ['<li class="breadcrumb-item"> <a class="link" href="/">Trang chủ</a> </li>']
    if leaf.sub:
        crumbs.append(f'<li class="breadcrumb-item"> <a class="link" href="/{leaf.slug}/">{esc(leaf.name)}</a> </li>')
    crumbs.append(f'<li class="breadcrumb-item active"> <a class="link" href="{leaf.path}">'
                  f"{esc(leaf.sub_name or leaf.name)}</a> </li>")
    office = 'style="TEXT-ALIGN: justify; MARGIN: 0in 0in 10pt" class="MsoNormal"'
    span = 'style="LINE-HEIGHT: 115%; FONT-FAMILY: Arial; FONT-SIZE: 10pt"'
    lead_copy = reply = ""
    if spec.sapo:
        reply = f'<div class="content-reply">\n <p class="reply"> {esc(spec.sapo)} </p>\n</div>'
        lead_copy = (f'<p {office}><b style="mso-bidi-font-weight: normal"><span {span}>{esc(spec.sapo)}\n'
                     "<o:p></o:p></span></b></p>\n")
    byline = (f'\n<p style="TEXT-ALIGN: right; MARGIN: 0in 0in 10pt" class="MsoNormal" align="right"><b><span {span}>'
              f"{esc(spec.byline[0])}\n<o:p></o:p></span></b></p>" if spec.byline else "")
    related = "\n".join(f'<a href="{attr(r.url)}">{esc(r.title)}</a>' for r in spec.related)
    image = spec.images[0].image if spec.images else f"{DN}/file/{SITE_ID}/logo.png"
    extra = (f'    <meta property="og:title" content="{attr(spec.title)}"/>\n'
             '\t<meta property="og:type" content="article" />\n'
             f'    <meta property="og:url" content="{attr(spec.url)}" />\n')
    info = _dn_page_info(leaf.path, leaf.sub_name or leaf.name, spec.title, _internal_id(spec))
    return _dn_head(f"{spec.title} - Báo Đồng Nai điện tử", extra) + f""" <body class="body"> {info}{_dn_menu()}
  <main class="main"> <html>
 <head></head>
 <body>
  <section class="section section-wrapper-post-detail">
   <div class="container-xxl container-xl container-lg">
    <div class="wrapper-post-detail-header" id="wrapperPostDetailHeader">
     <div class="detail-header-groups">
      <nav class="group-category">
       <ol class="breadcrumb">
        {" ".join(crumbs)}
       </ol>
      </nav>
      <div class="group-time">
       <time class="time">{spec.published:%H:%M, %d/%m/%Y}</time>
      </div>
     </div>
    </div>
    <div class="wrapper-post-detail-main" id="wrapperPostDetailMain">
     <div class="detail-main-title">
      <div class="group-image large-image">
       <div class="image-background"><img class="image" src="{attr(image)}" alt="{attr(spec.title)}"></div>
       <div class="title-background">
        <h1 class="title">{esc(spec.title)}</h1>
       </div>
      </div>
      <div class="group-caption"><p class="caption"></p></div>
     </div>
     <div class="detail-main-content"><div class="row">
       <div class="col-xl-3 col-lg-4 col-12">
        {reply}
       </div>
       <div class="col-xl-6 col-lg-8 col-12"><div class="content-fully">
         <div id="content" class="content-detail cate_09B4385CC07F1BAFE065A4413D5C3B62">
          <div class="td-post-content tagdiv-type">
{lead_copy}{_body(spec, rng)}{byline}
          </div>
         </div>
       </div></div>
       <div class="col-12 hidden-xxl hidden-xl hidden-lg">
        <div class="after-author">
         <p class="author"> Bút danh </p>
        </div>
       </div>
     </div></div>
    </div>
    <div class="tags-box">
     <h3 class="txt">Từ khóa:</h3>
     <div class="tags">
     </div>
    </div>
   </div>
  </section>
 </body>
</html> <section class="section section-post-detail-related">
{related}
</section>
</main>
{_dn_footer()}</body>
</html>
"""


def javaplatform_listing(title: str, cate_url: str, newest: Sequence[Headline],
                         sections: Sequence[tuple[Category, Sequence[Headline]]]) -> str:
    """The home page (the slider, then one box per section) or a section page (its newest, no pagination)."""
    slides = "\n".join(f'<div class="swiper-slide">{_dn_teaser(h, True)}</div>' for h in newest[:5])
    rest = "\n".join(_dn_teaser(h, False) for h in newest[5:])
    boxes = "\n".join(
        f'<div class="news_focus row20"><div class="cate_title_1 row10"><a class="title fleft" href="{leaf.path}">'
        f'{esc(leaf.sub_name or leaf.name)}</a></div>' + "".join(_dn_teaser(h, False) for h in heads) + "</div>"
        for leaf, heads in sections if heads)
    return _dn_head(title) + f""" <body class="body"> {_dn_page_info(cate_url, title)}{_dn_menu()}
<div class="container"><div class="row"><div class="col-9">
<div class="news_top row20"><div class="swiper slider_news_top1"><div class="swiper-wrapper">
{slides}
</div></div></div>
<div class="list_news">
{rest}
</div>
{boxes}
</div></div></div>
{_dn_footer()}</body>
</html>
"""
