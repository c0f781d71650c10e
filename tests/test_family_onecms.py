"""The OneCMS family adapter: two real articles of two sites, and the family's rules on synthetic variants."""

from __future__ import annotations

import pytest

from crawler.config import Sources
from crawler.models import Article, ExtractionFailure
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import render_snapshot

from .conftest import FIXTURES

REAL = FIXTURES / "real"
PAGES = ["baonghean-10264116", "baodanang-3102163"]


def url_of(name: str) -> str:
    return (REAL / f"{name}.url").read_text(encoding="utf-8").strip()


def parse(sources: Sources, url: str, html: bytes | str) -> Article:
    result = get_adapter(sources.for_url(url)).parse_article(html, url)
    assert isinstance(result, Article), result
    return result


@pytest.mark.parametrize("name", PAGES)
def test_real_articles_give_the_hand_written_snapshots(sources: Sources, name: str) -> None:
    data = (REAL / f"{name}.html").read_bytes()
    article = parse(sources, url_of(name), data)
    assert render_snapshot(article) == (REAL / f"{name}.expected.txt").read_text(encoding="utf-8")
    assert article.rules["family"] == article.rules["template"] == "onecms"
    assert article.article_id == name.rsplit("-", 1)[1] and article.canonical_url == url_of(name)
    assert parse(sources, url_of(name), data.decode("utf-8")) == article  # bytes and str alike


def test_real_article_fields(sources: Sources) -> None:
    nghean = parse(sources, url_of(PAGES[0]), (REAL / f"{PAGES[0]}.html").read_bytes())
    assert nghean.byline == "Thu Phương" and nghean.rules["byline"].endswith("(header)")  # only in the header
    assert nghean.published.isoformat() == "2023-11-21T09:28:00+07:00"
    assert [i.caption for i in nghean.images] == [
        "Thực phẩm giàu chất xơ giúp nuôi vi khuẩn có lợi tốt cho sức khỏe đường ruột.",
        "Hành, tỏi chứa prebiotic tự nhiên."]
    danang = parse(sources, url_of(PAGES[1]), (REAL / f"{PAGES[1]}.html").read_bytes())
    assert danang.byline == "DIỄM LỆ"  # header and last paragraph: once
    assert danang.breadcrumb == ("Xã hội", "Y tế") and danang.category_slugs == ("xa-hoi", "y-te")
    assert danang.sapo is None  # the header's lead is empty: the bold first paragraph stays in the body
    assert len(danang.images) == 4 and all(i.caption and i.caption.endswith("DIỄM LỆ") for i in danang.images)


def test_listing_keeps_six_to_eight_digit_ids_on_the_source_s_host(sources: Sources) -> None:
    html = """<a href="/bai-mot-10264116.html">1</a><a href="/en/bai-mot-10264116.html">en</a>
    <a href="/print/10264116.html">print</a><a href="/thuc-pham-ptag.html">tag</a><a href="/suc-khoe">cate</a>
    <a href="https://baonghean.vn/bai-hai-326411.html">2</a><a href="/bai-ba-12345.html">5 digits</a>
    <a href="/bai-bon-123456789.html">9 digits</a><a href="https://baodanang.vn/bai-3102163.html">other paper</a>"""
    source = sources.get("baonghean")
    listing = get_adapter(source).parse_listing(html, "https://baonghean.vn/")
    assert [source.article_id(u) for u in listing.article_urls] == ["10264116", "326411"]


# -- the family's rules on synthetic variants ------------------------------------------------------------

CRUMBS = """<nav aria-label="breadcrumb"><ol class="breadcrumb">
<li class="breadcrumb-item"><a href="/">Trang chủ</a></li>
<li class="breadcrumb-item active"><a href="https://baohaiphong.vn/kinh-te">Kinh tế</a></li></ol></nav>"""


def page(*, crumbs: str = CRUMBS, author: str = "Minh Anh", date: str = "21/11/2023 09:28", lead: str = "Lời dẫn.",
         body: str = "<p>Đoạn một.</p><p>Đoạn hai.</p>", cate: str = "Kinh tế", head: str = "",
         author_attrs: str = "") -> str:
    return f"""<html><head><link href="https://bhp.1cdn.vn/assets/css/style.min.css" rel="stylesheet">
    <meta property="channel:url" content="https://baohaiphong.vn/kinh-te/doanh-nghiep">{head}</head><body>
    <div class="l-main"><div class="c-detail-head"><div class="c-detail-head__row">{crumbs}</div></div>
    <div class="c-news-detail"><div class="b-maincontent"><div itemprop="articleBody"><article class="entry">
    <div class='sc-longform-header'><div class='sc-longform-header-text'>
    <span class='sc-longform-header-cate'>{cate}</span><h1 class='sc-longform-header-title'>Tiêu đề</h1>
    <div class='sc-longform-header-meta'><span class='sc-longform-header-author'{author_attrs}>{author}</span>
    <span class='sc-text'>•</span><span class='sc-longform-header-date'>{date}</span></div>
    <p class='sc-longform-header-sapo'>{lead}</p></div></div>{body}</article></div></div>
    <div class="c-author-page"><span>Nguồn suckhoedoisong.vn</span>
    <label>Link bài gốc<span>Copy Link</span></label></div>
    <div class="c-box"><div class="c-share-detail"><a title="Chia sẻ Facebook">Chia sẻ Facebook</a></div></div>
    <div class="c-box"><div class="c-widget-tags"><a href="/kinh-te-ptag.html">kinh tế</a></div></div></div></div>
    </body></html>"""


