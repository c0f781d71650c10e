"""The offline mirror grows without changing what it already served: an article's page, its snapshot
text, title, dates, images and the links to it are a function of (seed, source, id), never of the
number of articles; only listings (home pages, sections, feeds, sitemaps) list more.

``crawler demo`` relies on it: a demo run on an archive an earlier demo (with another ``--articles``)
made must find every archived article unchanged."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.mirror import Mirror
from crawler.mirror.family_sources import FAMILY_SOURCES
from crawler.mirror.sources import SOURCES

ALL_SOURCES = (*SOURCES, *FAMILY_SOURCES)  # every family: VDOC, Huế's three eras, Mediatech, Java, OneCMS


def _served(mirror: Mirror, source: str, article_id: str) -> bytes:
    """The article page's bytes as the real host would send it (no origin rewriting, no server)."""
    url = mirror.article(source, article_id).url
    parts = urlsplit(url)
    page = mirror.site.page(parts.netloc, parts.path, rewrite=False)
    assert page.status == 200, (source, article_id, page.status)
    return page.body


@pytest.mark.parametrize("seed", [1, 7])
@pytest.mark.parametrize("k", [2, 5, 20])
def test_existing_articles_are_the_same_bytes_whatever_the_count(k: int, seed: int) -> None:
    small = Mirror(articles=k, seed=seed, families=True)
    large = Mirror(articles=3 * k, seed=seed, families=True)
    for source in ALL_SOURCES:
        ids = small.article_ids(source)
        assert large.article_ids(source)[: len(ids)] == ids, source  # the same ids, oldest first
        for article_id in ids:
            a, b = small.article(source, article_id), large.article(source, article_id)
            assert (a.url, a.title, a.published, a.template, a.images, a.related) == (
                b.url, b.title, b.published, b.template, b.images, b.related), (source, article_id)
            assert small.expected_snapshot(source, article_id) == large.expected_snapshot(source, article_id)
            assert _served(small, source, article_id) == _served(large, source, article_id), (source, article_id)


def test_a_grown_mirror_serves_more_in_its_listings() -> None:
    small, large = Mirror(articles=4, seed=3, families=True), Mirror(articles=12, seed=3, families=True)
    for source in ALL_SOURCES:
        assert len(large.article_ids(source)) == len(small.article_ids(source)) + 8
        assert large.listing(source, "/") != small.listing(source, "/")


def test_hue_eras_follow_publication_time_not_the_count() -> None:
    """Older articles in the older layout: Huế's VDOC era (2022), its category-path era (2023-2024),
    DotNetNuke (2025-); the era of an id never changes as the mirror grows."""
    for count in (3, 6, 60, 180):
        mirror = Mirror(articles=count, seed=1)
        specs = [mirror.article("hue", i) for i in mirror.article_ids("hue")]
        assert [s.published for s in specs] == sorted(s.published for s in specs)
        by_template: dict[str, set[int]] = {}
        for s in specs:
            by_template.setdefault(s.template, set()).add(s.published.year)
        assert by_template["hue-vdoc"] <= {2022}
        assert by_template.get("hue-a", {2023}) <= {2023, 2024}
        assert min(by_template.get("hue-dnn", {2025})) >= 2025


@pytest.mark.parametrize(("path", "kind", "magic"), [
    ("/data/0/images/2024/12/30/upload_1/logo-bao-2025-final.svg", "image/svg+xml", b"<svg"),
    ("/data/0/images/banner.gif", "image/gif", b"GIF89a"),
    ("/data/0/images/xa-phuong.GIF", "image/gif", b"GIF89a"),
    ("/data2/image/news/2022/05/09/ab.png", "image/png", b"\x89PNG"),
    ("/data2/image/news/2022/05/09/ab.jpeg", "image/jpeg", b"\xff\xd8"),
])
def test_the_image_hosts_serve_every_kind_the_pages_name(path: str, kind: str, magic: bytes) -> None:
    site = Mirror(articles=2, seed=1).site
    page = site.page("file.huengaynay.vn", path, rewrite=False)
    assert (page.status, page.content_type) == (200, kind) and page.body.startswith(magic)
    assert site.page("file.huengaynay.vn", path, rewrite=False).body == page.body  # same path, same bytes
    assert site.page("file.huengaynay.vn", path + "x", rewrite=False).status == 404


