"""The crawl engine against the offline mirror over real sockets."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest
import trio

from crawler.archive.lock import ArchiveLock
from crawler.cli import main
from crawler.config import Sources
from crawler.crawl import Crawl, CrawlOptions, SourceStats
from crawler.crawl.archiver import Archive
from crawler.mirror import Mirror
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.net.urls import host_key

from .conftest import origin_args, snapshot_meta

FAST = CrawlOptions(delay=0.0, host_concurrency=4, global_concurrency=16)


@pytest.fixture
def mirror() -> Iterator[Mirror]:
    with Mirror(articles=25, seed=7) as m:
        yield m


def crawl(sources: Sources, archive: Path, options: CrawlOptions = FAST) -> tuple[dict[str, SourceStats], Crawl]:
    async def go() -> tuple[dict[str, SourceStats], Crawl]:
        with Archive(archive, sources) as arch:
            async with Fetcher(FetchPolicy(timeout=10, retries=1), origins=sources.origins) as fetcher:
                engine = Crawl(sources, arch, fetcher, options)
                return await engine.run(), engine

    return trio.run(go)


def article_requests(mirror: Mirror, sources: Sources, since: int = 0) -> list[str]:
    paths = []
    for entry in mirror.request_log[since:]:
        for source in sources:
            url = f"http://{entry.host}{entry.path}" if "://" not in entry.host else entry.host + entry.path
            if source.article_id(url) is not None:
                paths.append(url)
    return paths


def archived_texts(archive: Path) -> dict[tuple[str, str], str]:
    out = {}
    for rel, meta in snapshot_meta(archive).items():
        out[(str(meta["source"]), str(meta["article_id"]))] = (archive / rel).read_text(encoding="utf-8")
    return out


def test_first_crawl_archives_every_article_then_second_run_fetches_none(
    mirror: Mirror, sources: Sources, tmp_path: Path
) -> None:
    local = sources.with_origins(mirror.origins).reachable()  # the sources the mirror serves
    stats, _ = crawl(local, tmp_path)
    texts = archived_texts(tmp_path)
    for source in local.reachable():  # the mirror's sources
        expected_ids = set(mirror.article_ids(source.key))
        got_ids = {aid for (key, aid) in texts if key == source.key}
        assert got_ids == expected_ids, source.key
        for article_id in expected_ids:
            assert texts[(source.key, article_id)] == mirror.expected_snapshot(source.key, article_id)
        assert stats[source.key].new == len(expected_ids)
        assert not stats[source.key].collapsed

    # Second run: no article is fetched again; listings and feeds are asked conditionally.
    mark = len(mirror.request_log)
    stats2, _ = crawl(local, tmp_path)
    assert article_requests(mirror, local, mark) == []
    again = mirror.request_log[mark:]
    assert again, "the second run asked for nothing at all"
    listing_statuses = [e.status for e in again if not e.path.startswith("/robots.txt")]
    assert 304 in listing_statuses
    conditional = [e for e in again if any(k.lower() in ("if-none-match", "if-modified-since") for k in e.headers)]
    assert len(conditional) >= len([e for e in again if e.status == 304])
    assert sum(s.new for s in stats2.values()) == 0
    assert sum(s.listings_not_modified for s in stats2.values()) > 0

    # The site publishes: only the new articles are fetched.
    mirror.add_articles("baocantho", 3)
    mark = len(mirror.request_log)
    stats3, _ = crawl(local, tmp_path)
    fetched = article_requests(mirror, local, mark)
    assert stats3["baocantho"].new == 3
    assert len(fetched) == 3
    assert len(set(mirror.article_ids("baocantho"))) == len({a for (k, a) in archived_texts(tmp_path)
                                                               if k == "baocantho"})


def test_robots_disallow_is_obeyed(sources: Sources, tmp_path: Path) -> None:
    robots = {"baoangiang.com.vn": "User-agent: *\nDisallow: /suc-khoe/\nDisallow: /thoi-su/\n"}
    with Mirror(articles=10, seed=3, robots=robots) as mirror:
        local = sources.with_origins(mirror.origins)
        only = Sources((local.get("baoangiang"),))
        stats, _ = crawl(only, tmp_path)
        host = host_key(mirror.origins["baoangiang.com.vn"])
        paths = [e.path for e in mirror.request_log if host_key("http://" + e.host) == host]
    assert "/robots.txt" in paths
    assert not [p for p in paths if p.startswith(("/suc-khoe/", "/thoi-su/"))]
    assert stats["baoangiang"].disallowed > 0


def test_per_host_delay_and_concurrency_hold(sources: Sources, tmp_path: Path) -> None:
    delay = 0.1
    with Mirror(articles=6, seed=5) as mirror:
        local = sources.with_origins(mirror.origins)
        options = CrawlOptions(delay=delay, host_concurrency=2, global_concurrency=16, max_articles=6)
        _, engine = crawl(Sources((local.get("baocantho"), local.get("hue"))), tmp_path, options)
        log = list(mirror.request_log)
    by_host: dict[str, list[float]] = defaultdict(list)
    for entry in log:
        by_host[entry.host].append(entry.time)
    assert len(by_host) >= 2
    for host, times in by_host.items():
        times.sort()
        gaps = [b - a for a, b in pairwise(times)]
        # Server-side arrival times: allow for connection set-up and scheduling jitter (a loaded machine).
        assert all(gap >= delay / 2 for gap in gaps), (host, min(gaps, default=None))
    for gate in engine.fetching._gates.values():
        assert 1 <= gate.max_in_flight <= 2


def test_max_articles_and_source_selection_via_cli(mirror: Mirror, tmp_path: Path) -> None:
    origins = origin_args(mirror)
    code = main(["crawl", *origins, "--archive", str(tmp_path), "--source", "hue", "--max-articles", "5",
                 "--delay", "0", "--quiet", "--no-progress"])
    assert code == 0
    texts = archived_texts(tmp_path)
    assert len(texts) == 5 and {k for k, _ in texts} == {"hue"}
    runs = list((tmp_path / "runs").glob("*.json"))
    assert len(runs) == 1
    record = json.loads(runs[0].read_text(encoding="utf-8"))
    assert record["exit_code"] == 0 and record["sources"]["hue"]["new"] == 5


def test_second_run_on_a_locked_archive_exits_zero(mirror: Mirror, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    origins = origin_args(mirror)
    with ArchiveLock(tmp_path):
        code = main(["crawl", *origins, "--archive", str(tmp_path), "--delay", "0", "--no-progress"])
    assert code == 0
    assert "another crawler run" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_unknown_source_key_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["crawl", "--archive", str(tmp_path), "--source", "nope"]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err


def test_sitemaps_named_in_robots_txt_find_what_listings_do_not(sources: Sources, tmp_path: Path) -> None:
    """baoangiang's robots.txt names a sitemap index (a news sitemap + article sitemaps): with only
    the home page as a start page (30 newest articles), the sitemaps bring every other article."""
    from dataclasses import replace

    with Mirror(articles=120, seed=8) as mirror:
        local = sources.with_origins(mirror.origins).get("baoangiang")
        home_only = replace(local, start_pages=(local.base_url,), feeds=())
        stats, _ = crawl(Sources((home_only,)), tmp_path)
        paths = [e.path for e in mirror.request_log]
        expected = {(aid): mirror.expected_snapshot("baoangiang", aid) for aid in mirror.article_ids("baoangiang")}
    assert "/sitemap.xml" in paths and "/sitemaps/news.xml" in paths and "/sitemaps/articles-1.xml" in paths
    texts = archived_texts(tmp_path)
    assert {aid for (_key, aid) in texts} == set(expected)
    assert all(texts[("baoangiang", aid)] == text for aid, text in expected.items())
    assert stats["baoangiang"].sitemaps == 3
