"""``crawler sources --check --fetch``: hosts checked in parallel, one request at a time per host, a host
that refuses or does not exist given up at its first page, progress on stderr, results in config order
(issue 21, point 6)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from crawler.cli import main
from crawler.mirror import Mirror

from .conftest import ROOT, origin_args, send_html, serving

SLOW = 1.0  # seconds the slow server takes per page


class _Slow(BaseHTTPRequestHandler):
    in_flight = 0
    most: ClassVar[list[int]] = [0]
    lock = threading.Lock()

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most[0] = max(cls.most[0], cls.in_flight)
        try:
            time.sleep(SLOW)
            send_html(self, b"<html><body>ok</body></html>")
        finally:
            with cls.lock:
                cls.in_flight -= 1

    def log_message(self, *args: object) -> None:
        pass


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def block(key: str, host: str, pages: int, delay: float, robots: bool = True) -> list[str]:
    start = ", ".join(["/"] + [f"/muc-{n}/" for n in range(1, pages)])
    scheme = "https" if host.endswith(".invalid") else "http"
    return [f"  {key}:", "    adapter: vdoc", f'    hosts: ["{host}"]', f'    base_url: "{scheme}://{host}/"',
            f"    start_pages: [{start}]", "    article_url_pattern: '^/[^/]+-a(?P<id>\\d+)\\.html$'",
            f"    politeness: {{delay: {delay}, respect_robots: {str(robots).lower()}}}"]


@contextmanager
def slow_site() -> Iterator[int]:
    """A server taking ``SLOW`` s per page; its own counters (``_Slow.most`` is the last one started)."""
    handler = type("_SlowSite", (_Slow,), {"in_flight": 0, "most": [0], "lock": threading.Lock()})
    _Slow.most = handler.most
    with serving(handler) as port:
        yield port


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *blocks: list[str]) -> tuple[int, str, str, float]:
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(["sources:", *(line for b in blocks for line in b)]) + "\n", encoding="utf-8")
    capsys.readouterr()
    started = time.monotonic()
    code = main(["sources", "--sources", str(path), "--check", "--fetch", "--json"])
    seconds = time.monotonic() - started
    out, err = capsys.readouterr()
    return code, out, err, seconds


def test_hosts_are_checked_at_once_and_a_dead_host_is_given_up_at_its_first_page(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with slow_site() as port:
        closed = [closed_port() for _ in range(3)]
        blocks = [block("slow", f"127.0.0.1:{port}", 2, 0.2, robots=False),
                  *(block(f"closed{n}", f"127.0.0.1:{c}", 6, 2.0) for n, c in enumerate(closed)),
                  block("gone", "news.invalid", 6, 2.0)]
        code, out, err, seconds = check(tmp_path, capsys, *blocks)
    assert code == 2, err
    # The slowest host alone takes 2 pages x 1 s (+ 0.2 s apart); a closed port's 6 pages 2 s apart would take
    # 10 s, the hosts one after the other 2 s more (a loaded machine adds a second or two to either).
    assert seconds < 2 * SLOW + 3, f"{seconds:.1f} s\n{err}"
    data = json.loads(out)
    assert [s["key"] for s in data["sources"]] == ["slow", "closed0", "closed1", "closed2", "gone"]  # config order
    assert [c["ok"] for c in data["sources"][0]["checks"]] == [True, True]
    for source in data["sources"][1:]:
        checks = source["checks"]
        base = source["base_url"]
        assert [c["url"] for c in checks] == [base, *(f"{base}muc-{n}/" for n in range(1, 6))]
        assert not any(c["ok"] for c in checks)
        assert "not checked" not in checks[0]["detail"] and all("not checked" in c["detail"] for c in checks[1:])
    # One line per finished host (stderr is not a terminal here), and one per dead host, not per page.
    for host in (f"127.0.0.1:{port}", *(f"127.0.0.1:{c}" for c in closed), "news.invalid"):
        assert sum(host in line and "checked" in line for line in err.splitlines()) == 1, (host, err)
    assert sum("muc-3" in line for line in err.splitlines()) == 0, err
    assert "; 2 of 6 start pages and feeds answered, 20 not tried (their host could not be reached)" in err


def test_one_request_at_a_time_per_host(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with slow_site() as other, slow_site() as port:
        most = _Slow.most
        code, out, err, seconds = check(tmp_path, capsys, block("b", f"127.0.0.1:{port}", 3, 0),
                                        block("a", f"127.0.0.1:{other}", 1, 0))
    assert code == 0, err
    assert most[0] == 1, "two requests to one host at the same time"
    assert [s["key"] for s in json.loads(out)["sources"]] == ["b", "a"]
    assert seconds >= 3 * SLOW


def test_many_slow_hosts_take_the_time_of_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with slow_site() as one, slow_site() as two, slow_site() as three:
        code, _, err, seconds = check(tmp_path, capsys, *(block(f"s{n}", f"127.0.0.1:{p}", 1, 0)
                                                           for n, p in enumerate((one, two, three))))
    assert code == 0, err
    assert seconds < 3 * SLOW, seconds


# -- where sitemaps come from ---------------------------------------------------------------------------


def test_the_listing_says_where_sitemaps_come_from(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["sources", "--sources", str(ROOT / "sources.yaml"), "--source", "baoangiang"]) == 0
    out = capsys.readouterr().out
    assert "robots.txt names, read at crawl time" in out
    assert "sitemaps (0): none" not in out
    with Mirror(articles=4, seed=2) as m:
        only = [a for a in origin_args(m) if "baoangiang" in a or "baocantho" in a]
        code = main(["sources", "--sources", str(ROOT / "sources.yaml"), "--source", "baoangiang", "--source",
                     "baocantho", "--check", "--delay", "0", *only])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert "https://baoangiang.com.vn/sitemap.xml (robots.txt)" in out, out
        assert "+ 1 named in robots.txt" in out and "+ 0 named in robots.txt" in out  # An Giang's; Cần Thơ's
        code = main(["sources", "--sources", str(ROOT / "sources.yaml"), "--source", "baoangiang", "--check",
                     "--delay", "0", "--json", *only])
        (source,) = json.loads(capsys.readouterr().out)["sources"]
        assert source["sitemaps"] == [] and source["robots_sitemaps"] == ["https://baoangiang.com.vn/sitemap.xml"]
    # A source that ignores robots.txt reads none of its sitemaps: said so.
    path = tmp_path / "s.yaml"
    path.write_text("\n".join(["sources:", *block("x", "127.0.0.1:9", 1, 0, robots=False)]) + "\n", encoding="utf-8")
    assert main(["sources", "--sources", str(path)]) == 0
    assert "robots.txt is ignored" in capsys.readouterr().out