def _demo(archive: Path, articles: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "crawler", "demo", "--archive", str(archive),
                           "--articles", str(articles)], capture_output=True, text=True, timeout=600,
                          check=False, env=env)


def test_demo_after_a_demo_with_another_count(tmp_path: Path) -> None:
    """The real CLI: a demo, then a larger one and a smaller one on the same archive, each exit 0."""
    archive = tmp_path / "demo"
    for articles in (3, 9, 2):
        done = _demo(archive, articles)
        assert done.returncode == 0, (articles, done.stdout[-2000:], done.stderr[-2000:])
        assert "mismatch" not in done.stderr
        check = next(line for line in done.stdout.splitlines() if line.startswith("check:"))
        assert re.search(r" 0 differ, 0 articles missing", check), check
    # Every page requisite the mirror's pages name (logos, banners: .svg, .gif too) is served.
    runs = sorted((archive / "runs").glob("*.json"))
    assert len(runs) == 3
    for run in runs:
        figures = json.loads(run.read_text(encoding="utf-8"))["sources"]
        assert {key: f["requisites_failed"] for key, f in figures.items() if f["requisites_failed"]} == {}


def test_a_changed_archived_article_is_named_with_the_reason(tmp_path: Path) -> None:
    """When an archived article does differ (here: edited on disk after the first demo), the demo names the
    file, the article, whether this run archived it, and the first differing line; and the replay check
    names the file whose WARC record gives back other text."""
    archive = tmp_path / "demo"
    assert _demo(archive, 2).returncode == 0
    victim = sorted((archive / "text" / "hue").rglob("*.txt"))[0]
    lines = victim.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = "Tampered title\n"
    victim.write_text("".join(lines), encoding="utf-8")
    done = _demo(archive, 2)
    assert done.returncode == 1
    rel = victim.relative_to(archive).as_posix()
    mismatches = [line.strip() for line in done.stderr.splitlines() if "mismatch:" in line]
    assert any(line.startswith(f"mismatch: {rel}: hue/") and ", archived by an earlier run, differs" in line
               and "at line 1: archived 'Tampered title' vs expected" in line for line in mismatches), mismatches
    assert "demo: 1 of the differing articles were archived by an earlier run" in done.stderr
    assert any(line.startswith(f"mismatch: {rel}: the text re-extracted from the WARCs differs")
               and "vs replayed" in line for line in mismatches), mismatches


@pytest.mark.parametrize(("old", "new", "says"), [
    ("a\nb\nc\n", "a\nB\nc\n", "line 2: archived 'b' vs expected 'B'"),
    ("a\nb\n", "a\nb\nc\n", "archived 2 lines vs expected 3"),
    ("a\r\nb\n", "a\nb\n", "in line endings or trailing whitespace"),
    ("x" * 200 + "\n", "y\n", "line 1: archived '" + "x" * 59 + "…' vs expected 'y'"),
])
def test_first_difference(old: str, new: str, says: str) -> None:
    from crawler.cli.demo import first_difference

    assert first_difference(old, new) == says


@pytest.mark.parametrize("k", [3, 8])
def test_hue_articles_at_their_other_addresses_do_not_change_either(k: int) -> None:
    """Huế answers for every article at its DotNetNuke path on huengaynay.vn and at amp.aspx?newid= on both
    hosts: those pages too are the same bytes whatever the number of articles."""
    small, large = Mirror(articles=k, seed=4), Mirror(articles=3 * k, seed=4)
    catalog = small.site.catalogs["hue"]
    for article_id in small.article_ids("hue"):
        index = catalog.index_of(article_id)
        assert index is not None
        dnn = small.site.generator.headline("hue", index).dnn_path
        targets = [("huengaynay.vn", dnn or ""), ("huengaynay.vn", f"/amp.aspx?newid={article_id}"),
                   ("baothuathienhue.vn", f"/amp.aspx?newid={article_id}")]
        for host, target in targets:
            a = small.site.page(host, target, rewrite=False)
            b = large.site.page(host, target, rewrite=False)
            assert a.status == b.status and a.body == b.body, (article_id, host, target, a.status)
