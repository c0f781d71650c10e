"""Files the tool writes, and paths it reads from a catalog: one safe writer and the checks around it.

Where it sits: the base layer under every writer (export, wacz, report, index, replay, the store's
``atomic_write``) and every reader of a path named by a catalog (export, wacz, verify, recovery).

- :func:`replacing` / :func:`write_atomic`: a file is written under a temporary name in its own
  directory, then renamed over the target.  The temporary is created by :func:`tempfile.mkstemp`
  (``O_CREAT|O_EXCL``, never through a link, an unpredictable name) and named
  ``.<name>.crawler-<pid>-<random>.tmp``: the pid says whose it is, so :func:`sweep_temporaries`
  removes those of dead processes (``kill -9``), never a live one's.  Any error or interruption
  (SIGTERM becomes :class:`KeyboardInterrupt` in the command line) removes it.
- :func:`check_output` / :func:`check_output_dir`: an output named on the command line may only
  replace a regular file (not a FIFO, a device, a directory) and may not lie among an archive's
  managed files (``catalog.sqlite*``, ``warc/``, ``text/``, ``indexes/``, ``journal/``, ``runs/``,
  ``orphans/``, the lock), of any archive: one is recognised by a ``catalog.sqlite`` beside or above.
- :func:`inside_archive` / :func:`read_inside`: a path read from a catalog must stay inside its
  archive: relative, no ``..``, no NUL or backslash, and no symbolic link on the way out.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from crawler.errors import ArchiveError, ConfigError, StorageError

CATALOG_NAME = "catalog.sqlite"  # crawler.archive.catalog.CATALOG (not imported: the store imports this module)
MANAGED_DIRS = frozenset({"warc", "text", "indexes", "journal", "runs", "orphans"})
MANAGED_FILES = frozenset({".crawler.lock"})
TEMP_MARK = ".crawler-"
# .<name>.crawler-<pid>-<random>.tmp (this module), and .<name>.<pid>.tmp (writers before it).
TEMPORARY = re.compile(r"^\..+(?:\.crawler-(\d+)-[A-Za-z0-9_]+|\.(\d+))\.tmp$")
_NAME_ROOM = 120  # characters of the target's name kept in its temporary's (file names: 255 bytes)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (this one's own included; another user's counts)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OverflowError:
        return False
    return True


def temporary_pid(name: str, *, legacy: bool = True) -> int | None:
    """The process that owns a temporary file of this name, or None when it is not one (``legacy``: also
    the ``.<name>.<pid>.tmp`` of earlier versions, a name other programs may use too)."""
    match = TEMPORARY.match(name)
    if match is None or (match.group(1) is None and not legacy):
        return None
    return int(match.group(1) or match.group(2))


def sweep_temporaries(directory: Path, *, recursive: bool = False, legacy: bool = True) -> list[Path]:
    """Remove the temporaries of dead processes in ``directory`` (and below); returns them.

    Only this machine's processes can be checked: a directory written from other machines keeps
    temporaries whose pid is alive here.
    """
    removed: list[Path] = []
    try:
        walk = os.walk(directory) if recursive else [(str(directory), [], os.listdir(directory))]
        for dirpath, _, names in walk:
            for name in names:
                pid = temporary_pid(name, legacy=legacy)
                if pid is None or pid_alive(pid):
                    continue
                try:
                    os.unlink(os.path.join(dirpath, name))
                    removed.append(Path(dirpath, name))
                except FileNotFoundError:
                    pass
    except OSError:  # an unreadable or vanished directory: nothing to sweep here
        pass
    return removed


def _refuse_special(path: Path) -> None:
    """Raise :class:`OSError` when ``path`` exists as something a rename must not replace."""
    try:
        info = path.stat()  # a link counts by its target: a link to a FIFO is refused too
    except (FileNotFoundError, NotADirectoryError):
        return
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EEXIST, f"{_kind(info.st_mode)}, not a regular file", str(path))


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _storage(err: OSError, path: Path) -> StorageError:
    """The error naming the target (not its temporary) and the cause."""
    return StorageError(f"cannot write {path}: {err.strerror or err}", path=str(path))


@contextmanager
def replacing(path: Path, *, durable: bool = False, mkdir: bool = False, wrap: bool = True) -> Iterator[IO[bytes]]:
    """A binary handle on a new temporary file beside ``path``, renamed over it when the block ends.

    The rename replaces a symbolic link at ``path`` itself, never the file it points to.  Nothing
    but a regular file is replaced (a FIFO, a device, a directory: :class:`StorageError`).  On any
    error, or an interruption, the temporary is removed and ``path`` is as it was.  OS errors become
    :class:`StorageError` naming ``path`` (``wrap=False``: they stay :class:`OSError`).
    """
    parent = path.parent
    try:
        _refuse_special(path)
        if mkdir:
            parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:_NAME_ROOM]}{TEMP_MARK}{os.getpid()}-", suffix=".tmp",
                                    dir=parent)
    except OSError as err:
        if not wrap:
            raise
        raise _storage(err, path) from err
    tmp = Path(name)
    try:
        try:
            os.fchmod(fd, 0o644)
            # Opened through its descriptor, named by its temporary path (``handle.name``: readers may check it).
            handle = open(name, "wb", buffering=1 << 20, opener=lambda *_: fd)  # noqa: SIM115
        except BaseException:
            os.close(fd)
            raise
        with handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        _refuse_special(path)  # what appeared there meanwhile
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if wrap and isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise _storage(exc, path) from exc
        raise


def write_atomic(path: Path, data: bytes, *, durable: bool = True, mkdir: bool = True, wrap: bool = True) -> None:
    """Write ``data`` to ``path`` through :func:`replacing`."""
    with replacing(path, durable=durable, mkdir=mkdir, wrap=wrap) as handle:
        handle.write(data)


# -- outputs named on the command line ---------------------------------------------------------------


def managed_by(path: Path) -> Path | None:
    """The archive whose managed files ``path`` lies among (see the module docstring), or None."""
    try:
        real = Path(os.path.realpath(path.parent)) / path.name
    except (OSError, ValueError):
        return None
    parts = real.parts
    for depth in range(len(parts) - 1, 0, -1):
        archive = Path(*parts[:depth])
        first = parts[depth]
        try:
            is_archive = os.path.lexists(archive / CATALOG_NAME)
        except (OSError, ValueError):
            continue
        if is_archive and (first in MANAGED_DIRS or first in MANAGED_FILES or first.startswith(CATALOG_NAME)):
            return archive
    return None


def check_output(path: Path, option: str) -> None:
    """Refuse (:class:`ConfigError`, exit 2) an output file that is not a regular file, or lies among an
    archive's managed files; ``option`` names it in the message (``-o``, ``--summary``...)."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        info = None
    except OSError as err:
        raise ConfigError(f"{option} {path}: {err.strerror or err}") from err
    if info is not None and not stat.S_ISREG(info.st_mode):
        hint = " (give a file name)" if stat.S_ISDIR(info.st_mode) else ""
        raise ConfigError(f"{option} {path}: is {_kind(info.st_mode)}, not a regular file{hint}")
    archive = managed_by(path)
    if archive is not None:
        raise ConfigError(f"{option} {path}: inside the archive {archive}'s own files (it would replace them); "
                          f"write it elsewhere")
    sweep_temporaries(path.parent, legacy=False)  # those of killed runs writing there before


