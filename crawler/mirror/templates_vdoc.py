"""Article pages of the VDOC CMS family: Báo Cần Thơ, Báo An Giang, and Báo Thừa Thiên Huế's VDOC era.

Part of the offline mirror.  The markup follows the saved real pages
(``fixtures/real/baocantho-a80443.html`` and ``baoangiang-a367201.html``) field by
field; only the kicker slots are a guess (Cần Thơ: ``<h2 class="sapo-kicker">``
between ``div.sharemxh`` and the title ``h1``; An Giang: ``<h2 class="kicker">``
inside ``div.detail-title`` before the ``h1``), as is the Cần Thơ sapo
``<div class="detail-desc"><p class="fontd">(CT) - …</p></div>`` placed just
before ``div#newscontents``.  Each page carries the article id in the hidden
input ``#txtnewsid`` (with ``#txtnewscate`` / ``#txtnewssubcate``).

All URLs are absolute on the real host; the server rewrites them to the mirror.
"""

from __future__ import annotations

import random

from crawler.mirror.chrome import angiang_header, cantho_header, hue_vdoc_header
from crawler.mirror.html_body import attr, esc, render_body, render_byline
from crawler.mirror.spec import ArticleSpec, Para, Related

CT = "https://baocantho.com.vn"
AG = "https://baoangiang.com.vn"
HUE = "https://baothuathienhue.vn"


def _related_items(related: tuple[Related, ...]) -> str:
    return "\n".join(
        f'<li class="related-item col-xs-12 col-sm-4"><div class="news-img-top">'
        f'<a class="b-img" title="{attr(r.title)}" href="{attr(r.url)}"><div class="overflow-5x3"></div></a>'
        f'<div class="b-content"><a title="{attr(r.title)}" href="{attr(r.url)}"><h3 class="b-title">\n'
        f'\t\t\t\t\t\t\t\t{esc(r.title)}&nbsp;<span class="sprite icophoto"></span>\t\t\t\t\t'
        "</h3></a></div></div></li>"
        for r in related
    )


def _cantho_breadcrumb(spec: ArticleSpec, origin: str = CT) -> str:
    if not spec.show_breadcrumb:
        return ""
    cat = spec.category
    sub = (
        f'\n\t\t\t\t<span class="fw400"> > <a style="color:#b0b0b0;" href="{origin}/{cat.slug}/{cat.sub}/">'
        f"{esc(cat.sub_name or '')}</a></span>"
        if cat.sub else ""
    )
    # Quirk seen on the real site: the category link goes to the English section's /news/<cate>/.
    top = f"{origin}/news/{cat.slug}/" if origin == CT else f"{origin}/{cat.slug}/"
    return (
        '\t\t<div class="titlecate">\n\t\t\t<h1>\n'
        f'\t\t\t\t<a href="{top}">{esc(cat.name)}</a>{sub}\t\t\t</h1>\n\t\t</div>\n'
    )


def render_cantho(spec: ArticleSpec) -> str:
    """An article page of baocantho.com.vn."""
    return _render_classic(spec, CT, "Báo Cần Thơ Online", cantho_header())


def render_hue_vdoc(spec: ArticleSpec) -> str:
    """An article page of baothuathienhue.vn in its VDOC era (2021-2022): the Cần Thơ template's layout.

    Whether Huế's VDOC pages had Cần Thơ's ``div.titlecate h1`` breadcrumb is not known; the
    hand-written seed page (``data/seed-hue.html``) shows the other layout a public scraper
    implies (``#clear span`` date, a plain ``<p>`` lead, no ``<h1>`` breadcrumb).
    """
    return _render_classic(spec, HUE, "Báo Thừa Thiên Huế Online", hue_vdoc_header())


