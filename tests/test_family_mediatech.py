"""The Mediatech family adapter: the real Tây Ninh article, two real home pages, and the family's rules."""

from __future__ import annotations

import pytest

from crawler.config import Sources
from crawler.models import Article, ExtractionFailure
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import render_snapshot

from .conftest import FIXTURES

REAL = FIXTURES / "real"
URL = (REAL / "baotayninh-88701.url").read_text(encoding="utf-8").strip()


def parse(sources: Sources, url: str, html: bytes | str) -> Article:
    result = get_adapter(sources.for_url(url)).parse_article(html, url)
    assert isinstance(result, Article), result
    return result


def test_real_article_gives_the_hand_written_snapshot(sources: Sources) -> None:
    data = (REAL / "baotayninh-88701.html").read_bytes()
    article = parse(sources, URL, data)
    assert render_snapshot(article) == (REAL / "baotayninh-88701.expected.txt").read_text(encoding="utf-8")
    assert (article.source, article.article_id, article.category_slugs) == ("baotayninh", "88701", ("y-te",))
    assert article.published.isoformat() == "2021-12-01T11:51:00+07:00"  # not the header's "today" (02/10/2026)
    assert article.byline == "Tạ Nguyên/Báo Tin tức"
    assert article.rules["family"] == article.rules["template"] == "mediatech"
    assert article.rules["sapo"] == "css:#content-detail p.sapo"  # the machine-cut div.sapo is never the lead
    assert article.images[0].url.endswith("/124461_khu-khuan1.jpg")
    assert article.images[0].caption == "Biện pháp phòng dịch quan trọng nhất vẫn là 5K, đặc biệt là đeo khẩu trang, " \
        "khử khuẩn. Ảnh: TTXVN"  # div.wp-caption > p.wp-caption-text
    assert parse(sources, URL, data.decode("utf-8")) == article  # bytes and str alike


def test_old_long_an_host_belongs_to_tay_ninh(sources: Sources) -> None:
    old = URL.replace("baotayninh.vn", "baolongan.vn")
    article = parse(sources, old, (REAL / "baotayninh-88701.html").read_bytes())
    assert (article.source, article.article_id) == ("baotayninh", "88701")


# -- home pages ------------------------------------------------------------------------------------

# Tây Ninh: 106 ids on baotayninh.vn, in order of first appearance.  Left out: the five "Shorts video"
# cards (article.card-short-video data-id 36611 36610 36609 36597 36595) whose links carry the video's
# own number (…-36611.html; the same item's article is …-146729.html, listed earlier on the page), and
# two articles on the developer host tayninhdev.mediatech.vn (133296, 133333).  Two slugs end "--<ID>".
def ids_of(text: str) -> list[str]:
    return text.split()


TAYNINH_IDS = ids_of("""
146742 146686 146664 146658 146738 146699 146689 146681 146692 146672 146671 146661 146656 146665 146522 146739
146733 146591 146680 146679 146575 146729 146728 146727 146704 146670 146666 146647 146657 146678 146648 146730
146630 146446 146745 146551 146592 146480 146535 146519 146724 146717 146716 146673 146639 146558 146743 146726
146718 146740 146737 146709 146741 146714 146720 146746 146712 146694 146682 146456 146272 146471 146290 146216
145323 143600 143166 142970 142642 146645 145523 145301 145102 145062 144930 144929 145425 144395 144010 143543
143334 146621 141093 146625 146335 138129 146628 146616 146549 146402 146593 146433 146382 146594 146548 146383
144804 144800 144795 144724 144694 144635 144502 144442 142805 140212
""")
# Cao Bằng: 120 ids, every one 7 digits on baocaobang.vn (podcast items are articles of the same numbering).
CAOBANG_IDS = ids_of("""
3188189 3188187 3188151 3188190 3188181 3188183 3188186 3188185 3188188 3188152 3188147 3188068 3188112 3188087
3188162 3188079 3188180 3188154 3188164 3188166 3188177 3188140 3188086 3188063 3188178 3188138 3188082 3188060
3188020 3187994 3187870 3187982 3187959 3187912 3187869 3188176 3188137 3188080 3188168 3188098 3188126 3188114
3188057 3188058 3188052 3188150 3188139 3188169 3188130 3188123 3188026 3187894 3187854 3187816 3187604 3187705
3187917 3188008 3187265 3188141 3188090 3188022 3188179 3188142 3187856 3187904 3187848 3188170 3188055 3188031
3188070 3188037 3187899 3188182 3187758 3187741 3187979 3187947 3187939 3188127 3187981 3187819 3187787 3186987
3186572 3187884 3187858 3187652 3188133 3187977 3187801 3188149 3188053 3188049 3188145 3187967 3187941 3188061
3187875 3187748 3188102 3188091 3188071 3188105 3188027 3187973 3188097 3187964 3187911 3188096 3187863 3187916
3188125 3188059 3187965 3188024 3188028 3187948 3187014 3188030
""")


