"""The archive lock: exclusive for writers, shared for readers, never through a link or into a non-file."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from crawler.archive.lock import LOCK_NAME, ArchiveBusy, ArchiveLock
from crawler.errors import ArchiveError


def test_exclusive_excludes_everyone_and_records_its_pid(tmp_path: Path) -> None:
    with ArchiveLock(tmp_path) as lock:
        assert lock.held
        assert (tmp_path / LOCK_NAME).read_text(encoding="ascii") == f"{os.getpid()}\n"
        with pytest.raises(ArchiveBusy, match=f"another crawler run \\(pid {os.getpid()}\\)"):
            ArchiveLock(tmp_path).__enter__()
        with pytest.raises(ArchiveBusy) as info:
            ArchiveLock(tmp_path, shared=True).__enter__()
        assert str(info.value) == (f"archive busy: a crawl (pid {os.getpid()}) is writing it; "
                                   f"try again or use --wait")
        assert info.value.holder == str(os.getpid())
    assert (tmp_path / LOCK_NAME).read_text(encoding="ascii") == ""  # no stale pid for the next message


def test_shared_holders_coexist_and_exclude_a_writer(tmp_path: Path) -> None:
    with ArchiveLock(tmp_path, shared=True) as first, ArchiveLock(tmp_path, shared=True) as second:
        assert first.held and second.held
        with pytest.raises(ArchiveBusy, match="a verify, or a run starting"):
            ArchiveLock(tmp_path).__enter__()
    with ArchiveLock(tmp_path):
        pass


def test_shared_waits_for_the_writer(tmp_path: Path) -> None:
    writer = ArchiveLock(tmp_path).__enter__()
    timer = threading.Timer(0.3, writer.__exit__, (None, None, None))
    timer.start()
    started = time.monotonic()
    with ArchiveLock(tmp_path, shared=True, wait=True, poll=0.05) as reader:
        assert reader.held
        assert time.monotonic() - started >= 0.25
    timer.join()


def test_shared_without_a_lock_file_or_directory(tmp_path: Path) -> None:
    with ArchiveLock(tmp_path / "missing", shared=True) as lock:
        assert not lock.held
    assert not (tmp_path / "missing").exists()  # a reader creates no archive


@pytest.mark.parametrize("shared", [False, True])
def test_a_symlink_is_refused_and_its_target_untouched(tmp_path: Path, shared: bool) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / LOCK_NAME).symlink_to(victim)
    with pytest.raises(ArchiveError, match="is a symbolic link; refusing to follow it"):
        ArchiveLock(archive, shared=shared).__enter__()
    assert victim.read_bytes() == b"precious"


def test_a_dangling_symlink_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).symlink_to(tmp_path / "target")
    for shared in (False, True):
        with pytest.raises(ArchiveError, match="symbolic link"):
            ArchiveLock(tmp_path, shared=shared).__enter__()
    assert not (tmp_path / "target").exists()


@pytest.mark.parametrize("shared", [False, True])
def test_a_directory_or_fifo_is_refused_without_blocking(tmp_path: Path, shared: bool) -> None:
    directory = tmp_path / "a"
    (directory / LOCK_NAME).mkdir(parents=True)
    with pytest.raises(ArchiveError, match="is a directory, not a file"):
        ArchiveLock(directory, shared=shared).__enter__()
    fifo = tmp_path / "b"
    fifo.mkdir()
    os.mkfifo(fifo / LOCK_NAME)
    with pytest.raises(ArchiveError, match="is not a regular file"):  # opening a FIFO read-only would block
        ArchiveLock(fifo, shared=shared).__enter__()


def test_archive_that_is_a_file(tmp_path: Path) -> None:
    regular = tmp_path / "file"
    regular.write_bytes(b"x")
    with pytest.raises(ArchiveError, match="is not a directory"):
        ArchiveLock(regular).__enter__()
    assert regular.read_bytes() == b"x"
