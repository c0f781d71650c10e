"""A crawl through the fault-injecting mirror: transient faults are survived, permanent ones listed."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx2
import pytest

from crawler.archive.verify import verify
from crawler.cli import main
from crawler.errors import MirrorError
from crawler.mirror import Mirror
from crawler.mirror.faults import PERMANENT, READABLE, TRANSIENT, FaultSpec

from .conftest import origin_args

SPEC = ("transient=0.2,redirect-loop=0.02,redirect-chain=0.02,big=0.01,bad-gzip=0.02,"
        "cp1258=0.08,wrong-charset=0.08,malformed=0.08,delay=1.5,seed=3")


def test_fault_spec_parsing() -> None:
    spec = FaultSpec.parse("transient=0.14,503=0.1,cp1258=0.5,seed=7,streak=1")
    assert spec.shares["503"] == pytest.approx(0.12) and spec.shares["cp1258"] == 0.5
    assert spec.seed == 7 and spec.streak == 1
    for bad in ("nonsense=0.1", "503", "503=2", "transient=0.9,500=0.3", "503=abc"):
        with pytest.raises(MirrorError):
            FaultSpec.parse(bad)


def test_faults_are_served(tmp_path: Path) -> None:
    with Mirror(articles=30, seed=2, faults="503=1,streak=1") as mirror, httpx2.Client() as client:
        url = mirror.article_url("baocantho", mirror.article_ids("baocantho")[5])
        assert client.get(url).status_code == 503
        assert client.get(url).status_code == 200  # the streak is over: a retry gets the page
    with Mirror(articles=30, seed=2, faults="redirect-loop=1") as mirror, httpx2.Client() as client:
        url = mirror.article_url("baocantho", mirror.article_ids("baocantho")[5])
        with pytest.raises(httpx2.TooManyRedirects):
            client.get(url, follow_redirects=True)


def test_crawl_at_20_percent_transient_faults_archives_everything_once(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=40, seed=9, faults=SPEC) as mirror:
        origins = origin_args(mirror)
        code = main(["crawl", *origins, "--archive", str(archive), "--delay", "0", "--host-concurrency", "4",
                     "--timeout", "1", "--no-progress", "--quiet"])
        policy = mirror.faults
        assert policy is not None
        expected = {(key, aid): mirror.expected_snapshot(key, aid)
                    for key in ("baocantho", "hue", "baoangiang") for aid in mirror.article_ids(key)}
        injected = dict(policy.injected)
    assert code == 0
    run = json.loads(next((archive / "runs").glob("*.json")).read_text(encoding="utf-8"))
    failures = {url: why for s in run["sources"].values() for url, why in s["failures"].items()}
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        rows = db.execute("SELECT source, article_id, version, text_path FROM snapshots").fetchall()
    archived = {(s, a): p for s, a, _v, p in rows}
    assert len(archived) == len(rows), "an article archived twice"
    # The article URLs that failed for good, with the permanent fault the mirror gave each.
    failed_for_good = set()
    for url in failures:
        netloc, _, path = url.split("//", 1)[1].partition("/")
        if policy.permanent_kind(netloc, "/" + path) in PERMANENT:  # the archive names the real hosts
            failed_for_good.add(path.rsplit("-", 1)[-1].removesuffix(".html").lstrip("a"))
    lost = []
    for key, text in expected.items():
        if key in archived:
            assert (archive / archived[key]).read_text(encoding="utf-8") == text, key
        elif key[1] not in failed_for_good:
            lost.append(key)
    assert lost == []
    permanent = [key for key in expected if key not in archived]
    assert permanent, "the spec should have made some article URLs fail for good"
    assert len([u for u in failures if u.endswith(".html")]) >= len(permanent)
    assert sum(injected.get(k, 0) for k in TRANSIENT) >= 20
    assert sum(injected.get(k, 0) for k in READABLE) >= 5  # windows-1258, wrong charsets, bad HTML: still exact
    report = verify(archive)
    assert report.ok, report.problems[:5]
    print(f"faults injected: {injected}; archived {len(archived)} of {len(expected)}; "
          f"permanent failures {len(permanent)}; lost 0")
