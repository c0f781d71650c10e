"""``crawl --requisites`` / ``requisites: true``: a page's stylesheets, fonts and images, once per run, revalidated."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.config import load_sources, parse_sources
from crawler.crawl.requisites import on_hosts
from crawler.errors import ConfigError
from crawler.mirror import Mirror
from crawler.parse.requisites import css_requisites, html_requisites
from tests.conftest import ROOT
from tests.test_images import crawl, records, run_figures

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
PAGE = "https://a.vn/x/page.html"


@pytest.mark.parametrize(("html", "expected"), [
    ('<link rel="stylesheet" href="/s.css">', ["https://a.vn/s.css"]),
    ('<link rel="Stylesheet preload" href="s.css">', ["https://a.vn/x/s.css"]),
    ('<base href="https://cdn.a.vn/t/"><link href="css/b.css" rel="stylesheet">', ["https://cdn.a.vn/t/css/b.css"]),
    ('<link rel="alternate stylesheet" href="/alt.css"><link rel="preload" as="style" href="/p.css">', []),
    ('<link rel="stylesheet" media="print" href="/print.css">', []),
    ('<link rel="shortcut icon" href="/favicon.ico">', ["https://a.vn/favicon.ico"]),
    ('<img src="i.jpg"><img srcset="/s1.png 1x, /s2.png 2x"><img src="">', ["https://a.vn/x/i.jpg", "https://a.vn/s1.png"]),
    ("<style>/* url(no.png) */ body{background:url('bg.png')} @import \"imp.css\";</style>",
     ["https://a.vn/x/bg.png", "https://a.vn/x/imp.css"]),
    ('<div style="background-image:url( /d.gif )"></div><img src="data:image/png;base64,AAAA">', ["https://a.vn/d.gif"]),
    ('<link rel="stylesheet" href="/s.css"><link rel="stylesheet" href="https://a.vn/s.css#x">', ["https://a.vn/s.css"]),
    ('<script src="/app.js"></script><a href="/other.html">x</a>', []),
])
def test_html_requisites(html: str, expected: list[str]) -> None:
    assert html_requisites(f"<html><head>{html}</head><body></body></html>".encode(), PAGE) == expected


@pytest.mark.parametrize(("css", "expected"), [
    ('@font-face{src:url("fonts/f.woff2") format("woff2"),url(f.woff)}', ["https://a.vn/c/fonts/f.woff2",
                                                                          "https://a.vn/c/f.woff"]),
    ("@import 'more.css'; a{background:url(../img/b.png)}", ["https://a.vn/c/more.css", "https://a.vn/img/b.png"]),
    ("a{background:URL(data:image/gif;base64,R0lG)} /* url(x.png) */", []),
    ("b{background:url(/i.png)} c{background:url('/i.png')}", ["https://a.vn/i.png"]),
])
def test_css_requisites(css: str, expected: list[str]) -> None:
    assert css_requisites(css.encode(), "https://a.vn/c/site.css") == expected


def test_only_the_sites_own_hosts_and_their_sub_domains() -> None:
    hue = load_sources(ROOT / "sources.yaml").get("hue")
    assert on_hosts(hue, "https://huengaynay.vn/a.css") and on_hosts(hue, "https://file.huengaynay.vn/a.png")
    assert on_hosts(hue, "https://baothuathienhue.vn/a.css") and on_hosts(hue, "https://static.baothuathienhue.vn/f")
    for other in ("https://fonts.googleapis.com/css", "https://evilhuengaynay.vn/a.css", "https://cdn.example/x.css",
                  "ftp://huengaynay.vn/a.css", "https://huengaynay.vn.evil.example/a.css"):
        assert not on_hosts(hue, other), other


def test_mirror_serves_its_stylesheet_font_and_background() -> None:
    with Mirror(articles=2, seed=5) as m:
        base = m.origins["baocantho.com.vn"] + "/static/templates/version1/homepage/css/"
        with urllib.request.urlopen(base + "bootstrap.min.css", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/css")
            css = response.read()
        assert css_requisites(css, base + "bootstrap.min.css") == [base + "fonts/site.woff2",
                                                                  base + "images/bg-header.png"]
        with urllib.request.urlopen(base + "fonts/site.woff2", timeout=10) as response:
            assert response.headers["Content-Type"] == "font/woff2" and response.read().startswith(b"wOF2")
        with urllib.request.urlopen(base + "images/bg-header.png", timeout=10) as response:
            assert response.read().startswith(b"\x89PNG")


def _requisite_requests(m: Mirror, since: int = 0) -> list[str]:
    return [f"https://{e.real_host}{e.path}" for e in m.request_log[since:]
            if e.path.split("?")[0].endswith((".css", ".woff2", "bg-header.png"))]


def test_crawl_with_requisites_archives_each_once_per_run_and_revalidates(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=3, seed=2) as m:
        assert crawl(m, archive) == 0
        assert _requisite_requests(m) == []  # not asked for: nothing changes
        mark = len(m.request_log)
        assert crawl(m, archive, "--requisites", "--refresh") == 0
        fetched = _requisite_requests(m, mark)
        assert len(fetched) == len(set(fetched)), "each requisite once per run"
        kinds = {url.rsplit(".", 1)[-1].split("?")[0] for url in fetched}
        assert {"css", "woff2", "png"} <= kinds  # the sheet, the font and the image it names
        hosts = {url.split("/")[2] for url in fetched}
        assert {"baocantho.com.vn", "huengaynay.vn", "images.baoangiang.com.vn"} <= hosts
        responses = {u for t, u, _, _ in records(archive) if t == "response"}
        assert set(fetched) <= responses
        figures = run_figures(archive)
        assert sum(f["requisites"] for f in figures.values()) >= len(fetched)
        assert all(not f["failures"] for f in figures.values())
        # The next run asks again, conditionally: 304s, written as server-not-modified revisits.
        mark = len(m.request_log)
        assert crawl(m, archive, "--requisites") == 0
        again = _requisite_requests(m, mark)
        assert again and len(again) == len(set(again))
        asked = [e for e in m.request_log[mark:] if f"https://{e.real_host}{e.path}" in again]
        assert all(e.status == 304 for e in asked), [(e.path, e.status) for e in asked]
        figures = run_figures(archive)
        assert sum(f["requisites_not_modified"] for f in figures.values()) >= len(again)  # and images
    revisits = {u for t, u, f, _ in records(archive) if t == "revisit" and f.get("WARC-Profile") == NOT_MODIFIED}
    assert set(again) <= revisits
    assert main(["verify", "--archive", str(archive)]) == 0


def test_requisite_caps(tmp_path: Path) -> None:
    with Mirror(articles=3, seed=2) as m:
        archive = tmp_path / "a"
        assert crawl(m, archive, "--requisites", "--max-requisites", "2") == 0
        figures = run_figures(archive)
        assert sum(f["requisites"] + f["requisites_failed"] for f in figures.values()) == 2
        assert sum(f["requisites_capped"] for f in figures.values()) > 0
        other = tmp_path / "b"
        assert crawl(m, other, "--requisites", "--requisites-per-page", "1") == 0
        figures = run_figures(other)
        assert sum(f["requisites_capped"] for f in figures.values()) > 0
        assert sum(f["requisites"] for f in figures.values()) > 2


def test_requisites_true_in_a_source_block(tmp_path: Path) -> None:
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8").replace(
        "  baoangiang:\n    name: Báo An Giang\n", "  baoangiang:\n    name: Báo An Giang\n    requisites: true\n")
    config = tmp_path / "sources.yaml"
    config.write_text(text, encoding="utf-8")
    sources = load_sources(config)
    assert sources.get("baoangiang").requisites and not sources.get("baocantho").requisites
    from tests.conftest import origin_args
    with Mirror(articles=2, seed=4) as m:
        assert main(["crawl", "--archive", str(tmp_path / "archive"), "--sources", str(config), *origin_args(m),
                     "--delay", "0", "--no-progress", "--quiet"]) == 0
        hosts = {url.split("/")[2] for url in _requisite_requests(m)}
    assert hosts == {"images.baoangiang.com.vn"}


@pytest.mark.parametrize("value", ["yes", 1, None, []])
def test_requisites_key_must_be_a_boolean(value: object) -> None:
    block = {"adapter": "vdoc", "hosts": ["a.vn"], "base_url": "https://a.vn/",
             "article_url_pattern": "^/[^/]+-a(?P<id>[0-9]+)\\.html$", "requisites": value}
    with pytest.raises(ConfigError, match="requisites"):
        parse_sources({"sources": {"a": block}})


@pytest.mark.parametrize("flag", [["--max-requisites", "0"], ["--requisites-per-page", "x"],
                                  ["--requisite-page-bytes", "10"], ["--max-requisite-bytes", "lots"]])
def test_bad_requisite_flags_are_usage_errors(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["crawl", "--requisites", *flag])
    assert exc.value.code == 2
    assert flag[0] in capsys.readouterr().err


def test_the_mirror_serves_a_portals_own_pictures() -> None:
    """Logos, icons and thumbnails the pages link (a `--requisites` crawl asks for them): images, not 404s."""
    import urllib.request

    from crawler.mirror import Mirror

    with Mirror(articles=2, seed=1) as mirror:
        origin = mirror.origins["baocantho.com.vn"]
        for path in ("/image/news/2025/20250901/thumbnail/510x286/213057.webp", "/file/e7/logo.png?width=636",
                     "/image/tth/icon-rss.svg"):
            with urllib.request.urlopen(origin + path, timeout=10) as response:
                assert response.status == 200 and response.headers["Content-Type"].startswith("image/")


def test_requisites_on_hosts_no_origin_serves_are_not_failures(tmp_path: Path) -> None:
    """A mirror run: a page's pictures on a host the mirror does not serve (Mediatech's media.<host>) are never
    asked for, and counted apart, not as failures of the site (the demo used to print ~150 "failed")."""
    with Mirror(articles=3, seed=2, families=True) as m:
        archive = tmp_path / "archive"
        assert crawl(m, archive, "--requisites") == 0
        served = {host for host in m.origins}
    figures = run_figures(archive)
    assert figures["baotayninh"]["requisites_unserved"] > 0
    assert all(f["requisites_failed"] < 10 for f in figures.values()), {k: f["requisites_failed"]
                                                                      for k, f in figures.items()}
    asked = {u.split("/")[2] for t, u, _, _ in records(archive) if t in ("request",)}
    assert asked <= served


# -- crawler fetch --requisites: the same step for one page ------------------------------------------------


def _fetch(m: Mirror, archive: Path, url: str, *extra: str) -> int:
    from tests.conftest import origin_args
    return main(["fetch", url, "--archive", str(archive), *origin_args(m), "--delay", "0", *extra])


@pytest.mark.parametrize("source", ["baoangiang", "baocantho", "hue"])
def test_fetch_with_requisites_archives_the_pages_sheets_fonts_and_images_then_revalidates(
        tmp_path: Path, source: str, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=3, seed=2) as m:
        url = m.article(source, m.article_ids(source)[0]).url
        mark = len(m.request_log)
        assert _fetch(m, archive, url) == 0
        assert _requisite_requests(m, mark) == []  # not asked for: a plain fetch is one page
        other = tmp_path / "other"
        mark = len(m.request_log)
        assert _fetch(m, other, url, "--requisites") == 0, capsys.readouterr().err
        fetched = _requisite_requests(m, mark)
        assert fetched and len(fetched) == len(set(fetched)), "each requisite once"
        assert "css" in {u.split("?")[0].rsplit(".", 1)[-1] for u in fetched}
        assert all(on_hosts(load_sources(ROOT / "sources.yaml").get(source), u) for u in fetched)
        err = capsys.readouterr().err
        assert "requisites:" in err
        responses = {u for t, u, _, _ in records(other) if t == "response"}
        assert set(fetched) <= responses
        # --refresh --requisites: the article and its requisites asked again, conditionally: 304 revisits.
        mark = len(m.request_log)
        assert _fetch(m, other, url, "--requisites", "--refresh") == 0
        again = _requisite_requests(m, mark)
        assert sorted(again) == sorted(fetched)
        asked = [e for e in m.request_log[mark:] if f"https://{e.real_host}{e.path}" in again]
        assert asked and all(e.status == 304 for e in asked), [(e.path, e.status) for e in asked]
        # Already archived, without --refresh: the page is not fetched, its requisites still are (from the WARC).
        mark = len(m.request_log)
        assert _fetch(m, other, url, "--requisites") == 0
        assert sorted(_requisite_requests(m, mark)) == sorted(fetched)
        assert url not in {f"https://{e.real_host}{e.path}" for e in m.request_log[mark:]}
    revisits = {u for t, u, f, _ in records(other) if t == "revisit" and f.get("WARC-Profile") == NOT_MODIFIED}
    assert set(fetched) <= revisits
    assert main(["verify", "--archive", str(other)]) == 0


def test_fetch_requisites_caps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Mirror(articles=3, seed=2) as m:
        url = m.article("baoangiang", m.article_ids("baoangiang")[0]).url
        mark = len(m.request_log)
        assert _fetch(m, tmp_path / "a", url, "--requisites", "--requisites-per-page", "1") == 0
        assert "over a cap" in capsys.readouterr().err
        asked = [e for e in m.request_log[mark:] if e.path.split("?")[0].endswith(
            (".css", ".woff2", ".png", ".jpg", ".webp", ".svg", ".ico", ".gif"))]
        assert len(asked) == 1  # the one requisite (and, were it a sheet, nothing it names: over the cap)


@pytest.mark.parametrize("flag", [["--requisites-per-page", "0"], ["--requisite-page-bytes", "lots"],
                                  ["--delay", "-1"]])
def test_bad_fetch_requisite_flags_are_usage_errors(flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fetch", "https://baoangiang.com.vn/x-a1.html", "--requisites", *flag])
    assert exc.value.code == 2
    assert flag[0] in capsys.readouterr().err
