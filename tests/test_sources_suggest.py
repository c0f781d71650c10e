"""``crawler sources --suggest``: every saved home page gives a ready, valid sources.yaml entry of its family."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crawler.config import Sources, parse_sources
from crawler.parse.adapters.base import parse_listing_links
from crawler.parse.families import FAMILIES, UNKNOWN, recognise
from crawler.use.suggest import source_key, suggest

REAL = Path(__file__).parent / "fixtures" / "real"
# saved home page -> (URL it was served at, family, configured source of the same paper or None)
HOMES = {
    "baocantho-home-2026-05.html": ("https://baocantho.com.vn/", "vdoc", "baocantho"),
    "baoangiang-home-2026-05.html": ("https://baoangiang.com.vn/", "vdoc", "baoangiang"),
    "baodongkhoi-home-2026-05.html": ("https://dongkhoi.baovinhlong.vn/", "vdoc", "dongkhoi"),
    "huengaynay-home-2026-05.html": ("https://huengaynay.vn/", "dotnetnuke", "hue"),
    "baovephapluat-home-2026-05.html": ("https://baovephapluat.vn/", "dotnetnuke", None),
    "baodongnai-home-2026-05.html": ("https://baodongnai.com.vn/", "java-platform", "baodongnai"),
    "baokhanhhoa-home-2026-05.html": ("https://baokhanhhoa.vn/", "java-platform", "baokhanhhoa"),
    "baobacninhtv-home-2026-05.html": ("https://baobacninhtv.vn/", "bbg", "baobacninh"),
    "baotayninh-home-2026-05.html": ("https://baotayninh.vn/", "mediatech", "baotayninh"),
    "baocaobang-home-2026-05.html": ("https://baocaobang.vn/", "mediatech", "baocaobang"),
}


def test_every_saved_home_page_is_listed_here() -> None:
    assert {p.name for p in REAL.glob("*-home-*.html")} <= set(HOMES)


@pytest.mark.parametrize("page", sorted(HOMES))
def test_a_saved_home_page_gives_a_valid_entry_of_its_family(sources: Sources, page: str) -> None:
    path = REAL / page
    if not path.is_file():
        pytest.skip(f"{page} is not among the saved pages")
    url, family, configured = HOMES[page]
    html = path.read_bytes()
    assert recognise(html).name == family
    suggestion = suggest(url, html)
    assert suggestion.family.name == family
    # The entry is YAML that the configuration accepts as it is, with the family's adapter.
    data = yaml.safe_load(suggestion.entry)
    source = parse_sources({"sources": data}).get(suggestion.key)
    assert source.adapter == suggestion.family.adapter
    assert source.start_pages[0] == url and len(source.start_pages) >= 5
    # It says how many article links the page shows, and finds what the configured source finds.
    assert f"{suggestion.article_links} article links" in suggestion.entry.splitlines()[0]
    assert suggestion.article_links == len(parse_listing_links(source, html, url).article_urls) > 0
    if configured is not None and configured in {s.key for s in sources}:
        mine = parse_listing_links(sources.get(configured), html, url).article_urls
        assert suggestion.article_links == len(mine)


def test_a_page_of_no_known_family_gets_the_generic_adapter_and_a_note() -> None:
    html = ("<html><head><title>Báo X</title></head><body><nav><a href='/thoi-su'>Thời sự</a>"
            "<a href='/kinh-te'>Kinh tế</a><a href='/video'>Video</a><a href='/xa-hoi'>X</a></nav>"
            "<a href='/gia-lua-tang-12345.html'>Giá lúa</a></body></html>").encode()
    suggestion = suggest("https://baox.vn/", html)
    assert suggestion.family is UNKNOWN and suggestion.source.adapter == "generic"
    assert "no known CMS family" in suggestion.entry
    assert suggestion.source.start_pages == ("https://baox.vn/", "https://baox.vn/thoi-su", "https://baox.vn/kinh-te",
                                             "https://baox.vn/xa-hoi")  # /video is left out
    assert suggestion.article_links == 1


def test_family_markers_do_not_overlap() -> None:
    """Each saved page carries the markers of exactly one family."""
    for page in HOMES:
        path = REAL / page
        if path.is_file():
            html = path.read_bytes()
            hits = [f.name for f in FAMILIES if any(m.search(html) for m in f.markers)]
            assert len(hits) == 1, (page, hits)


@pytest.mark.parametrize(("host", "key"), [("baotayninh.vn", "baotayninh"), ("www.baocantho.com.vn", "baocantho"),
                                           ("phuyen.baodaklak.vn", "phuyen-baodaklak"), ("123.vn", "s-123")])
def test_source_keys(host: str, key: str) -> None:
    assert source_key(host) == key


def test_a_fetched_home_page_of_the_mirror_gives_its_family_and_articles() -> None:
    from crawler.mirror import Mirror
    from crawler.use.suggest import fetch_home

    with Mirror(articles=6, seed=2) as mirror:
        url, html = fetch_home("https://baothuathienhue.vn/", list(mirror.origins.items()), timeout=10)
        ids = mirror.article_ids("hue")
    suggestion = suggest(url, html, also=("baothuathienhue.vn",))
    assert url == "https://huengaynay.vn/"  # the old host redirects to the new one, as on the real site
    assert suggestion.family.name == "dotnetnuke"
    assert suggestion.article_links > 0 and suggestion.source.hosts == ("huengaynay.vn", "baothuathienhue.vn")
    listed = {suggestion.source.article_id(u) for u in parse_listing_links(suggestion.source, html, url).article_urls}
    assert listed <= set(ids) | {None}


# `crawler sources --suggest URL [PAGE | --fetch]`: the command line around suggest() and fetch_home().

def run_suggest(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from crawler.cli import main

    capsys.readouterr()
    code = main(["sources", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("page", sorted(HOMES))
def test_the_command_prints_the_entry_of_a_saved_home_page(capsys: pytest.CaptureFixture[str], page: str) -> None:
    path = REAL / page
    if not path.is_file():
        pytest.skip(f"{page} is not among the saved pages")
    url = HOMES[page][0]
    code, out, err = run_suggest(capsys, "--suggest", url, str(path))
    assert (code, err) == (0, "")
    expected = suggest(url, path.read_bytes())
    assert out == expected.entry  # header comment and YAML, as they are
    key, = yaml.safe_load(out)
    assert parse_sources({"sources": yaml.safe_load(out)}).get(key).adapter == expected.family.adapter


def test_the_entry_of_the_tay_ninh_home_page(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_suggest(capsys, "--suggest", "https://baotayninh.vn/",
                               str(REAL / "baotayninh-home-2026-05.html"))
    assert code == 0
    assert out.startswith("# baotayninh.vn: CMS family mediatech; ")
    entry = yaml.safe_load(out)["baotayninh"]
    assert entry["adapter"] == "mediatech" and entry["hosts"] == ["baotayninh.vn"]
    assert entry["base_url"] == "https://baotayninh.vn/" and entry["start_pages"][0] == "/"


def test_a_page_listing_no_article_prints_the_entry_and_exits_1(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "home.html"
    page.write_text("<html><head><title>Báo X</title></head><body><nav><a href='/thoi-su'>Thời sự</a>"
                    "<a href='/kinh-te'>Kinh tế</a></nav><p>Không có bài</p></body></html>", encoding="utf-8")
    code, out, err = run_suggest(capsys, "--suggest", "https://baox.vn/", str(page))
    assert code == 1
    assert yaml.safe_load(out)["baox"]["hosts"] == ["baox.vn"]  # still printed
    assert len(err.splitlines()) == 1 and err.startswith("crawler: ") and "no article link" in err


@pytest.mark.parametrize(("url", "final", "family", "hosts"), [
    ("https://baothuathienhue.vn/", "https://huengaynay.vn/", "dotnetnuke", ["huengaynay.vn", "baothuathienhue.vn"]),
    ("https://baotayninh.vn/", "https://baotayninh.vn/", "mediatech", ["baotayninh.vn"]),
    ("https://baocantho.com.vn/", "https://baocantho.com.vn/", "vdoc", ["baocantho.com.vn"]),
])
def test_fetch_takes_the_home_page_from_the_mirror(capsys: pytest.CaptureFixture[str], url: str, final: str,
                                                  family: str, hosts: list[str]) -> None:
    from crawler.mirror import Mirror
    from tests.conftest import origin_args

    with Mirror(articles=6, seed=2, families=True) as mirror:
        code, out, err = run_suggest(capsys, "--suggest", url, "--fetch", *origin_args(mirror), "--timeout", "10")
    assert (code, err) == (0, "")
    assert out.startswith(f"# {hosts[0]}: CMS family {family}; ")
    (key, entry), = yaml.safe_load(out).items()
    assert entry["hosts"] == hosts  # redirected: the asked host is the paper's too
    assert entry["base_url"] == final
    source = parse_sources({"sources": {key: entry}}).get(key)
    assert int(out.split("; ")[1].split()[0]) > 0  # "N article links"
    assert source.adapter == {f.name: f.adapter for f in FAMILIES}[family]


def test_fetch_of_a_page_that_is_not_there_fails_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.mirror import Mirror
    from tests.conftest import origin_args

    with Mirror(articles=3, seed=2) as mirror:
        code, out, err = run_suggest(capsys, "--suggest", "https://baocantho.com.vn/no-such-page", "--fetch",
                                     *origin_args(mirror), "--timeout", "10")
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and "https://baocantho.com.vn/no-such-page" in err and "404" in err


@pytest.mark.parametrize("args", [
    ["--suggest", "https://baotayninh.vn/"],  # neither PAGE nor --fetch
    ["--suggest", "https://baotayninh.vn/", "PAGE", "--fetch"],  # both
    ["PAGE"],  # PAGE without --suggest
    ["--suggest", "https://baotayninh.vn/", "PAGE", "--check"],
    ["--suggest", "https://baotayninh.vn/", "PAGE", "--json"],
    ["--suggest", "https://baotayninh.vn/", "PAGE", "--source", "hue"],
    ["--suggest", "https://baotayninh.vn/", "--fetch", "--origin", "baotayninh.vn"],  # not HOST=URL
    ["--suggest", "https://baotayninh.vn/", "PAGE", "--origin", "baotayninh.vn=http://127.0.0.1:9"],  # no fetch
    ["--fetch"],  # neither --check nor --suggest
])
def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    page = str(REAL / "baotayninh-home-2026-05.html")
    code, out, err = run_suggest(capsys, *[page if a == "PAGE" else a for a in args])
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1 and err.startswith("crawler: "), err


@pytest.mark.parametrize("url", ["baotayninh.vn", "ftp://baotayninh.vn/", "https://"])
def test_a_suggested_url_must_be_http(capsys: pytest.CaptureFixture[str], url: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        run_suggest(capsys, "--suggest", url, str(REAL / "baotayninh-home-2026-05.html"))
    assert exit_.value.code == 2
    assert "not an http(s) URL" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["missing", "directory", "huge", "tags"])
def test_an_unreadable_page_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    page = tmp_path / "home.html"
    if kind == "directory":
        page.mkdir()
    elif kind == "huge":  # more than the parser takes
        page.write_bytes(b"<p>" + b"x" * 5_000_000)
    elif kind == "tags":
        page.write_bytes(b"<i>" * 100_000)
    code, out, err = run_suggest(capsys, "--suggest", "https://baox.vn/", str(page))
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and err.startswith("crawler: ") and str(page) in err