def _render_classic(spec: ArticleSpec, origin: str, site: str, menu: str) -> str:
    """The classic VDOC article page (Cần Thơ's, fixtures/real/baocantho-a80443.html)."""
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    raw_title = spec.raw_title
    url = spec.url
    print_url = f"{origin}/print/{url.rsplit('/', 1)[1]}"
    image = spec.images[0].image if spec.images else f"{origin}/image/error/300x220.jpg"
    kicker = f'\t\t<h2 class="sapo-kicker">{esc(spec.kicker)}</h2>\n' if spec.kicker else ""
    sapo = f'\t\t<div class="detail-desc"><p class="fontd">{esc(spec.sapo)}</p></div>\n' if spec.sapo else ""
    body = render_body(spec.body, spec.template, rng, raw_title)
    cat = spec.category
    focus = "".join(f'<li><a href="{attr(r.url)}">{esc(r.title)}</a></li>' for r in spec.related[:2])
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
<title>{esc(raw_title)} - {site}</title>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="Keywords" content="báo Cần Thơ,tin Cần Thơ,tin tức Cần Thơ,tin nhanh,cập nhật,báo điện tử" />
<meta name="Description" content="" />
<meta name="robots" content="index,follow" />
<base href="{origin}/static/templates/version1/homepage/" />
<link rel="canonical" href="{attr(url)}" /><link href="css/bootstrap.min.css" rel="stylesheet">
<script language="javascript" type="text/javascript">
var DOMAIN = "{origin}/";
</script>
<meta property="og:type" content="article" /><meta property="og:url" content="{attr(url)}" />
<meta property="og:title" content="{attr(raw_title)}" /><meta property="og:description" content="" />
<meta property="og:image" content="{attr(image)}" />
<script type="application/ld+json">
  {{
    "@context": "https://schema.org/",
    "@type": "NewsArticle",
    "name": "{raw_title.replace('"', '&quot;')}",
    "datePublished": "{spec.published:%Y-%m-%d}",
    "description": ""
  }}
  </script>
</head>
<body>
{menu}<div id="content" data="">
	<div id="colcate1">
{_cantho_breadcrumb(spec, origin)}		<div id="clear" class="sharemxh detail-fb-like-share">
			<span class="pubdate 128">{spec.date_line}</span>
			<div class="fright">
				<!-- <a title="Chia sẻ bài viết lên twitter"
				href="https://twitter.com/intent/tweet?url={attr(url)}"></a> -->
				<a class="ashare btn-facebook" target="_fb"
					href="https://www.facebook.com/sharer/sharer.php?u={attr(url)}&amp;display=popup">
					<i class="icon12-facebook-f-white"></i> Chia sẻ Facebook</a>
				<a href="javascript:void(0);" onclick="printPopup('{print_url}');"
					title="Print" rel="nofollow"><span class="sprite icoprint"></span></a>
			</div>
		</div>
{kicker}
				<h1 class="margintopbot10 fw700">{esc(raw_title)}</h1>
{sapo}
		<div id="clear"></div>

		<div id="newscontents">

<!-- <script>
$(function(){{ $.each($("img.zoomimg"), function(){{
  $(this).wrap('<a class="fancybox" rel="group" href="'+this.src+'"></a>'); }}); }});
</script> -->
<div class="content-fck slider-jsgallery 171">
{body}
{render_byline(spec.byline, spec.template)}</div>


</div>


		<div id="linkshare" data="248">
				<div class="sharelike">
					<table border="0"><tr>
						<td><b class="fs13" data="265">Chia sẻ bài viết</b></td>
						<td class="detail-fb-like-share"><a class="ashare btn-facebook" target="_fb"
							href="https://www.facebook.com/sharer/sharer.php?u={attr(url)}">
							<i class="icon12-facebook-f-white"></i> Chia sẻ Facebook</a></td>
						<td><a class="print" rel="nofollow" href="{print_url}">In bài viết</a></td>
						</tr>
					</table>
				</div>
			<div class="clear"></div>
		</div>
		<div id="comment">
	<div class="titletd nobg"><a class="active fs13" href="javascript:void(0);"><b>BÌNH LUẬN</b></a></div>
	<div id="postcomment">
		<form method="POST" name="frmComments" id="frmComments" enctype="multipart/form-data">
			<input type="hidden" name="txtmemberid" id="txtmemberid" value="" />
			<input type="hidden" name="txtnewsid" id="txtnewsid" value="{spec.article_id}" />
			<input type="hidden" name="txtnewscate" id="txtnewscate" value="{cat.slug}" />
			<input type="hidden" name="txtnewssubcate" id="txtnewssubcate" value="{cat.sub or ''}" />
			<textarea name="txtcontent" placeholder="Nội dung bình luận"></textarea>
		</form>
	</div>
		</div>
				<div class="col-xs-12 detail-related">
			<div class="row">
				<div class="col-xs-12 related-title"><div class="catename"><span class="cate-title">
					<a class="cate1" href="javascript:void(0);">Đọc thêm</a></span></div></div>
				<ul class="related-list">
{_related_items(spec.related)}
				</ul>
			</div>
		</div>
	</div>

	<div id="colcate2">
		<div class="titletd"><b>TIÊU ĐIỂM</b></div>
		<ul class="list-focus">{focus}</ul>
		<p>Giấy phép số 789/GP-BTTTT, do Bộ Thông Tin và Truyền Thông cấp ngày 02-12-2021</p>
		<p class="fright canhphai vdoc margintop6">Phát triển bởi: <br><a rel="nofollow" href="https://vdoc.com.vn">&nbsp;VDOC</a></p>
	</div>
