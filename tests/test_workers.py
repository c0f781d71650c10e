"""Archive workers: same results in and out of process, a deadline on hostile pages, no orphans, the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import trio

from crawler.archive.verify import verify
from crawler.cli import main
from crawler.config import Sources, load_sources
from crawler.crawl import Crawl, CrawlOptions
from crawler.crawl.archiver import Archive
from crawler.crawl.worker_pool import auto_workers
from crawler.mirror import Mirror
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher

from .conftest import FIXTURES, one_source_config, origin_args, send_html, serving

GOOD = {
    "/chong-mu-loa-a80443.html": (FIXTURES / "real" / "baocantho-a80443.html").read_bytes(),
    "/ly-do-khong-nen-a367201.html": (FIXTURES / "real" / "baoangiang-a367201.html").read_bytes(),
}
# One element with 150,000 distinct attributes: lexbor needs minutes (quadratic).  The guard refuses it at once
# (crawler.parse.htmlguard); these tests need a page that holds a worker past its deadline, so the processes they start
# run with the guard's attribute limit lifted (a sitecustomize on PYTHONPATH, see hostile_site).
HOSTILE = b"<html><body><div " + b" ".join(b"a%d" % i for i in range(150_000)) + b">x</div></body></html>"


class _Site(BaseHTTPRequestHandler):
    hostile_served = threading.Event()  # set once a hostile page went out: a worker is parsing it

    def do_GET(self) -> None:
        if self.path == "/":
            links = [*GOOD, "/trang-doc-a999.html"]
            body = "".join(f'<a href="{link}">x</a>' for link in links).encode()
        elif self.path in GOOD:
            body = GOOD[self.path]
        elif self.path in ("/trang-doc-a999.html", "/danh-muc-doc/"):
            body = HOSTILE
            send_html(self, body)
            _Site.hostile_served.set()
            return
        else:
            self.send_error(404)
            return
        send_html(self, body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site whose home page links two real articles and a hostile one; a second start page is hostile.

    Processes started from here (archive workers, ``crawler crawl``) parse it: the guard's limit is lifted.
    """
    lift = tmp_path / "guard-lifted"
    lift.mkdir()
    (lift / "sitecustomize.py").write_text("import crawler.parse.htmlguard\n"
                                          "crawler.parse.htmlguard.MAX_ATTRIBUTES = 10**9\n",
                                           encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(lift), os.environ.get("PYTHONPATH")])))
    _Site.hostile_served.clear()
    with serving(_Site) as port:
        yield one_source_config(tmp_path / "sources.yaml", "evil", port, "start_pages: [/, /danh-muc-doc/]")


def _crawl(sources: Sources, archive: Path, options: CrawlOptions) -> tuple[Crawl, float]:
    async def go() -> tuple[Crawl, float]:
        started = trio.current_time()
        with Archive(archive, sources) as arch:
            async with Fetcher(FetchPolicy(timeout=10, retries=0)) as fetcher:
                engine = Crawl(sources, arch, fetcher, options)
                await engine.run()
        return engine, trio.current_time() - started

    return trio.run(go)


def test_a_hostile_page_is_cut_off_at_the_deadline_and_the_others_are_archived(hostile_site: Path,
                                                                               tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    engine, seconds = _crawl(load_sources(hostile_site), archive, CrawlOptions(delay=0, workers=1, deadline=2.0))
    stats = engine.stats["evil"]
    assert seconds < 15, f"the run took {seconds:.1f} s"
    assert stats.new == 2
    assert "longer than 2 s" in stats.failures["http://" + hostile_site.read_text().split('"')[3].split("/")[2]
                                                + "/trang-doc-a999.html"]
    assert any("longer than 2 s" in why for url, why in stats.failures.items() if url.endswith("/danh-muc-doc/"))
    assert engine.worker_deaths == 2
    with Archive(archive, load_sources(hostile_site)) as arch:
        (failed,) = arch.store.failed("evil")
        assert failed.article_id == "999" and failed.failed and failed.next_try  # not fetched again next run
    assert not list(archive.rglob("*.open"))
    report = verify(archive)
    assert report.ok, report.problems


def test_sigterm_grace_holds_while_a_worker_is_stuck(hostile_site: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "crawler", "crawl", "--sources", str(hostile_site), "--archive",
           str(tmp_path / "archive"), "--no-progress", "--quiet", "--timeout", "10"]
    with subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True) as proc:
        # Not a fixed sleep: on a loaded machine the interpreter may not have started yet (SIGTERM would then kill
        # it before its handlers exist).  Wait until a hostile page went out, then give the worker time to take it.
        assert _Site.hostile_served.wait(60), "the crawler never asked for a hostile page"
        time.sleep(1.0)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        stopped = time.monotonic() - started
    assert proc.returncode == 130, err
    # the grace is 10 s; the stuck parse would take minutes.  Slack for a loaded 2-core machine.
    assert stopped < 20, f"stopped {stopped:.1f} s after SIGTERM (grace 10 s)"
    assert verify(tmp_path / "archive").ok


