"""Article pages of Báo Thừa Thiên Huế / Huế ngày nay in two of its three eras, and its AMP copies.

Part of the offline mirror.  No saved article page of this site exists (SITES.md), so
both templates here are guesses built around what the sample snapshot shows (the order
breadcrumb, date, title, lead, body with captions and bold subheadings, byline
``Bài, ảnh: …``, ``Chia sẻ bài viết``, then an unrelated box) and, for DotNetNuke, the
conventions of the real 2026 home page.  The era of an article (:meth:`Catalog.era`)
picks its template; the VDOC era (2021-2022) is :func:`crawler.mirror.templates_vdoc.render_hue_vdoc`.

Category-path era ("hue-a", 2022-2024, ``baothuathienhue.vn/<cate>/<sub>/<slug>-<ID>.html``):

- ``div.breadcrumb``: ``<a>Trang chủ</a> › <a>category</a> › <a>subcategory</a>``
- ``div.detail-meta span.date``: ``DD/MM/YYYY - HH:MM``
- kicker (rare) ``p.detail-kicker``; title ``h1.detail-title``; lead ``div.detail-sapo``
  starting ``TTH.VN - ``
- body ``div.detail-content``: ``<p>``, ``<p><strong>`` subheadings, captions in
  ``table.image`` / ``td.image_desc``; byline ``<p align="right"><strong>Bài, ảnh: …</strong></p>``
- share label ``<div class="detail-share"><b>Chia sẻ bài viết</b>``, then ``div.box-dhdn``
- article id: only in the URL (``…-<ID>.html``); no hidden input, no meta.

DotNetNuke ("hue-dnn", 2025-, ``huengaynay.vn/<cate>[/<sub>]/<slug>-<ID>.html``): the real
home page's skin (``dnn_ctr…`` module ids, ``DnnModule``, ``article``, ``h3.i-title >
a.item-title`` teasers, ``div.sub-news`` lists) around an article module:

- ``div.detail-news``: ``div.list-breadcrumb`` (``Trang chủ``, category, subcategory, no glyphs)
- ``article.detail``: kicker (rare) ``p.i-kicker``, title ``h1.i-title``, ``div.i-info >
  span.i-date`` in DNN's form ``Thứ Năm, 05/03/2026 10:17`` (weekday, no dash), lead
  ``h2.i-sapo`` starting ``HNN.VN - `` for articles of this era
- body ``div#dnn_ctr<N>_View_ContentDetail.i-content``, ending with the byline
  ``<p style="text-align: right;"><strong>Bài, ảnh: …</strong></p>``
- ``div.i-share`` = ``Chia sẻ bài viết:``, tags (``/topic/<slug>-<n>.html``), then
  ``div.sub-news`` "Tin cùng chuyên mục" and a module of ``article`` teasers.
- no article id in the page: only the URL carries it.

Every article, whatever its era, also answers on ``huengaynay.vn`` under its DNN path in
this template (one database; the body keeps the markup it was written in).  AMP copies
(``/amp.aspx?newid=<ID>``, both hosts) carry the whole article.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence

from crawler.mirror.chrome import dnn_module, dnn_page, hue_vdoc_header
from crawler.mirror.generator import Headline, slugify
from crawler.mirror.html_body import attr, esc, render_body, render_byline
from crawler.mirror.sources import HUE, HUE_NEW_HOST, HUE_OLD_HOST
from crawler.mirror.spec import ArticleSpec, Related

WEEKDAYS = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")

DHDN_ITEMS = (
    "Doanh nghiệp đồng hành cùng chương trình an sinh xã hội",
    "Kết nối cung cầu, tiêu thụ nông sản đặc trưng",
    "Hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số",
)


def dhdn_box(origin: str) -> str:
    items = "".join(f'<li><a href="{origin}/kinh-te/">{esc(t)}</a></li>' for t in DHDN_ITEMS)
    return f'<div class="box-dhdn"><h3>ĐỒNG HÀNH CÙNG DOANH NGHIỆP</h3><ul>{items}</ul></div>'


def _links(related: tuple[Related, ...]) -> str:
    return "".join(f'<li><a href="{attr(r.url)}" title="{attr(r.title)}">{esc(r.title)}</a></li>' for r in related)


def _crumbs(spec: ArticleSpec, origin: str) -> list[tuple[str, str]]:
    cat = spec.category
    out = [(f"{origin}/", "Trang chủ"), (f"{origin}/{cat.slug}/", cat.name)]
    if cat.sub:
        out.append((f"{origin}{cat.path}", cat.sub_name or ""))
    return out


def _tags(spec: ArticleSpec, origin: str) -> str:
    return " ".join(f'<a href="{origin}/topic/{slugify(t)}/">{esc(t)}</a>' for t in spec.tags)


def dnn_date(spec: ArticleSpec) -> str:
    """The date as DotNetNuke prints it: ``Thứ Năm, 05/03/2026 10:17``."""
    when = spec.published
    return f"{WEEKDAYS[when.weekday()]}, {when:%d/%m/%Y %H:%M}"


def topic_url(tag: str) -> str:
    """A tag page as the real site links them: ``/topic/chuyen-doi-so-33.html`` (a small number, no article id)."""
    return f"https://{HUE_NEW_HOST}/topic/{slugify(tag)}-{zlib.crc32(tag.encode()) % 90 + 10}.html"


def render_hue_a(spec: ArticleSpec) -> str:
    """The category-path page of baothuathienhue.vn (2022-2024)."""
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    origin = f"https://{HUE_OLD_HOST}"
    crumbs = " › ".join(f'<a href="{h}">{esc(n)}</a>' for h, n in _crumbs(spec, origin))
    kicker = f'<p class="detail-kicker">{esc(spec.kicker)}</p>\n' if spec.kicker else ""
    sapo = f'<div class="detail-sapo">{esc(spec.sapo)}</div>\n' if spec.sapo else ""
    image = spec.images[0].image if spec.images else f"https://file.{HUE_OLD_HOST}/data2/image/logo.png"
    trailer = "<p>&nbsp;</p>\n" * rng.randint(0, 2)
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(spec.title)} - Báo Thừa Thiên Huế Online</title>
<meta name="description" content="{attr(spec.sapo or '')}">
<link rel="canonical" href="{attr(spec.url)}">
<link rel="amphtml" href="{origin}/amp.aspx?newid={spec.article_id}">
<link rel="stylesheet" href="{origin}/Content/css/style.css">
<meta property="og:type" content="article"><meta property="og:url" content="{attr(spec.url)}">
<meta property="og:title" content="{attr(spec.title)}"><meta property="og:image" content="{attr(image)}">
</head>
<body>
{hue_vdoc_header()}
<div class="main-content">
<div class="col-main">
<div class="breadcrumb">{crumbs}</div>
<div class="detail-meta"><span class="date">{spec.date_line}</span>
<a class="print" href="javascript:window.print()">In bài viết</a></div>
{kicker}<h1 class="detail-title">{esc(spec.title)}</h1>
{sapo}<div class="detail-content">
{render_body(spec.body, spec.template, rng, spec.title)}
{render_byline(spec.byline, spec.template)}
{trailer}</div>
<div class="detail-share"><b>Chia sẻ bài viết</b> <a class="fb" href="https://www.facebook.com/sharer/sharer.php?u={attr(spec.url)}">Facebook</a></div>
{dhdn_box(origin)}
<div class="detail-related"><h3 class="title-box">Tin cùng chuyên mục</h3><ul>{_links(spec.related)}</ul></div>
<div class="detail-tags">Từ khóa: {_tags(spec, origin)}</div>
</div>
<div class="col-right"><h3 class="title-box">Đọc nhiều</h3><ul>{_links(spec.related[:2])}</ul></div>
</div>
<div id="footer"><p>Cơ quan chủ quản: Tỉnh ủy Thừa Thiên Huế. Tổng Biên tập: …</p></div>
</body>
</html>
"""




