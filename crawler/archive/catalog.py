"""The catalog: one SQLite database per archive (the only sqlite3 user).

Tables: ``snapshots`` (one row per version of an article's snapshot, its metadata as JSON), ``http_cache`` (validators
and WARC place of the last full response of listing pages and articles), ``walks`` (whether a listing chain was walked
to its end), ``frontier`` (articles discovered but not archived, and articles that failed, with when to try again).
``search`` (a full-text index of every snapshot's title, sapo and body, :mod:`crawler.use.search`), ``superseded``
(the rows of which a newer version exists, :func:`~crawler.archive.search_index.keep_superseded`). The schema is
documented in README.md ("The catalog") and kept in :mod:`crawler.archive.catalog_schema` (tables, version, the search
index); the crawl state's rows and failure schedule are values of :mod:`crawler.archive.crawl_state`. This module is
:class:`Store`, which opens, migrates, reads and writes the database. Snapshot files are written by
:mod:`crawler.archive.snapshots`; their rows are committed here in batches.

Every database error becomes a :class:`~crawler.errors.StorageError` naming the catalog and the cause ("database or
disk is full"), which ends a crawl with a clear message.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from crawler.archive import search_index
from crawler.archive.catalog_schema import (
    MARK_SCHEMA,
    MARK_SCHEMA_VERSION,
    SCHEMA,
    SCHEMA_VERSION,
    SEARCH_SCHEMA,
)
from crawler.archive.crawl_state import MAX_ATTEMPTS, CacheEntry, FailedArticle, next_try_after
from crawler.archive.outputs import write_atomic
from crawler.archive.snapshots import SnapshotRow, make_parent
from crawler.errors import StorageError, without_url

CATALOG = "catalog.sqlite"
# How a reader refuses a directory without a catalog (the hint names the option to give).
NOT_AN_ARCHIVE = "not an archive (give --archive the directory a crawl or `crawler demo` wrote)"
_SNAPSHOT_COLUMNS = ("source, article_id, version, url, published, title, text_path, meta_path, sha256, warc_file, "
                     "warc_offset, fetched_at, extractor_version, meta")


@dataclass(frozen=True, slots=True)
class LatestRow:
    """The newest version of an article, as a web archive package lists it."""

    source: str
    article_id: str
    url: str
    title: str
    text_path: str
    warc_file: str
    fetched_at: str
    published: str  # ISO 8601, Vietnamese time


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, then rename.

    A crash (even ``kill -9``) leaves the old file or the new one, never a mix.  ``durable`` also fsyncs before the
    rename, for power loss.  The rename replaces a symbolic link at ``path`` itself, never the file it points to.
    One writer for every file (:mod:`crawler.archive.outputs`); its errors stay :class:`OSError`.
    """
    make_parent(path)
    write_atomic(path, data, durable=durable, mkdir=True, wrap=False)


def _open_checked(uri: str) -> sqlite3.Connection:
    db = sqlite3.connect(uri, uri=True)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _connect_readonly(path: Path, *, live: bool = False) -> sqlite3.Connection:
    """Open a catalog for reading only, creating nothing, even on read-only media or as another user.

    When no ``-wal`` file holds changes (a catalog closed cleanly), ``immutable=1`` reads the database file alone:
    SQLite then needs no ``-shm`` or ``-wal`` (a plain ``mode=ro`` would create them, and left owned by another
    user they would lock the crawler out).  After a crash the ``-wal`` holds committed rows: ``mode=ro`` reads
    them through the ``-shm`` file the crashed run left.
    """
    uri = "file:" + quote(str(path.absolute())) + "?mode=ro"
    wal = path.with_name(path.name + "-wal")
    try:
        pending = wal.stat().st_size > 0
    except FileNotFoundError:
        pending = False
    if not pending and not live:
        return _open_checked(uri + "&immutable=1")
    try:
        return _open_checked(uri)
    except sqlite3.OperationalError as err:
        raise StorageError(f"cannot read the catalog {path}: {err} (its -wal file holds changes not yet in the "
                           f"database file; read it as a user who may write {path.parent})") from err


