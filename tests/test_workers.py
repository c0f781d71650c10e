"""Extraction in worker processes: same files as in-process, a dying worker, orphaned workers, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trio

from crawler.cli import main
from crawler.config import Sources
from crawler.extraction import WORKER_DIED, Extracted, ExtractJob
from crawler.mirror import Mirror
from crawler.models import WarcLocation
from crawler.workers import Extractor, InlineExtractor, ProcessExtractor, auto_workers, make_extractor

from .conftest import FIXTURES, ROOT, origin_args
from .worker_helpers import CRASH_MARKER, crash_on_marker

PAGES = [
    ("baocantho", "80443", "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
     FIXTURES / "real" / "baocantho-a80443.html"),
    ("baoangiang", "367201", "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
     FIXTURES / "real" / "baoangiang-a367201.html"),
]
FETCHED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def jobs(content: dict[str, bytes] | None = None) -> list[ExtractJob]:
    return [ExtractJob(source=key, url=url, content=(content or {}).get(key, path.read_bytes()),
                       content_type="text/html; charset=utf-8", location=WarcLocation(f"{key}.warc.gz", 1000 + n),
                       fetched_at=FETCHED, expected_id=article_id, latest=None)
            for n, (key, article_id, url, path) in enumerate(PAGES)]


def run_all(extractor: Extractor, todo: list[ExtractJob]) -> list[Extracted]:
    async def go() -> list[Extracted]:
        results: list[Extracted] = []
        try:
            for job in todo:
                results.append(await extractor.extract(job))
        finally:
            extractor.close()
        return results

    return trio.run(go)


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_worker_process_writes_the_same_snapshots_as_the_crawl_process(sources: Sources, tmp_path: Path) -> None:
    inline = run_all(InlineExtractor(tmp_path / "a", sources.sources), jobs())
    pooled = run_all(ProcessExtractor(tmp_path / "b", sources.sources, 1), jobs())
    assert [r.written for r in pooled] == [r.written for r in inline]
    assert all(r.written is not None and r.written.created for r in pooled)
    assert files(tmp_path / "b") == files(tmp_path / "a")
    expected = (FIXTURES / "real" / "baocantho-a80443.expected.txt").read_bytes()
    assert any(name.endswith("/80443.txt") and data == expected for name, data in files(tmp_path / "b").items())


def test_unchanged_text_writes_nothing_and_another_page_id_is_left_to_the_caller(sources: Sources,
                                                                                  tmp_path: Path) -> None:
    first = run_all(ProcessExtractor(tmp_path, sources.sources, 1), jobs())
    written = first[0].written
    assert written is not None
    again = replace(jobs()[0], latest=(1, written.sha256, written.text_path))
    other_id = replace(jobs()[0], expected_id="12345")
    before = files(tmp_path)
    same, moved = run_all(ProcessExtractor(tmp_path, sources.sources, 1), [again, other_id])
    assert same.written is not None and not same.written.created and same.written.version == 1
    assert moved.written is None and moved.pending is not None and moved.pending[0].article_id == "80443"
    assert files(tmp_path) == before


def test_a_dying_worker_fails_only_its_article_and_the_pool_starts_again(sources: Sources, tmp_path: Path) -> None:
    good = jobs()
    bad = replace(good[0], content=good[0].content + CRASH_MARKER)
    results = run_all(ProcessExtractor(tmp_path, sources.sources, 1, target=crash_on_marker), [bad, *good])
    assert results[0].failure is not None and results[0].failure.field == WORKER_DIED
    assert "died" in str(results[0].failure)
    assert [r.written is not None and r.written.created for r in results[1:]] == [True, True]


def test_workers_exit_when_the_crawl_process_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time, trio
        sys.path.insert(0, {str(ROOT)!r})
        from crawler.config import load_sources
        from crawler.workers import ProcessExtractor
        from tests.test_workers import jobs
        from pathlib import Path
        sources = load_sources(Path({str(ROOT / "sources.yaml")!r})).sources
        extractor = ProcessExtractor(Path({str(tmp_path)!r}), sources, 1)
        trio.run(extractor.extract, jobs()[0])
        print(" ".join(str(p) for p in extractor._executor()._processes), flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            workers = [int(p) for p in proc.stdout.readline().split()]
            assert workers
            proc.kill()  # kill -9: no clean shutdown of the pool
            proc.wait(timeout=10)
            deadline = time.monotonic() + 10
            while any(_alive(pid) for pid in workers):
                assert time.monotonic() < deadline, f"worker processes {workers} outlived their parent"
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")  # a zombie has exited


def test_crawls_with_and_without_workers_archive_the_same_snapshots(tmp_path: Path) -> None:
    with Mirror(articles=12, seed=5) as m:
        for workers in ("0", "2"):
            code = main(["crawl", "--archive", str(tmp_path / workers), *origin_args(m), "--delay", "0",
                         "--no-progress", "--quiet", "--workers", workers])
            assert code == 0
    inline, pooled = files(tmp_path / "0" / "text"), files(tmp_path / "2" / "text")
    assert len([n for n in inline if n.endswith(".txt")]) == 3 * 12 + 2
    assert inline.keys() == pooled.keys()
    for name, data in inline.items():  # metadata differ in fetch times and WARC names only
        if name.endswith(".txt"):
            assert pooled[name] == data, name


@pytest.mark.parametrize("value", ["-1", "x", "99"])
def test_a_bad_workers_value_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["crawl", "--workers", value])
    assert exit_info.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_auto_uses_a_worker_only_without_politeness_delays() -> None:
    many_cpus = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) >= 2
    assert auto_workers([1.0, 0.5]) == 0
    assert auto_workers([]) == 0
    assert auto_workers([1.0, 0.0]) == (1 if many_cpus else 0)
    assert isinstance(make_extractor(Path("x"), (), 0), InlineExtractor)
    assert isinstance(make_extractor(Path("x"), (), 1), ProcessExtractor)
