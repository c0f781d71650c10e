"""kill -9 at random moments, 20 times, restarting each time: nothing is lost or duplicated."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from crawler.archive.verify import verify
from crawler.mirror import Mirror

from .conftest import ROOT, origin_args

KILLS = 20


def crawl_cmd(mirror: Mirror, archive: Path, sources: Path) -> list[str]:
    origins = origin_args(mirror)
    return [sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), *origins, "--archive", str(archive),
            "--delay", "0.02",
            "--host-concurrency", "2", "--no-progress", "--quiet", "--warc-size", "1MiB"]


def test_kill_9_twenty_times_then_finish(tmp_path: Path) -> None:
    rng = random.Random(20261122)
    archive = tmp_path / "archive"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # The shipped sources walk 5 listing pages per category; this mirror has up to 7.
    sources = tmp_path / "sources.yaml"
    sources.write_text((ROOT / "sources.yaml").read_text(encoding="utf-8").replace(
        "listing_depth: 5 ", "listing_depth: 50 "), encoding="utf-8")
    with Mirror(articles=500, seed=11) as mirror:
        cmd = crawl_cmd(mirror, archive, sources)
        killed = 0
        for _ in range(2 * KILLS):
            if killed == KILLS:
                break
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            time.sleep(rng.uniform(0.3, 1.6))  # start-up takes ~0.3 s; kills land in every stage
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.communicate(timeout=30)
        final = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
        assert final.returncode == 0, final.stderr
        expected = {(key, aid): mirror.expected_snapshot(key, aid)
                    for key in ("baocantho", "hue", "baoangiang") for aid in mirror.article_ids(key)}

    assert killed == KILLS, f"only {killed} runs were still going when killed"
    assert not list(archive.rglob("*.open"))
    report = verify(archive)
    assert report.ok, report.problems[:10]
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        rows = db.execute("SELECT source, article_id, version, text_path FROM snapshots").fetchall()
    assert sorted((s, a) for s, a, _v, _p in rows) == sorted(expected), "an article lost or archived twice"
    assert all(v == 1 for _s, _a, v, _p in rows)
    for source, article_id, _v, text_path in rows:
        assert (archive / text_path).read_text(encoding="utf-8") == expected[(source, article_id)]