class Store:
    """An archive's catalog.  Use as a context manager or call close().

    ``readonly`` opens it without writing anything (``crawler verify`` on read-only media or as another user): no
    schema change, no WAL files created when the directory is not writable.
    """

    def __init__(self, archive: Path, *, readonly: bool = False, live: bool = False) -> None:
        """``live`` (with ``readonly``): read through SQLite's write-ahead log, as a reader beside a
        crawl that is writing (:mod:`crawler.archive.reading`); it needs the right to write the ``-shm`` file."""
        self.archive = archive
        self.readonly = readonly
        self.upgraded_from: int | None = None  # the schema version an existing catalog was upgraded from
        self.search_rebuilt = False  # the upgrade (re)built the search index when opening
        self.search_caught_up = 0  # rows a killed run left unindexed, indexed when opening
        self._indexer: search_index.BackgroundIndexer | None = None  # indexing_behind(): a crawl's indexer
        self._write_turn = threading.RLock()  # this process's write transactions, the indexer's included
        path = archive / CATALOG
        if path.is_symlink():  # sqlite would follow it and write wherever it points
            raise StorageError(f"the catalog {path} is a symbolic link; refusing to follow it", path=str(path))
        try:
            if readonly:
                if not path.is_file():
                    raise StorageError(f"{archive}: no {CATALOG}: {NOT_AN_ARCHIVE}", path=str(path))
                self.db = _connect_readonly(path, live=live)
                try:
                    self.db.execute("SELECT 1 FROM snapshots LIMIT 1").fetchall()
                except sqlite3.Error:
                    self.db.close()
                    raise
            else:
                archive.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(path, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
        except OSError as err:
            raise StorageError.from_os(err, "open the catalog in", archive) from err
        except sqlite3.Error as err:
            raise StorageError(f"cannot open the catalog {path}: {err}", path=str(path)) from err

    def _migrate(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        existing = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        with self.db:
            if "snapshots" in existing and version < 2:
                columns = {row[1] for row in self.db.execute("PRAGMA table_info(snapshots)")}
                if "meta" not in columns:
                    self.db.execute("ALTER TABLE snapshots ADD COLUMN meta TEXT")
                columns = {row[1] for row in self.db.execute("PRAGMA table_info(frontier)")}
                for name, decl in (("failed", "INTEGER NOT NULL DEFAULT 0"), ("next_try", "TEXT"),
                                   ("last_error", "TEXT")):
                    if name not in columns:
                        self.db.execute(f"ALTER TABLE frontier ADD COLUMN {name} {decl}")
                self._adopt_legacy_metadata()
            if "snapshots" in existing and version < SCHEMA_VERSION:
                self.upgraded_from = version
            self.db.executescript(SCHEMA)
            # (A catalog of schema 6 without its mark: the index may miss anything.)
            rebuild = version < 5 or "search" not in existing or "search_exact" not in existing or (
                version >= MARK_SCHEMA_VERSION and "search_state" not in existing)
            if rebuild:
                # An archive of schema 4 or older: index what it holds (nothing when new), bodies from the snapshot
                # files (schema 3 and 4 indexed no body, their metadata having none; their triggers are dropped).
                # The index, its mark and the version number are committed together: a crash in between builds it
                # again.
                self.db.executescript(SEARCH_SCHEMA)
            self.db.executescript(MARK_SCHEMA)
            self.db.execute("BEGIN IMMEDIATE")
            search_index.keep_superseded(self.db, version)  # committed with the version number
            if rebuild:
                search_index.rebuild(self.db, self.archive)
                self.search_rebuilt = True
            elif version < MARK_SCHEMA_VERSION:  # schema 5 indexed each row in the transaction inserting it: all are
                search_index.set_mark(self.db, int(self.db.execute(
                    "SELECT coalesce(max(rowid), 0) FROM snapshots").fetchone()[0]))
            else:  # the rows a crawl killed before its indexer caught up left
                self.search_caught_up = search_index.index_pending(self.db, self.archive)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def rebuild_search_index(self) -> int:
        """Build the search index again from every snapshot row and file (one transaction); returns the rows
        indexed.  Not twice: an upgrade that built it when the store opened is enough."""
        try:
            if not self.search_rebuilt:
                with self.db:
                    self.db.execute("BEGIN IMMEDIATE")
                    search_index.rebuild(self.db, self.archive)
            return int(self.db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
        except sqlite3.Error as err:
            raise StorageError(f"cannot rebuild the search index of {self.archive / CATALOG}: {err}") from err

    @contextmanager
    def indexing_behind(self) -> Iterator[None]:
        """While in this block, :meth:`commit` leaves the search index to a thread indexing the committed rows right
        behind it (:func:`crawler.archive.search_index.behind`); leaving it waits for the last rows."""
        if self.readonly or self._indexer is not None:
            yield
            return
        with search_index.behind(self.archive / CATALOG, self.archive, self._write_turn) as indexer:
            self._indexer = indexer
            try:
                yield
            finally:
                self._indexer = None

    def _adopt_legacy_metadata(self) -> None:
        """Schema 1 kept metadata in a ``.json`` file per snapshot: copy it into the catalog (files stay)."""
        for rowid, meta_path in self.db.execute(
                "SELECT rowid, meta_path FROM snapshots WHERE meta IS NULL AND meta_path != ''").fetchall():
            try:
                meta = (self.archive / str(meta_path)).read_text(encoding="utf-8")
                json.loads(meta)
            except (OSError, ValueError):
                continue
            self.db.execute("UPDATE snapshots SET meta=? WHERE rowid=?", (meta, rowid))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One transaction; a database error becomes a StorageError naming the catalog.  Taken in turn with the indexer
        behind a crawl (a lock woken at once, where SQLite's own wait sleeps 1, 2, 5, 10 ms... and for longer)."""
        try:
            with self._write_turn, self.db:
                yield self.db
        except sqlite3.Error as err:
            raise StorageError(f"cannot {what} in the catalog {self.archive / CATALOG}: {err}",
                               path=str(self.archive / CATALOG)) from err

    def try_turn(self) -> threading.RLock | None:
        """The write turn, taken (release it), unless the indexer is in a chunk: an event loop need not wait."""
        return self._write_turn if self._write_turn.acquire(blocking=False) else None

    def _read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as err:
            raise StorageError(f"cannot read the catalog {self.archive / CATALOG}: {err}",
                               path=str(self.archive / CATALOG)) from err

    # -- snapshots -------------------------------------------------------------------------------

    def has_article(self, source: str, article_id: str) -> bool:
        return bool(self._read("SELECT 1 FROM snapshots WHERE source=? AND article_id=? LIMIT 1",
                               (source, article_id)))

    def latest(self, source: str, article_id: str) -> tuple[int, str, str] | None:
        """(version, sha256, text path) of the newest stored version."""
        rows = self._read("SELECT version, sha256, text_path FROM snapshots WHERE source=? AND article_id=? "
                          "ORDER BY version DESC LIMIT 1", (source, article_id))
        return (int(str(rows[0][0])), str(rows[0][1]), str(rows[0][2])) if rows else None

    def archived_ids(self, source: str) -> set[str]:
        """Ids of every archived article of a source (one query: cheaper than a lookup per link)."""
        return {str(row[0]) for row in self._read("SELECT DISTINCT article_id FROM snapshots WHERE source=?",
                                                  (source,))}

    def has_article_version(self, source: str, article_id: str, version: int) -> bool:
        return bool(self._read("SELECT 1 FROM snapshots WHERE source=? AND article_id=? AND version=?",
                               (source, article_id, version)))

    def add_row_from_metadata(self, meta: dict[str, object]) -> None:
        """Roll forward (archives of schema 1): the row of a snapshot whose ``.json`` a crash left without one."""
        text_path = str(meta["text_path"])
        with self._writing("store a snapshot") as db:
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            db.execute(
                f"INSERT OR IGNORE INTO snapshots ({_SNAPSHOT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (meta["source"], meta["article_id"], meta["version"], meta["url"], meta["published"], meta["title"],
                 text_path, Path(text_path).with_suffix(".json").as_posix(), meta["sha256"], meta["warc_file"],
                 meta["warc_offset"], meta["fetched_at"], meta["extractor_version"],
                 json.dumps(meta, ensure_ascii=False)))
            search_index.index_pending(db, self.archive)
            db.execute("DELETE FROM frontier WHERE source=? AND article_id=?", (meta["source"], meta["article_id"]))

    def commit(self, rows: Iterable[SnapshotRow] = (), *, settled: Iterable[tuple[str, str]] = (),
               caches: Iterable[CacheEntry] = ()) -> None:
        """One transaction: new snapshot rows (indexed for search in it, or right after it by the indexer of
        :meth:`indexing_behind`), articles leaving the frontier, remembered responses."""
        rows = list(rows)
        indexer = self._indexer
        if indexer is not None:
            indexer.check()
        with self._writing("store snapshots") as db:
            if rows and not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            db.executemany(
                f"INSERT OR IGNORE INTO snapshots ({_SNAPSHOT_COLUMNS}) VALUES (?,?,?,?,?,?,?,'',?,?,?,?,?,?)",
                [(r.source, r.article_id, r.version, r.url, r.published, r.title, r.text_path, r.sha256, r.warc_file,
                  r.warc_offset, r.fetched_at, r.extractor_version, r.meta) for r in rows])
            if rows and indexer is None:  # the rows inserted (not those already there): above the mark
                search_index.index_pending(db, self.archive)
            db.executemany("DELETE FROM frontier WHERE source=? AND article_id=?", list(settled))
            db.executemany("INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?,?,?,?,?)",
                           [(c.url, c.etag, c.last_modified, c.status, c.payload_digest, c.warc_file, c.warc_offset,
                             c.warc_date) for c in caches])
        if rows and indexer is not None:
            indexer.wake()

    def archived_urls(self, source: str) -> list[tuple[str, str]]:
        """(article id, url) of every archived article of a source (for ``--refresh``)."""
        rows = self._read(
            "SELECT article_id, url FROM snapshots WHERE source=? AND version = "
            "(SELECT MAX(version) FROM snapshots s2 WHERE s2.source=snapshots.source "
            "AND s2.article_id=snapshots.article_id)", (source,))
        return [(str(a), str(u)) for a, u in rows]

    def latest_meta(self, source: str, article_id: str) -> str | None:
        """The metadata JSON of the newest stored version of an article (None when there is none)."""
        rows = self._read("SELECT meta FROM snapshots WHERE source=? AND article_id=? ORDER BY version DESC LIMIT 1",
                          (source, article_id))
        return str(rows[0][0]) if rows and rows[0][0] is not None else None

    def latest_rows(self) -> Iterator[LatestRow]:
        """The newest version of every article, by source and article id, read row by row (``crawler wacz``)."""
        try:
            cursor = self.db.execute(
                "SELECT source, article_id, url, title, text_path, warc_file, fetched_at, published FROM snapshots s "
                "WHERE version = (SELECT MAX(version) FROM snapshots s2 WHERE s2.source=s.source "
                "AND s2.article_id=s.article_id) ORDER BY source, article_id")
            for row in cursor:
                yield LatestRow(*(str(value) for value in row))
        except sqlite3.Error as err:
            raise StorageError(f"cannot read the catalog {self.archive / CATALOG}: {err}") from err

    def article_urls(self) -> Iterator[str]:
        """The URL of every archived article version, row by row (``crawler wacz`` tells articles from listings)."""
        try:
            for (url,) in self.db.execute("SELECT DISTINCT url FROM snapshots"):
                yield str(url)
        except sqlite3.Error as err:
            raise StorageError(f"cannot read the catalog {self.archive / CATALOG}: {err}") from err

    def known_text_paths(self) -> set[str]:
        return {str(row[0]) for row in self._read("SELECT text_path FROM snapshots")}

    def rows(self) -> list[dict[str, object]]:
        """Every catalog row, as a mapping of column name to value (for verify)."""
        try:
            cursor = self.db.execute("SELECT * FROM snapshots ORDER BY source, article_id, version")
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except sqlite3.Error as err:
            raise StorageError(f"cannot read the catalog {self.archive / CATALOG}: {err}") from err

    def count(self, source: str | None = None) -> int:
        if source is None:
            rows = self._read("SELECT COUNT(*) FROM (SELECT DISTINCT source, article_id FROM snapshots)")
        else:
            rows = self._read("SELECT COUNT(DISTINCT article_id) FROM snapshots WHERE source=?", (source,))
        return int(str(rows[0][0]))

    # -- crawl state -----------------------------------------------------------------------------

    def cached(self, url: str) -> CacheEntry | None:
        """Validators and WARC location of the last 200 response recorded for ``url``."""
        rows = self._read(
            "SELECT url, etag, last_modified, status, payload_digest, warc_file, warc_offset, warc_date "
            "FROM http_cache WHERE url=?", (url,))
        return CacheEntry(*rows[0]) if rows else None  # type: ignore[arg-type]

    def remember(self, entry: CacheEntry) -> None:
        self.commit(caches=[entry])

    def forget(self, url: str) -> None:
        """Drop a URL's validators (its recorded response can no longer be read back)."""
        with self._writing("update the crawl state") as db:
            db.execute("DELETE FROM http_cache WHERE url=?", (url,))

    def walk_complete(self, start_url: str) -> bool:
        """Did the last walk of this listing chain reach its end (rather than being cut short)?"""
        rows = self._read("SELECT complete FROM walks WHERE start_url=?", (start_url,))
        return bool(rows and rows[0][0])

    def set_walk(self, start_url: str, *, complete: bool) -> None:
        with self._writing("update the crawl state") as db:
            db.execute("INSERT OR REPLACE INTO walks VALUES (?,?)", (start_url, int(complete)))

    def enqueue_many(self, source: str, items: list[tuple[str, str]]) -> None:
        """Remember discovered articles ``(article id, url)`` until they are archived (one transaction)."""
        if not items:
            return
        now = datetime.now(UTC).isoformat()
        with self._writing("update the crawl state") as db:
            db.executemany(
                "INSERT OR IGNORE INTO frontier (source, article_id, url, discovered_at) VALUES (?,?,?,?)",
                [(source, article_id, url, now) for article_id, url in items])

    def pending(self, source: str, now: datetime | None = None) -> list[tuple[str, str, int]]:
        """(article id, url, attempts) of articles to (re)try now, oldest first."""
        when = (now or datetime.now(UTC)).isoformat()
        rows = self._read(
            "SELECT article_id, url, attempts FROM frontier WHERE source=? AND (next_try IS NULL OR next_try <= ?) "
            "ORDER BY discovered_at, rowid", (source, when))
        return [(str(a), str(u), int(str(n))) for a, u, n in rows]

    def waiting(self, source: str, now: datetime | None = None) -> set[str]:
        """Ids of articles that failed and wait for their next try (not to be fetched before)."""
        when = (now or datetime.now(UTC)).isoformat()
        rows = self._read("SELECT article_id FROM frontier WHERE source=? AND next_try > ?", (source, when))
        return {str(row[0]) for row in rows}

    def fail(self, source: str, article_id: str, url: str, reason: str, *, permanent: bool,
             now: datetime | None = None) -> FailedArticle:
        """An article failed once more: retried next run, or (permanent, or too many attempts) on the
        slow schedule.  Returns its new state."""
        moment = now or datetime.now(UTC)
        reason = without_url(reason, url)  # the URL has its own column
        with self._writing("update the crawl state") as db:
            row = db.execute("SELECT attempts, failed FROM frontier WHERE source=? AND article_id=?",
                             (source, article_id)).fetchone()
            attempts = (int(row[0]) if row else 0) + 1
            slow = permanent or attempts >= MAX_ATTEMPTS or bool(row and row[1])
            slow_failures = (int(row[1]) if row else 0) + 1 if slow else 0
            next_try = next_try_after(slow_failures, moment).isoformat() if slow else None
            db.execute(
                "INSERT INTO frontier (source, article_id, url, discovered_at, attempts, failed, next_try, last_error) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (source, article_id) DO UPDATE SET attempts=excluded.attempts, "
                "failed=excluded.failed, next_try=excluded.next_try, last_error=excluded.last_error",
                (source, article_id, url, moment.isoformat(), attempts, slow_failures, next_try, reason[:500]))
        return FailedArticle(source, article_id, url, attempts, slow, next_try, reason[:500])

    def failed(self, source: str | None = None) -> list[FailedArticle]:
        """Articles that failed at least once and are not archived, most recently failed last."""
        sql = ("SELECT source, article_id, url, attempts, failed, next_try, last_error FROM frontier "
               "WHERE attempts > 0")
        args: tuple[object, ...] = ()
        if source is not None:
            sql += " AND source=?"
            args = (source,)
        rows = self._read(sql + " ORDER BY source, next_try, article_id", args)
        return [FailedArticle(str(s), str(a), str(u), int(str(n)), bool(f), None if t is None else str(t),
                              None if e is None else str(e)) for s, a, u, n, f, t, e in rows]
