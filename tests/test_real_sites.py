"""The real 2026 home pages: sources.yaml's start pages are on their menus, the mirror's category
trees follow them, and ``crawler parse --listing`` finds exactly the articles they link.

The pages are ``fixtures/real/*-home-2026-05.html`` (saved 2026-05-16 by a public project,
unchanged).  The expected article lists below were built by reading the pages (their
``href`` attributes in document order, with grep), not by running the parser; each list
says which links of the page are left out and why.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.cli import main
from crawler.config import Sources
from crawler.mirror.sources import SOURCES

from .conftest import FIXTURES

REAL = FIXTURES / "real"
HOMES = {
    "baocantho": ("baocantho-home-2026-05.html", "https://baocantho.com.vn/"),
    "baoangiang": ("baoangiang-home-2026-05.html", "https://baoangiang.com.vn/"),
    "hue": ("huengaynay-home-2026-05.html", "https://huengaynay.vn/"),
}
# Start pages the saved home page does not link, on other evidence (SITES.md: Huế's articles also sit there).
BEYOND_HOME = {"hue": {"https://huengaynay.vn/goc-anh-hue", "https://huengaynay.vn/e-magazine"}}
# Sections that are links of the real menus but carry no text articles: never start pages.
NOT_ARTICLE_SECTIONS = ("/video", "/news/", "/khmer/", "/rao-vat", "/xem-bao", "/podcast", "/emagazine",
                        "/infographic", "/anh/", "/da-phuong-tien", "/su-kien/", "/topic/")


def page_links(key: str) -> set[str]:
    """Every ``<a href>`` of a real home page, resolved as a browser resolves it (``<base href>`` first)."""
    name, url = HOMES[key]
    tree = LexborHTMLParser((REAL / name).read_bytes())
    base_node = tree.css_first("base[href]")
    base = urljoin(url, base_node.attributes.get("href") or "") if base_node is not None else url
    return {urljoin(base, a.attributes.get("href") or "").split("#")[0] for a in tree.css("a[href]")}


@pytest.mark.parametrize("key", list(HOMES))
def test_start_pages_and_feeds_are_links_of_the_real_home_page(sources: Sources, key: str) -> None:
    source = sources.get(key)
    links = page_links(key) | BEYOND_HOME.get(key, set())
    home = HOMES[key][1]
    for url in (*source.start_pages, *source.feeds):
        assert url == home or url in links, f"{url} is not a link of {HOMES[key][0]}"
        assert not urlsplit(url).path.startswith(NOT_ARTICLE_SECTIONS), url
    assert source.start_pages[0] == home


def test_what_the_real_pages_say_about_paths(sources: Sources) -> None:
    assert sources.get("baocantho").feeds == ("https://baocantho.com.vn/rss/home",)
    assert sources.get("baoangiang").feeds == () and sources.get("hue").feeds == ()  # their home pages link none
    hue = sources.get("hue").start_pages
    assert all(not url.endswith("/") for url in hue[1:])  # DotNetNuke links have no trailing slash
    angiang = {urlsplit(u).path for u in sources.get("baoangiang").start_pages}
    assert {"/thoi-su/", "/chinh-tri/", "/xa-hoi/"}.isdisjoint(angiang)  # guessed once, not on the real menu


@pytest.mark.parametrize("key", list(HOMES))
def test_mirror_category_trees_follow_the_real_menus(key: str) -> None:
    """Every category (and subcategory) listing of the mirror is a link of the real home page, same shape."""
    info = SOURCES[key]
    links = page_links(key)
    origin = HOMES[key][1].rstrip("/")
    for leaf in info.leaves:
        for path in (info.listing_path(leaf.slug), info.listing_path(leaf.slug, leaf.sub)):
            assert origin + path in links, f"{path} of the mirror is not on the real menu"


# -- crawler parse --listing -------------------------------------------------------------------------


def ids_of(text: str) -> list[str]:
    return text.split()


# Cần Thơ: every -a<ID> link is absolute on baocantho.com.vn (the page's <base href> is on the same host);
# 347 such hrefs, 93 ids in order of first appearance: the mega-menus (four per section), the slider,
# "tin mới", the section boxes, the side columns.  Left out: /rao-vat-…-626.html classifieds (no "-a"),
# /su-kien/….36.html events, /cong-luan-quan-tam-c2.html, /video/, /tin-longform.html, ads on other hosts.
CANTHO_IDS = ids_of("""
204703 204701 204644 204634 204692 204690 204640 204636 204681 204677 204646 204630 204712 204691 204661 204629
204704 204702 204649 204647 204708 204707 204653 204648 204711 204706 204693 204689 204700 204663 204662 204606
204687 204650 204604 204605 204658 204651 204643 204601 204705 204655 204654 204600 204573 204571 204198 204070
204709 204688 204686 204685 204684 204683 204682 204680 204679 204678 204676 204588 204543 204482 204401 199046
199044 199043 199042 204641 204626 204371 204292 203155 203023 202527 201870 204514 204513 204192 204037 204557
204115 203838 203999 204233 201492 201485 200618 200525 200239 200140 199504 199449 198853
""")
# An Giang: 103 ids on baoangiang.com.vn.  Left out: four -a<ID> links on tintucmientay.baoangiang.com.vn
# ("Tin tức miền Tây": another host, not configured for the source; ids 485672, 485670, 485659, 485605),
# /video/xem-video/…-7908.html items (no "-a"), /thong-tin-viettel-an-giang-c4.html, /su-kien/….25.html.
ANGIANG_IDS = ids_of("""
485740 485377 485386 485731 485718 485717 485701 485742 485741 485736 485738 485728 485692 485683 485688 485638
485636 485617 485511 485748 485747 485746 485745 485744 485743 485724 485723 485722 485721 484938 484943 485749
485750 485735 485730 485727 485729 485739 485702 485677 485726 485706 485705 485713 485673 485646 485643 485642
485548 485389 484576 484004 483884 482822 485710 485669 485633 485632 485733 485619 485593 485576 485712 485631
485628 485703 485648 485634 485732 485720 485711 485708 485665 484815 485725 485709 485707 485737 485691 485645
485622 485621 485586 485641 485635 485571 485569 485531 485506 485686 485607 485505 485432 485303 485210 485667
485666 485663 485639 485574 484512 483315 485734
""")
# Huế ngày nay: the HTML carries six teasers (the section blocks are filled by a script), then a sidebar
# banner and the footer link articles too (140183, the ad-rates page 152817, the domain-change notice 158032).
# Left out: video items /video/[<cate>/]…-1875312.html (another id space), English items on
# news.huengaynay.vn (another host: 147039, 147038, 147035), tag pages /topic/ngay-chu-nhat-xanh-40.html
# and /topic/chuyen-doi-so-33.html, /dai-hoi-dang-nhiem-ky-2025-2030, /tim-kiem-xa-phuong.
HUE_URLS = [
    "https://huengaynay.vn/van-hoa-nghe-thuat/dua-hue-thanh-diem-dung-chan-cua-cac-show-am-nhac-165640.html",
    "https://huengaynay.vn/du-lich/dinh-hinh-khai-thac-tiem-nang-du-lich-theo-vung-165676.html",
    "https://huengaynay.vn/ban-doc/nguy-co-cham-tien-do-cac-cong-trinh-ha-tang-tai-dinh-cu-165679.html",
    "https://huengaynay.vn/y-te-suc-khoe/kham-benh-cap-phat-thuoc-mien-phi-cho-gan-1000-nguoi-dan-xa-vinh-loc-165689.html",
    "https://huengaynay.vn/giao-duc/tin-tuc-giao-duc/hoc-sinh-dan-toc-thieu-so-hao-hung-voi-ngay-hoi-tieng-viet-cua-chung-em-165688.html",
    "https://huengaynay.vn/giao-duc/tin-tuc-giao-duc/trao-100-suat-hoc-bong-cho-hoc-sinh-vuot-kho-hoc-gioi-165687.html",
    "https://huengaynay.vn/doi-song/thong-minh-khi-chon-quang-cao-tren-thua-thien-hue-online-140183.html",
    "https://huengaynay.vn/kinh-te/bang-gia-quang-cao-tren-bao-dien-tu-hue-ngay-nay-152817.html",
    "https://huengaynay.vn/chinh-tri-xa-hoi/thong-bao-doi-ten-mien-tu-baothuathienhuevn-sang-huengaynayvn-158032.html",
]  # fmt: skip


def parse_listing(key: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    name, url = HOMES[key]
    code = main(["parse", "--listing", "--url", url, str(REAL / name), *extra])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("key", "host", "ids"), [("baocantho", "baocantho.com.vn", CANTHO_IDS),
                                                  ("baoangiang", "baoangiang.com.vn", ANGIANG_IDS)])
def test_listing_of_a_real_vdoc_home_page(key: str, host: str, ids: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = parse_listing(key, capsys)
    assert code == 0
    shape = re.compile(rf"https://{re.escape(host)}/[^/]+-a(\d+)\.html")
    found = [shape.fullmatch(url) for url in out.splitlines()]
    assert [m.group(1) if m else None for m in found] == ids
    assert err == f"next: https://{host}/?p=2\n"


def test_listing_of_the_real_hue_home_page(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = parse_listing("hue", capsys)
    assert code == 0 and out.splitlines() == HUE_URLS
    assert err == "next: https://huengaynay.vn/p/2\n"
    code, out, _err = parse_listing("hue", capsys, "--json")
    assert code == 0 and json.loads(out) == {"articles": HUE_URLS, "next": "https://huengaynay.vn/p/2"}


def test_listing_of_a_page_without_articles_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The Huế home page read as a page of Cần Thơ: none of its links is a Cần Thơ article.
    code = main(["parse", "--listing", "--url", "https://baocantho.com.vn/", str(REAL / HOMES["hue"][0])])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert err.startswith("crawler: ") and "lists no article of baocantho" in err and err.count("\n") == 1
    empty = tmp_path / "empty.html"
    empty.write_text("<html><body><a href='/video/x-1875312.html'>v</a></body></html>", encoding="utf-8")
    assert main(["parse", "--listing", "--json", "--url", "https://huengaynay.vn/kinh-te", str(empty)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "lists no article of hue" in err


def test_the_readme_example_source_is_a_valid_vdoc_entry() -> None:
    """README's "Adding a VDOC-family source" example parses, and is Đồng Khởi (Long An left VDOC)."""
    import yaml

    from crawler.config import parse_sources

    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding a VDOC-family source", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    source = parse_sources({"sources": yaml.safe_load(block)}).get("dongkhoi")
    assert source.adapter == "vdoc" and source.hosts == ("dongkhoi.baovinhlong.vn", "baodongkhoi.vn")
    assert source.article_id("https://baodongkhoi.vn/x-a123.html") == "123"
    assert "baolongan" not in section and "Long An" not in section  # Long An went to Tây Ninh (Mediatech)
