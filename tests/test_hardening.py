"""A run always ends and always says what went wrong: unreachable sites, endless Retry-After, pages
that fail for good, a full disk (issue 8, points 1-4 and 16)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from crawler.archive.verify import verify
from crawler.cli import main
from crawler.mirror import Mirror

from .conftest import FIXTURES, one_source_config, origin_args, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe is closed


def test_unreachable_sources_end_the_run_promptly_with_exit_4(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    hosts = ("baocantho.com.vn", "baoangiang.com.vn", "baothuathienhue.vn", "huengaynay.vn")
    origins = [f"--origin={host}=http://127.0.0.1:{closed_port()}" for host in hosts]
    started = time.monotonic()
    code = main(["crawl", "--archive", str(tmp_path), *origins, "--delay", "0", "--no-progress", "--quiet"])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 4, err
    assert seconds < 30, f"three unreachable sources kept the run going for {seconds:.0f} s"
    # Nothing at all reachable: each host is named as it fails, then one line ends the run (issue 21).
    for host in ("baocantho.com.vn", "baoangiang.com.vn", "huengaynay.vn"):  # the start pages' hosts
        assert f"{host}: connection refused by 127.0.0.1:" in err, err
    assert "crawler: no host could be reached" in err and "fetched nothing" not in err
    (record,) = (json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "runs").glob("*.json"))
    assert record["exit_code"] == 4 and set(record["unreachable"]) == {"baocantho", "hue", "baoangiang"}
    assert all(s["deferred"] for s in record["sources"].values())  # each host given up, not retried for minutes


class _Site(BaseHTTPRequestHandler):
    """``/`` lists two articles: one that is fine, one that is gone (404) for good.  With ``slow_down``
    every request is answered 429 with a Retry-After of 31,700 years."""

    slow_down = False
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if type(self).slow_down:
            self.send_response(429)
            self.send_header("Retry-After", "999999999999")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/":
            body = b'<a href="/chong-mu-loa-a80443.html">a</a><a href="/bai-da-xoa-a80444.html">b</a>'
        elif self.path == "/chong-mu-loa-a80443.html":
            body = ARTICLE
        else:
            self.send_error(404)
            return
        send_html(self, body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    _Site.slow_down, _Site.requests = False, []
    with serving(_Site) as port:
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def crawl(config: Path, archive: Path, *extra: str) -> int:
    return main(["crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--quiet", *extra])


def test_a_retry_after_of_centuries_defers_the_host_and_the_run_ends(site: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    _Site.slow_down = True
    started = time.monotonic()
    code = crawl(site, tmp_path / "archive")
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert seconds < 15 and code == 4, err
    assert "Retry-After" in err and "longer than the 120 s a run waits" in err
    assert len(_Site.requests) == 1  # asked once, then given up for this run
    started = time.monotonic()
    assert crawl(site, tmp_path / "archive") == 4  # and the next run is not held either
    assert time.monotonic() - started < 15


def test_a_page_that_fails_for_good_is_not_fetched_every_run(site: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    assert crawl(site, archive) == 0
    assert _Site.requests.count("/bai-da-xoa-a80444.html") == 1
    for _ in range(3):  # three more cron runs: the listing names it each time, it waits its turn
        assert crawl(site, archive) == 0
    assert _Site.requests.count("/bai-da-xoa-a80444.html") == 1
    assert _Site.requests.count("/chong-mu-loa-a80443.html") == 1
    capsys.readouterr()
    assert main(["failed", "--archive", str(archive), "--json"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    failed = json.loads(line)
    assert failed["article_id"] == "80444" and failed["last_error"].startswith("HTTP 404")
    assert failed["retried"] == "on schedule" and failed["next_try"] > failed["next_try"][:4]
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "runs").glob("*.json"))]
    assert [r["sources"]["site"]["waiting"] for r in runs] == [0, 1, 1, 1]


def _mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None,
                    reason="needs root to mount a small tmpfs (a real full disk)")
def test_a_full_disk_ends_the_run_with_a_message_and_the_next_run_completes(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "3m")
    try:
        archive = disk / "archive"
        with Mirror(articles=200, seed=6) as mirror:
            cmd = [sys.executable, "-m", "crawler", "crawl", "--archive", str(archive), *origin_args(mirror),
                   "--delay", "0", "--no-progress", "--quiet"]
            full = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            assert full.returncode == 1, full.stderr
            assert "No space left on device" in full.stderr or "database or disk is full" in full.stderr
            assert "Traceback" not in full.stderr and str(archive) in full.stderr  # one line, naming the path
            before = {p: p.read_bytes() for p in (archive / "text").rglob("*.txt")}
            subprocess.run(["mount", "-o", "remount,size=300m", str(disk)], check=True)
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
            expected = {(k, a) for k in ("baocantho", "hue", "baoangiang") for a in mirror.article_ids(k)}
        for path, data in before.items():  # nothing archived before the disk filled up was damaged
            assert path.read_bytes() == data
        report = verify(archive)
        assert report.ok, report.problems[:5]
        import sqlite3

        with sqlite3.connect(archive / "catalog.sqlite") as db:
            rows = {(s, a) for s, a in db.execute("SELECT source, article_id FROM snapshots")}
        assert rows == expected
        runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "runs").glob("*.json"))]
        assert runs[-1]["exit_code"] == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
