"""sources.yaml parsing: the shipped file loads; bad files name the source and the key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crawler.config import (
    PACKAGED_SOURCES_FILE,
    Sources,
    default_sources_path,
    load_sources,
    parse_sources,
)
from crawler.config.checks import host_problem, http_url_problem
from crawler.errors import ConfigError, UnknownSourceError

ROOT = Path(__file__).resolve().parent.parent

GOOD = {
    "adapter": "vdoc", "hosts": ["example.vn"], "base_url": "https://example.vn/",
    "article_url_pattern": r"-a(?P<id>\d+)\.html$",
}


def test_shipped_sources(sources: Sources) -> None:
    assert [s.key for s in sources][:3] == ["baocantho", "hue", "baoangiang"]
    assert {s.key for s in sources if s.adapter == "mediatech"} == {
        "baotayninh", "baocaobang", "baohungyen", "baolangson", "baoquangninh"}
    assert {s.key for s in sources if s.adapter == "onecms"} == {"baonghean", "baodanang", "baohaiphong"}
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
    ("baohaugiang.com.vn", "http://127.0.0.1:1"),  # no source has it (closed 2025): never crawl it live
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
        # wrong types and out-of-range values
        ({"listing_depth": True}, "listing_depth"),
        ({"listing_depth": 1.5}, "listing_depth"),
        ({"listing_depth": 10**9}, "listing_depth"),
        ({"politeness": {"delay": float("inf")}}, "politeness.delay"),
        ({"politeness": {"delay": float("nan")}}, "politeness.delay"),
        ({"politeness": {"delay": "1"}}, "politeness.delay"),
        ({"politeness": {"delay": True}}, "politeness.delay"),
        ({"politeness": {"delay": 86400}}, "politeness.delay"),
        ({"politeness": {"timeout": 0}}, "politeness.timeout"),
        ({"politeness": {"timeout": -1}}, "politeness.timeout"),
        ({"politeness": {"timeout": float("inf")}}, "politeness.timeout"),
        ({"politeness": {"concurrency": 2.5}}, "politeness.concurrency"),
        ({"politeness": {"concurrency": 10**6}}, "politeness.concurrency"),
        ({"politeness": {"concurrency": True}}, "politeness.concurrency"),
        ({"politeness": {"respect_robots": "yes"}}, "politeness.respect_robots"),
        ({"politeness": {"respect_robots": 1}}, "politeness.respect_robots"),
        ({"politeness": [1]}, "politeness"),
        ({"options": {"sapo_prefixes": 5}}, "options.sapo_prefixes"),
        ({"options": {"sapo_prefixes": "(LA)"}}, "options.sapo_prefixes"),
        ({"options": {"sapo_prefixes": [""]}}, "options.sapo_prefixes"),
        ({"options": {"sapo_prefixes": [1]}}, "options.sapo_prefixes"),
        ({"options": {"selectors": ["a"]}}, "options.selectors"),
        ({"options": {"selectors": {"title": "h1"}}}, "options.selectors.title"),
        ({"options": {"selectors": {"title": ["h1["]}}}, "options.selectors.title"),
        ({"options": {"selectors": {"body": [""]}}}, "options.selectors.body"),
        ({"options": {"selectors": {"titel": ["h1"]}}}, "options.selectors.titel"),
        ({"options": {"drop": "x"}}, "options.drop"),
        ({"options": {"drop": ["h1["]}}, "options.drop"),
        ({"options": {"drop": ["div >"]}}, "options.drop"),
        ({"options": {"drop": ["a", ","]}}, "options.drop"),
        ({"options": {"drop": [None]}}, "options.drop"),
        ({"options": {"selector": {"title": ["h1"]}}}, "options.selector"),
        ({"options": ["x"]}, "options"),
        # malformed hosts (each used to normalise to something and be accepted)
        ({"hosts": ["::1:8080"]}, "hosts"),
        ({"hosts": ["example.vn", "::1"]}, "hosts"),
        ({"hosts": ["example.vn", "[::1:8080:x]"]}, "hosts"),
        ({"hosts": ["example.vn", "[1.2.3.4]"]}, "hosts"),
        ({"hosts": ["example.vn", "http://x.vn"]}, "hosts"),
        ({"hosts": ["example.vn", "x.vn/path"]}, "hosts"),
        ({"hosts": ["example.vn", "x.vn:99999"]}, "hosts"),
        ({"hosts": ["example.vn", "x.vn:0"]}, "hosts"),
        ({"hosts": ["example.vn", "x .vn"]}, "hosts"),
        ({"hosts": ["example.vn", " x.vn"]}, "hosts"),
        ({"hosts": ["example.vn", "user@x.vn"]}, "hosts"),
        ({"hosts": ["example.vn", "-x-.vn"]}, "hosts"),
        ({"hosts": ["example.vn", ""]}, "hosts"),
        ({"hosts": "example.vn"}, "hosts"),
        ({"base_url": "https://[::1/"}, "base_url"),
        ({"base_url": "https://example.vn:99999/"}, "base_url"),
        ({"start_pages": ["https://[::1/"]}, "start_pages"),
        ({"feeds": ["/a b.rss"]}, "feeds"),
        ({"name": "Báo\nLong An"}, "name"),  # goes into every warcinfo record: one line
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 5}, "name"),
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


def test_good_hosts_are_accepted() -> None:
    hosts = ["example.vn", "WWW.Other.vn", "127.0.0.1:8080", "[::1]:8080", "[2001:db8::1]", "a-b.c_d.vn."]
    sources = parse_sources({"sources": {"s": GOOD | {"hosts": hosts}}})
    hosts_found = sources.get("s").hosts
    assert hosts_found[:3] == ("example.vn", "other.vn", "127.0.0.1:8080") and hosts_found[-1] == "a-b.c_d.vn"
    assert len(hosts_found) == len(hosts) and all(hosts_found)


def test_good_options_are_kept() -> None:
    options = {"sapo_prefixes": ["(LA)"], "selectors": {"title": ["h1.title-detail", "h1"]},
               "drop": ["div.box-ads", '[class^="AMN"]']}
    sources = parse_sources({"sources": {"s": GOOD | {"options": options}}})
    assert dict(sources.get("s").options) == options
    with pytest.raises(ConfigError, match=r"options\.selectors.*unknown option for adapter 'hue'"):
        parse_sources({"sources": {"s": GOOD | {"adapter": "hue", "options": {"selectors": {}}}}})


@pytest.mark.parametrize("key", ["s1\n", "S1", "1s", "s" * 41, "", "s 1", "s/1", "s1\x00"])
def test_bad_source_keys(key: str) -> None:
    with pytest.raises(ConfigError, match="a source key is") as info:
        parse_sources({"sources": {key: GOOD}})
    assert "\n" not in str(info.value)  # the key is quoted: the message stays one line


def test_keys_of_other_types_are_reported_not_crashed_on() -> None:
    with pytest.raises(ConfigError, match="a source key is"):
        parse_sources({"sources": {1: GOOD}})
    with pytest.raises(ConfigError, match=r"politeness\.1"):  # sorting 1 and "x" raised TypeError
        parse_sources({"sources": {"s": GOOD | {"politeness": {1: 2, "x": 3}}}})
    with pytest.raises(ConfigError, match="unknown top-level"):
        parse_sources({"sources": {"s": GOOD}, 1: 2, "x": 3})
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_sources({"sources": {"s": GOOD | {None: 1, "x": 2}}})


def test_unknown_defaults_key() -> None:
    with pytest.raises(ConfigError, match=r"defaults\.colour"):
        parse_sources({"defaults": {"colour": "red"}, "sources": {"s": GOOD}})


def write(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


SOURCE_BLOCK = """\
  s1:
    adapter: vdoc
    hosts: [example.vn]
    base_url: https://example.vn/
    article_url_pattern: '-a(?P<id>\\d+)\\.html$'