@pytest.mark.parametrize(("key", "page", "ids"), [
    ("baotayninh", "baotayninh-home-2026-05.html", TAYNINH_IDS),
    ("baocaobang", "baocaobang-home-2026-05.html", CAOBANG_IDS),
])
def test_real_home_page_lists_the_article_ids_a_reader_counts(
    sources: Sources, key: str, page: str, ids: list[str]
) -> None:
    source = sources.get(key)
    listing = get_adapter(source).parse_listing((REAL / page).read_bytes(), source.base_url)
    assert [source.article_id(url) for url in listing.article_urls] == ids
    assert all(url.startswith(source.base_url) for url in listing.article_urls)


@pytest.mark.parametrize(("key", "page"), [("baotayninh", "baotayninh-home-2026-05.html"),
                                           ("baocaobang", "baocaobang-home-2026-05.html")])
def test_start_pages_and_feeds_are_links_of_the_real_home_page(sources: Sources, key: str, page: str) -> None:
    from urllib.parse import urljoin

    from selectolax.lexbor import LexborHTMLParser

    source = sources.get(key)
    tree = LexborHTMLParser((REAL / page).read_bytes())
    links = {urljoin(source.base_url, a.attributes.get("href") or "") for a in tree.css("a[href]")}
    assert source.start_pages[0] == source.base_url and source.feeds == (source.base_url + "rss",)
    for url in (*source.start_pages[1:], *source.feeds):
        assert url in links, url
        assert not any(part in url.lower() for part in ("video", "podcast", "multimedia", "truyen-hinh", "media"))


def test_listing_skips_short_video_cards_other_hosts_and_repeats(sources: Sources) -> None:
    html = """
    <article class="card card-short-video" data-id="36611"><a href="/clip-36611.html">clip</a></article>
    <a href="/bai-mot-146729.html">1</a><a href="https://baotayninh.vn/bai-mot-146729.html#x">again</a>
    <a href="https://tayninhdev.mediatech.vn/bai-133296.html">dev host</a><a href="/y-te">section</a>
    <a href="/bai-cat--144930.html">cut slug</a><a href="https://baolongan.vn/bai-cu-88701.html">old host</a>
    <a href="/bai-ngan-1234.html">4 digits</a><a href="/the-thao/bai-146700.html">two segments</a>"""
    source = sources.get("baotayninh")
    listing = get_adapter(source).parse_listing(html, "https://baotayninh.vn/")
    assert [source.article_id(u) for u in listing.article_urls] == ["146729", "144930", "88701"]
    assert listing.next_url is not None


# -- the family's rules on synthetic variants ------------------------------------------------------------

BREADCRUMB = '<div class="breadcrumbs"><ol class="breadcrumb"><li><a href="/">Trang chủ</a></li>' \
             '<li><a href="/kinh-te">Kinh tế</a></li><li><a href="/kinh-te/nong-nghiep">Nông nghiệp</a></li></ol></div>'


def page(*, crumbs: str = BREADCRUMB, date: str = '<div class="date">Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]</div>',
         lead: str = '<p class="sapo">Mở đầu bài.</p>', body: str = "<p>Đoạn một.</p><p>Đoạn hai.</p>",
         author: str = '<div class="author"><strong>NGUYỄN AN</strong></div>', head: str = "") -> str:
    return f"""<html><head><meta name="author" content="MEDIATECH">{head}</head><body>
    <section class="page-info d-none"><div id="cate-url">/kinh-te/nong-nghiep</div><div id="post-id">146729</div>
    <div id="parent-cate-url">/kinh-te</div></section>
    <div class="head-main">{crumbs}<div class="title-time">Thứ 6, 02/10/2026 18:38 [(GMT +7)]</div></div>
    <div class="content-article"><h1 class="name">Tiêu đề bài</h1>{date}
    <div class="detail" id="content-detail"><div class='sapo'>Mở đầu bài. Đoạn một. Đoạn h</div>
    {lead}{body}<div><ins class="ads-zone-group"><script>x()</script></ins></div>{author}</div>
    <div class="relates"><a href="/khac-146700.html">Bài khác</a></div></div></body></html>"""


SYN_URL = "https://baotayninh.vn/tieu-de-bai-146729.html"