</div>
</body>
</html>
"""


def render_angiang(spec: ArticleSpec) -> str:
    """An article page of baoangiang.com.vn (the newer VDOC template revision)."""
    rng = random.Random(f"render:{spec.source}:{spec.article_id}")
    url = spec.url
    print_url = f"{AG}/print/{url.rsplit('/', 1)[1]}"
    cat = spec.category
    image = spec.images[0].image if spec.images else "https://images.baoangiang.com.vn/image/error/300x220.jpg"
    crumbs = [(f"{AG}/", "Trang chủ"), (f"{AG}/{cat.slug}/", cat.name)]
    if cat.sub:
        crumbs.append((f"{AG}/{cat.slug}/{cat.sub}/", cat.sub_name or ""))
    starts = ['<li class="start">'] + ["<li>"] * (len(crumbs) - 1)
    crumb_li = "\n".join(
        f"              {li}\n                <h4>\n"
        f'                  <a href="{href}">{esc(name)}</a>\n                </h4>\n              </li>'
        for li, (href, name) in zip(starts, crumbs, strict=True)
    )
    hidden = "\n                  <span>></span>\n".join(
        f'                  <a href="{h}">{esc(n)}</a>' for h, n in crumbs
    )
    kicker = f'<h2 class="kicker">{esc(spec.kicker)}</h2>\n                ' if spec.kicker else ""
    sapo = (
        '    <div class="col-xs-12 detail-desc" data="news_headline_show=1"><div class="content-fck">'
        f'<div class="content-fck-font-size"><p class="fontd fw600 justify">{esc(spec.sapo)}</p></div></div></div>\n'
        if spec.sapo else ""
    )
    tags = "".join(
        f'<a class="tag_item" title="{attr(t)}" href="{AG}/tim-kiem/{attr(t)}.html">{esc(t)}</a>' for t in spec.tags
    )
    description = attr(spec.sapo or "")
    return f"""<!DOCTYPE html>
<html lang="vi" class="notranslate" translate="no">
<head>
<title>{esc(spec.title)} - Báo An Giang Online</title>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="Description" content="{description}" />
<meta name="robots" content="index,follow" />
<base href="https://images.baoangiang.com.vn/static/templates/version1/homepage/" />
<link rel="canonical" href="{attr(url)}" /><link href="css/bootstrap.min.css" rel="stylesheet">
<script language="javascript" type="text/javascript">
	var DOMAIN = "{AG}/";
	var strAction = "detail";
</script>
<meta property="og:type" content="blog" /><meta property="og:url" content="{attr(url)}" />
<meta property="og:title" content="{attr(spec.title)}" /><meta property="og:description" content="{description}" />
<meta property="og:image" content="{attr(image)}" />
<script type="application/ld+json">
    {{
      "@context": "https://schema.org",
      "@type": "NewsArticle",
      "headline": "{spec.title.replace('"', '&quot;')}",
      "datePublished": "{spec.published.isoformat()}",
      "mainEntityOfPage": {{ "@type": "WebPage", "@id": "{url}" }}
    }}
    </script>
