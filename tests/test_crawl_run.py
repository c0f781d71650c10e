"""``crawler crawl`` as cron runs it: signals, --refresh, collapse, --since, logging, 304 revisits.

The crawl talks to the offline mirror on 127.0.0.1 over real sockets; runs that need
a signal or the real stdout/stderr are separate processes (``python -m crawler``).
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.archive.warc_reading import check_file
from crawler.cli import main
from crawler.config import SourceConfig, Sources
from crawler.mirror import Mirror
from crawler.parse.normalize import VN_TZ

from .conftest import origin_args, snapshot_meta
from .test_catalog_superseded import assert_kept

SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL_PAYLOAD = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def crawl(m: Mirror, archive: Path, *extra: str) -> int:
    """One in-process ``crawler crawl`` run against the mirror, no delay."""
    return main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--no-progress", "--quiet",
                 *extra])


def spawn_crawl(m: Mirror, archive: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--archive", str(archive), *origin_args(m),
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def query(archive: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        return [tuple(row) for row in db.execute(sql, params).fetchall()]


def snapshot_rows(archive: Path) -> list[tuple[str, str, int]]:
    rows = query(archive, "SELECT source, article_id, version FROM snapshots ORDER BY source, article_id, version")
    return [(str(s), str(a), int(str(v))) for s, a, v in rows]


def all_ids(m: Mirror, sources: tuple[str, ...] | None = None) -> set[tuple[str, str]]:
    return {(s, a) for s in (sources or m.sources) for a in m.article_ids(s)}


def run_records(archive: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "runs").glob("*.json"))]


def warc_records(paths: list[Path]) -> list[tuple[str, dict[str, str], int | None]]:
    """(WARC-Type, WARC header fields, HTTP status) of every record of the given files."""
    out: list[tuple[str, dict[str, str], int | None]] = []
    for path in paths:
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                fields = dict(record.rec_headers.headers)
                status = None
                if record.rec_type in ("response", "revisit") and record.http_headers:
                    status = int(record.http_headers.get_statuscode())
                out.append((record.rec_type, fields, status))
    return out


def article_paths_requested(m: Mirror, sources: Sources, since: int = 0) -> list[tuple[str, str]]:
    """(source, article id) of every article page the mirror served from request ``since`` on."""
    out = []
    for entry in m.request_log[since:]:
        url = f"http://{entry.host}{entry.path}"
        for source in sources:
            article_id = source.article_id(url)
            if article_id is not None and source.covers(url):
                out.append((source.key, article_id))
    return out


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def texts(archive: Path) -> list[Path]:
    return list((archive / "text").rglob("*.txt")) if (archive / "text").exists() else []


# -- signals --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_mirror() -> Iterator[Mirror]:
    with Mirror(articles=200, seed=21) as m:
        yield m


def assert_interrupted_cleanly(archive: Path, proc: subprocess.Popen[str], signalled_at: float) -> tuple[str, str]:
    out, err = proc.communicate(timeout=20)
    elapsed = time.monotonic() - signalled_at
    assert proc.returncode == 130, err[-2000:]
    assert elapsed < 11, f"took {elapsed:.1f} s to stop"  # grace of 10 s for in-flight fetches
    assert "Traceback" not in err
    assert "stopped by a signal" in err
    warcs = list((archive / "warc").iterdir())
    assert warcs and not [p for p in warcs if p.name.endswith(".open")]
    for path in warcs:
        assert check_file(path) == [], path
    (record,) = run_records(archive)
    assert record["interrupted"] is True and record["exit_code"] == 130
    return out, err


def test_sigterm_stops_cleanly_and_the_next_run_completes(big_mirror: Mirror, sources: Sources,
                                                         tmp_path: Path) -> None:
    m = big_mirror
    local = sources.with_origins(m.origins)
    proc = spawn_crawl(m, tmp_path, "--delay", "0.05", "--no-progress")
    try:
        wait_for(lambda: len(texts(tmp_path)) >= 15, 20, "the first articles")
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        assert_interrupted_cleanly(tmp_path, proc, signalled)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    first = snapshot_rows(tmp_path)
    assert 15 <= len(first) < len(all_ids(m))
    assert query(tmp_path, "SELECT COUNT(*) FROM frontier")[0][0] != 0  # discovered, not archived yet
    metas = snapshot_meta(tmp_path)
    for path in texts(tmp_path):  # every snapshot written is complete
        meta = metas[path.relative_to(tmp_path).as_posix()]
        assert path.read_text(encoding="utf-8") == m.expected_snapshot(meta["source"], meta["article_id"])

    mark = len(m.request_log)
    done = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--archive", str(tmp_path), *origin_args(m),
                           "--delay", "0", "--quiet"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (done.stdout, done.stderr) == ("", "")

    rows = snapshot_rows(tmp_path)
    assert len(rows) == len({(s, a) for s, a, _ in rows})  # one row per article
    assert {(s, a) for s, a, _ in rows} == all_ids(m)
    assert {v for _, _, v in rows} == {1}
    assert query(tmp_path, "SELECT COUNT(*) FROM frontier")[0][0] == 0
    refetched = set(article_paths_requested(m, local, mark)) & {(s, a) for s, a, _ in first}
    assert not refetched, "articles archived by the interrupted run were fetched again"
    assert [r["interrupted"] for r in run_records(tmp_path)] == [True, False]
    for path in (tmp_path / "warc").iterdir():
        assert not path.name.endswith(".open") and check_file(path) == [], path


def test_sigint_stops_cleanly(big_mirror: Mirror, tmp_path: Path) -> None:
    proc = spawn_crawl(big_mirror, tmp_path, "--delay", "0.05", "--no-progress", "--source", "hue")
    try:
        wait_for(lambda: len(texts(tmp_path)) >= 3, 20, "the first articles")
        proc.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        out, _ = assert_interrupted_cleanly(tmp_path, proc, signalled)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.startswith("hue: ")  # the run's summary is printed even when interrupted


# -- --refresh ------------------------------------------------------------------------------------


def new_warcs(archive: Path, before: set[Path]) -> list[Path]:
    return sorted(set((archive / "warc").iterdir()) - before)


def test_refresh_revisits_unchanged_articles_and_versions_changed_ones(tmp_path: Path) -> None:
    keys = ("baocantho", "baoangiang")
    with Mirror(articles=4, seed=8) as m:
        args = [a for k in keys for a in ("--source", k)]
        assert crawl(m, tmp_path, *args) == 0
        rows = snapshot_rows(tmp_path)
        assert {(s, a) for s, a, _ in rows} == all_ids(m, keys)
        urls = dict(((str(s), str(a)), str(u)) for s, a, u in query(tmp_path, "SELECT source, article_id, url "
                                                                              "FROM snapshots"))
        before = set((tmp_path / "warc").iterdir())

        # Unchanged pages: every article is fetched again and recorded as an identical-payload revisit.
        mark = len(m.request_log)
        assert crawl(m, tmp_path, *args, "--refresh") == 0
        requested = [e.path for e in m.request_log[mark:]]
        for url in urls.values():
            assert "/" + url.split("/", 3)[3] in requested, url
        revisits = [f for t, f, _ in warc_records(new_warcs(tmp_path, before))
                    if t == "revisit" and f["WARC-Profile"] == IDENTICAL_PAYLOAD]
        assert sorted(f["WARC-Target-URI"] for f in revisits) == sorted(urls.values())
        assert all(f["WARC-Refers-To-Target-URI"] == f["WARC-Target-URI"] for f in revisits)
        assert all(f["WARC-Payload-Digest"].startswith("sha1:") for f in revisits)
        assert snapshot_rows(tmp_path) == rows
        stats = run_records(tmp_path)[-1]["sources"]
        assert isinstance(stats, dict)
        assert sum(stats[k]["unchanged"] for k in keys) == len(urls)  # article revisits, apart from listings
        assert sum(stats[k]["new"] + stats[k]["changed"] for k in keys) == 0

        # The site edits one article: the next refresh keeps the old text and adds <id>.v2.txt.
        article_id = m.article_ids("baocantho")[-1]
        old_text = m.expected_snapshot("baocantho", article_id)
        m.revise("baocantho", article_id)
        new_text = m.expected_snapshot("baocantho", article_id)
        assert new_text != old_text
        assert crawl(m, tmp_path, *args, "--refresh") == 0

    (v1,) = [p for p in texts(tmp_path) if p.name == f"{article_id}.txt"]
    v2 = v1.with_name(f"{article_id}.v2.txt")
    assert v1.read_text(encoding="utf-8") == old_text
    assert v2.read_text(encoding="utf-8") == new_text
    (meta,) = snapshot_meta(tmp_path, v2).values()
    assert meta["version"] == 2 and meta["text_path"] == v2.relative_to(tmp_path).as_posix()
    assert snapshot_rows(tmp_path) == sorted([*rows, ("baocantho", article_id, 2)])
    assert_kept(tmp_path)  # version 1 is superseded (tests/test_catalog_superseded.py)
    last = run_records(tmp_path)[-1]["sources"]
    assert isinstance(last, dict) and last["baocantho"]["changed"] == 1


# -- collapse -------------------------------------------------------------------------------------


def test_a_redesigned_source_collapses_and_the_others_are_archived(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with Mirror(articles=5, seed=4, redesigned={"baoangiang"}) as m:
        code = crawl(m, tmp_path)
        _, err = capsys.readouterr()
        assert code == 3, err
        assert "extraction collapsed for baoangiang" in err
        assert "collapsed for baocantho" not in err and "collapsed for hue" not in err
        rows = snapshot_rows(tmp_path)
        assert {(s, a) for s, a, _ in rows} == all_ids(m, ("baocantho", "hue"))
        metas = snapshot_meta(tmp_path)
        for path in texts(tmp_path):
            meta = metas[path.relative_to(tmp_path).as_posix()]
            assert path.read_text(encoding="utf-8") == m.expected_snapshot(meta["source"], meta["article_id"])
    (record,) = run_records(tmp_path)
    assert record["exit_code"] == 3 and record["collapsed"] == ["baoangiang"]
    sources = record["sources"]
    assert isinstance(sources, dict)
    assert sources["baoangiang"]["extraction_failures"] >= 3 and sources["baoangiang"]["new"] == 0


# -- --since --------------------------------------------------------------------------------------


def test_since_stops_listing_chains_at_the_first_page_older_than_the_date(sources: Sources, tmp_path: Path) -> None:
    """Documented in crawler/crawl.py: a listing page's articles are fetched (their dates are only
    known then); a chain goes on to the next page only while its page had an article published
    on or after --since; feed entries older than --since are not offered."""
    key = "baoangiang"
    since = datetime(2025, 9, 14, tzinfo=VN_TZ)
    # 600 articles over An Giang's 34 category leaves (its real 2026 menu): chains long enough to stop early.
    # No sitemap in robots.txt: its news sitemap would offer the recent articles before the 17 chains do.
    with Mirror(articles=600, seed=2, robots={"baoangiang.com.vn": "User-agent: *\nDisallow: /print/\n"}) as m:
        source = sources.with_origins(m.origins).get(key)
        published = {a: m.article(key, a).published for a in m.article_ids(key)}
        assert min(published.values()) < since < max(published.values())
        recent = {a for a, when in published.items() if when >= since}

        # What the rule allows: per start page, pages up to the first one with only older articles.
        home = set(m.listing(key, "/"))
        allowed_pages: set[str] = set()
        beyond_pages: set[str] = set()
        must_continue: set[str] = set()
        allowed: set[str] = set()
        beyond: set[str] = set()
        for start in source_start_paths(source):
            page, stopped = 1, False
            while page <= 5:
                ids = m.listing(key, start, page)
                target = start if page == 1 else f"{start}?p={page}"
                if stopped:
                    beyond.update(ids)
                    if ids:
                        beyond_pages.add(target)
                else:
                    allowed_pages.add(target)
                    allowed.update(ids)
                    stopped = not ids or all(published[a] < since for a in ids)
                    if page == 1 and any(a in recent and a not in home for a in ids):
                        must_continue.add(f"{start}?p=2")  # only this chain offers that recent article
                if not ids:
                    break
                page += 1
        beyond -= allowed
        assert beyond and beyond_pages, "the mirror is too small to show a chain stopping"

        mark = len(m.request_log)
        code = main(["crawl", "--archive", str(tmp_path), *origin_args(m), "--source", key, "--delay", "0",
                     "--no-progress", "--quiet", "--since", "2025-09-14"])
        assert code == 0
        fetched = {a for _, a in article_paths_requested(m, Sources((source,)), mark)}
        listings = {e.path for e in m.request_log[mark:]
                    if source.article_id(f"http://{e.host}{e.path}") is None
                    and not e.path.startswith(("/robots.txt", "/rss/", "/sitemap"))}
    assert recent <= fetched
    assert fetched <= allowed
    assert not fetched & beyond
    assert min(published[a] for a in fetched) < since  # pages mixing recent and older articles are read whole
    assert listings <= allowed_pages
    assert not listings & beyond_pages
    assert must_continue and must_continue <= listings
    archived = {a for s, a, _ in snapshot_rows(tmp_path) if s == key}
    assert archived == fetched


def source_start_paths(source: SourceConfig) -> list[str]:
    return ["/" + url.split("/", 3)[3] for url in source.start_pages]


def test_a_listing_page_that_repeats_the_previous_one_ends_its_chain(tmp_path: Path) -> None:
    with Mirror(articles=30, seed=3) as m:  # the home page is not paginated: /?p=N is the home page again
        assert crawl(m, tmp_path, "--source", "baocantho", "--delay", "0.01") == 0
        homes = sorted(e.path for e in m.request_log if e.path == "/" or e.path.startswith("/?"))
    assert homes == ["/", "/?p=2"]


# -- logging and output ---------------------------------------------------------------------------


def test_log_json_lines_and_quiet_runs(tmp_path: Path) -> None:
    with Mirror(articles=3, seed=6) as m:
        proc = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--archive", str(tmp_path / "a"),
                               *origin_args(m), "--delay", "0", "--log-json", "--no-progress"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr[-2000:]
        lines = proc.stderr.splitlines()
        assert lines
        events = []
        summaries = []
        for line in lines:
            record = json.loads(line)
            assert {"time", "level", "message"} <= set(record), line
            datetime.fromisoformat(record["time"])
            if record.get("event") == "summary":
                summaries.append(record)
            elif "event" in record:
                assert {"source", "url"} <= set(record)
                events.append(record)
        archived = [e for e in events if e["event"] == "archived"]
        assert len(archived) == len(all_ids(m))
        assert {(e["source"], e["level"]) for e in archived} == {(s, "info") for s in m.sources}
        # With --log-json the per-source summaries are JSON lines too (on stderr), not text on stdout.
        assert proc.stdout == ""
        assert [r["source"] for r in summaries] == ["baocantho", "hue", "baoangiang"]
        assert all(r["new"] == len(m.article_ids(r["source"])) for r in summaries)

        quiet = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--archive", str(tmp_path / "b"),
                                *origin_args(m), "--delay", "0", "--quiet"],
                               capture_output=True, text=True, timeout=60)
    assert quiet.returncode == 0
    assert (quiet.stdout, quiet.stderr) == ("", "")
    assert len(snapshot_rows(tmp_path / "b")) == len(all_ids(m))


# -- 304 revisits ---------------------------------------------------------------------------------


def test_second_run_records_304s_as_server_not_modified_revisits(tmp_path: Path) -> None:
    with Mirror(articles=4, seed=9) as m:
        assert crawl(m, tmp_path) == 0
        first = sorted((tmp_path / "warc").iterdir())
        mark = len(m.request_log)
        assert crawl(m, tmp_path) == 0
        not_modified = {f"https://{e.real_host}{e.path}" for e in m.request_log[mark:] if e.status == 304}
    # WARC-Refers-To-Date: the original's WARC-Date in whole seconds (decision 0014)
    responses = {(f["WARC-Target-URI"], f["WARC-Date"].split(".")[0].rstrip("Z") + "Z")
                 for t, f, s in warc_records(first) if t == "response" and s == 200}
    second = new_warcs(tmp_path, set(first))
    revisits = [(f, s) for t, f, s in warc_records(second) if t == "revisit"]
    assert revisits
    assert {f["WARC-Profile"] for f, _ in revisits} == {SERVER_NOT_MODIFIED}
    assert all(s == 304 for _, s in revisits)
    for fields, _ in revisits:
        assert fields["WARC-Refers-To-Target-URI"] == fields["WARC-Target-URI"]
        assert (fields["WARC-Refers-To-Target-URI"], fields["WARC-Refers-To-Date"]) in responses
    targets = {f["WARC-Target-URI"] for f, _ in revisits}
    assert targets == not_modified
    homes = {f"https://{h}/" for h in ("baocantho.com.vn", "baoangiang.com.vn", "huengaynay.vn")}
    assert homes <= targets  # the home pages are listings too
    assert "https://baocantho.com.vn/rss/home" in targets  # the feed the real home page links
    for path in second:
        assert check_file(path) == [], path
