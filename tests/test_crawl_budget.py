"""A slow site cannot hold a run past its time budget (issue 17, item 8).

Each host gets a time budget per run, and the run one in all; when it runs out the host is deferred:
what it had not fetched stays in the frontier for the next run, the run ends with a line saying so,
and the stats file records it.  The servers here drip, stall or ask to wait 119 s; the budgets are a
few seconds so that each test takes seconds (the runs are subprocesses with a hard timeout, so a
regression fails instead of hanging).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from crawler.config import ConfigError, parse_sources

from .conftest import FIXTURES, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
ARTICLES = [f"/bai-{n}-a{80443 + n}.html" for n in range(4)]
HOLD_LIMIT = 60.0  # a stalled handler gives up after this (the client has long gone)


class _Slow(BaseHTTPRequestHandler):
    """``mode`` decides how the pages in ``slow_paths`` misbehave; the rest are answered at once."""

    mode: ClassVar[str] = "fine"
    slow_paths: ClassVar[set[str]] = set()
    stop: ClassVar[threading.Event] = threading.Event()
    requests: ClassVar[list[str]] = []
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        cls = type(self)
        cls.requests.append(self.path)
        if self.path in cls.slow_paths and cls.mode != "fine":
            self._misbehave(cls.mode)
            return
        if self.path == "/robots.txt":
            send_html(self, b"User-agent: *\nAllow: /\n", "text/plain")
        elif self.path == "/":
            send_html(self, "".join(f'<a href="{p}">x</a>' for p in ARTICLES).encode())
        elif self.path in ARTICLES:
            send_html(self, ARTICLE.replace(b'value="80443"', f'value="{self.path[-10:-5]}"'.encode()))
        else:
            self.send_error(404)

    def _misbehave(self, mode: str) -> None:
        try:
            if mode == "retry-after":
                self.send_response(503)
                self.send_header("Retry-After", "119")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if mode == "headers":  # a header line every 0.3 s, never the end of the head
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                self._drip(lambda n: f"X-Drip-{n}: .\r\n".encode())
            elif mode == "body":  # the head at once, then one body byte every 0.3 s
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000000\r\n\r\n")
                self._drip(lambda n: b"<")
            elif mode == "tarpit":  # the request is read, nothing ever comes back
                self._drip(None)
        except OSError:
            pass
        self.close_connection = True

    def _drip(self, chunk: object) -> None:
        started = time.monotonic()
        n = 0
        while not type(self).stop.is_set() and time.monotonic() - started < HOLD_LIMIT:
            if callable(chunk):
                self.wfile.write(chunk(n))
                self.wfile.flush()
            n += 1
            time.sleep(0.3)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[int]:
    _Slow.mode, _Slow.slow_paths, _Slow.requests = "fine", set(), []
    _Slow.stop.clear()
    with serving(_Slow) as port:
        try:
            yield port
        finally:
            _Slow.stop.set()


def config(tmp_path: Path, port: int, *, robots: bool = False, defaults: str = "") -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(f"""{defaults}sources:
  site:
    adapter: vdoc
    hosts: ["127.0.0.1:{port}"]
    base_url: "http://127.0.0.1:{port}/"
    article_url_pattern: '^/[^/]+-a(?P<id>\\d+)\\.html$'
    listing_depth: 1
    politeness: {{delay: 0, respect_robots: {str(robots).lower()}}}
""", encoding="utf-8")
    return path


def crawl(sources: Path, archive: Path, *extra: str, limit: float = 90.0) -> tuple[int, str, float]:
    """Run ``crawler crawl --quiet`` in a subprocess: (exit code, stderr, seconds)."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--sources", str(sources), "--archive",
                           str(archive), "--quiet", "--no-progress", "--workers", "0", *extra],
                          capture_output=True, text=True, timeout=limit, env={**os.environ, "PYTHONWARNINGS": "error"})
    return done.returncode, done.stderr, time.monotonic() - started


def last_run(archive: Path) -> dict[str, object]:
    path = sorted((archive / "runs").glob("*.json"))[-1]
    record: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return record


def pending(archive: Path) -> set[str]:
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        return {str(row[0]) for row in db.execute("SELECT url FROM frontier")}


HOST_BUDGET = 2.0
SLACK = 6.0  # start-up, the archive step, closing files: the run's own seconds beyond the budget


@pytest.mark.parametrize("mode", ["retry-after", "headers", "body", "tarpit"])
def test_slow_articles_are_deferred_when_the_host_budget_runs_out(slow_site: int, tmp_path: Path,
                                                                  mode: str) -> None:
    _Slow.mode, _Slow.slow_paths = mode, set(ARTICLES)
    archive = tmp_path / "archive"
    code, err, seconds = crawl(config(tmp_path, slow_site), archive, "--host-budget", str(HOST_BUDGET))
    assert seconds < HOST_BUDGET + SLACK, f"{mode}: the run took {seconds:.1f} s"
    assert code == 0, err  # the start page answered: the site is there, only slow
    line = [x for x in err.splitlines() if "time budget" in x]
    assert len(line) == 1 and "site" in line[0] and f"127.0.0.1:{slow_site}" in line[0], err
    record = last_run(archive)
    stats = record["sources"]["site"]  # type: ignore[index]
    assert "time budget" in stats["deferred"][f"127.0.0.1:{slow_site}"]
    assert record["out_of_time"] == {"site": [f"127.0.0.1:{slow_site}"]}
    # Nothing lost: every article not fetched waits in the frontier, and the next run archives them.
    assert {u.rsplit("/", 1)[1] for u in pending(archive)} == {p[1:] for p in ARTICLES}
    _Slow.mode = "fine"
    code, err, _seconds = crawl(config(tmp_path, slow_site), archive, "--host-budget", str(HOST_BUDGET))
    assert code == 0 and pending(archive) == set(), err