def test_workers_exit_when_the_crawl_process_is_killed(hostile_site: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "crawler", "crawl", "--sources", str(hostile_site), "--archive",
           str(tmp_path / "archive"), "--no-progress", "--quiet"]
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        deadline = time.monotonic() + 20
        workers: list[int] = []
        while not workers:
            assert time.monotonic() < deadline, "no archive worker started"
            time.sleep(0.1)
            workers = _children(proc.pid)
        proc.kill()  # kill -9: no clean shutdown of anything
        proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"archive workers {workers} outlived their parent"
        time.sleep(0.05)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            found += [int(c) for c in children.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")  # a zombie has exited


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_crawls_with_and_without_workers_archive_the_same_snapshots(tmp_path: Path) -> None:
    with Mirror(articles=12, seed=5) as m:
        for workers in ("0", "2"):
            code = main(["crawl", "--archive", str(tmp_path / workers), *origin_args(m), "--delay", "0",
                         "--no-progress", "--quiet", "--workers", workers])
            assert code == 0
    inline, pooled = files(tmp_path / "0" / "text"), files(tmp_path / "2" / "text")
    assert len(inline) == 3 * 12 + 2
    assert inline == pooled
    for archive in (tmp_path / "0", tmp_path / "2"):
        assert verify(archive).ok
        assert not (archive / "journal").exists()  # every row committed, journals removed


@pytest.mark.parametrize("value", ["-1", "x", "99"])
def test_a_bad_workers_value_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["crawl", "--workers", value])
    assert exit_info.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_auto_always_parses_out_of_process() -> None:
    assert auto_workers([1.0, 0.5]) == 1
    assert auto_workers([]) == 1
    cpus = len(os.sched_getaffinity(0))
    assert auto_workers([0.0]) == (1 if cpus <= 2 else min(8, cpus - 1))


@pytest.mark.parametrize("module", ["crawler.crawl.archive_worker", "crawler.crawl.archive_jobs"])
def test_a_worker_process_does_not_import_the_engine(module: str) -> None:
    """A worker imports its module (and so the crawler.crawl package) but none of the fetching side:
    the engine, the fetcher, httpx2 and the catalog's sqlite3 cost each worker ~0.1 s of CPU at its start."""
    probe = (f"import sys, {module}; "
             "print(sorted(m for m in ('crawler.crawl.engine', 'crawler.crawl.fetching', 'crawler.net.fetcher', "
             "'httpx2', 'sqlite3', 'crawler.crawl.worker_pool') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_the_crawl_package_still_names_its_engine() -> None:
    """The package's names load when first asked for (what `from crawler.crawl import Crawl` needs)."""
    import crawler.crawl as package
    from crawler.crawl.engine import Crawl as EngineCrawl
    from crawler.crawl.engine import CrawlOptions as EngineOptions
    from crawler.crawl.stats import SourceStats as StatsSourceStats

    assert package.Crawl is EngineCrawl and package.CrawlOptions is EngineOptions
    assert package.SourceStats is StatsSourceStats
    assert set(package.__all__) <= set(dir(package)) | set(package._HOMES)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        package.Nope  # noqa: B018


@pytest.mark.parametrize("shadow", ["crawler/__init__.py", "crawler/crawl/archive_worker.py"])
def test_workers_run_the_crawl_process_code_whatever_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shadow: str) -> None:
    """A worker is `python -c`: it must not import a `crawler` package that happens to lie in the working
    directory (another checkout, an older version), but the one the crawl process runs."""
    here = tmp_path / "cwd"
    fake = here / shadow
    fake.parent.mkdir(parents=True)
    for package in {fake.parent, here / "crawler"}:
        (package / "__init__.py").write_text("", encoding="utf-8")
    fake.write_text("raise SystemExit('the crawler package of the working directory was imported')\n",
                    encoding="utf-8")
    monkeypatch.chdir(here)
    with Mirror(articles=3, seed=5) as m:
        code = main(["crawl", "--archive", str(tmp_path / "archive"), *origin_args(m), "--delay", "0",
                     "--no-progress", "--quiet", "--workers", "1"])
    assert code == 0
    assert len(list((tmp_path / "archive" / "text").rglob("*.txt"))) == 3 * 3 + 2


@pytest.mark.parametrize("size", [0, 1, 255, 65536, 1 << 29])
def test_the_crawl_process_frames_messages_as_the_worker_does(size: int) -> None:
    """worker_pool keeps its own copy of the frame (it no longer imports the worker's module): the same bytes."""
    from crawler.crawl import archive_worker, worker_pool

    assert worker_pool._FRAME.format == archive_worker._FRAME.format
    assert worker_pool.MAX_FRAME == archive_worker.MAX_FRAME
    assert worker_pool._FRAME.pack(size) == archive_worker._FRAME.pack(size)


@pytest.mark.parametrize("sizes", [[10], [70_000], [300_000, 5, 65_536 - 4], [65_532, 65_532, 1]])
def test_replies_longer_than_one_read_arrive_whole_and_in_order(sizes: list[int]) -> None:
    """The crawl process reads replies 64 KiB at a time: a longer one (a listing naming thousands of links)
    takes several reads, and several short ones may come in one."""
    from crawler.crawl import worker_pool

    messages = [(n, b"x" * n) for n in sizes]

    async def go() -> list[object]:
        left, right = trio.socket.socketpair()
        reader = trio.SocketStream(left)
        writer = trio.SocketStream(right)
        worker = worker_pool._Worker(worker_pool.WorkerSettings(Path("."), (), 1, 1, 1.0), 0)
        got: list[object] = []
        async with trio.open_nursery() as nursery:
            async def send() -> None:
                for message in messages:
                    await writer.send_all(worker_pool._frame(message))
                await writer.aclose()
            nursery.start_soon(send)
            while (message := await worker._receive(reader)) is not None:
                got.append(message)
        await reader.aclose()
        return got

    assert trio.run(go) == messages
