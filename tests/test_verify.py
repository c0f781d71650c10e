"""``crawler verify``: read-only, and never confused by a crawl writing the archive at the same time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.archive.lock import ArchiveLock
from crawler.archive.verify import verify
from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import origin_args


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("verify") / "archive"
    with Mirror(articles=3, seed=8) as m:
        assert main(["crawl", "--archive", str(root), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    yield root


def contents(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_verify_while_a_crawl_holds_the_archive(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ArchiveLock(archive):
        assert main(["verify", "--archive", str(archive)]) == 75
        out, err = capsys.readouterr()
        assert out == ""
        assert err == (f"crawler: archive busy: a crawl (pid {os.getpid()}) is writing it; "
                       f"try again or use --wait\n")


def test_verify_wait_waits_for_the_crawl(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    writer = ArchiveLock(archive).__enter__()
    timer = threading.Timer(1.2, writer.__exit__, (None, None, None))
    timer.start()
    started = time.monotonic()
    try:
        assert main(["verify", "--archive", str(archive), "--wait", "--quick"]) == 0
    finally:
        timer.join()
    assert time.monotonic() - started >= 1.0
    assert capsys.readouterr().err.strip().endswith(": OK")


def test_verify_during_a_real_crawl_reports_busy_not_false_problems(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=40, seed=4) as m:
        crawl = subprocess.Popen([sys.executable, "-m", "crawler", "crawl", "--archive", str(archive),
                                  *origin_args(m), "--delay", "0.05", "--quiet", "--no-progress"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not list((archive / "warc").glob("*.open")) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert crawl.poll() is None, "the crawl ended before verify could run beside it"
            result = subprocess.run([sys.executable, "-m", "crawler", "verify", "--archive", str(archive)],
                                    capture_output=True, text=True, timeout=60, check=False)
            assert result.returncode == 75, result.stdout[:2000] + result.stderr
            assert result.stdout == ""
            assert result.stderr == (f"crawler: archive busy: a crawl (pid {crawl.pid}) is writing it; "
                                     f"try again or use --wait\n")
            waited = subprocess.run([sys.executable, "-m", "crawler", "verify", "--archive", str(archive), "--wait"],
                                    capture_output=True, text=True, timeout=120, check=False)
        finally:
            _, crawl_err = crawl.communicate(timeout=120)
    assert crawl.returncode == 0, crawl_err
    assert waited.returncode == 0, waited.stdout[:2000] + waited.stderr
    assert waited.stdout == ""


def test_verify_changes_nothing_and_leaves_recovery_to_the_next_run(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    # What a kill -9 leaves: the newest WARC still ".open", a temporary file.
    newest = max((copy / "warc").glob("*.warc.gz"))
    newest.rename(newest.with_name(newest.name + ".open"))
    tmp = next((copy / "text").rglob("*.txt")).with_name(".x.txt.123.tmp")
    tmp.write_bytes(b"half")
    before = contents(copy)
    report = verify(copy)
    assert contents(copy) == before  # nothing recovered, renamed, created or removed
    leftovers = [p for p in report.problems if "left-over .open" in p]
    assert len(leftovers) == 1
    # The rows pointing into the .open file are still checked there, not each reported missing.
    assert not [p for p in report.problems if "is missing" in p], report.problems
    assert report.problems == leftovers


def test_verify_reports_unreadable_directories(archive: Path, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every directory")
    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    hidden = next(p for p in (copy / "text").iterdir() if p.is_dir())
    hidden.chmod(0)
    try:
        report = verify(copy)
    finally:
        hidden.chmod(0o755)
    assert any("cannot read the directory" in p for p in report.problems)


def test_verify_of_what_is_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--archive", str(tmp_path / "nope")]) == 1
    assert "no such archive directory" in capsys.readouterr().out
    assert not (tmp_path / "nope").exists()
    assert main(["verify", "--archive", str(tmp_path)]) == 1
    assert "no catalog.sqlite" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