SYN_URL = "https://baohaiphong.vn/tieu-de-5123456.html"


def blocks(sources: Sources, html: str) -> list[str]:
    return render_snapshot(parse(sources, SYN_URL, html)).split("\n\n")


def test_synthetic_page_reads_every_part_and_no_category_label_as_kicker(sources: Sources) -> None:
    assert blocks(sources, page()) == [
        "Kinh tế", "21/11/2023 - 09:28", "Tiêu đề", "Lời dẫn.", "Đoạn một.", "Đoạn hai.", "Minh Anh",
        "Chia sẻ bài viết"]


def test_no_breadcrumb_prints_none_and_slugs_come_from_the_channel(sources: Sources) -> None:
    article = parse(sources, SYN_URL, page(crumbs=""))
    assert article.breadcrumb == () and render_snapshot(article).startswith("21/11/2023 - 09:28\n\n")
    assert article.category_slugs == ("kinh-te", "doanh-nghiep")


@pytest.mark.parametrize(("header", "ending", "expected"), [
    ("Minh Anh", "", ["Minh Anh"]),  # only in the header: printed after the body
    ("Minh Anh", "<p><strong>MINH ANH</strong></p>", ["MINH ANH"]),  # both: once
    ("Minh Anh", '<p style="text-align: right;"><strong>Minh Anh</strong></p>', ["Minh Anh"]),
    ("Minh Anh", '<p style="text-align:right">Theo TTXVN</p>', ["Minh Anh", "Theo TTXVN"]),  # two names: both
    ("", '<p align="right">Hà Linh</p>', ["Hà Linh"]),
])
def test_byline_from_the_header_and_the_body_end(
    sources: Sources, header: str, ending: str, expected: list[str]
) -> None:
    out = blocks(sources, page(author=header, body="<p>Đoạn một.</p>" + ending))
    assert out[out.index("Đoạn một.") + 1:-1] == expected


@pytest.mark.parametrize(("head", "attrs"), [
    ("<style>.entry .sc-longform-header-author { display: none }</style>", ""),
    ("<style>.sc-longform-header-meta .sc-longform-header-author,.x{display:none!important}</style>", ""),
    ("", ' style="display:none"'),
])
def test_a_hidden_header_author_gives_way_to_the_right_aligned_line(sources: Sources, head: str, attrs: str) -> None:
    body = '<p>Đoạn một.</p><p style="text-align: right;">PV Hải Phòng</p>'
    out = blocks(sources, page(author="hp_admin", head=head, author_attrs=attrs, body=body))
    assert out[-3:] == ["Đoạn một.", "PV Hải Phòng", "Chia sẻ bài viết"]
    # Hidden and nothing at the end: the page shows no author.
    assert "hp_admin" not in blocks(sources, page(author="hp_admin", head=head, author_attrs=attrs))


def test_a_rule_for_small_screens_only_does_not_hide_the_header_author(sources: Sources) -> None:
    head = "<style>@media (max-width: 768px) { .sc-longform-header-author { display: none } }</style>"
    assert "Minh Anh" in blocks(sources, page(head=head))


def test_a_lead_equal_to_the_first_paragraph_is_printed_once(sources: Sources) -> None:
    article = parse(sources, SYN_URL, page(body="<p>Lời dẫn.</p><p>Đoạn một.</p>"))
    assert (article.sapo, article.body) == ("Lời dẫn.", ("Đoạn một.",))  # the metadata too, not only the text
    assert render_snapshot(article).split("\n\n")[3:5] == ["Lời dẫn.", "Đoạn một."]


@pytest.mark.parametrize("printed", ["21/11/2023 09:28", "21/11/2023 - 09:28", "09:28 21/11/2023",
                                     "Thứ Ba, 21/11/2023 09:28 (GMT+7)", "21/11/2023 | 09:28"])
def test_dates_in_other_formats_give_one_date_line(sources: Sources, printed: str) -> None:
    assert blocks(sources, page(date=printed))[1] == "21/11/2023 - 09:28"


