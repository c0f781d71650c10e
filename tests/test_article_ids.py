"""Article ids are validated once, at the edge: URL patterns (one or several, path or path?query) and
ids read from pages go through :func:`crawler.net.urls.valid_article_id`.

``\\d`` and ``str.isdigit()`` accept Arabic-Indic (``١٢٣``), fullwidth (``５００１``) and superscript
(``¹²³``) digits; an id made of them, or with a leading zero, or longer than 18 digits, is no id,
and a URL that carries one is not an article URL.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.archive.snapshots import SAFE_ID, snapshot_relpath
from crawler.config import Sources, parse_sources
from crawler.errors import ConfigError
from crawler.models import Article, ExtractionFailure
from crawler.net.urls import ID_SHAPES, MAX_ARTICLE_ID, valid_article_id
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import VN_TZ

GOOD = {"adapter": "vdoc", "hosts": ["example.vn"], "base_url": "https://example.vn/",
        "article_url_pattern": r"-a(?P<id>\d+)\.html$"}
NON_ASCII_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９¹²³⁴⁵⁶⁷⁸⁹⁰₀₁₂₃߀०१२३"
ids = st.integers(min_value=1, max_value=10**18 - 1).map(str)
bad_ids = st.one_of(
    st.text(alphabet=NON_ASCII_DIGITS, min_size=1, max_size=8),  # all digits to str.isdigit(), none ASCII
    st.tuples(ids, st.text(alphabet=NON_ASCII_DIGITS, min_size=1, max_size=3)).map("".join),  # mixed
    ids.map(lambda i: "0" + i),  # leading zero
    st.integers(min_value=10**18, max_value=10**40).map(str),  # more than 18 digits
    st.just("0"),
)


def hue_shapes(article_id: str) -> list[str]:
    """The Huế URL shapes of SITES.md, on both hosts."""
    urls = []
    for host in ("https://baothuathienhue.vn", "https://www.huengaynay.vn", "https://huengaynay.vn"):
        urls += [f"{host}/sen-trang-hue-hoi-sinh-o-ho-tinh-tam-a{article_id}.html",
                 f"{host}/kinh-te/thong-tin-thi-truong/gia-vang-{article_id}.html",
                 f"{host}/y-te-suc-khoe/kham-benh-{article_id}.html",
                 f"{host}/amp.aspx?newid={article_id}",
                 f"{host}/amp.aspx?utm=x&newid={article_id}&b=1"]
    return urls


@given(ids)
def test_every_huế_url_shape_gives_the_one_id(article_id: str) -> None:
    hue = _sources().get("hue")
    assert valid_article_id(article_id) == article_id
    for url in hue_shapes(article_id) if len(article_id) >= 4 else hue_shapes(article_id)[::5]:
        assert hue.article_id(url) == article_id, url


@given(bad_ids)
def test_invalid_ids_make_no_article_url(bad: str) -> None:
    assert valid_article_id(bad) is None
    sources = _sources()
    for url in [*hue_shapes(bad), f"https://baocantho.com.vn/x-a{bad}.html", f"https://baoangiang.com.vn/x-a{bad}.html"]:
        assert sources.for_url(url).article_id(url) is None, url
    # Also with a pattern written with \d, which itself matches non-ASCII digits.
    custom = parse_sources({"sources": {"s": GOOD}}).get("s")
    assert custom.article_id(f"https://example.vn/x-a{bad}.html") is None


@pytest.mark.parametrize("value", ["", " 12", "12 ", "12\n", "+12", "-12", "1_000", "1e3", "12a", "0x1F", None])
def test_other_non_ids(value: str | None) -> None:
    assert valid_article_id(value) is None


def test_not_articles_of_the_hue_source(sources: Sources) -> None:
    hue = sources.get("hue")
    for url in ("https://huengaynay.vn/video/khach-tay-tap-nau-mon-hue-1875312.html",
                "https://huengaynay.vn/video/van-hoa-giai-tri/khach-tay-tap-nau-mon-hue-1875312.html",
                "https://baothuathienhue.vn/video/x-1875312.html",
                "https://news.huengaynay.vn/culture/vietnam-s-oldest-cadastral-record-preserved-in-hue-147039.html",
                "https://huengaynay.vn/topic/chuyen-doi-so-33.html", "https://huengaynay.vn/topic/chuyen-doi-so-3312.html",
                "https://huengaynay.vn/amp.aspx", "https://huengaynay.vn/amp.aspx?id=100343",
                "https://huengaynay.vn/amp.aspx?xnewid=100343", "https://huengaynay.vn/kinh-te",
                "https://huengaynay.vn/kinh-te/p/2", "https://huengaynay.vn/tim-kiem/x-12345.html",
                "https://huengaynay.vn/a/b/c/d-12345.html", "https://huengaynay.vn/kinh-te/x-12345.html/"):
        assert hue.article_id(url) is None, url


def test_a_query_is_seen_only_by_patterns_that_name_one(sources: Sources) -> None:
    cantho = sources.get("baocantho")
    # A search page whose query holds an article-like string is no article.
    assert cantho.article_id("https://baocantho.com.vn/tim-kiem.html?q=x-a123.html") is None
    assert cantho.article_id("https://baocantho.com.vn/x-a123.html?utm_source=fb") == "123"
    hue = sources.get("hue")
    assert hue.article_id("https://huengaynay.vn/amp.aspx?newid=100343&newid=5") == "100343"  # the first
    assert hue.article_id("https://huengaynay.vn/amp.aspx?newid=100343x") is None
    source = parse_sources({"sources": {"s": GOOD | {"article_url_pattern": [
        r"^/news/(?P<id>[0-9]+)$", r"^/read[?]id=(?P<id>[0-9]+)$"]}}}).get("s")
    assert source.article_id("https://example.vn/read?id=77") == "77"
    assert source.article_id("https://example.vn/news/78?id=1") == "78"
    assert source.article_id("https://example.vn/news?id=79") is None


@pytest.mark.parametrize(
    ("pattern", "key"),
    [([], "article_url_pattern"), ([r"-(?P<id>\d+)", 3], "article_url_pattern"),
     ([r"-(?P<id>\d+)", r"-(\d+)"], "article_url_pattern[1]"), ([r"(unclosed"], "article_url_pattern[0]"),
     ({"a": 1}, "article_url_pattern"), ("", "article_url_pattern")],
)
def test_bad_pattern_lists_name_the_entry(pattern: object, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources({"sources": {"s": GOOD | {"article_url_pattern": pattern}}})
    assert info.value.key == key and info.value.source == "s"


def test_one_pattern_as_a_string_still_works() -> None:
    source = parse_sources({"sources": {"s": GOOD}}).get("s")
    assert source.article_url_patterns == (GOOD["article_url_pattern"],)
    assert source.article_id("https://example.vn/x-a5.html") == "5"


def test_ids_read_from_pages_are_validated(sources: Sources) -> None:
    cantho = get_adapter(sources.get("baocantho"))
    page = ("<h1 class='margintopbot10 fw700'>T</h1><span class=pubdate>01/02/2020 - 10:00</span>"
            "<div id=newscontents><p>Đoạn.</p></div><input id=txtnewsid value='{}'>")
    for bad in ("١٢٣", "０１２", "012", "9" * 19):
        # The page's id is no id: the URL's is used.
        article = cantho.parse_article(page.format(bad), "https://baocantho.com.vn/x-a80443.html")
        assert isinstance(article, Article) and article.article_id == "80443"
        assert article.rules["article_id"] != "css:#txtnewsid"
    article = cantho.parse_article(page.format("80443"), "https://baocantho.com.vn/print/x-a80443.html")
    assert isinstance(article, Article) and article.article_id == "80443"
    # Neither page nor URL pattern: the number that ends the URL, if it is a valid id.
    assert isinstance(cantho.parse_article(page.format(""), "https://baocantho.com.vn/print/x-a²³.html"),
                      ExtractionFailure)
    hue = get_adapter(sources.get("hue"))
    dnn = ("<div class='detail-news'><article><h1 class='i-title'>T</h1>"
           "<span class='i-date'>Thứ Năm, 05/03/2026 10:17</span><div class='i-content'><p>Đoạn.</p></div>"
           "</article></div><meta property='article:id' content='{}'>")
    failed = hue.parse_article(dnn.format("１６５６８９"), "https://huengaynay.vn/gioi-thieu")
    assert isinstance(failed, ExtractionFailure) and failed.field == "article_id"
    found = hue.parse_article(dnn.format("165689"), "https://huengaynay.vn/gioi-thieu")
    assert isinstance(found, Article) and found.article_id == "165689"
    assert found.rules["article_id"] == "meta:article:id"


def test_listings_list_only_valid_ids_once_each(sources: Sources) -> None:
    html = """<a href="/x-a١٢٣.html">1</a><a href="/x-a0123.html">2</a><a href="/x-a1234567890123456789.html">3</a>
    <a href="/x-a123.html">4</a><a href="/y-a123.html">same id</a><a href="/x-a124.html?utm=1">5</a>"""
    listing = get_adapter(sources.get("baocantho")).parse_listing(html, "https://baocantho.com.vn/thoi-su/")
    assert listing.article_urls == ("https://baocantho.com.vn/x-a123.html", "https://baocantho.com.vn/x-a124.html?utm=1")
    hue = get_adapter(sources.get("hue")).parse_listing(
        '<a href="https://baothuathienhue.vn/amp.aspx?newid=100343">amp</a>'
        '<a href="https://baothuathienhue.vn/sen-trang-a100343.html">vdoc</a>'
        '<a href="/du-lich/sen-trang-100343.html">dnn</a><a href="/video/x-1875312.html">video</a>',
        "https://huengaynay.vn/du-lich")
    assert hue.article_urls == ("https://baothuathienhue.vn/amp.aspx?newid=100343",)


_CACHE: list[Sources] = []


def _sources() -> Sources:
    """The shipped sources (hypothesis tests cannot take function-scoped fixtures)."""
    if not _CACHE:
        from crawler.config import load_sources

        from .conftest import ROOT

        _CACHE.append(load_sources(ROOT / "sources.yaml"))
    return _CACHE[0]


# -- ids that are not decimal: the shape comes from the source's URL pattern --------------------------------

HEX = "0123456789abcdefABCDEF"
PLATFORM = "https://baodongnai.com.vn/kinh-te/202605/mot-bai-{}/"
hex_ids = st.text(alphabet=HEX, min_size=7, max_size=7)
hostile = st.one_of(
    st.text(min_size=1, max_size=80),  # anything, non-ASCII and control characters included
    st.text(alphabet=HEX + "/.\\%-_ \x00\n", min_size=1, max_size=40),  # near misses: separators, dots, escapes
    st.sampled_from(["..", "../..", "0e36a0a/..", "%2e%2e", "0e36a0a\n", "٠١٢٣٤٥٦", "０ｅ３６ａ０ａ", "0e36a0a" * 5,
                     "ⓐⓑⓒⓓⓔⓕⓐ", "0x1f2e3d4", "-0e36a0"]),
)


def _safe(article_id: str) -> None:
    assert article_id.isascii() and "/" not in article_id and "\\" not in article_id and ".." not in article_id
    assert len(article_id) <= MAX_ARTICLE_ID and SAFE_ID.fullmatch(article_id)
    path = snapshot_relpath("s", article_id, datetime(2026, 5, 16, tzinfo=VN_TZ))
    assert PurePosixPath(path.as_posix()).parts == ("text", "s", "2026", "05", f"{article_id}.txt")


@given(hex_ids)
def test_a_hex_id_is_lower_cased_once_for_all_its_spellings(value: str) -> None:
    source = _sources().get("baodongnai")
    found = {source.article_id(PLATFORM.format(spelling)) for spelling in (value, value.lower(), value.upper())}
    assert found == {value.lower()}
    _safe(value.lower())


@given(hostile, st.sampled_from(list(ID_SHAPES)), st.sampled_from(["", "legacy", "x"]))
def test_hostile_strings_are_no_ids_or_safe_ones(value: str, shape: str, prefix: str) -> None:
    found = valid_article_id(value, shape, prefix)
    if found is not None:
        _safe(found)
        assert found.removeprefix(f"{prefix}-" if prefix else "") == (value.lower() if shape == "hex" else value)
    for source in (_sources().get("baodongnai"), _sources().get("phuyen")):
        for url in (PLATFORM.format(value), f"https://baophuyen.vn/95/{value}/x/", f"https://baophuyen.vn/95/1/{value}/"):
            article_id = source.article_id(url) if source.covers(url) else None
            if article_id is not None:
                _safe(article_id)


@pytest.mark.parametrize("prefix", ["", "Legacy", "a-b", "lég", "x" * 13, "1"])
def test_prefixes_are_few_lower_case_letters(prefix: str) -> None:
    assert valid_article_id("123", "decimal", prefix) == ("123" if prefix == "" else None)


def test_hex_and_decimal_numberings_never_collide_in_one_source() -> None:
    phuyen = _sources().get("phuyen")
    legacy = phuyen.article_id("https://baophuyen.vn/95/1234567/x/")
    platform = phuyen.article_id("https://phuyen.baodaklak.vn/suc-khoe/202503/x-1234567/")
    assert (legacy, platform) == ("legacy-1234567", "1234567")  # an all-digit hex id is not a legacy id
    # The same legacy URL on either host is the same article.
    assert phuyen.article_id("https://phuyen.baodaklak.vn/95/64112/dung-mang/") == "legacy-64112"
    base = GOOD | {"article_url_pattern": [{"pattern": r"-(?P<id>[0-9a-f]{7})/$", "id": "hex"},
                                           r"^/[0-9]+/(?P<id>[0-9]+)/"]}
    with pytest.raises(ConfigError, match="could collide") as info:
        parse_sources({"sources": {"s": base}})
    assert info.value.key == "article_url_pattern[1]"
    fixed = base | {"article_url_pattern": [base["article_url_pattern"][0],
                                            {"pattern": r"^/[0-9]+/(?P<id>[0-9]+)/", "prefix": "old"}]}
    source = parse_sources({"sources": {"s": fixed}}).get("s")
    assert source.article_id("https://example.vn/x-1234567/") == "1234567"
    assert source.article_id("https://example.vn/9/1234567/") == "old-1234567"


@pytest.mark.parametrize(("entry", "key"), [
    ({"pattern": r"-(?P<id>\w+)$", "id": "base64"}, "article_url_pattern[0].id"),
    ({"pattern": r"-(?P<id>\w+)$", "prefix": "Old"}, "article_url_pattern[0].prefix"),
    ({"pattern": r"-(?P<id>\w+)$", "prefix": 3}, "article_url_pattern[0].prefix"),
    ({"pattern": r"-(?P<id>\w+)$", "shape": "hex"}, "article_url_pattern[0].shape"),
    ({"id": "hex"}, "article_url_pattern"),
    ({"pattern": r"-(\w+)$", "id": "hex"}, "article_url_pattern[0]"),
])
def test_bad_pattern_entries_name_the_entry(entry: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources({"sources": {"s": GOOD | {"article_url_pattern": [entry]}}})
    assert info.value.key == key and info.value.source == "s"


def test_listings_of_hex_ids_keep_numberings_and_hosts_apart() -> None:
    html = """<a href="/kinh-te/202605/a-0E36A0A/">upper</a><a href="/xa-hoi/202605/b-0e36a0a/?v=1.1">same id</a>
    <a href="https://baokhanhhoa.vn/kinh-te/202605/c-1111111/">another tenant</a>
    <a href="/kinh-te/202605/d-12345678/">8</a>
    <a href="/file/e7837c02876411cd0187645a2551379f/upload/xdata/202603/x.pdf">file</a><a href="/95/64112/x/">legacy</a>
    <a href="/kinh-te/202605/e-2222222/">f</a>"""
    listing = get_adapter(_sources().get("baodongnai")).parse_listing(html, "https://baodongnai.com.vn/")
    assert listing.article_urls == ("https://baodongnai.com.vn/kinh-te/202605/a-0E36A0A/",
                                    "https://baodongnai.com.vn/kinh-te/202605/e-2222222/")
    assert listing.next_url is None  # pagination: none
    phuyen = get_adapter(_sources().get("phuyen")).parse_listing(
        html.replace("baokhanhhoa.vn", "baophuyen.vn"), "https://phuyen.baodaklak.vn/")
    assert [_sources().get("phuyen").article_id(u) for u in phuyen.article_urls] == [
        "0e36a0a", "1111111", "legacy-64112", "2222222"]