"""


@pytest.mark.parametrize(("text", "line", "key"), [
    ("sources:\n" + SOURCE_BLOCK + SOURCE_BLOCK, 7, "s1"),                      # a source pasted twice
    ("sources:\n" + SOURCE_BLOCK + "    adapter: hue\n", 7, "adapter"),       # a setting given twice
    ("sources:\n" + SOURCE_BLOCK + "    politeness: {delay: 1, delay: 2}\n", 7, "delay"),
    ("sources:\n" + SOURCE_BLOCK + "sources: {}\n", 7, "sources"),
    ("defaults: {}\ndefaults: {}\nsources:\n" + SOURCE_BLOCK, 2, "defaults"),
])
def test_duplicate_yaml_keys_are_refused(tmp_path: Path, text: str, line: int, key: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    message = str(info.value)
    assert f"line {line}: duplicate key {key!r}" in message and str(path) in message and "\n" not in message


def test_yaml_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    text = ("base: &base\n  adapter: vdoc\n  hosts: [example.vn]\n  base_url: https://example.vn/\n"
            "  article_url_pattern: '-a(?P<id>\\d+)'\n  listing_depth: 3\n")
    # Merges are not part of this file's schema at the top level, so put the anchor inside sources.
    path = write(tmp_path, "sources:\n  s1: " + text.replace("\n", "\n      ").replace("base: &base", "&base")
                 + "\n  s2:\n    <<: *base\n    hosts: [other.vn]\n    base_url: https://other.vn/\n")
    sources = load_sources(path)
    assert sources.get("s2").hosts == ("other.vn",) and sources.get("s2").listing_depth == 3


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"sources:\n  s1:\n    name: B\xe1o C\xe2n\n")  # Latin-1, not UTF-8
    with pytest.raises(ConfigError, match=r"line 3: not UTF-8 text \(byte 0xe1 at offset 26\)"):
        load_sources(path)


def test_yaml_errors_are_one_line(tmp_path: Path) -> None:
    for text in ("sources: [unclosed", "sources:\n  s1: {a: 1\n  b: 2", "\tsources: 1", "a: b: c", "x: \x07",
                 "sources: !!python/object:os.system {}"):
        with pytest.raises(ConfigError, match="not valid YAML: line") as info:
            load_sources(write(tmp_path, text))
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_sources(write(tmp_path, "[" * 100_000))


def test_sources_path_that_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        load_sources(tmp_path)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):  # reading it would block forever
        load_sources(fifo)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (2 << 20))
    with pytest.raises(ConfigError, match="larger than"):
        load_sources(big)


@pytest.mark.parametrize(("url", "problem"), [
    ("not-a-url", "scheme"), ("ftp://x.vn/", "scheme"), ("http://", "no host"), ("https:///a", "no host"),
    ("http://[::1", "IPv6"), ("http://x.vn:99999/", "ort"), ("http://x.vn:0/", "port 0"),
    ("http://a b.vn/", "spaces"), ("http://x.vn/\n", "control"), ("http://::1:8080/", "ort"),
    ("http://[::1::2]/", "IPv6"), ("http://x..vn/", "not a host"), ("mailto:a@x.vn", "scheme"),
])
def test_http_url_problem(url: str, problem: str) -> None:
    found = http_url_problem(url)
    assert found is not None and problem in found


@pytest.mark.parametrize("url", ["https://baocantho.com.vn/x-a1.html", "http://127.0.0.1:8001/", "HTTP://X.VN",
                                 "http://[::1]:8080/a?b=c", "https://user@x.vn/"])
def test_http_urls_accepted(url: str) -> None:
    assert http_url_problem(url) is None
    assert host_problem("x.vn:8080") is None


def test_default_sources_path_is_local_then_packaged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_sources_path() == PACKAGED_SOURCES_FILE
    assert [s.key for s in load_sources()] == [s.key for s in load_sources(PACKAGED_SOURCES_FILE)]
    assert [s.key for s in load_sources()][:3] == ["baocantho", "hue", "baoangiang"]
    write(tmp_path, "sources:\n" + SOURCE_BLOCK)
    assert default_sources_path() == Path("sources.yaml")
    assert [s.key for s in load_sources()] == ["s1"]


def test_the_repository_sources_file_is_the_packaged_one() -> None:
    top = ROOT / "sources.yaml"
    assert top.is_symlink() and os.readlink(top) == "crawler/data/sources.yaml"
    assert top.resolve() == PACKAGED_SOURCES_FILE


def test_the_selector_fields_a_source_may_set_are_the_fields_the_adapters_read() -> None:
    from crawler.config.checks import SELECTOR_FIELDS
    from crawler.parse.adapters.vdoc import DEFAULT_SELECTORS

    assert tuple(DEFAULT_SELECTORS) == SELECTOR_FIELDS
def _laughs(levels: int, width: int = 9) -> str:
    lines = ["a0: &a0 [lol]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines)


@pytest.mark.parametrize("where", [
    "top: {laughs}\nsources: {{}}\n",  # at the top level (an unknown key: its value is quoted)
    "sources:\n  s1:\n    name: {laughs}\n",  # a value that is validated and quoted
    "sources:\n  s1:\n    hosts: {laughs}\n",
    "defaults:\n  politeness: {laughs}\nsources: {{}}\n",
    "sources:\n  s1:\n    selectors: {{title: {laughs}}}\n",
    "sources:\n  {laughs}: 1\n",  # as a key
])
@pytest.mark.parametrize("levels", [6, 10])
def test_a_yaml_alias_bomb_is_refused_at_once_in_one_line(tmp_path: Path, where: str, levels: int) -> None:
    anchors = _laughs(levels)
    flow = "{" + ", ".join(line.replace(": &", ": &") for line in anchors.splitlines()) + "}"
    path = write(tmp_path, where.format(laughs=flow))
    assert path.stat().st_size < 1000
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "crawler", "sources", "--sources", str(path)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert time.perf_counter() - start < 5  # the interpreter's start included; the check itself is ms
    assert result.returncode == 2, result.stderr[:500]
    assert len(result.stderr.splitlines()) == 1 and len(result.stderr) < 1000, result.stderr[:500]
    assert "Traceback" not in result.stderr


def test_a_huge_value_is_never_quoted_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "sources:\n  s1:\n    adapter: vdoc\n    hosts: [s.vn]\n    base_url: https://s.vn/\n"
                 "    article_url_pattern: '-a(?P<id>\\d+)'\n    name: '" + "x" * 900_000 + "'\n")
    with pytest.raises(ConfigError) as info:
        load_sources(path)
    assert len(str(info.value)) < 1000 and "900,0" in str(info.value)


def test_shared_anchors_within_bounds_still_load(tmp_path: Path) -> None:
    block = ("&pol {delay: 1, respect_robots: false}")
    path = write(tmp_path, "sources:\n" + "".join(
        f"  s{i}:\n    adapter: vdoc\n    hosts: [s{i}.vn]\n    base_url: https://s{i}.vn/\n"
        f"    article_url_pattern: '-a(?P<id>\\d+)'\n    politeness: {block if i == 0 else '*pol'}\n"
        for i in range(50)))
    assert len(load_sources(path)) == 50
