"""OneCMS pages of the mirror (``baonghean.vn``): see :mod:`crawler.mirror.templates_family` for the markup."""

from __future__ import annotations

from collections.abc import Sequence

from crawler.mirror.family_sources import NGHEAN
from crawler.mirror.generator import Headline
from crawler.mirror.html_body import attr, esc
from crawler.mirror.spec import ArticleSpec, Category
from crawler.mirror.templates_family import NA, TODAY, WEEKDAYS, _body, _rng

# -- OneCMS (baonghean.vn) --------------------------------------------------------------------------------

def _na_head(title: str, canonical: str, extra: str = "") -> str:
    return f"""<!DOCTYPE html>
<html xmlns="https://www.w3.org/1999/xhtml" lang="vi">
<head>
<title>{esc(title)}</title>
<meta charset="utf-8" />
    <link rel="canonical" href="{attr(canonical)}" />
{extra}<link href="https://bna.1cdn.vn/assets/css/style.min.02102025.css" rel="stylesheet" />
</head>
"""


def _na_menu() -> str:
    links = "".join(f'<li><a href="{NA}/{leaf.slug}" title="{attr(leaf.name)}">{esc(leaf.name)}</a></li>'
                    for leaf in NGHEAN.leaves)
    return ('<div class="c-container-wrapper"><div class="l-nav"><div class="c-nav-inner">'
            f'<span class="c-date">{WEEKDAYS[TODAY.weekday()]}, {TODAY:%d/%m/%Y}</span>'
            f'<a href="/" class="c-logo">Báo Nghệ An</a></div><div class="c-menu"><ul>{links}'
            '<li><a href="/video">Video</a></li><li><a href="/podcast">Podcast</a></li></ul></div></div></div>\n'
            '<div class="c-header-space"></div>\n')


def _na_footer() -> str:
    return ('<div class="c-footer"><p>Báo và Phát thanh, Truyền hình Nghệ An</p>'
            '<a href="/tim-kiem">Tìm kiếm</a></div>\n')