@pytest.mark.parametrize("mode", ["headers", "body", "tarpit"])
def test_a_start_page_that_never_finishes_is_fetched_nothing(slow_site: int, tmp_path: Path, mode: str) -> None:
    _Slow.mode, _Slow.slow_paths = mode, {"/"}
    code, err, seconds = crawl(config(tmp_path, slow_site), tmp_path / "a", "--host-budget", str(HOST_BUDGET))
    assert seconds < HOST_BUDGET + SLACK and code == 4, (seconds, err)
    assert "site fetched nothing" in err and "time budget" in err


@pytest.mark.parametrize("mode", ["headers", "tarpit"])
def test_a_slow_robots_txt_is_bounded_too(slow_site: int, tmp_path: Path, mode: str) -> None:
    _Slow.mode, _Slow.slow_paths = mode, {"/robots.txt"}
    code, err, seconds = crawl(config(tmp_path, slow_site, robots=True), tmp_path / "a",
                               "--host-budget", str(HOST_BUDGET))
    assert seconds < HOST_BUDGET + SLACK and code == 4, (seconds, err)  # nothing could be asked for
    assert "site fetched nothing" in err and "time budget" in err


def test_the_run_budget_bounds_the_run_and_sources_yaml_sets_it(slow_site: int, tmp_path: Path) -> None:
    _Slow.mode, _Slow.slow_paths = "body", set(ARTICLES)
    sources = config(tmp_path, slow_site, defaults="defaults:\n  run_budget: 2\n  politeness: {host_budget: 600}\n")
    code, err, seconds = crawl(sources, tmp_path / "a")
    assert seconds < 2 + SLACK and code == 0, (seconds, err)
    assert "the run's time budget (2 s)" in err
    record = last_run(tmp_path / "a")
    assert record["options"]["run_budget"] == 2  # type: ignore[index]
    # The command line wins over the file.
    code, err, seconds = crawl(sources, tmp_path / "b", "--run-budget", "3", "--host-budget", "1")
    assert seconds < 1 + SLACK and "time budget of 1 s" in err, (seconds, err)


def test_an_exchange_deadline_bounds_one_exchange_below_the_budgets(slow_site: int, tmp_path: Path) -> None:
    _Slow.mode, _Slow.slow_paths = "body", {ARTICLES[0]}
    code, err, seconds = crawl(config(tmp_path, slow_site), tmp_path / "a", "--exchange-timeout", "1",
                               "--host-budget", "60")
    assert seconds < 1 + SLACK and code == 0, (seconds, err)
    record = last_run(tmp_path / "a")
    stats = record["sources"]["site"]  # type: ignore[index]
    assert stats["new"] == 3 and "no complete response within 1" in stats["failures"][f"http://127.0.0.1:{slow_site}{ARTICLES[0]}"]


@pytest.mark.parametrize(("text", "key"), [
    ("defaults:\n  run_budget: 0\n", "run_budget"), ("defaults:\n  run_budget: -5\n", "run_budget"),
    ("defaults:\n  run_budget: .inf\n", "run_budget"), ("defaults:\n  run_budget: yes\n", "run_budget"),
    ("defaults:\n  politeness: {host_budget: 0}\n", "politeness.host_budget"),
    ("defaults:\n  politeness: {host_budget: .nan}\n", "politeness.host_budget"),
])
def test_bad_budgets_are_configuration_errors(text: str, key: str) -> None:
    import yaml

    data = yaml.safe_load(text + "sources:\n  s: {adapter: vdoc, hosts: [a.vn], base_url: 'https://a.vn/', "
                                 "article_url_pattern: '-a(?P<id>\\d+)'}\n")
    with pytest.raises(ConfigError) as info:
        parse_sources(data)
    assert info.value.key is not None and info.value.key.endswith(key)


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e9", "x"])
def test_bad_budget_flags_are_usage_errors(tmp_path: Path, value: str) -> None:
    for flag in ("--run-budget", "--host-budget", "--exchange-timeout"):
        done = subprocess.run([sys.executable, "-m", "crawler", "crawl", "--archive", str(tmp_path), flag, value],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and flag in done.stderr and "Traceback" not in done.stderr


def test_a_closed_port_still_ends_at_once(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    code, err, seconds = crawl(config(tmp_path, port), tmp_path / "a")
    assert code == 4 and seconds < 20, (seconds, err)
