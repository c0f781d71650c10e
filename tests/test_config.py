"""sources.yaml parsing: the shipped file loads; bad files name the source and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.config import Sources, load_sources, parse_sources
from crawler.errors import ConfigError, UnknownSourceError

GOOD = {
    "adapter": "vdoc", "hosts": ["example.vn"], "base_url": "https://example.vn/",
    "article_url_pattern": r"-a(?P<id>\d+)\.html$",
}


def test_shipped_sources(sources: Sources) -> None:
    assert [s.key for s in sources] == ["baocantho", "hue", "baoangiang"]
    hue = sources.get("hue")
    assert hue.hosts == ("huengaynay.vn", "baothuathienhue.vn")
    assert sources.for_url("https://www.baothuathienhue.vn/a/b-144988.html") is hue
    assert hue.article_id("https://baothuathienhue.vn/kinh-te/thong-tin-thi-truong/x-144988.html") == "144988"
    assert hue.article_id("https://huengaynay.vn/kinh-te/") is None
    cantho = sources.get("baocantho")
    assert cantho.article_id("https://baocantho.com.vn/slug--a80443.html") == "80443"
    assert cantho.article_id("https://baocantho.com.vn/print/slug-a80443.html") is None
    assert cantho.politeness.concurrency == 2 and cantho.politeness.delay == 1.0
    with pytest.raises(UnknownSourceError, match=r"example\.org"):
        sources.for_url("https://example.org/x-a1.html")


def test_origins_keep_real_urls(sources: Sources) -> None:
    local = sources.with_origins({"baocantho.com.vn": "http://127.0.0.1:4000"})
    moved = local.get("baocantho")
    assert moved.hosts == ("baocantho.com.vn",) and moved.start_pages[0] == "https://baocantho.com.vn/"
    # A link to the mirror's own address is the real page.
    assert moved.covers("http://127.0.0.1:4000/x-a12.html")
    assert moved.real_url("http://127.0.0.1:4000/x-a12.html?p=2#top") == "https://baocantho.com.vn/x-a12.html?p=2"
    assert local.for_url("http://127.0.0.1:4000/x-a12.html") is moved
    assert local.origins.connect_url("https://baocantho.com.vn/x-a12.html") == "http://127.0.0.1:4000/x-a12.html"
    assert local.origins.connect_url("https://huengaynay.vn/") is None
    assert not local.get("hue").covers("http://127.0.0.1:4000/x-a12.html")
    assert local.only(["hue"]).origins is local.origins  # a subset keeps the mapping


@pytest.mark.parametrize("item", [
    ("baolongan.vn", "http://127.0.0.1:1"),  # no source has it: must not silently crawl the real site
    ("baocantho.com.vn", "http://127.0.0.1:1/path"),
    ("baocantho.com.vn", "ftp://127.0.0.1:1"),
    ("baocantho.com.vn", "http://127.0.0.1:99999"),
    ("baocantho.com.vn", "http://"),
])
def test_bad_origins_are_config_errors(sources: Sources, item: tuple[str, str]) -> None:
    with pytest.raises(ConfigError, match="--origin"):
        sources.with_origins([item])


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"adapter": "nope"}, "adapter"),
        ({"hosts": []}, "hosts"),
        ({"base_url": "ftp://example.vn/"}, "base_url"),
        ({"base_url": "https://other.vn/"}, "base_url"),
        ({"article_url_pattern": "(unclosed"}, "article_url_pattern"),
        ({"article_url_pattern": r"\d+"}, "article_url_pattern"),
        ({"start_pages": ["https://elsewhere.vn/"]}, "start_pages"),
        ({"politeness": {"delay": -1}}, "politeness.delay"),
        ({"politeness": {"concurrency": 0}}, "politeness.concurrency"),
        ({"politeness": {"speed": 3}}, "politeness.speed"),
        ({"listing_depth": 0}, "listing_depth"),
        ({"colour": "red"}, "colour"),
        ({"pagination": "pages"}, "pagination"),
    ],
)
def test_bad_source_names_source_and_key(change: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources({"sources": {"mysite": GOOD | change}})
    assert info.value.source == "mysite"
    assert info.value.key == key
    assert "mysite" in str(info.value) and key in str(info.value)


def test_missing_required_key() -> None:
    block = dict(GOOD)
    del block["adapter"]
    with pytest.raises(ConfigError, match="source 'mysite', key 'adapter': is required"):
        parse_sources({"sources": {"mysite": block}})


def test_host_claimed_twice() -> None:
    with pytest.raises(ConfigError, match="already claimed"):
        parse_sources({"sources": {"a": GOOD, "b": GOOD}})


def test_invalid_yaml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "s.yaml"
    bad.write_text("sources: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "missing.yaml")


def test_adding_a_vdoc_province_is_a_config_entry() -> None:
    sources = parse_sources({"sources": {"baolongan": GOOD | {"hosts": ["baolongan.vn"],
                                                             "base_url": "https://baolongan.vn/"}}})
    assert sources.get("baolongan").adapter == "vdoc"
