"""Hosts that cannot be reached (issue 21, point 6): a name that does not exist is asked once and not
retried; a run that reaches no host at all says so within seconds.

The resolver is replaced in-process (``trio.socket.getaddrinfo``, what the connection layer calls, or
the Fetcher's ``resolver``) so that calls can be counted; the subprocess tests use host names under
``.invalid`` (RFC 6761: never resolves, on any machine) and closed loopback ports.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trio

from crawler.cli import main
from crawler.errors import TransientFetchError
from crawler.net.fetch_policy import FetchPolicy, HostNotFound
from crawler.net.fetcher import Fetcher

from .conftest import FIXTURES, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
NOT_FOUND = [socket.EAI_NONAME, *([socket.EAI_NODATA] if hasattr(socket, "EAI_NODATA") else [])]


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Counter[str], dict[str, int]]]:
    """``trio.socket.getaddrinfo`` answering ``errors[host]`` (a gaierror errno) for the names given; IP
    literals and other names go to the real one.  Yields (calls per host, errors)."""
    real = trio.socket.getaddrinfo
    calls: Counter[str] = Counter()
    errors: dict[str, int] = {}

    async def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> object:
        name = host.decode() if isinstance(host, bytes) else str(host)
        calls[name] += 1
        if name in errors:
            raise socket.gaierror(errors[name], f"fake resolver: errno {errors[name]}")
        return await real(host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(trio.socket, "getaddrinfo", getaddrinfo)
    yield calls, errors


# -- the fetcher --------------------------------------------------------------------------------


@pytest.mark.parametrize("errno", NOT_FOUND)
def test_a_name_that_does_not_exist_is_asked_once_and_never_retried(errno: int) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        raise socket.gaierror(errno, "Name or service not known")

    sleeps = Sleeps()
    errors: list[BaseException] = []

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=3), sleep=sleeps, resolver=resolver) as fetcher:
            for url in ("https://gone.example.vn/", "https://gone.example.vn/a-1.html", "http://gone.example.vn/b",
                        "https://GONE.example.vn./c"):
                with pytest.raises(HostNotFound) as info:
                    await fetcher.fetch_following(url)
                errors.append(info.value)

    trio.run(go)
    assert asked == ["gone.example.vn"], "the name was asked again (or retried) after it was not found"
    assert sleeps.calls == [], "a name that does not exist was retried with back-off"
    assert all(isinstance(e, TransientFetchError) for e in errors)  # the next run asks again
    first = str(errors[0])
    assert "gone.example.vn" in first and "not found" in first and "attempts" not in first


@pytest.mark.parametrize("errno", NOT_FOUND)
def test_the_system_resolver_path_is_not_retried_either(fake_dns: tuple[Counter[str], dict[str, int]],
                                                        errno: int) -> None:
    calls, errors = fake_dns
    errors["nowhere.example.vn"] = errno
    sleeps = Sleeps()

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=3), sleep=sleeps) as fetcher:
            for path in ("/", "/robots.txt", "/sitemap.xml"):
                with pytest.raises(HostNotFound):
                    await fetcher.fetch(f"https://nowhere.example.vn{path}")

    trio.run(go)
    assert calls["nowhere.example.vn"] == 1 and sleeps.calls == []


@pytest.mark.parametrize("errno", [socket.EAI_AGAIN, socket.EAI_FAIL])
def test_a_temporary_resolver_failure_is_retried_within_the_budget(
        fake_dns: tuple[Counter[str], dict[str, int]], errno: int) -> None:
    calls, errors = fake_dns
    errors["flaky.example.vn"] = errno
    sleeps = Sleeps()

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=3), sleep=sleeps) as fetcher:
            with pytest.raises(TransientFetchError) as info:
                await fetcher.fetch("https://flaky.example.vn/")
            assert not isinstance(info.value, HostNotFound)
            assert "gave up after 4 attempts" in str(info.value)

    trio.run(go)
    assert calls["flaky.example.vn"] == 4 and len(sleeps.calls) == 3


# -- a crawl ------------------------------------------------------------------------------------


def _source(key: str, host: str, *, robots: bool, pages: int = 3, scheme: str = "https") -> list[str]:
    start = ", ".join(["/"] + [f"/muc-{n}/" for n in range(1, pages)])
    return [f"  {key}:", "    adapter: vdoc", f'    hosts: ["{host}"]', f'    base_url: "{scheme}://{host}/"',
            f"    start_pages: [{start}]",
            "    article_url_pattern: '^/[^/]+-a(?P<id>\\d+)\\.html$'",
            f"    politeness: {{delay: 0, respect_robots: {'true' if robots else 'false'}}}"]


def config(path: Path, *blocks: list[str]) -> Path:
    path.write_text("\n".join(["sources:", *(line for block in blocks for line in block)]) + "\n", encoding="utf-8")
    return path


def run_record(archive: Path) -> dict[str, object]:
    (record,) = (json.loads(p.read_text(encoding="utf-8")) for p in (archive / "runs").glob("*.json"))
    return record  # type: ignore[no-any-return]


@pytest.mark.parametrize("robots", [True, False])
def test_a_crawl_asks_a_missing_name_once_and_keeps_its_pages_for_the_next_run(
        fake_dns: tuple[Counter[str], dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        robots: bool) -> None:
    calls, errors = fake_dns
    errors["gone.example.vn"] = socket.EAI_NONAME
    cfg = config(tmp_path / "s.yaml", _source("gone", "gone.example.vn", robots=robots, pages=4))
    started = time.monotonic()
    code = main(["crawl", "--sources", str(cfg), "--archive", str(tmp_path / "a"), "--no-progress", "--quiet"])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 4, err
    assert calls["gone.example.vn"] == 1, calls
    assert seconds < 10 and run_record(tmp_path / "a")["seconds"] < 3, seconds  # type: ignore[operator]
    stats = run_record(tmp_path / "a")["sources"]["gone"]  # type: ignore[index]
    # Chosen: the host is given up for the run (listed under "deferred", one reason), its pages stay pending.
    assert "not found" in stats["deferred"]["gone.example.vn"]
    assert stats["failures"] == {}
    assert "attempts" not in err and "gone.example.vn" in err and "not found" in err


def test_crawl_fetch_and_sources_check_on_an_invalid_name_end_at_once(tmp_path: Path) -> None:
    """Real subprocesses, real resolver: ``.invalid`` never resolves (RFC 6761)."""
    cfg = config(tmp_path / "s.yaml", _source("gone", "news.invalid", robots=False, pages=3))
    commands = {
        "crawl": (["crawl", "--archive", str(tmp_path / "a"), "--no-progress"], 4),
        "fetch": (["fetch", "--archive", str(tmp_path / "b"), "https://news.invalid/bai-a1.html"], 1),
        "sources": (["sources", "--check", "--fetch"], 2),
    }
    for name, (args, expected) in commands.items():
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "crawler", *args[:1], "--sources", str(cfg), *args[1:]],
                              capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - started
        assert done.returncode == expected, (name, done.stderr)
        assert "Traceback" not in done.stderr and "attempts" not in done.stderr, (name, done.stderr)
        assert "news.invalid" in done.stderr and "not found" in done.stderr, (name, done.stderr)
        # Before: 11 s (crawl), 5.5 s (fetch), each page tried 4 times.  Python's start and the archive
        # workers' take seconds on a loaded machine: the run's own time is in its stats file.
        assert seconds < 15, (name, seconds)
    assert run_record(tmp_path / "a")["seconds"] < 3  # type: ignore[operator]


# -- nothing reachable ----------------------------------------------------------------------------


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/":
            send_html(self, b'<a href="/chong-mu-loa-a80443.html">a</a>')
        elif self.path == "/chong-mu-loa-a80443.html":
            send_html(self, ARTICLE)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("robots", [True, False])
def test_a_crawl_that_reaches_no_host_says_so_within_seconds(
        fake_dns: tuple[Counter[str], dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        robots: bool) -> None:
    """DNS failing for the moment (EAI_AGAIN, retried 3 times with back-off otherwise), a closed port: the
    run ends once every host's first attempt failed, one line per host."""
    calls, errors = fake_dns
    errors["flaky.example.vn"] = socket.EAI_AGAIN
    errors["other.example.vn"] = socket.EAI_AGAIN
    closed = closed_port()
    cfg = config(tmp_path / "s.yaml", _source("flaky", "flaky.example.vn", robots=robots),
                 _source("other", "other.example.vn", robots=robots),
                 _source("closed", f"127.0.0.1:{closed}", robots=robots, scheme="http"))
    started = time.monotonic()
    code = main(["crawl", "--sources", str(cfg), "--archive", str(tmp_path / "a"), "--no-progress", "--quiet"])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 4, err
    # Before: 3 retries of EAI_AGAIN, 3.5 s or more of back-off alone; now the first failure of the last host ends it.
    run_seconds = run_record(tmp_path / "a")["seconds"]
    assert run_seconds < 3.5 and seconds < 10, f"{run_seconds} s for a run that reached nothing\n{err}"
    assert calls["flaky.example.vn"] <= 2 and calls["other.example.vn"] <= 2, calls
    lines = err.splitlines()
    for host in ("flaky.example.vn", "other.example.vn", f"127.0.0.1:{closed}"):
        assert any(host in line and ("cannot" in line or "refused" in line) for line in lines), (host, err)
    assert "no host could be reached" in err
    record = run_record(tmp_path / "a")
    assert set(record["unreachable"]) == {"flaky", "other", "closed"}  # type: ignore[arg-type]


