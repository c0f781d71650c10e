"""The Java multi-tenant platform (``adapter: javaplatform``), Bắc Ninh's ``.bbg`` site, and the frozen archives,
on their real pages (``fixtures/real/``, copied unchanged from the shared evidence).

The expected id lists were built by reading the home pages (their ``<a href>`` attributes in document
order, resolved against the page URL or its ``<base href>``, with a regular expression over the raw
HTML), not by running the parser; each list says what is left out and why.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import yaml

from crawler.cli import main
from crawler.config import Sources, load_sources, parse_sources
from crawler.errors import ConfigError
from crawler.models import Article, ExtractionFailure
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import render_snapshot

from .conftest import FIXTURES, ROOT

REAL = FIXTURES / "real"
PHUYEN_URL = (REAL / "phuyen-64112.url").read_text(encoding="utf-8").strip()


def ids_of(text: str) -> list[str]:
    return text.split()


# -- the article ---------------------------------------------------------------------------------------


def test_the_phu_yen_article_gives_its_hand_written_snapshot(sources: Sources) -> None:
    assert PHUYEN_URL == "https://baophuyen.vn/95/64112/dung-mang-chat-ung-thu-vao-nha/"
    article = get_adapter(sources.for_url(PHUYEN_URL)).parse_article((REAL / "phuyen-64112.html").read_bytes(),
                                                                     PHUYEN_URL)
    assert isinstance(article, Article), article
    assert render_snapshot(article) == (REAL / "phuyen-64112.expected.txt").read_text(encoding="utf-8")
    assert article.source == "phuyen" and article.article_id == "legacy-64112"
    assert article.rules["family"] == "javaplatform" and article.rules["template"] == "javaplatform"
    assert article.rules["cms"] == "javaplatform"
    assert article.published.isoformat() == "2011-05-15T10:30:00+07:00"  # printed time first: "10:30, 15/05/2011"
    assert article.byline == "Theo DTO" and article.breadcrumb == ("Sức khỏe",)
    assert article.category_slugs == ("suc-khoe",)
    assert article.sapo is not None and article.sapo.startswith("Nhà cửa, quần áo") and article.body[0] != article.sapo
    assert "Bút danh" not in render_snapshot(article)
    assert article.images and article.images[0].caption == "Ảnh có tính minh họa. Nguồn internet"


def test_parse_json_says_family_and_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", "--url", PHUYEN_URL, str(REAL / "phuyen-64112.html")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["article_id"] == "legacy-64112" and data["template"] == "javaplatform"
    assert data["rules"]["family"] == "javaplatform"


TENANT_URL = "https://baothainguyen.vn/xa-hoi/202605/mot-bai-viet-0a1b2c3/"


def tenant_page(*, header: str, title: str, lead: str, body: str, after: str = "") -> str:
    return (f"<html><head><meta property='og:title' content='Một bài viết'></head><body><main><html><body>"
            f"{header}{title}{lead}<div class='col'>{body}</div>{after}"
            f"<section class='related'><a href='/x/202605/y-1111111/'>Tin khác</a><time class='time'>"
            f"01:00, 01/01/2020</time></section></body></html></main></body></html>")


SEEN = {
    "header": ("<nav class='group-category'><ol class='breadcrumb'><li><a href='/'>Trang chủ</a></li>"
               "<li><a href='/xa-hoi/'>Xã hội</a></li></ol></nav>"
               "<div class='group-time'><time class='time'>08:05, 16/05/2026</time></div>"),
    "title": "<div class='detail-main-title'><h1 class='title'>Một bài viết</h1></div>",
    "lead": "<div class='content-reply'><p class='reply'>Lời dẫn.</p></div>",
    "body": ("<div class='td-post-content'><p>Lời dẫn.</p><p>Đoạn một.</p><p>Đoạn hai.</p>"
             "<p style='text-align:right'><strong>NGUYỄN VĂN A</strong></p></div>"),
}


def test_a_tenant_page_in_the_seen_template(sources: Sources) -> None:
    article = get_adapter(sources.get("baothainguyen")).parse_article(tenant_page(**SEEN), TENANT_URL)
    assert isinstance(article, Article), article
    assert article.rules["template"] == "javaplatform" and article.article_id == "0a1b2c3"
    assert render_snapshot(article).split("\n\n") == [
        "Xã hội", "16/05/2026 - 08:05", "Một bài viết", "Lời dẫn.", "Đoạn một.", "Đoạn hai.", "NGUYỄN VĂN A",
        "Chia sẻ bài viết"]


@pytest.mark.parametrize(("change", "rule_field", "rule"), [
    # Another tenant's template (/common/v1/ is not verified): each miss falls back and shows.
    ({"title": "<div class='post-title'><h1>Một bài viết</h1></div>"}, "title", "text:h1 equal to og:title"),
    ({"header": "<div class='meta'><span>Thứ Bảy, 16/05/2026 08:05</span></div>"}, "date",
     "text:date-pattern near the title"),
    ({"body": "<div class='article-body'><p>Lời dẫn.</p><p>Đoạn một.</p><p>Đoạn hai.</p>"
              "<p align='RIGHT'><strong>NGUYỄN VĂN A</strong></p></div>"}, "body",
     "text:most paragraphs after the title"),
])
def test_a_selector_that_misses_falls_back_and_the_template_says_so(
        sources: Sources, change: dict[str, str], rule_field: str, rule: str) -> None:
    parts = SEEN | change
    if rule_field == "date":  # the date sits beside the title in this variant
        parts = parts | {"title": SEEN["title"].replace("</h1>", "</h1>" + change["header"])}
    article = get_adapter(sources.get("baothainguyen")).parse_article(tenant_page(**parts), TENANT_URL)
    assert isinstance(article, Article), article
    assert article.rules["template"] == "anchors" and article.rules[rule_field] == rule
    assert article.rules["family"] == "javaplatform"
    assert article.title == "Một bài viết" and article.published.isoformat() == "2026-05-16T08:05:00+07:00"
    assert article.body == ("Đoạn một.", "Đoạn hai.") and article.byline == "NGUYỄN VĂN A"


def test_the_author_box_counts_unless_it_is_the_placeholder(sources: Sources) -> None:
    adapter = get_adapter(sources.get("baothainguyen"))
    body = "<div class='td-post-content'><p>Đoạn một.</p><p>TRẦN B</p></div>"
    named = adapter.parse_article(tenant_page(**SEEN | {"body": body}, after=(
        "<div class='after-author'><p class='author'>TRẦN B</p></div>")), TENANT_URL)
    assert isinstance(named, Article) and named.byline == "TRẦN B" and named.body == ("Đoạn một.",)
    placeholder = adapter.parse_article(tenant_page(**SEEN | {"body": body}, after=(
        "<div class='after-author'><p class='author'> Bút danh </p></div>")), TENANT_URL)
    assert isinstance(placeholder, Article) and placeholder.byline is None


def test_a_page_without_title_or_date_is_a_failure_not_a_guess(sources: Sources) -> None:
    adapter = get_adapter(sources.get("baothainguyen"))
    no_title = adapter.parse_article("<html><body><p>Chỉ có chữ.</p></body></html>", TENANT_URL)
    assert isinstance(no_title, ExtractionFailure) and no_title.field == "title"
    no_date = adapter.parse_article(tenant_page(**SEEN | {"header": ""}).replace("01:00, 01/01/2020", ""), TENANT_URL)
    assert isinstance(no_date, ExtractionFailure) and no_date.field == "date"


def test_the_article_id_comes_from_the_url_or_og_url_never_from_page_info(sources: Sources) -> None:
    adapter = get_adapter(sources.get("phuyen"))
    html = (REAL / "phuyen-64112.html").read_bytes()
    # Saved under another address: og:url (the legacy URL) names the article.
    article = adapter.parse_article(html, "https://phuyen.baodaklak.vn/saved-page")
    assert isinstance(article, Article) and article.article_id == "legacy-64112"
    assert article.rules["article_id"] == "meta:og:url:article_url_pattern"
    # #page_info #article_id (32 hex digits, an internal numbering) is never the article id.
    assert "29664bc9e1107a8ce0630100007f0bf0" not in article.article_id.lower()


def test_bac_ninh_articles_are_read_by_text_anchors(sources: Sources) -> None:
    url = "https://baobacninhtv.vn/dac-sac-le-hoi-tien-luc-nam-2026-postid444795.bbg"
    html = ("<html><head><meta property='og:title' content='Đặc sắc lễ hội'></head><body><div class='menu'>"
            "<h1>Báo Bắc Ninh</h1></div><div class='detail'><h1>Đặc sắc lễ hội</h1><span>10:00 | 16/05/2026</span>"
            "<div class='content'><p>Đoạn một.</p><p>Đoạn hai.</p><p style='TEXT-ALIGN: right'>Bài, ảnh: C</p></div>"
            "</div></body></html>")
    article = get_adapter(sources.for_url(url)).parse_article(html, url)
    assert isinstance(article, Article), article
    assert article.rules["family"] == "bbg" and article.rules["template"] == "anchors"
    assert article.article_id == "444795" and article.body == ("Đoạn một.", "Đoạn hai.")
    assert article.byline == "Bài, ảnh: C" and article.published.isoformat() == "2026-05-16T10:00:00+07:00"
    old = "https://baobacgiang.vn/x-postid444795.bbg"  # Bắc Giang's old host: the same paper, the same id
    assert sources.for_url(old).key == "baobacninh" and sources.get("baobacninh").article_id(old) == "444795"


# -- the home pages --------------------------------------------------------------------------------------


def listing(capsys: pytest.CaptureFixture[str], name: str, url: str) -> tuple[int, list[str], str]:
    code = main(["parse", "--listing", "--url", url, str(REAL / name)])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


# Đồng Nai: 81 hex ids, all on baodongnai.com.vn, in order of first appearance.  Included: video-clip, infographic
# and photo items (the same numbering, with "?v=1.1" kept as linked), the newsroom page
# /thongtinlienlac/201203/…-2139078/ (article-shaped, last), and /kham-pha-dong-nai202605/kho-bau-…-cb73be6/,
# a teaser the site links without the slash before the month.
# Left out: sections, /file/<32 hex>/…pdf, ads and social links on other hosts.
DONGNAI_IDS = ids_of("""
0e36a0a f221f76 84d10a8 1500f02 14f14be 63c0763 b380967 b5a1346 e1c0237 50d2563 4921e4c 1f005a1
3ed3420 cb73be6 396030a f0622c8 a791442 55b0b8b be4080c 7f10484 d21134f 36503ac 07e0551 df73104
dcb214c b43355e 6fa1587 1471c27 aac333e bc834d7 c4a2b91 c167859 9310ced 93414ff 03b3494 2f232fd
707068d 76a05d4 a173518 70e7944 6f43400 5752a12 bd84b95 9290dcf cd3205f cba08a1 5563ec5 2b73a58
b6a1578 a8b0cff 034161a e440d75 56850d5 7004bdd 317086c 7590425 1691477 4c631bb 43f1558 f0b6f65
0e51a06 87d4b4c 0fc0d9d e281abc 34f334a 3d377eb 4680fae dd17732 591270b 9c82625 d7b0e79 2b527f9
5b04900 52a1d46 ca217a3 a330aba 49e21c4 1251edd c461189 e3c3707 2139078
""")
# Khánh Hòa: 81 hex ids on baokhanhhoa.vn; the first is the contact page //baokhanhhoa.vn/lien-he/201211/…-2200346/
# (scheme-relative, all digits: still a hex id of the platform).  Left out: //news.baokhanhhoa.vn/ (English site).
KHANHHOA_IDS = ids_of("""
2200346 ec05801 1874204 94f0e89 fc01e99 a381c81 0ac6581 ee307b8 5543788 ae52570 b722429 ee511d6
b244be9 2c92710 dd94a47 0cf6b94 8da4a26 e11312c d26688a cbe7dab d767f6b 7715f5f fb15f89 02c1bff
e990515 f3f613b 3aa03df 6f85552 2e526f8 6a7350f 58536bd 2bf279f 09c510f b3f4e89 8642869 8ae6acd
1447fa6 1ce2a82 0601564 6eb4465 576390e eb972f8 91263f8 a4a001f 606047c d7d48ec 09f4958 bdc7871
3a32e71 9c86893 8142040 a5b3bab 81c64e5 2a1054d c6a0cf8 75e2816 a9520a4 691590d d980ce4 2a45090
74e10bd 82661fa 1046125 7a14aa0 5ff146f 3d21529 9f92503 1fd138b d8f76fa 0b60ea1 79a0dff e5e5efd
0515e6b 05607d6 b545f9e c8a578a 19d0af3 6fe7629 3ec7991 63b0c55 ea30f23
""")
# Bắc Ninh: 116 postids on baobacninhtv.vn (relative links resolved against <base href="/">; one under
# /bg/infographics/; the ad-rates page 422768 linked absolutely).  Left out: eight -postid links on
# en.baobacninhtv.vn and cn.baobacninhtv.vn (other hosts, other sites).
BACNINH_IDS = ids_of("""
445716 445649 445661 445666 445163 444963 445715 445714 445683 445708 445643 445711 445712 445684 445662 445685
445678 445705 445631 445607 445294 445293 445697 445682 445628 445707 445690 445642 445713 445710 445693 445694
445667 445641 445709 445696 445634 445664 445706 445594 445692 445644 445647 445559 445525 445531 445624 445519
445494 445637 445557 444839 444795 445689 445680 445674 445605 445627 445491 445453 445612 445499 445611 445629
445630 445589 445665 445663 445600 445590 445596 445623 445578 445575 445234 445227 445219 445138 445598 445582
445551 445544 445614 445574 445534 445549 445546 445341 445339 445290 445668 445438 445412 445698 445622 445621
445601 445505 445407 445395 445593 445545 445632 445150 445691 445670 445562 445517 445444 445281 445271 444936
445681 445672 445327 422768
""")
# Đồng Khởi (VDOC, frozen): 17 -a<ID> ids; the newest, a148958 of 30-06-2025, among them.
DONGKHOI_IDS = ids_of("145836 145489 144776 144460 148958 148949 148947 148910 148886 148826 130673 129883 127667 "
                      "126988 126080 123275 144103")

HOMES = [
    ("baodongnai-home-2026-05.html", "https://baodongnai.com.vn/", "baodongnai", DONGNAI_IDS),
    ("baokhanhhoa-home-2026-05.html", "https://baokhanhhoa.vn/", "baokhanhhoa", KHANHHOA_IDS),
    ("baobacninhtv-home-2026-05.html", "https://baobacninhtv.vn/", "baobacninh", BACNINH_IDS),
    ("baodongkhoi-home-2026-05.html", "https://dongkhoi.baovinhlong.vn/", "dongkhoi", DONGKHOI_IDS),
]


@pytest.mark.parametrize(("name", "url", "key", "ids"), HOMES)
def test_home_pages_list_the_ids_a_reader_counts(sources: Sources, capsys: pytest.CaptureFixture[str], name: str,
                                                 url: str, key: str, ids: list[str]) -> None:
    code, urls, err = listing(capsys, name, url)
    assert code == 0, err
    source = sources.get(key)
    assert [source.article_id(u) for u in urls] == ids
    assert all(u.startswith(url) for u in urls)  # nothing from other hosts
    # No pagination seen on the platform and .bbg sites: no next page is guessed.
    assert err == ("next: https://dongkhoi.baovinhlong.vn/?p=2\n" if key == "dongkhoi" else "")


def test_the_broken_teaser_link_and_the_video_items_are_the_platforms_articles(sources: Sources) -> None:
    source = sources.get("baodongnai")
    assert source.article_id("https://baodongnai.com.vn/kham-pha-dong-nai202605/kho-bau-cb73be6/?v=1.1") == "cb73be6"
    assert source.article_id("https://baodongnai.com.vn/video-clip/202605/x-4921E4C/") == "4921e4c"
    for url in ("https://baodongnai.com.vn/kinh-te/", "https://baodongnai.com.vn/kinh-te/san-xuat-kinh-doanh/",
                "https://baodongnai.com.vn/file/e7837c02876411cd0187645a2551379f/upload/xdata/202603/x.pdf",
                "https://baodongnai.com.vn/kinh-te/202613/x-1500f02/",  # no month 13
                "https://baodongnai.com.vn/kinh-te/202605/x-1500f0/",  # six digits
                "https://baodongnai.com.vn/kinh-te/202605/x-1500f0g/",
                "https://baodongnai.com.vn/kinh-te/202605/x-1500f02/extra/"):
        assert source.article_id(url) is None, url
    # Bình Phước's old host belongs to Đồng Nai.
    assert sources.for_url("https://baobinhphuoc.com.vn/x/202401/y-1a2b3c4/").key == "baodongnai"


# -- the configuration ---------------------------------------------------------------------------------------


def test_start_pages_are_links_of_the_real_home_pages(sources: Sources) -> None:
    from .test_real_sites import NOT_ARTICLE_SECTIONS

    for name, url, key, _ids in HOMES:
        html = (REAL / name).read_text(encoding="utf-8")
        source = sources.get(key)
        assert source.start_pages[0] == url
        for page in source.start_pages[1:] + source.feeds:
            path = page.removeprefix(url.rstrip("/"))
            relative = path.lstrip("/") if key == "baobacninh" else path  # <base href="/"> with relative links
            assert (f'"{path}"' in html or f"'{path}'" in html or f'"{relative}"' in html
                    or f'"{page}"' in html), f"{page} is not a link of {name}"
            assert not path.startswith(NOT_ARTICLE_SECTIONS), page
    for key in ("baothainguyen", "baotuyenquang", "phuyen"):  # no saved home page: the home page only
        assert sources.get(key).start_pages == (sources.get(key).base_url,)


def test_archives_are_marked_and_the_flag_is_validated(sources: Sources) -> None:
    assert {s.key for s in sources if s.archive} == {"dongkhoi", "phuyen"}
    assert sources.get("dongkhoi").hosts == ("dongkhoi.baovinhlong.vn", "baodongkhoi.vn")
    assert sources.get("dongkhoi").article_id("https://baodongkhoi.vn/x-a148958.html") == "148958"
    block = {"adapter": "vdoc", "hosts": ["x.vn"], "base_url": "https://x.vn/",
             "article_url_pattern": "-a(?P<id>[0-9]+)"}
    for bad in ("yes", 1, None, [True]):
        with pytest.raises(ConfigError) as info:
            parse_sources({"sources": {"s": block | {"archive": bad}}})
        assert info.value.key == "archive" and info.value.source == "s"
    assert parse_sources({"sources": {"s": block | {"archive": True}}}).get("s").archive is True
    assert parse_sources({"sources": {"s": block}}).get("s").archive is False
    with pytest.raises(ConfigError) as info:
        parse_sources({"sources": {"s": block | {"pagination": "nothing"}}})
    assert info.value.key == "pagination"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_archive_that_fetches_nothing_raises_no_alarm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "sources.yaml"
    data = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))
    keep = ("dongkhoi", "phuyen", "baokhanhhoa")
    data["sources"] = {k: v for k, v in data["sources"].items() if k in keep}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    hosts = [h for k in keep for h in load_sources(config).get(k).hosts]
    origins = [f"--origin={host}=http://127.0.0.1:{closed_port()}" for host in hosts]
    args = ["crawl", "--sources", str(config), "--archive", str(tmp_path / "a"), *origins, "--delay", "0",
            "--no-progress", "--quiet"]
    started = time.monotonic()
    code = main(args)
    err = capsys.readouterr().err
    assert time.monotonic() - started < 30
    # The live paper that fetched nothing is the alarm; the two frozen archives are not.
    # Nothing at all answered: each live host is named as it fails, and the run's last line says so.
    assert code == 4 and "baokhanhhoa: baokhanhhoa.vn: connection refused" in err, err
    assert "crawler: no host could be reached" in err
    assert "dongkhoi fetched nothing" not in err and "phuyen fetched nothing" not in err
    (record,) = (json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "a" / "runs").glob("*.json"))
    assert set(record["unreachable"]) == {"baokhanhhoa"}
    assert record["sources"]["phuyen"]["archive"] is True and record["sources"]["phuyen"]["unreachable"]
    # Archives alone: exit 0.
    code = main([*args[:4], str(tmp_path / "b"), *origins, "--delay", "0", "--no-progress", "--quiet",
                 "--source", "dongkhoi", "--source", "phuyen"])
    assert code == 0, capsys.readouterr().err


@pytest.mark.parametrize(("old", "new", "field", "rule"), [
    (b"td-post-content", b"post-text", "body", "css:#content.content-detail"),
    (b"detail-main-title", b"main-title", "title", "css:#wrapperPostDetailMain h1"),
    (b"group-time", b"when", "date", "css:.detail-header-groups time"),
])
def test_the_real_page_with_a_renamed_part_gives_the_same_snapshot_as_anchors(
        sources: Sources, old: bytes, new: bytes, field: str, rule: str) -> None:
    html = (REAL / "phuyen-64112.html").read_bytes().replace(old, new)
    article = get_adapter(sources.get("phuyen")).parse_article(html, PHUYEN_URL)
    assert isinstance(article, Article), article
    assert article.rules["template"] == "anchors" and article.rules[field] == rule
    assert render_snapshot(article) == (REAL / "phuyen-64112.expected.txt").read_text(encoding="utf-8")
