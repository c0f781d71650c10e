"""Huế across its three CMS eras: one article under any URL shape and host is one article, the
adapter says which template it recognised, and the DotNetNuke date form is read.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx2
import pytest

from crawler.cli import main
from crawler.config import Sources
from crawler.mirror import Mirror
from crawler.models import Article
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import VN_TZ, find_vn_datetime, render_snapshot

from .conftest import FIXTURES, origin_args, snapshot_meta

CANTHO_URL = "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html"
SLUG = "chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc"


def parse(sources: Sources, url: str, html: bytes | str) -> Article:
    result = get_adapter(sources.for_url(url)).parse_article(html, url)
    assert isinstance(result, Article), result
    return result


def test_vdoc_markup_under_huế_urls_reads_as_vdoc(sources: Sources) -> None:
    """The real VDOC page under every Huế URL shape: the snapshot the vdoc rules give, breadcrumb included."""
    html = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
    vdoc = parse(sources, CANTHO_URL, html)
    assert vdoc.rules["template"] == "vdoc" and vdoc.breadcrumb == ("Y tế", "Sức khỏe")
    for url in (f"https://baothuathienhue.vn/{SLUG}-a80443.html",
                f"https://huengaynay.vn/y-te-suc-khoe/{SLUG}-80443.html",
                f"https://baothuathienhue.vn/y-te/suc-khoe/{SLUG}-80443.html",
                "https://huengaynay.vn/amp.aspx?newid=80443"):
        hue = parse(sources, url, html)
        assert (hue.source, hue.article_id, hue.rules["template"]) == ("hue", "80443", "vdoc")
        assert render_snapshot(hue) == render_snapshot(vdoc)
        assert hue.breadcrumb == vdoc.breadcrumb and hue.category_slugs == vdoc.category_slugs


@pytest.fixture(scope="module")
def mirror() -> object:
    with Mirror(articles=9, seed=4) as m:
        yield m


def fetch(m: Mirror, url: str) -> str:
    with httpx2.Client(timeout=5) as client:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.text


def real(m: Mirror, url: str) -> str:
    for host, origin in m.origins.items():
        if url.startswith(origin):
            return f"https://{host}" + url[len(origin):]
    raise AssertionError(url)


def test_an_old_article_and_its_dotnetnuke_url_are_one_article(sources: Sources, mirror: Mirror) -> None:
    """A VDOC-era page (the hand-written seed and a generated one), the same content under its DNN-era URL
    on the new host, and its AMP copy: one article id, one text; the template each was read with differs."""
    generator, catalog = mirror.site.generator, mirror.site.catalogs["hue"]
    for article_id in mirror.article_ids("hue")[:2]:
        index = catalog.index_of(article_id)
        assert index is not None and catalog.era(index) == "vdoc"
        head = generator.headline("hue", index)
        shapes = {
            "vdoc": mirror.article_url("hue", article_id),
            "dnn": mirror.origins["huengaynay.vn"] + (head.dnn_path or ""),
            "anchors": mirror.origins["baothuathienhue.vn"] + f"/amp.aspx?newid={article_id}",
        }
        assert "-a" + article_id in shapes["vdoc"] and "-a" not in shapes["dnn"]
        texts = set()
        for template, url in shapes.items():
            article = parse(sources, real(mirror, url), fetch(mirror, url))
            assert (article.article_id, article.rules["template"]) == (article_id, template)
            texts.add(render_snapshot(article))
        assert texts == {mirror.expected_snapshot("hue", article_id)}


def test_templates_of_the_three_eras(sources: Sources, mirror: Mirror) -> None:
    seen = {}
    for article_id in mirror.article_ids("hue"):
        url = mirror.article_url("hue", article_id)
        article = parse(sources, real(mirror, url), fetch(mirror, url))
        seen.setdefault(article.rules["template"], []).append(url.split("/")[2])
        assert render_snapshot(article) == mirror.expected_snapshot("hue", article_id)
    old, new = (mirror.origins[h].removeprefix("http://") for h in ("baothuathienhue.vn", "huengaynay.vn"))
    assert set(seen) == {"vdoc", "anchors", "dnn"}
    assert set(seen["vdoc"]) == set(seen["anchors"]) == {old} and set(seen["dnn"]) == {new}


DNN_UNMODELLED = """<html><body><div class="DnnModule DnnModule-2650"><div id="dnn_ctr2650_ModuleContent">
<div class="news-detail"><ul class="crumb"><li><a href="/kinh-te">Kinh tế</a></li>
<li><a href="/kinh-te/thong-tin-thi-truong">Thông tin thị trường</a></li></ul>
<h1 class="title-detail">Giá vàng hôm nay</h1><p class="time">Thứ Năm, 05/03/2026 10:17</p>
<div class="body-detail"><p>HNN.VN - Mở đầu.</p><p>Đoạn một.</p><p>Đoạn hai.</p>
<p style="text-align:right"><strong>Tin: Minh An</strong></p></div><div>Chia sẻ bài viết:</div>
</div></div></div></body></html>"""


def test_a_dnn_page_in_unmodelled_markup_is_read_by_the_anchors_and_says_so(sources: Sources) -> None:
    url = "https://huengaynay.vn/kinh-te/thong-tin-thi-truong/gia-vang-hom-nay-165700.html"
    article = parse(sources, url, DNN_UNMODELLED)
    assert (article.rules["template"], article.rules["cms"]) == ("anchors", "dnn")
    assert render_snapshot(article).split("\n\n") == [
        "Kinh tế Thông tin thị trường", "05/03/2026 - 10:17", "Giá vàng hôm nay", "HNN.VN - Mở đầu.",
        "Đoạn một.", "Đoạn hai.", "Tin: Minh An", "Chia sẻ bài viết"]
    assert article.category_slugs == ("kinh-te", "thong-tin-thi-truong")


DNN_NEWS_MODULE = """<html><body><div class="DnnModule DnnModule-2650"><div id="dnn_ctr2650_ModuleContent">
<div id="dnn_NewsView_Main_ctl00_viewhinone"><div class="post-date"><i class="fa fa-clock-o"></i>
<span class="lbPublishedDate">Thứ Năm, 05/03/2026 10:17 (GMT+7)</span></div>
<h1 class="post-title">Giá vàng hôm nay</h1><div class="post-summary"><h2>HNN.VN - Mở đầu.</h2></div>
<div class="post-content"><div class="noidung"><p>Đoạn một.</p>
<table><tr><td><img src="/a.jpg"></td></tr><tr><td>Chú thích ảnh.</td></tr></table><p>Đoạn hai.</p>
{tail}</div></div><div class="tacgia">{author}</div></div></div></div></body></html>"""


@pytest.mark.parametrize(("tail", "author"), [("", "Minh An"), ("<p>MINH AN</p>", "MINH AN")])
def test_the_dnn_news_module_of_the_sibling_site_reads_as_dnn(sources: Sources, tail: str, author: str) -> None:
    """SITES.md's evidence: the date before the title, the lead in div.post-summary, the author in div.tacgia
    (printed once, as the byline after the body, whether or not the body also ends with it)."""
    url = "https://huengaynay.vn/kinh-te/gia-vang-hom-nay-165700.html"
    article = parse(sources, url, DNN_NEWS_MODULE.format(tail=tail, author=author))
    assert article.rules["template"] == "dnn"
    assert render_snapshot(article).split("\n\n") == [
        "05/03/2026 - 10:17", "Giá vàng hôm nay", "HNN.VN - Mở đầu.", "Đoạn một.", "Chú thích ảnh.", "Đoạn hai.",
        author, "Chia sẻ bài viết"]


def test_the_earlier_dnn_guess_is_kept_as_a_variant(sources: Sources) -> None:
    page = """<html><body><div class="DnnModule"><div class="detail-news"><article class="detail">
