"""An advisory lock on an archive, so that two runs (e.g. overlapping cron jobs) never write it at once."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from crawler.errors import ArchiveError

LOCK_NAME = ".crawler.lock"


class ArchiveBusy(ArchiveError):
    """Another run holds the archive's lock."""


class ArchiveLock:
    """``with ArchiveLock(archive, wait=False):`` — raises :class:`ArchiveBusy` when another run holds it.

    The kernel releases a flock when its process dies (even by kill -9), so a crashed run
    never leaves a stale lock behind.  The file records the holder's pid for the message.
    """

    def __init__(self, archive: Path, *, wait: bool = False, poll: float = 1.0) -> None:
        self.path = archive / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self._fd: int | None = None

    def __enter__(self) -> ArchiveLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not self.wait:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    os.close(fd)
                    raise ArchiveBusy(f"another crawler run (pid {holder}) is using {self.path.parent}") from None
                time.sleep(self.poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