def _dnn_crumbs(spec: ArticleSpec) -> str:
    cat = spec.category
    items = [(f"https://{HUE_NEW_HOST}", "Trang chủ"), (HUE.listing_path(cat.slug), cat.name)]
    if cat.sub:
        items.append((HUE.listing_path(cat.slug, cat.sub), cat.sub_name or ""))
    return "".join(f'<li><a href="{attr(h)}" title="{attr(n)}">{esc(n)}</a></li>' for h, n in items)


def dnn_teaser(h: Headline, url: str) -> str:
    """A teaser as on the real home page: ``article > div.article-thumbnail`` and ``h3.i-title > a.item-title``."""
    return (
        f'<article><div class="article-thumbnail animation-scale square"><a href="{attr(url)}" title="{attr(h.title)}">'
        f'<img alt="{attr(h.title)}" src="https://file.huengaynay.vn/data/0/images/{h.published:%Y/%m/%d}/upload_3831/'
        f'{h.article_id}.jpg?dpi=150&quality=100&w=570&mode=crop&anchor=topcenter"></a></div>'
        f'<h3 class="i-title"><a class="item-title" href="{attr(url)}" title="{attr(h.title)}">{esc(h.title)}</a></h3>'
        "</article>"
    )


def render_hue_dnn(spec: ArticleSpec, url: str, more: Sequence[Headline] = ()) -> str:
    """An article page of huengaynay.vn (DotNetNuke) at ``url``; ``more`` are teasers for the side module."""
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    # The news module as the sibling site of the same DNN module family shows it (SITES.md: baovephapluat.vn):
    # the date before the title, h1.post-title, div.post-summary h2, div.post-content div.noidung, div.tacgia.
    kicker = f'<p class="post-kicker">{esc(spec.kicker)}</p>\n' if spec.kicker else ""
    sapo = f'<div class="post-summary"><h2>{esc(spec.sapo)}</h2></div>\n' if spec.sapo else ""
    image = spec.images[0].image if spec.images else "https://file.huengaynay.vn/image/images/noimages.png"
    tags = " ".join(f'<a href="{topic_url(t)}" title="{attr(t)}">{esc(t)}</a>' for t in spec.tags)
    module = 2650 + int(spec.article_id) % 7
    author = "<br>".join(esc(line) for line in spec.byline)
    detail = f"""<div id="dnn_NewsView_Main_ctl00_viewhinone" class="news-detail">
<div class="list-breadcrumb"><ul>{_dnn_crumbs(spec)}</ul></div>
<div class="post-date"><i class="fa fa-clock-o"></i> <span class="lbPublishedDate">{dnn_date(spec)} (GMT+7)</span>
<span class="post-view"><i class="fa fa-eye"></i> {rng.randint(120, 9800)}</span></div>
{kicker}<h1 class="post-title">{esc(spec.title)}</h1>
{sapo}<div class="post-content"><div class="noidung">
{render_body(spec.body, spec.template, rng, spec.title)}
</div></div>
{f'<div class="tacgia">{author}</div>' if author else ""}
<div class="post-share"><span class="title-share">Chia sẻ bài viết:</span>
<a href="https://www.facebook.com/sharer/sharer.php?u={attr(url)}" rel="nofollow">Facebook</a>
<a href="https://zalo.me/share" rel="nofollow">Zalo</a></div>
<div class="post-tags"><span>Từ khóa:</span> {tags}</div>
<div class="sub-news"><h3 class="title-box">Tin cùng chuyên mục</h3><ul>{_links(spec.related)}</ul></div>
</div>"""
    side = '<div class="post-slide list-lasted">' + "".join(dnn_teaser(h, h.url) for h in more) + "</div>"
    body = f"""<div class="container"><div class="row">
<div class="col-md-8"><div id="dnn_mainContent">{dnn_module(module, detail)}</div></div>
<div class="col-md-4"><div id="dnn_rightPane">{dnn_module(5777, side)}</div></div>
</div></div>"""
    head = (f'<meta id="MetaDescription" name="DESCRIPTION" content="{attr(spec.sapo or "")}" />\n'
            f'<meta content="article" property="og:type" /><meta itemprop="headline" property="og:title" '
            f'content="{attr(spec.title)}" /><meta itemprop="url" property="og:url" content="{attr(url)}" />\n'
            f'<meta itemprop="thumbnailUrl" property="og:image" content="{attr(image)}" />\n'
            f'<link rel="amphtml" href="https://{HUE_NEW_HOST}/amp.aspx?newid={spec.article_id}" />\n')
    return dnn_page(f"{spec.title} - Huế ngày nay", url, head, body)


