"""Article pages of Báo Thừa Thiên Huế / Huế ngày nay: two invented template variants.

Part of the offline mirror.  No saved article page of this site exists (SITES.md),
so both variants are guesses built around what the sample snapshot shows: the
order breadcrumb, date ``DD/MM/YYYY - HH:MM``, title, lead, body with captions and
bold subheadings, byline ``Bài, ảnh: …``, ``Chia sẻ bài viết``, then an unrelated
``ĐỒNG HÀNH CÙNG DOANH NGHIỆP`` box.  The variant is chosen per article by its era:
articles published before the rename (primary host ``baothuathienhue.vn``) use A,
later ones (primary host ``huengaynay.vn``) use B.  Either page is served unchanged
under both host names.

Variant A (older, VDOC-like, ``baothuathienhue.vn``):

- ``div.breadcrumb``: ``<a>Trang chủ</a> › <a>category</a> › <a>subcategory</a>``
- ``div.detail-meta span.date``: ``DD/MM/YYYY - HH:MM``
- kicker (rare) ``p.detail-kicker``; title ``h1.detail-title``; lead ``div.detail-sapo``
  starting ``TTH.VN - ``
- body ``div.detail-content``: ``<p>``, ``<p><strong>`` subheadings, captions in
  ``table.image`` / ``td.image_desc``; byline ``<p align="right"><strong>Bài, ảnh: …</strong></p>``
- share label ``<div class="detail-share"><b>Chia sẻ bài viết</b>``, then ``div.box-dhdn``
- article id: only in the URL (``…-<ID>.html``); no hidden input, no meta.

Variant B (newer, ``huengaynay.vn``), deliberately sharing no class name with A,
so that only text anchors find the fields:

- ``nav.crumbs > ol > li > a`` (``Trang chủ`` first, no separator glyphs)
- ``article.story > header.story-head``: kicker (rare) ``h3.sup``, title ``h1.title``,
  then ``div.meta > time.pub`` (date text ``DD/MM/YYYY - HH:MM``, ISO ``datetime``
  attribute) and a view counter
- lead ``h2.lead`` starting ``HNN - `` (prefix a guess)
- body ``div.body``: ``<h2>``/``<h3>`` subheadings, ``<figure><figcaption>`` captions;
  byline ``<p style="text-align: right;"><em>Bài: …</em></p>`` always matching
  ``^(Bài|Tin|Ảnh|Bài và ảnh|Bài, ảnh|Tin, ảnh)\\s*:``
- ``footer.story-foot div.share-bar span.lbl`` = ``Chia sẻ bài viết:``, then tags,
  a ``section.more`` "Đọc thêm" list and the ``div.box-dhdn`` box
- article id: in the URL and in ``<meta property="article:id" content="ID">``.
"""

from __future__ import annotations

import random

from crawler.mirror.generator import slugify
from crawler.mirror.html_body import attr, esc, render_body, render_byline
from crawler.mirror.sources import HUE, HUE_NEW_HOST, HUE_OLD_HOST
from crawler.mirror.spec import ArticleSpec, Related

DHDN_ITEMS = (
    "Doanh nghiệp đồng hành cùng chương trình an sinh xã hội",
    "Kết nối cung cầu, tiêu thụ nông sản đặc trưng",
    "Hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số",
)


def hue_menu(origin: str) -> str:
    return "".join(f'<li><a href="{origin}/{slug}/">{esc(name)}</a></li>' for slug, name in HUE.tops().items())


def dhdn_box(origin: str) -> str:
    items = "".join(f'<li><a href="{origin}/kinh-te/doanh-nghiep/">{esc(t)}</a></li>' for t in DHDN_ITEMS)
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


def render_hue(spec: ArticleSpec) -> str:
    return render_hue_a(spec) if spec.template == "hue-a" else render_hue_b(spec)


def render_hue_a(spec: ArticleSpec) -> str:
    """Variant A: the older baothuathienhue.vn page."""
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
<meta property="og:type" content="article"><meta property="og:url" content="{attr(spec.url)}">
<meta property="og:title" content="{attr(spec.title)}"><meta property="og:image" content="{attr(image)}">
</head>
<body>
<div id="header"><a class="logo" href="{origin}/">Báo Thừa Thiên Huế</a>
<ul class="main-menu">{hue_menu(origin)}</ul>
<a class="search" href="{origin}/tim-kiem/">Tìm kiếm</a></div>
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


def render_hue_b(spec: ArticleSpec) -> str:
    """Variant B: the newer huengaynay.vn page."""
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    origin = f"https://{HUE_NEW_HOST}"
    crumbs = "".join(f'<li><a href="{h}">{esc(n)}</a></li>' for h, n in _crumbs(spec, origin))
    kicker = f'<h3 class="sup">{esc(spec.kicker)}</h3>\n' if spec.kicker else ""
    lead = f'<h2 class="lead">{esc(spec.sapo)}</h2>\n' if spec.sapo else ""
    image = spec.images[0].image if spec.images else f"https://file.{HUE_NEW_HOST}/data2/image/logo.png"
    iso = spec.published.isoformat()
    return f"""<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(spec.title)} | Báo Huế ngày nay</title>
<link rel="canonical" href="{attr(spec.url)}">
<link rel="amphtml" href="{origin}/amp.aspx?newid={spec.article_id}">
<meta property="article:id" content="{spec.article_id}">
<meta property="article:published_time" content="{iso}">
<meta property="og:type" content="article"><meta property="og:url" content="{attr(spec.url)}">
<meta property="og:title" content="{attr(spec.title)}">
<meta property="og:description" content="{attr(spec.sapo or '')}">
<meta property="og:image" content="{attr(image)}">
</head>
<body class="page-detail">
<header class="site-header"><a class="brand" href="{origin}/">Huế ngày nay</a>
<nav class="menu"><ul>{hue_menu(origin)}</ul></nav></header>
<main class="site-main"><div class="wrap">
<nav class="crumbs" aria-label="breadcrumb"><ol>{crumbs}</ol></nav>
<article class="story">
<header class="story-head">
{kicker}<h1 class="title">{esc(spec.title)}</h1>
<div class="meta"><time class="pub" datetime="{iso}">{spec.date_line}</time>
<span class="views">{rng.randint(120, 9800)} lượt xem</span></div>
</header>
{lead}<div class="body">
{render_body(spec.body, spec.template, rng, spec.title)}
{render_byline(spec.byline, spec.template)}
</div>
<footer class="story-foot">
<div class="share-bar"><span class="lbl">Chia sẻ bài viết:</span>
<a href="https://www.facebook.com/sharer/sharer.php?u={attr(spec.url)}">Facebook</a>
<a href="https://zalo.me/share">Zalo</a></div>
<div class="tags"><span>Từ khóa:</span> {_tags(spec, origin)}</div>
</footer>
</article>
<section class="more"><h3>Đọc thêm</h3><ul>{_links(spec.related)}</ul></section>
{dhdn_box(origin)}
</div></main>
<footer class="site-footer"><p>Báo Huế ngày nay - Cơ quan của Thành ủy Huế</p></footer>
</body>
</html>
"""