def check_output_dir(path: Path, option: str, *, refuse_archive: bool = False) -> None:
    """Refuse (:class:`ConfigError`) an output directory among an archive's managed files, that exists as
    something else than a directory, or (``refuse_archive``) that is itself an archive."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path}: exists and is not a directory")
    if managed_by(path) is not None or managed_by(path / "x") is not None:
        raise ConfigError(f"{option} {path}: inside an archive's own files (it would replace them); write it "
                          f"elsewhere")
    if refuse_archive and os.path.lexists(path / CATALOG_NAME):
        raise ConfigError(f"{option} {path}: is an archive (it has a {CATALOG_NAME}); its snapshots would be "
                          f"replaced: give a new directory")


# -- paths read from a catalog -------------------------------------------------------------------------


def _rule(relative: str, what: str) -> None:
    if (not relative or relative.startswith("/") or "\0" in relative or "\\" in relative
            or any(part in ("", ".", "..") for part in relative.split("/"))):
        raise ArchiveError(f"the catalog names a {what} outside the archive: {relative!r}")


class _Inside:
    """Directories already checked to resolve inside their archive (one realpath per directory)."""

    def __init__(self) -> None:
        self.roots: dict[str, str] = {}
        self.dirs: set[tuple[str, str]] = set()

    def check(self, archive: str, relative: str, what: str) -> str:
        _rule(relative, what)
        archive = os.path.abspath(archive)  # a relative one means another directory after a chdir
        root = self.roots.get(archive)
        if root is None:
            root = self.roots[archive] = os.path.realpath(archive)
        parent, _, _ = relative.rpartition("/")
        if parent and (archive, parent) not in self.dirs:
            real = os.path.realpath(os.path.join(archive, parent))
            if not real.startswith(root + os.sep):
                raise ArchiveError(f"the catalog names a {what} outside the archive (through a link): {relative!r}")
            if len(self.dirs) > 100_000:
                self.dirs.clear()
            self.dirs.add((archive, parent))
        return os.path.join(archive, relative)


_INSIDE = _Inside()


def inside_archive(archive: Path | str, relative: str, what: str = "file") -> Path:
    """``archive/relative`` for a path read from the catalog, or :class:`ArchiveError` when it would leave
    the archive (absolute, ``..``, a link on the way).  The last component is checked by opening it
    with :func:`read_inside`, or by the caller with ``O_NOFOLLOW``."""
    return Path(_INSIDE.check(str(archive), relative, what))


def warc_relpath(warc_file: str) -> str:
    """``warc/<name>`` for a catalog's ``warc_file``, which must be a bare file name."""
    if "/" in warc_file or "\\" in warc_file:
        raise ArchiveError(f"the catalog names a WARC file outside the archive's warc/: {warc_file!r}")
    return "warc/" + warc_file


def read_inside(archive: Path | str, relative: str, what: str = "file") -> bytes:
    """The bytes of a file the catalog names (``relative``), refusing one outside the archive or a link."""
    path = _INSIDE.check(str(archive), relative, what)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as err:
        if err.errno == errno.ELOOP:  # the file itself is a symbolic link
            raise ArchiveError(f"the catalog names a {what} that is a symbolic link: {relative!r}") from err
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ArchiveError(f"the catalog names a {what} that is not a regular file: {relative!r}")
        # os.read, not a file object: a buffered reader costs half of reading a small file (export reads
        # thousands); one byte more than the size, and on until the end, whatever the size said.
        data = os.read(fd, info.st_size + 1)
        if not data:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, max(info.st_size, 1 << 16))
            chunks.append(data)
        return chunks[0] if len(chunks) == 2 else b"".join(chunks)
    finally:
        os.close(fd)
