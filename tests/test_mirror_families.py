"""The mirror's family papers (Mediatech, the Java platform with hex ids, OneCMS) and Huế's feed index."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from crawler.config import ConfigError, Sources, load_sources, parse_sources
from crawler.discovery.feed_index import feed_links
from crawler.mirror import Mirror
from crawler.mirror.site import Site
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import render_snapshot

REAL = Path(__file__).parent / "fixtures" / "real"
FAMILY = {"baotayninh": "mediatech", "baodongnai": "javaplatform", "baonghean": "onecms"}
# The selectors each family's real article page answers (tests/fixtures/real): the mirror's pages must too.
SHAPES = {
    "baotayninh": ("baotayninh-88701.html", (
        'meta[name="author"][content="MEDIATECH"]', "section.page-info #post-id", "section.page-info #cate-url",
        "div.breadcrumbs ol.breadcrumb li.active a", "div.title-time", ".content-article h1.name",
        ".content-article div.date", "#content-detail div.sapo", "#content-detail p.sapo",
        "#content-detail div.wp-caption p.wp-caption-text span", "#content-detail div.author strong",
        "div.topics", "div.relates", "section.box-comments", "script[type='application/ld+json']")),
    "baodongnai": ("phuyen-64112.html", (
        "#page_info #parent_site_id", "#page_info #cate_url", "#page_info #article_id",
        'link[href*="/common/v2/"]', "main nav.group-category ol.breadcrumb li.breadcrumb-item a",
        "div.group-time time.time", "div.detail-main-title h1.title", "div.content-reply p.reply",
        "div.td-post-content p.MsoNormal", "div.td-post-content table td p span",
        'div.td-post-content p[align="right"]',
        "div.after-author p.author", "div.tags-box", 'meta[property="og:url"]')),
    "baonghean": ("baonghean-10264116.html", (
        'link[href*=".1cdn.vn/"]', 'nav[aria-label="breadcrumb"] ol.breadcrumb li.breadcrumb-item a',
        "div.c-news-detail div.b-maincontent article.entry div.sc-longform-header",
        "span.sc-longform-header-cate", "h1.sc-longform-header-title", "span.sc-longform-header-author",
        "span.sc-longform-header-date", "p.sc-longform-header-sapo", "div.c-author-page", "div.c-share-detail",
        "div.c-widget-tags", 'meta[property="dable:item_id"]', 'meta[name="article:published_time"]',
        'link[rel="canonical"]')),
}


@pytest.fixture(scope="module")
def sources() -> Sources:
    return load_sources()


def _page(site: Site, key: str, index: int) -> tuple[str, bytes]:
    head = site.generator.headline(key, index)
    page = site.page(head.host, head.path, rewrite=False)
    assert page.status == 200, head.url
    return head.url, page.body


@pytest.mark.parametrize("seed", [1, 7, 23])
@pytest.mark.parametrize("key", list(FAMILY))
def test_every_generated_page_gives_its_expected_snapshot(sources: Sources, key: str, seed: int) -> None:
    site = Site(120, seed, families=True)
    adapter = get_adapter(sources.get(key))
    for index in range(site.catalogs[key].count):
        url, body = _page(site, key, index)
        article = adapter.parse_article(body, url)
        assert not hasattr(article, "reason"), (url, article)
        spec = site.article(key, site.catalogs[key].article_id(index))
        from crawler.mirror.snapshot import snapshot
        assert render_snapshot(article) == snapshot(spec), url  # type: ignore[arg-type]
        assert article.rules["template"] == FAMILY[key] and article.article_id == spec.article_id  # type: ignore[union-attr]


@pytest.mark.parametrize("key", list(FAMILY))
def test_article_markup_has_the_shapes_of_the_real_page(key: str) -> None:
    name, selectors = SHAPES[key]
    real = LexborHTMLParser((REAL / name).read_bytes())
    site = Site(40, 3, families=True)
    pages = [LexborHTMLParser(_page(site, key, i)[1]) for i in range(40)]
    for selector in selectors:
        assert real.css_first(selector) is not None, f"{selector} is not on the real page {name}"
        assert any(p.css_first(selector) is not None for p in pages), f"{selector}: no generated page has it"


def test_dates_are_printed_as_each_family_prints_them() -> None:
    site = Site(5, 1, families=True)
    spec = site.article("baotayninh", site.catalogs["baotayninh"].article_id(0))
    text = _page(site, "baotayninh", 0)[1].decode()
    assert re.search(r"(Thứ [2-7]|Chủ nhật), \d\d/\d\d/\d{4} \| \d\d:\d\d:\d\d \[GMT \+7\]", text)
    assert f"{spec.published:%d/%m/%Y | %H:%M:%S}" in text
    spec = site.article("baodongnai", site.catalogs["baodongnai"].article_id(0))
    assert f'<time class="time">{spec.published:%H:%M, %d/%m/%Y}</time>' in _page(site, "baodongnai", 0)[1].decode()
    spec = site.article("baonghean", site.catalogs["baonghean"].article_id(0))
    assert f">{spec.published:%d/%m/%Y %H:%M}</span>" in _page(site, "baonghean", 0)[1].decode()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_java_platform_ids_are_seven_hex_digits_and_round_trip(seed: int) -> None:
    site = Site(300, seed, families=True)
    catalog = site.catalogs["baodongnai"]
    ids = [catalog.article_id(i) for i in range(catalog.count)]
    assert all(re.fullmatch(r"[0-9a-f]{7}", i) for i in ids) and len(set(ids)) == len(ids)
    assert [catalog.index_of(i) for i in ids] == list(range(catalog.count))
    for wrong in ("ABCDEF0", "0e36a0", "0e36a0a0", "xyz1234", str(int(ids[0], 16))):
        assert catalog.index_of(wrong) is None
    head = site.generator.headline("baodongnai", 5)
    assert re.fullmatch(rf"/[a-z0-9/-]+/{head.published:%Y%m}/[a-z0-9-]+-{head.article_id}/", head.path)


def test_listings_give_the_ids_the_mirror_says(sources: Sources) -> None:
    with Mirror(articles=70, seed=4, families=True) as mirror:
        local = sources.with_origins(mirror.origins)
        site = mirror.site
        shown = {"baotayninh": ["/", "/kinh-te", "/y-te"], "baonghean": ["/", "/suc-khoe"],
                 "baodongnai": ["/", "/chinh-tri/", "/cong-doan/lao-dong-viec-lam/", "/kham-pha-dong-nai"]}
        for key, paths in shown.items():
            source = local.get(key)
            adapter = get_adapter(source)
            host = source.hosts[0]
            for path in paths:
                for page in (1, 2):
                    target = path + (f"?page={page}" if page > 1 else "")
                    body = site.page(host, target).body
                    listing = adapter.parse_listing(body, mirror.origins[host] + target)
                    got = [source.article_id(source.real_url(u)) for u in listing.article_urls]
                    assert got == mirror.listing(key, path, page), (key, target)
        # Mediatech's short videos are another numbering: linked in the article shape, never listed.
        home = site.page("baotayninh.vn", "/").body.decode()
        assert "card-short-video" in home and "-36611.html" in home
        assert "36611" not in mirror.listing("baotayninh", "/")
        assert mirror.article_ids("baodongnai")[0] in mirror.listing("baodongnai", "/chinh-tri/") + [
            i for p in ("/", *(leaf.path for leaf in site.catalogs["baodongnai"].info.leaves))
            for i in mirror.listing("baodongnai", p)]


def test_classic_mirror_is_unchanged_without_families() -> None:
    plain, families = Site(20, 5), Site(20, 5, families=True)
    for host, target in (("baocantho.com.vn", "/"), ("huengaynay.vn", "/kinh-te"), ("baoangiang.com.vn", "/"),
                         ("huengaynay.vn", "/")):
        assert plain.page(host, target).body == families.page(host, target).body
    assert plain.page("baotayninh.vn", "/").status == 404 and set(plain.catalogs) == {"baocantho", "baoangiang", "hue"}


# -- Huế's feed index -----------------------------------------------------------------------------------

HUE_PATTERN = r"^/so-do-website/rss/[0-9]+/?$"


def test_hue_site_map_lists_one_feed_per_section_and_each_feed_answers(sources: Sources) -> None:
    hue = sources.get("hue")
    assert hue.feed_index == ("https://huengaynay.vn/so-do-website",) and hue.feed_link_pattern == HUE_PATTERN
    assert {"https://huengaynay.vn/goc-anh-hue", "https://huengaynay.vn/e-magazine"} <= set(hue.start_pages)
    for path in ("/goc-anh-hue/mot-goc-pho-hue-165689.html", "/e-magazine/song-huong-mua-thu-170001.html"):
        assert hue.article_id("https://huengaynay.vn" + path) == path.rsplit("-", 1)[1].removesuffix(".html")
    with Mirror(articles=30, seed=2) as mirror:
        site = mirror.site
        html = site.page("huengaynay.vn", "/so-do-website").body.decode()
        local = sources.with_origins(mirror.origins).get("hue")
        feeds = feed_links(html, mirror.origins["huengaynay.vn"] + "/so-do-website", local.feed_link_pattern,
                           local.covers, local.real_url)
        tops = list(site.catalogs["hue"].info.tops())
        assert feeds == [f"https://huengaynay.vn/so-do-website/rss/{n}" for n in range(1, len(tops) + 1)]
        for url in feeds:
            page = site.page("huengaynay.vn", url.removeprefix("https://huengaynay.vn"))
            assert page.status == 200 and page.body.startswith(b"<?xml")
        assert site.page("huengaynay.vn", "/so-do-website/rss/999").status == 404
        for section in ("/goc-anh-hue", "/e-magazine"):
            ids = mirror.listing("hue", section)
            assert ids and set(ids) <= set(mirror.article_ids("hue"))
            adapter = get_adapter(local)
            body = site.page("huengaynay.vn", section).body
            listing = adapter.parse_listing(body, mirror.origins["huengaynay.vn"] + section)
            assert [local.article_id(local.real_url(u)) for u in listing.article_urls] == ids


@pytest.mark.parametrize(("html", "expected"), [
    # relative, absolute, duplicate, other host, a section link, an RSS link of another shape
    ('<a href="/so-do-website/rss/3">a</a><a href="https://huengaynay.vn/so-do-website/rss/12/">b</a>'
     '<a href="/so-do-website/rss/3">again</a><a href="https://evil.example/so-do-website/rss/4">x</a>'
     '<a href="/kinh-te">section</a><a href="/rss/home">other shape</a><a href="/so-do-website/rss/x">x</a>',
     ["https://huengaynay.vn/so-do-website/rss/3", "https://huengaynay.vn/so-do-website/rss/12/"]),
    ('<base href="/so-do-website/"><a href="rss/7">rel</a>', ["https://huengaynay.vn/so-do-website/rss/7"]),
    ("<p>no links</p>", []),
    ('<a href="javascript:void(0)">js</a><a href="mailto:x@y.vn">m</a><a href="">e</a>', []),
])
def test_feed_links_keep_same_host_links_of_the_feed_shape(html: str, expected: list[str]) -> None:
    covers = lambda u: u.startswith("https://huengaynay.vn/")  # noqa: E731
    assert feed_links(html, "https://huengaynay.vn/so-do-website", HUE_PATTERN, covers) == expected


def test_feed_links_default_shape() -> None:
    html = '<a href="/rss">a</a><a href="/rss/home">b</a><a href="/x/tin.rss">c</a><a href="/rssx">no</a>'
    from crawler.config import DEFAULT_FEED_LINK_PATTERN
    got = feed_links(html, "https://a.vn/", DEFAULT_FEED_LINK_PATTERN, lambda u: True)
    assert got == ["https://a.vn/rss", "https://a.vn/rss/home", "https://a.vn/x/tin.rss"]


BLOCK = {"name": "X", "adapter": "vdoc", "hosts": ["a.vn"], "base_url": "https://a.vn/",
         "article_url_pattern": r"^/[^/]+-a(?P<id>[0-9]+)\.html$"}


@pytest.mark.parametrize(("extra", "message"), [
    ({"feed_link_pattern": "(unclosed"}, "feed_link_pattern"),
    ({"feed_link_pattern": ""}, "feed_link_pattern"),
    ({"feed_link_pattern": 3}, "feed_link_pattern"),
    ({"feed_index": ["https://other.vn/map"]}, "feed_index"),
    ({"feed_index": [3]}, "feed_index"),
    ({"feed_index": {"a": 1}}, "feed_index"),
])
def test_feed_index_settings_are_validated(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sources({"sources": {"x": {**BLOCK, **extra}}})


def test_feed_index_accepts_one_path_or_a_list() -> None:
    one = parse_sources({"sources": {"x": {**BLOCK, "feed_index": "/map"}}}).get("x")
    many = parse_sources({"sources": {"x": {**BLOCK, "feed_index": ["/map", "/rss-list"]}}}).get("x")
    assert one.feed_index == ("https://a.vn/map",) and many.feed_index == ("https://a.vn/map", "https://a.vn/rss-list")
    assert parse_sources({"sources": {"x": BLOCK}}).get("x").feed_index == ()