def test_a_crawl_still_crawls_the_host_it_reaches(fake_dns: tuple[Counter[str], dict[str, int]], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    calls, errors = fake_dns
    errors["gone.example.vn"] = socket.EAI_NONAME
    errors["flaky.example.vn"] = socket.EAI_AGAIN
    with serving(_Site) as port:
        cfg = config(tmp_path / "s.yaml", _source("good", f"127.0.0.1:{port}", robots=True, pages=1, scheme="http"),
                     _source("gone", "gone.example.vn", robots=True), _source("flaky", "flaky.example.vn", robots=True),
                     _source("closed", f"127.0.0.1:{closed_port()}", robots=True, scheme="http"))
        code = main(["crawl", "--sources", str(cfg), "--archive", str(tmp_path / "a"), "--no-progress", "--quiet"])
    err = capsys.readouterr().err
    assert code == 4, err
    record = run_record(tmp_path / "a")
    assert record["sources"]["good"]["new"] == 1, err  # type: ignore[index]
    assert set(record["unreachable"]) == {"gone", "flaky", "closed"}  # type: ignore[arg-type]
    assert calls["gone.example.vn"] == 1
    assert "no host could be reached" not in err


def test_every_fetch_of_a_crawl_shares_the_rule(tmp_path: Path) -> None:
    """Images, requisites, sitemaps, robots.txt: all go through Fetching.fetch, so a missing name on a host
    of their own (an image server) is asked once, said once, and its URLs are deferred, not retried."""
    from crawler.config import parse_sources
    from crawler.crawl.fetching import Fetching, Politeness

    (source,) = parse_sources({"sources": {"s": {
        "adapter": "vdoc", "hosts": ["news.example.vn"], "base_url": "https://news.example.vn/",
        "article_url_pattern": "-a(?P<id>\\d+)", "politeness": {"delay": 0}}}})
    asked: Counter[str] = Counter()
    said: list[tuple[str, str]] = []
    sleeps = Sleeps()

    async def resolver(host: str, port: int) -> list[str]:
        asked[host] += 1
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def record(*args: object) -> None:
        return None

    async def go() -> None:
        async with Fetcher(FetchPolicy(retries=3), sleep=sleeps, resolver=resolver) as fetcher:
            fetching = Fetching(fetcher, lambda s: Politeness(concurrency=2, delay=0, respect_robots=True), record,
                                global_concurrency=4, seeds={"news.example.vn"},
                                on_unreachable=lambda host, why: said.append((host, why)))
            for path in ("/a.jpg", "/b.css", "/sitemap.xml", "/c.png"):
                fetched = await fetching.fetch(source, f"https://img.example.vn{path}")
                assert fetched.results is None and fetched.deferred and "not found" in fetched.why
            assert fetching.deferred_hosts() == {"img.example.vn": said[0][1]}
            assert not fetching.nothing_reachable  # the seed host was not tried

    trio.run(go)
    assert asked == {"img.example.vn": 1} and sleeps.calls == []
    assert [host for host, _ in said] == ["img.example.vn"]


@pytest.mark.parametrize("errno", [socket.EAI_NONAME, socket.EAI_AGAIN])
def test_concurrent_connections_share_one_lookup_and_a_missing_name_is_not_asked_again(errno: int) -> None:
    """Four connections started together ask the resolver once; after "no such name" a later one does not
    ask again (the crawl's start pages raced past the fetcher's own memory of missing names)."""
    from crawler.net.connect import CheckedBackend

    asked: list[str] = []

    async def slow_resolver(host: str, port: int) -> list[str]:
        asked.append(host)
        await trio.sleep(0.05)
        raise socket.gaierror(errno, "lookup failed")

    async def go() -> list[BaseException]:
        backend = CheckedBackend(resolver=slow_resolver)
        errors: list[BaseException] = []

        async def connect() -> None:
            try:
                await backend.connect_tcp("gone.example.vn", 80, timeout=5)
            except Exception as exc:
                errors.append(exc)

        async with trio.open_nursery() as nursery:
            for _ in range(4):
                nursery.start_soon(connect)
        await connect()
        return errors

    errors = trio.run(go)
    assert len(errors) == 5
    assert all(isinstance(e.__cause__, socket.gaierror) and e.__cause__.errno == errno for e in errors)
    assert len(asked) == (1 if errno == socket.EAI_NONAME else 2), asked  # a temporary failure is asked again