<h1 class="i-title">Giá vàng</h1><span class="i-date">Thứ Năm, 05/03/2026 10:17</span>
<div id="dnn_ctr1_View_ContentDetail"><p>HNN.VN - Mở đầu.</p><p>Đoạn.</p></div></article></div></div></body></html>"""
    article = parse(sources, "https://huengaynay.vn/kinh-te/gia-vang-165701.html", page)
    assert article.rules["template"] == "dnn-guess"


def test_the_vdoc_adapter_names_its_template(sources: Sources) -> None:
    html = (FIXTURES / "real" / "baoangiang-a367201.html").read_bytes()
    url = "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html"
    assert parse(sources, url, html).rules["template"] == "vdoc"


@pytest.mark.parametrize(("text", "when"), [
    ("Thứ Năm, 05/03/2026 10:17", datetime(2026, 3, 5, 10, 17, tzinfo=VN_TZ)),  # DNN (Huế ngày nay)
    ("Chủ Nhật, 17/05/2026 07:05", datetime(2026, 5, 17, 7, 5, tzinfo=VN_TZ)),
    ("thứ năm, 5/3/2026, 9:07 (GMT+7)", datetime(2026, 3, 5, 9, 7, tzinfo=VN_TZ)),
    ("09/03/2022 - 19:50", datetime(2022, 3, 9, 19, 50, tzinfo=VN_TZ)),  # VDOC
    ("05/03/2026 | 10:17", datetime(2026, 3, 5, 10, 17, tzinfo=VN_TZ)),
    ("Cập nhật 10:17, Thứ Năm, 05/03/2026", datetime(2026, 3, 5, 10, 17, tzinfo=VN_TZ)),
    ("10:17 05/03/2026 - 11:00", datetime(2026, 3, 5, 11, 0, tzinfo=VN_TZ)),  # shared date: date first wins
    ("Thứ Năm, ٠٥/٠٣/٢٠٢٦ ١٠:١٧", None), ("Thứ Năm, 05/03/2026", None), ("31/02/2026 10:17", None),
])
def test_date_forms(text: str, when: datetime | None) -> None:
    assert find_vn_datetime(text) == when


def test_a_hue_crawl_archives_each_article_once_with_its_template(tmp_path: Path) -> None:
    """The home page's banner links the oldest article by its DNN URL, the listings by its VDOC URL:
    one article, one snapshot; the metadata says which template read each page."""
    with Mirror(articles=9, seed=4) as m:
        home = fetch(m, m.origins["huengaynay.vn"] + "/")
        oldest = m.site.generator.headline("hue", 0)
        assert m.origins["huengaynay.vn"] + (oldest.dnn_path or "") in home
        assert main(["crawl", "--archive", str(tmp_path), *origin_args(m), "--source", "hue", "--delay", "0",
                     "--no-progress", "--quiet"]) == 0
        ids = m.article_ids("hue")
        metas = list(snapshot_meta(tmp_path).values())
        assert sorted(meta["article_id"] for meta in metas) == sorted(ids)
        for meta in metas:
            assert meta["template"] == meta["rules"]["template"]
            text = (tmp_path / str(meta["text_path"])).read_text(encoding="utf-8")
            assert text == m.expected_snapshot("hue", str(meta["article_id"]))
    assert {meta["template"] for meta in metas} == {"vdoc", "anchors", "dnn"}
