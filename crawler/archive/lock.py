"""An advisory lock on an archive: writers (crawl, fetch) exclusive, readers (verify) shared.

Two runs (e.g. overlapping cron jobs) never write an archive at once, and ``crawler verify``
never reads one while a run is writing it (it would see ``.open`` WARCs and rows whose files
are not renamed yet).  The lock file is opened without following symbolic links and must be
a regular file, so a planted ``.crawler.lock`` link cannot make the crawler write elsewhere.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from pathlib import Path
from types import TracebackType

from crawler.errors import ArchiveError

LOCK_NAME = ".crawler.lock"

# O_NONBLOCK: opening a FIFO planted under the lock's name must not block (it is then refused).
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class ArchiveBusy(ArchiveError):
    """Another process holds the archive's lock in a mode that excludes ours."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder  # the writer's pid as recorded in the lock file, "" when none is


class ArchiveLock:
    """``with ArchiveLock(archive, wait=False):`` — raises :class:`ArchiveBusy` when the lock is taken.

    Exclusive (the default) for runs that write; ``shared=True`` for readers, which may hold
    it together.  The kernel releases a flock when its process dies (even by kill -9), so a
    crashed run never leaves a stale lock behind.  The exclusive holder records its pid in
    the file for the other processes' messages (and empties it when it lets go).

    A shared lock needs no write access: it opens an existing lock file read-only, and when
    there is none and it cannot be created (read-only media, another user's archive) the
    reader goes on without a lock (``held`` is False): no run can be writing such an archive
    without having created the file.
    """

    def __init__(self, archive: Path, *, wait: bool = False, poll: float = 1.0, shared: bool = False) -> None:
        self.archive = archive
        self.path = archive / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self.shared = shared
        self.held = False
        self._fd: int | None = None

    def __enter__(self) -> ArchiveLock:
        fd = self._open_shared() if self.shared else self._open_exclusive()
        if fd is None:
            return self
        operation = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        try:
            while True:
                try:
                    fcntl.flock(fd, operation | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not self.wait:
                        raise self._busy(fd) from None
                    time.sleep(self.poll)
            if not self.shared:
                try:
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                except OSError:
                    pass  # the pid is for messages only; a full disk is reported by what writes next
        except OSError as err:  # no locks on this file system
            os.close(fd)
            raise ArchiveError(f"cannot lock archive {self.archive}: {err.strerror}") from err
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.held = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is None:
            return
        try:
            if not self.shared:
                os.ftruncate(self._fd, 0)  # no stale pid in the next message
        except OSError:
            pass
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
            self.held = False

    # -- opening ------------------------------------------------------------------------------------

    def _open_exclusive(self) -> int:
        if self.archive.exists() and not self.archive.is_dir():
            raise ArchiveError(f"archive {self.archive} is not a directory")
        try:
            self.archive.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ArchiveError(f"cannot write archive {self.archive}: {err.strerror}") from err
        return self._open(os.O_RDWR | os.O_CREAT)

    def _open_shared(self) -> int | None:
        try:
            return self._open(os.O_RDONLY)
        except _CannotOpen as err:
            if err.errno != errno.ENOENT:
                if err.errno in (errno.EACCES, errno.EPERM):
                    return None  # unreadable lock file: another user's archive, read without a lock
                raise ArchiveError(f"cannot read archive {self.archive}: {err.strerror}") from None
        try:
            return self._open(os.O_RDONLY | os.O_CREAT)
        except _CannotOpen as err:
            if err.errno in (errno.ENOENT, errno.EACCES, errno.EPERM, errno.EROFS):
                return None  # no lock file and none can be made: nobody can be writing here
            raise ArchiveError(f"cannot read archive {self.archive}: {err.strerror}") from None

    def _open(self, flags: int) -> int:
        """Open the lock file without following a link; refuse anything but a regular file."""
        try:
            fd = os.open(self.path, flags | _OPEN_FLAGS, 0o644)
        except OSError as err:
            if err.errno == errno.ELOOP or (err.errno != errno.ENOENT and os.path.islink(self.path)):
                raise ArchiveError(f"lock file {self.path} is a symbolic link; refusing to follow it "
                                   f"(remove it)") from None
            if err.errno == errno.EISDIR:
                raise ArchiveError(f"lock file {self.path} is a directory, not a file (remove it)") from None
            if flags & os.O_RDWR:
                raise ArchiveError(f"cannot write archive {self.archive}: {err.strerror}") from err
            raise _CannotOpen(err.errno, err.strerror) from err
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            kind = "a directory, not a file" if stat.S_ISDIR(mode) else "not a regular file"
            raise ArchiveError(f"lock file {self.path} is {kind} (remove it)")
        return fd

    def _busy(self, fd: int) -> ArchiveBusy:
        try:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        except OSError:
            holder = ""
        if self.shared:
            return ArchiveBusy(f"archive busy: a crawl (pid {holder or 'unknown'}) is writing it; "
                               f"try again or use --wait", holder)
        if holder:
            return ArchiveBusy(f"another crawler run (pid {holder}) is using {self.archive}", holder)
        return ArchiveBusy(f"another crawler process (a verify, or a run starting) is using {self.archive}", holder)


class _CannotOpen(OSError):
    """The lock file could not be opened for reading (the shared path decides what that means)."""