</head>
<body data="cate/detail/cate={cat.slug}/subcate={cat.sub or ''}">
{angiang_header()}<div class="container" data-name="cate-detail" data="1">
    <div class="row">
      <div class="col-xs-12">
        <div class="col-left">
          <div class="box1 mybreadcrumb" data-name="breadcrumb">
            <ul class="breadcrumb left">
{crumb_li}
            </ul>
            <div class="row hidden">
              <div class="col-xs-12">
                <h2 class="catename-h1">
{hidden}
                </h2>
              </div>
            </div>
          </div>
          <div class="box1" data-name="col-content-detail">
            <div class="row">
              <div class="col-xs-12">
                <div class="detail-title">
                {kicker}<h1>{esc(spec.title)}</h1>
                </div>
              </div>
              <div class="col-xs-12">
                <div class="detail-date-share mobi-none-hr">
                  <div class="pubdate fleft">{spec.date_line}</div>
                  <div class="pubshare hidden-xs"><a href="https://www.facebook.com/sharer/sharer.php?u={attr(url)}">Facebook</a></div>
                </div>
              </div>
{sapo}              <div class="col-xs-12" id="newscontents">
                <div class="content-fck slider-jsgallery">
                  <div class="content-fck-font-size" data="computer">

{render_body(spec.body, spec.template, rng, spec.title)}
{render_byline(spec.byline, spec.template)}
                  </div>
                </div>
              </div>
              <div class="col-xs-12 detail-sharelike" id="postcomment">
                <div data="530" class="pubshare hidden-xs">
                <table border="0">
                  <tr>
                    <td class="hidden-xs">&nbsp;&nbsp;<strong><i class="fas fa-share-alt"></i>
                     Chia sẻ bài viết:</strong></td>
                    <td><a href="https://www.facebook.com/sharer/sharer.php?u={attr(url)}">Facebook</a></td>
                    <td><a class="print" rel="nofollow" href="{print_url}">In bài viết</a></td>
                  </tr>
                </table>
                </div>
                <form method="POST" id="frmComments">
                  <input type="hidden" name="txtnewsid" id="txtnewsid" value="{spec.article_id}" />
                  <input type="hidden" name="txtnewscate" id="txtnewscate" value="{cat.slug}" />
                  <input type="hidden" name="txtnewssubcate" id="txtnewssubcate" value="{cat.sub or ''}" />
                </form>
              </div>
              <div class="col-xs-12 detail-tag 575">
                <span><strong><i class="fa fa-tag fa-rotate-90" aria-hidden="true"></i> Từ khóa</strong></span>
                {tags}
              </div>
              <div class="col-xs-12 detail-related dcmobi">
	<div class="row">
		<div class="col-xs-12 related-title"><div class="catename"><span class="cate-title">
			<a class="cate1" href="javascript:void(0);">Bạn có thể quan tâm</a></span></div></div>
		<ul class="related-list">
{_related_items(spec.related)}
		</ul>
	</div>
              </div>
            </div>
          </div>
        </div>
      </div>
    </div>
</div>
</body>
</html>
"""


def render_redesigned(spec: ArticleSpec) -> str:
    """An article page after a (simulated) site redesign: new markup the adapters do not know.

    Used by ``Mirror(redesigned={source})`` to provoke an extraction collapse: no
    ``h1``, no ``og:title``, no ``DD/MM/YYYY - HH:MM`` date and no JSON-LD, and the body
    sits in ``<section class="story-text">`` instead of ``#newscontents`` / ``.content-fck``.
    Its links still point at the article's own host.
    """
    paras = "\n".join(f"<p>{esc(line)}</p>" for el in spec.body if isinstance(el, Para) for line in el.lines)
    day = spec.published
    when = f"{day:%H giờ %M} ngày {day.day} tháng {day.month} năm {day.year}"
    return f"""<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><link rel="canonical" href="{attr(spec.url)}"></head>
<body>
<main class="v2-layout">
  <div class="story-heading"><span class="story-headline">{esc(spec.title)}</span></div>
  <div class="story-when">Đăng lúc {when}</div>
  <section class="story-text">
{paras}
  </section>
</main>
</body>
</html>
"""
