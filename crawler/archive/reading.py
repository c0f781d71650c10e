"""Opening an archive to read it (export, search, stats, report): a consistent view, never a write.

Where it sits: the read-only commands open the catalog through :func:`read_archive` and read
snapshot files beside it; nothing here writes to the archive.

Two ways to get a consistent view of catalog and files (docs/decisions/0012-reading-and-reports.md):

- no crawl is writing the archive: take its lock in shared mode (as ``crawler verify`` does) and
  read the catalog file alone (``immutable``: works on read-only media and as another user); a
  crawl that starts meanwhile finds the archive in use and exits (cron's next run catches up);
- a crawl is writing it: read one snapshot of the catalog in one read transaction through SQLite's
  write-ahead log, beside the crawl.  Snapshot files are complete before their row is committed and
  never change afterwards, so every row of that snapshot has its file.  This needs the right to
  write the catalog's ``-shm`` file (the crawl's user); otherwise :class:`~crawler.archive.lock.ArchiveBusy`
  (exit 75), or ``wait=True`` waits for the crawl to end.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler.archive.catalog import CATALOG, NOT_AN_ARCHIVE, Store
from crawler.archive.lock import ArchiveBusy, ArchiveLock
from crawler.errors import ArchiveError, ConfigError, StorageError
from crawler.parse.snapshot_format import VN_TZ


def check_archive(archive: Path) -> None:
    """Raise :class:`ArchiveError` unless ``archive`` is a readable archive directory with a catalog."""
    try:
        os.listdir(archive)
    except FileNotFoundError:
        raise ArchiveError(f"{archive}: no such archive directory (give --archive an existing one)") from None
    except NotADirectoryError:
        raise ArchiveError(f"{archive} is not a directory") from None
    except OSError as err:
        raise ArchiveError(f"cannot read archive {archive}: {err.strerror}") from err
    if not (archive / CATALOG).is_file():
        raise ArchiveError(f"{archive}: no {CATALOG}: {NOT_AN_ARCHIVE}")


@contextmanager
def read_archive(archive: Path, *, wait: bool = False) -> Iterator[Store]:
    """The archive's catalog, read-only, in one read transaction (see the module docstring)."""
    check_archive(archive)
    lock = ArchiveLock(archive, shared=True, wait=wait)
    try:
        lock.__enter__()
    except ArchiveBusy as busy:
        try:
            store = Store(archive, readonly=True, live=True)
        except StorageError as err:
            raise ArchiveBusy(f"{busy} (reading beside it failed: {err})", busy.holder) from err
        with store:
            _begin(store)
            yield store
        return
    try:
        with Store(archive, readonly=True) as store:
            _begin(store)
            yield store
    finally:
        lock.__exit__(None, None, None)


def _begin(store: Store) -> None:
    """Start the read transaction: every later query sees the catalog as of its first read."""
    try:
        store.db.execute("BEGIN")
        store.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise StorageError(f"cannot read the catalog {store.archive / CATALOG}: {err}") from err


@dataclass(frozen=True, slots=True)
class Selection:
    """Which snapshot rows a reader wants: ``--source``, ``--since``, ``--until`` (publication date),
    ``--captured-since``, ``--captured-until`` (capture time of the version: ``fetched_at``), ``--all-versions``.

    Without ``all_versions`` a row is each article's latest version, and the capture window applies to that
    version (an article whose latest version was captured after the window is not shown at an older one)."""

    sources: tuple[str, ...] = ()
    since: datetime | None = None  # published at or after
    until: datetime | None = None  # published before (argtypes.until: the first moment excluded)
    all_versions: bool = False  # else only each article's latest version
    captured_since: datetime | None = None  # fetched at or after
    captured_until: datetime | None = None  # fetched before (argtypes.until: the first moment excluded)

    def where(self, table: str = "snapshots") -> tuple[str, list[object]]:
        """An SQL condition on ``table`` (a name or alias of ``snapshots``) and its arguments."""
        clauses: list[str] = []
        args: list[object] = []
        if self.sources:
            clauses.append(f"{table}.source IN ({','.join('?' * len(self.sources))})")
            args.extend(self.sources)
        # ``published`` is ISO 8601 in Vietnamese time (+07:00): compared as text in that zone.
        if self.since is not None:
            clauses.append(f"{table}.published >= ?")
            args.append(self.since.astimezone(VN_TZ).isoformat())
        if self.until is not None:
            clauses.append(f"{table}.published < ?")
            args.append(self.until.astimezone(VN_TZ).isoformat())
        # ``fetched_at`` is ISO 8601 in UTC (+00:00, microseconds when not 0): compared as text in UTC.
        if self.captured_since is not None:
            clauses.append(f"{table}.fetched_at >= ?")
            args.append(self.captured_since.astimezone(UTC).isoformat())
        if self.captured_until is not None:
            clauses.append(f"{table}.fetched_at < ?")
            args.append(self.captured_until.astimezone(UTC).isoformat())
        if not self.all_versions:
            clauses.append(f"NOT EXISTS (SELECT 1 FROM snapshots newer WHERE newer.source = {table}.source AND "
                           f"newer.article_id = {table}.article_id AND newer.version > {table}.version)")
        return (" AND ".join(clauses) or "1"), args


def check_sources(store: Store, keys: tuple[str, ...], sources_file: Path | None = None) -> None:
    """Refuse (:class:`ConfigError`, exit 2) a ``--source`` key neither in the archive nor configured."""
    if not keys:
        return
    present = {str(row[0]) for row in store.db.execute("SELECT DISTINCT source FROM snapshots")}
    missing = [key for key in keys if key not in present]
    if not missing:
        return
    from crawler.config import load_sources

    configured = {source.key for source in load_sources(sources_file)}
    unknown = [key for key in missing if key not in configured]
    if unknown:
        known = ", ".join(sorted(present | configured)) or "none"
        raise ConfigError(f"unknown source {unknown[0]!r} (in the archive or the configuration: {known})")