def amp_page(spec: ArticleSpec) -> str:
    """The AMP copy of a Huế article (``/amp.aspx?newid=ID``, either host): the whole article, plainly.

    Breadcrumb, date, kicker, title, lead, body, byline and the share label, in the order
    of the article page, so the text anchors read the same snapshot from it.
    """
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    cat = spec.category
    crumbs = f'<a href="https://{HUE_NEW_HOST}{HUE.listing_path(cat.slug)}">{esc(cat.name)}</a>'
    if cat.sub:
        sub_url = f"https://{HUE_NEW_HOST}{HUE.listing_path(cat.slug, cat.sub)}"
        crumbs += f' › <a href="{sub_url}">{esc(cat.sub_name or "")}</a>'
    kicker = f'<p class="kicker">{esc(spec.kicker)}</p>\n' if spec.kicker else ""
    sapo = f'<p class="sapo">{esc(spec.sapo)}</p>\n' if spec.sapo else ""
    return f"""<!doctype html>
<html amp lang="vi">
<head><meta charset="utf-8"><title>{esc(spec.title)}</title>
<link rel="canonical" href="{attr(spec.url)}">
<style amp-boilerplate>body{{visibility:hidden}}</style></head>
<body><div class="breadcrumb">{crumbs}</div>
<p class="date">{spec.date_line}</p>
{kicker}<h1>{esc(spec.title)}</h1>
{sapo}<div class="content">
{render_body(spec.body, spec.template, rng, spec.title)}
{render_byline(spec.byline, spec.template)}
</div>
<p class="share"><b>Chia sẻ bài viết</b></p>
</body></html>
"""