def test_synthetic_page_reads_every_part(sources: Sources) -> None:
    article = parse(sources, SYN_URL, page())
    assert render_snapshot(article).split("\n\n") == [
        "Kinh tế Nông nghiệp", "01/12/2021 - 11:51", "Tiêu đề bài", "Mở đầu bài.", "Đoạn một.", "Đoạn hai.",
        "NGUYỄN AN", "Chia sẻ bài viết"]
    assert article.category_slugs == ("kinh-te", "nong-nghiep")


def test_in_body_ads_are_chrome_but_underlined_text_is_not(sources: Sources) -> None:
    body = '<p>Đoạn <ins>gạch chân</ins> một.</p><ins class="adsbygoogle">Quảng cáo</ins><p>Đoạn hai.</p>'
    assert parse(sources, SYN_URL, page(body=body)).body == ("Đoạn gạch chân một.", "Đoạn hai.")


def test_no_breadcrumb_prints_none_and_slugs_come_from_the_page_info(sources: Sources) -> None:
    article = parse(sources, SYN_URL, page(crumbs=""))
    assert article.breadcrumb == () and render_snapshot(article).startswith("01/12/2021 - 11:51\n\n")
    assert article.category_slugs == ("kinh-te", "nong-nghiep")


@pytest.mark.parametrize("printed", [
    "Thứ 4, 01/12/2021 | 11:51:00 [GMT +7]", "Thứ Tư, 01/12/2021 - 11:51", "01/12/2021 11:51", "11:51, 01/12/2021",
    "Cập nhật: 01/12/2021 lúc 11:51",
])
def test_dates_in_the_family_s_formats_give_one_date_line(sources: Sources, printed: str) -> None:
    article = parse(sources, SYN_URL, page(date=f'<div class="date font5">{printed}</div>'))
    assert render_snapshot(article).split("\n\n")[1] == "01/12/2021 - 11:51"


def test_date_from_the_family_s_json_ld_when_the_date_line_is_missing(sources: Sources) -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2021-12-01 11:51:00"}</script>'
    article = parse(sources, SYN_URL, page(date="", head=ld))
    assert article.published.isoformat() == "2021-12-01T11:51:00+07:00"
    assert article.rules["date"].startswith("json-ld")


def test_a_lead_equal_to_the_first_paragraph_is_printed_once(sources: Sources) -> None:
    article = parse(sources, SYN_URL, page(body="<p>Mở đầu bài.</p><p>Đoạn một.</p>"))
    assert (article.sapo, article.body) == ("Mở đầu bài.", ("Đoạn một.",))  # the metadata too, not only the text
    # No p.sapo: the div.sapo is the lead only when it is whole, never the cut copy running into the body.
    whole = page(lead="", body="<p>Đoạn một.</p><p>Đoạn hai.</p>").replace("Mở đầu bài. Đoạn một. Đoạn h", "Lời dẫn.")
    assert parse(sources, SYN_URL, whole).sapo == "Lời dẫn."
    cut = parse(sources, SYN_URL, page(lead="", body="<p>Mở đầu bài.</p><p>Đoạn một.</p><p>Đoạn hai.</p>"))
    assert cut.sapo is None and cut.body == ("Mở đầu bài.", "Đoạn một.", "Đoạn hai.")


def test_selectors_that_miss_fall_back_to_anchors_and_say_so(sources: Sources) -> None:
    html = """<html><head><meta property="og:title" content="Bài mới"></head><body><div class="wrap">
    <h1>Bài mới</h1><span>01/12/2021 11:51</span><div class="noi-dung"><p>Một.</p><p>Hai.</p><p>Ba.</p></div>
    </div></body></html>"""
    article = parse(sources, SYN_URL, html)
    assert (article.rules["family"], article.rules["template"]) == ("mediatech", "anchors")
    assert article.body == ("Một.", "Hai.", "Ba.") and article.published.isoformat() == "2021-12-01T11:51:00+07:00"


@pytest.mark.parametrize(("html", "field"), [
    ("<html><body><p>nothing</p></body></html>", "title"),
    ('<div class="content-article"><h1 class="name">T</h1><div id="content-detail"><p>x</p></div></div>', "date"),
    ('<div class="content-article"><h1 class="name">T</h1><div class="date">01/12/2021 11:51</div></div>', "body"),
])
def test_missing_required_field_is_a_named_failure(sources: Sources, html: str, field: str) -> None:
    result = get_adapter(sources.get("baotayninh")).parse_article(html, SYN_URL)
    assert isinstance(result, ExtractionFailure) and result.field == field