def test_date_falls_back_to_json_ld_then_to_the_us_ordered_meta(sources: Sources) -> None:
    ld = ('<script type="application/ld+json">{"@type":"NewsArticle",'
          '"datePublished":"2023-11-21T09:28:56+07:00"}</script>')
    assert blocks(sources, page(date="", head=ld))[1] == "21/11/2023 - 09:28"
    meta = '<meta name="article:published_time" content="11/21/2023 9:28:56 PM" />'
    article = parse(sources, SYN_URL, page(date="", head=meta))
    assert article.published.isoformat() == "2023-11-21T21:28:00+07:00"  # month first, 12-hour clock
    assert isinstance(get_adapter(sources.get("baohaiphong")).parse_article(page(date=""), SYN_URL), ExtractionFailure)


def test_captions_in_the_family_s_three_layouts_and_chrome_lines(sources: Sources) -> None:
    body = """<p>Đoạn một.</p>
    <table class="image center"><tr><td><img src="/a.jpg" alt="alt text"></td></tr>
    <tr><td class="image_desc">Chú thích bảng.</td></tr></table>
    <figure><img src="/b.jpg" alt="x"><figcaption>  Chú thích hình. </figcaption></figure>
    <p><img src="/c.jpg"></p><p><em>Chú thích nghiêng.</em></p><p>Đoạn hai.</p>
    <p>Theo dõi tình hình trên địa bàn.</p><p>Nguồn: TTXVN</p>
    <p>Copy Link</p><p>Chia sẻ Zalo</p><p>Theo dõi Báo Hải Phòng trên</p><p>Theo dõi trên Google News</p>"""
    out = blocks(sources, page(body=body))
    assert out[4:11] == ["Đoạn một.", "Chú thích bảng.", "Chú thích hình.", "Chú thích nghiêng.", "Đoạn hai.",
                         "Theo dõi tình hình trên địa bàn.", "Nguồn: TTXVN"]  # text, not labels
    assert "alt text" not in out and "Copy Link" not in out and "Chia sẻ Zalo" not in out
    assert out[-2:] == ["Minh Anh", "Chia sẻ bài viết"]
    assert not any("suckhoedoisong" in b or b == "kinh tế" for b in out)  # source box and tags are chrome


def test_canonical_from_meta_name_canonical(sources: Sources) -> None:
    head = '<meta name="canonical" content="https://baohaiphong.vn/tieu-de-5123456.html">'
    article = parse(sources, SYN_URL + "?utm_source=zalo", page(head=head))
    assert article.canonical_url == SYN_URL and article.rules["canonical_url"] == "css:meta[name=canonical]"


def test_id_from_the_page_when_the_url_has_none(sources: Sources) -> None:
    head = '<meta property="dable:item_id" content="5123456" />'
    article = parse(sources, "https://baohaiphong.vn/print/5123456.html", page(head=head))
    assert (article.article_id, article.rules["article_id"]) == ("5123456", "meta:dable:item_id")


def test_selectors_that_miss_fall_back_to_anchors_and_say_so(sources: Sources) -> None:
    html = """<html><body><div class="post"><h1>Bài mới</h1><time>21/11/2023 09:28</time>
    <div class="content"><p>Một.</p><p>Hai.</p><p>Ba.</p></div></div></body></html>"""
    article = parse(sources, SYN_URL, html)
    assert (article.rules["family"], article.rules["template"]) == ("onecms", "anchors")
    assert article.rules["cms"] == "markers missing" and article.body == ("Một.", "Hai.", "Ba.")


@pytest.mark.parametrize(("html", "field"), [
    ("<html><body><p>nothing</p></body></html>", "title"),
    ("<h1 class='sc-longform-header-title'>T</h1><div class='c-news-detail'><div class='b-maincontent'>"
     "<div class='entry'><p>x</p></div></div></div>", "date"),
    ("<h1 class='sc-longform-header-title'>T</h1><span class='sc-longform-header-date'>21/11/2023 09:28</span>",
     "body"),
])
def test_missing_required_field_is_a_named_failure(sources: Sources, html: str, field: str) -> None:
    result = get_adapter(sources.get("baonghean")).parse_article(html, "https://baonghean.vn/x-1234567.html")
    assert isinstance(result, ExtractionFailure) and result.field == field


@pytest.mark.parametrize(("options", "key"), [
    ({"header_author_hidden": "yes"}, "options.header_author_hidden"),
    ({"listing_skip": ["div["]}, "options.listing_skip"),
    ({"sapo_prefixes": ["X"]}, "options.sapo_prefixes"),  # a vdoc option, not this family's
])
def test_family_options_are_checked(options: dict[str, object], key: str) -> None:
    from crawler.config import parse_sources
    from crawler.errors import ConfigError

    block = {"adapter": "onecms", "hosts": ["baohaiphong.vn"], "base_url": "https://baohaiphong.vn/",
             "article_url_pattern": r"^/[^/]+-(?P<id>[0-9]{6,8})\.html$", "options": options}
    with pytest.raises(ConfigError) as err:
        parse_sources({"sources": {"hp": block}})
    assert key in str(err.value)
