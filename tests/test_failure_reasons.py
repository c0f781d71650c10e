"""A failure says its URL once and its reason once: on the crawl's failure lines, in the run's stats
file, in the catalog (``crawler failed``) and from ``crawler fetch``, for every kind of failure.

Before, a fetch error's text began with its URL and each layer that wrapped it added the URL again
(``failed: URL: URL: body of … bytes exceeds …``); :func:`crawler.errors.without_url` is the rule.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.errors import FetchError, TransientFetchError, without_url

from .conftest import one_source_config, send_html, serving

KINDS = {  # path -> what the server does
    "/a-a1.html": "404", "/b-a2.html": "500", "/c-a3.html": "too large", "/d-a4.html": "refused coding",
    "/e-a5.html": "timeout", "/f-a6.html": "not an article", "/g-a7.html": "robots", "/h-a8.html": "bad redirect",
}


class Failing(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        kind = KINDS.get(self.path)
        if self.path == "/robots.txt":
            send_html(self, b"User-agent: *\nDisallow: /g-\n", "text/plain")
        elif self.path == "/":
            send_html(self, "".join(f'<a href="{path}">x</a>' for path in KINDS).encode())
        elif kind in ("404", "500"):
            self.send_error(int(kind))
        elif kind == "too large":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(30 * 1024 * 1024))
            self.end_headers()
        elif kind == "refused coding":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Encoding", "br")
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"xxxxx")
        elif kind == "timeout":
            time.sleep(1.5)
        elif kind == "not an article":
            send_html(self, b"<html><body><p>nothing here</p></body></html>")
        elif kind == "bad redirect":
            self.send_response(301)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere-a9.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_error(404)


def repeated_phrase(text: str) -> str | None:
    """A run of three words that occurs twice in ``text`` (case folded, URLs left out: counted apart), or None."""
    words = re.findall(r"\w+", re.sub(r"https?://\S+", " ", text).casefold())
    seen: set[tuple[str, ...]] = set()
    for n in range(len(words) - 2):
        phrase = tuple(words[n:n + 3])
        if phrase in seen:
            return " ".join(phrase)
        seen.add(phrase)
    return None


def assert_says_once(line: str, url: str) -> None:
    assert line.count(url) == 1, line
    assert repeated_phrase(line) is None, (repeated_phrase(line), line)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    tmp = tmp_path_factory.mktemp("failures")
    with serving(Failing) as port:
        config = one_source_config(tmp / "sources.yaml", "site", port)
        config.write_text(config.read_text().replace("respect_robots: false", "respect_robots: true"))
        yield port, config


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], capture_output=True, text=True, timeout=180,
                          check=False)


def test_every_failure_of_a_crawl_says_its_url_once(site: tuple[int, Path], tmp_path: Path) -> None:
    port, config = site
    archive = tmp_path / "archive"
    crawl = run("crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--timeout", "0.5")
    assert crawl.returncode in (0, 1), crawl.stderr
    urls = {f"http://127.0.0.1:{port}{path}" for path in KINDS}
    lines = [line.strip() for line in crawl.stdout.splitlines() if line.strip().startswith("failed: ")]
    assert len(lines) == 5  # the first five; all of them in the stats file
    for line in lines:
        (url,) = [url for url in urls if url in line]
        assert_says_once(line, url)
    (stats_file,) = (archive / "runs").glob("*.json")
    failures = json.loads(stats_file.read_text(encoding="utf-8"))["sources"]["site"]["failures"]
    assert set(failures) == urls
    for url, why in failures.items():
        assert url not in why and f"{port}/" not in why.replace(":1/", "") and repeated_phrase(why) is None, why
    listed = run("failed", "--archive", str(archive))
    rows = [line for line in listed.stdout.splitlines() if "\t" in line and "127.0.0.1" in line]
    assert len(rows) == len(KINDS)
    for row in rows:
        (url,) = [url for url in urls if url in row]
        assert_says_once(row, url)
    assert "body of" in listed.stdout and "disallowed by robots.txt" in listed.stdout
    assert "Content-Encoding br" in listed.stdout and "no title" in listed.stdout


@pytest.mark.parametrize("path", ["/a-a1.html", "/c-a3.html", "/d-a4.html", "/f-a6.html", "/h-a8.html"])
def test_fetch_says_its_url_once(site: tuple[int, Path], path: str) -> None:
    port, config = site
    url = f"http://127.0.0.1:{port}{path}"
    result = run("fetch", "--sources", str(config), url, "--timeout", "5")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert_says_once(line, url)


def test_connection_refused_says_its_url_once(tmp_path: Path) -> None:
    port = closed_port()
    config = one_source_config(tmp_path / "sources.yaml", "site", port)
    url = f"http://127.0.0.1:{port}/x-a1.html"
    fetched = run("fetch", "--sources", str(config), url, "--timeout", "2")
    (line,) = fetched.stderr.strip().splitlines()
    assert_says_once(line, url)
    crawl = run("crawl", "--sources", str(config), "--archive", str(tmp_path / "a"), "--no-progress",
                "--timeout", "2")
    # Nothing reachable: the run ends at once (no failed article); each line names the host once.
    host = f"127.0.0.1:{port}"
    lines = [line for line in crawl.stdout.splitlines() + crawl.stderr.splitlines() if host in line]
    assert lines and "no host could be reached" in crawl.stderr, crawl
    for line in lines:
        assert line.count(host) == 1, line
        assert "connection refused" in line or "deferred hosts" in line, line


def test_dns_failure_says_its_url_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.net import connect

    async def no_such_host(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(connect, "system_resolver", no_such_host)
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  site:\n    adapter: vdoc\n    hosts: [nx.example.vn]\n"
                      "    base_url: http://nx.example.vn/\n    article_url_pattern: '^/[^/]+-a(?P<id>\\d+)\\.html$'\n"
                      "    politeness: {delay: 0, respect_robots: false}\n", encoding="utf-8")
    url = "http://nx.example.vn/x-a1.html"
    assert main(["fetch", "--sources", str(config), url, "--timeout", "2"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "nx.example.vn" in line
    assert_says_once(line, url)


@pytest.mark.parametrize("url", ["http://a.vn/x-1.html", "https://b.vn/đà-nẵng?q=1&r=2", "http://c.vn/"])
def test_nested_errors_keep_one_url(url: str) -> None:
    inner = TransientFetchError("HTTP 503 Service Unavailable", url=url, status=503)
    outer = TransientFetchError(f"{inner} (gave up after 4 attempts)", url=url)
    again = FetchError(str(outer), url=url)
    assert str(again) == f"{url}: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    assert again.reason == "HTTP 503 Service Unavailable (gave up after 4 attempts)"
    assert without_url(f"sitemap: {outer}", url) == "sitemap: HTTP 503 Service Unavailable (gave up after 4 attempts)"
    other = "http://elsewhere.vn/"
    assert without_url(f"redirect to {other} not allowed", url) == f"redirect to {other} not allowed"


def test_sources_check_says_its_url_once(tmp_path: Path) -> None:
    port = closed_port()
    config = one_source_config(tmp_path / "sources.yaml", "site", port)
    checked = run("sources", "--sources", str(config), "--check", "--fetch")
    assert checked.returncode == 2
    start = f"http://127.0.0.1:{port}/"
    lines = [line for line in checked.stderr.splitlines() if start in line]
    assert lines, checked.stderr
    for line in lines:
        assert_says_once(line, start)
    as_json = json.loads(run("sources", "--sources", str(config), "--check", "--fetch", "--json").stdout)
    (check,) = as_json["sources"][0]["checks"]
    assert check["url"] == start and start not in check["detail"] and not check["ok"]