def render_onecms(spec: ArticleSpec) -> str:
    rng = _rng(spec)
    leaf = spec.category
    when = spec.published
    author = spec.byline[0] if spec.byline else ""
    label = esc(leaf.name) if rng.random() < 0.5 else ""  # a category label, not a kicker (often empty)
    # The body ends with the author again (baodanang) or not (baonghean): printed once either way.
    ending = (f'<p style="text-align: right;"><strong>{esc(author)}</strong></p>'
              if author and rng.random() < 0.5 else "")
    us = f"{when.month}/{when.day}/{when.year} {(when.hour % 12) or 12}:{when:%M}:{when.second:02d} " + (
        "PM" if when.hour >= 12 else "AM")
    extra = (f'<meta name="author" content="{attr(author)}" />\n'
             f'<meta property="og:title" content="{attr(spec.title)}" />\n'
             f'<meta property="og:url" itemprop="url" content="{attr(spec.url)}" />\n'
             f'<meta property="dable:item_id" content="{spec.article_id}" />\n'
             f'<meta name="article:section" content="{attr(leaf.name)}" />\n'
             f'<meta name="article:published_time" content="{us}" />\n'
             f'<meta property="channel:url" content="{NA}/{leaf.slug}">\n'
             f'<meta name="datetimenow" content="{TODAY:%d/%m/%Y %H:%M:%S}" />\n')
    tags = "".join(f'<li><h4><a href="/{t.lower().replace(" ", "-")}-ptag.html" title="{attr(t)}">{esc(t)}</a>'
                   "</h4></li>" for t in spec.tags)
    return _na_head(spec.title, spec.url, extra) + f"""<body class="">
{_na_menu()}    <!--View thường-->
    <div class="c-container-wrapper "><div class="l-content bg-detail is-full-content"><div class="container is-max-width-xl">
    <div class="l-content-flex"><div class="l-main">
        <div class="c-detail-head">
            <div class="c-detail-head__row">
                <nav aria-label="breadcrumb">
                    <ol class="breadcrumb">
                            <li class="breadcrumb-item"><a href="/">Trang chủ</a></li>
                            <li class="breadcrumb-item active" aria-current="page"><a href="{NA}/{leaf.slug}">{esc(leaf.name)}</a></li>
                    </ol>
                </nav>
            </div>
            <div class="c-detail-head__row is-bar"><div class="c-share-scroll js-share-scroll"><ul class="clearfix">
                <li><a class="shareall" href="#" title="Chia sẻ bài viết"><i class="icon24-share-gray"></i></a></li>
                <li class="h-show-pc"><a class="onecms__popup" href="/print/{spec.article_id}.html" title="In bài viết"><i class="icon24-print-gray"></i></a></li>
            </ul></div></div>
        </div>
        <div class="c-news-detail">
            <div class="b-maincontent">
                    <div itemprop="articleBody">
                        <article class="entry entry-no-padding ">
                            <div class='sc-longform-header sc-longform-header-default-normal block-sc-longform-header'>
                            <div class='sc-longform-header-text'>
                                <span class='sc-longform-header-cate block-sc-cate-name'>{label}</span>
                                <h1 class='sc-longform-header-title block-sc-title'>{esc(spec.title)}</h1>
                                <div class='sc-longform-header-meta'>
                                    <span class='sc-longform-header-author block-sc-author'>{esc(author)}</span><span class='sc-text block-sc-text'>•</span>
                                    <span class='sc-longform-header-date block-sc-publish-time'>{when:%d/%m/%Y %H:%M}</span>
                                </div>
                                <p class='sc-longform-header-sapo block-sc-sapo'>
                                    {esc(spec.sapo or "")}
                                </p>
                            </div>
                        </div>
{_body(spec, rng)}{ending}
                        </article>
                    </div>
                <div class="c-banner-inpage oneads" id="banner-inpage">AD Quảng cáo</div>
            </div>
            <div class="c-author-page"><div class="c-author-page__right"><span class="btn btn-light is-circle"><span>Nguồn baonghean.vn</span></span>
                <div class="c-author-page__pc-pop"><label>Link bài gốc<span class="js-page-copy">Copy Link</span></label></div>
            </div><span class="c-author-page__copy js-page-copy">Copy Link</span></div>
            <div class="c-box"><div class="c-box__content"><div class="c-share-detail"><ul>
                <li><a class="onecms__popup" href="https://www.facebook.com/sharer/sharer.php?u={attr(spec.url)}" title="Chia sẻ Facebook">Chia sẻ Facebook</a></li>
            </ul></div></div></div>
            <div class="c-box"><div class="c-box__content"><div class="c-widget-tags onecms__tags"><ul>{tags}</ul></div></div></div>
        </div>
    </div></div></div></div></div>
{_na_footer()}</body>
</html>
"""


def _na_item(h: Headline, lead: bool) -> str:
    sapo = f'<div class="b-grid__desc">{esc(h.sapo)}</div>' if lead and h.sapo else ""
    return (f'<div class="b-grid"><div class="b-grid__img"><a href="{attr(h.url)}" title="{attr(h.title)}"><img '
            f'src="https://bna.1cdn.vn/thumbs/540x360/{h.published:%Y/%m/%d}/{h.article_id}.jpg" '
            f'alt="{attr(h.title)}"></a></div><div class="b-grid__content"><h3 class="b-grid__title">'
            f'<a href="{attr(h.url)}" title="{attr(h.title)}">{esc(h.title)}</a></h3>{sapo}</div></div>')


def onecms_listing(title: str, canonical: str, newest: Sequence[Headline],
                   sections: Sequence[tuple[Category, Sequence[Headline]]], next_url: str | None) -> str:
    """The home page (newest, then a box per section; ``?page=N``: older) or a section page (``?page=N``)."""
    items = "\n".join(_na_item(h, True) for h in newest)
    empty = "" if newest else '<p class="no-data">Không có dữ liệu</p>'
    boxes = "\n".join(
        f'<div class="c-box"><div class="c-box__title"><a href="{NA}/{leaf.slug}">{esc(leaf.name)}</a></div>'
        + "".join(_na_item(h, False) for h in heads) + "</div>"
        for leaf, heads in sections if heads)
    pager = f'<div class="c-pagination"><a class="next" href="{attr(next_url)}">Xem thêm</a></div>' if next_url else ""
    return _na_head(title, canonical) + f"""<body class="">
{_na_menu()}<div class="c-container-wrapper"><div class="l-content"><div class="container">
<div class="l-main"><h1 class="c-cat-title">{esc(title)}</h1>
<div class="c-list-news">
{items}{empty}
</div>
{pager}
{boxes}
</div></div></div></div>
{_na_footer()}</body>
</html>
"""
