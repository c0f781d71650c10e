"""Snapshot store and catalog: text + JSON metadata files and the SQLite index (the only sqlite3 user).

Layout under the archive directory::

    text/<source>/<YYYY>/<MM>/<article id>.txt     the snapshot (FORMAT.md)
    text/<source>/<YYYY>/<MM>/<article id>.json    its metadata
    text/<source>/<YYYY>/<MM>/<article id>.v2.txt  a later, changed version (the old one is kept)
    catalog.sqlite                                  one row per snapshot version

Every file is written to a temporary name and renamed, so a crash leaves either the
old file or the new one (snapshot files are not fsynced: they are derived from the WARC,
which is).  The WARC record a snapshot came from is
always written before the snapshot (raw first), and the catalog row last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crawler import EXTRACTOR_VERSION
from crawler.errors import ArchiveError
from crawler.models import Article, WarcLocation

SAFE_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    source TEXT NOT NULL,
    article_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    url TEXT NOT NULL,
    published TEXT NOT NULL,
    title TEXT NOT NULL,
    text_path TEXT NOT NULL,
    meta_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    extractor_version TEXT NOT NULL,
    PRIMARY KEY (source, article_id, version)
);
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    status INTEGER NOT NULL,
    payload_digest TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    warc_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS walks (
    start_url TEXT PRIMARY KEY,
    complete INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS frontier (
    source TEXT NOT NULL,
    article_id TEXT NOT NULL,
    url TEXT NOT NULL,
    discovered_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, article_id)
);
"""


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    source: str
    article_id: str
    version: int
    text_path: Path
    meta_path: Path
    sha256: str
    created: bool  # False when the text equals the latest stored version (nothing written)


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """What the crawl state remembers of a URL's last full response."""

    url: str
    etag: str | None
    last_modified: str | None
    status: int
    payload_digest: str
    warc_file: str
    warc_offset: int
    warc_date: str


_MADE_DIRS: set[Path] = set()


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, then rename.

    A crash (even ``kill -9``) leaves the old file or the new one, never a mix.  ``durable``
    also fsyncs before the rename, for power loss; snapshot files skip it (they are derived
    data: ``crawler verify`` detects a damaged one and ``crawler replay`` rebuilds it from the
    WARC, which is fsynced when each file is closed).
    """
    parent = path.parent
    if parent not in _MADE_DIRS:
        parent.mkdir(parents=True, exist_ok=True)
        _MADE_DIRS.add(parent)
    tmp = parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:  # the directory went away since we made it
        _MADE_DIRS.discard(parent)
        parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def snapshot_relpath(source: str, article_id: str, published: datetime, version: int = 1) -> Path:
    """``text/<source>/<YYYY>/<MM>/<id>[.vN].txt``; ids that could escape the tree are refused."""
    if not SAFE_ID.match(article_id):
        raise ArchiveError(f"refusing unsafe article id {article_id!r} for a file name")
    if not SAFE_ID.match(source):
        raise ArchiveError(f"refusing unsafe source key {source!r} for a file name")
    suffix = "" if version == 1 else f".v{version}"
    return Path("text", source, f"{published.year:04d}", f"{published.month:02d}", f"{article_id}{suffix}.txt")


def metadata(article: Article, *, sha256: str, location: WarcLocation, fetched_at: datetime, version: int,
             text_path: str) -> dict[str, object]:
    return {
        "source": article.source,
        "article_id": article.article_id,
        "version": version,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "breadcrumb": list(article.breadcrumb),
        "category_slugs": list(article.category_slugs),
        "published": article.published.isoformat(),
        "kicker": article.kicker,
        "title": article.title,
        "sapo": article.sapo,
        "body": list(article.body),
        "byline": article.byline,
        "images": [{"url": image.url, "caption": image.caption} for image in article.images],
        "rules": dict(article.rules),
        # The adapter template that read the page ("vdoc", "dnn", "anchors"; None for an adapter that names none).
        "template": article.rules.get("template"),
        "text_path": text_path,
        "sha256": sha256,
        "warc_file": location.filename,
        "warc_offset": location.offset,
        "fetched_at": fetched_at.astimezone(UTC).isoformat(),
        "extractor_version": EXTRACTOR_VERSION,
    }


@dataclass(frozen=True, slots=True)
class WrittenSnapshot:
    """Snapshot files on disk (or found unchanged), waiting for their catalog row (:meth:`Store.commit`)."""

    source: str
    article_id: str
    url: str
    version: int
    text_path: str  # relative to the archive, POSIX
    sha256: str
    created: bool  # False: the text equals the latest stored version, nothing was written
    row: tuple[object, ...] = ()  # the catalog row, when created


def write_snapshot(root: Path, article: Article, text: str, location: WarcLocation, fetched_at: datetime,
                   latest: tuple[int, str, str] | None) -> WrittenSnapshot:
    """Write the ``.txt`` and ``.json`` of a snapshot under ``root``, unless equal to ``latest``.

    ``latest`` is :meth:`Store.latest` for the article.  Touches no database, so a worker
    process can run it; the catalog row is added afterwards by :meth:`Store.commit`
    (files first, row last: recovery rolls a crash in between forward).
    """
    data = text.encode("utf-8")
    digest = hashlib.sha256(data).hexdigest()
    if latest is not None and latest[1] == digest:
        return WrittenSnapshot(article.source, article.article_id, article.url, latest[0], latest[2], digest,
                               created=False)
    version = 1 if latest is None else latest[0] + 1
    rel = snapshot_relpath(article.source, article.article_id, article.published, version)
    meta_rel = rel.with_suffix(".json")
    meta = metadata(article, sha256=digest, location=location, fetched_at=fetched_at, version=version,
                    text_path=rel.as_posix())
    try:
        atomic_write(root / rel, data, durable=False)
        atomic_write(root / meta_rel, json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8") + b"\n",
                     durable=False)
    except OSError as err:
        raise ArchiveError(f"cannot store the snapshot of {article.url}: {err}") from err
    row = (article.source, article.article_id, version, article.url, article.published.isoformat(), article.title,
           rel.as_posix(), meta_rel.as_posix(), digest, location.filename, location.offset, meta["fetched_at"],
           EXTRACTOR_VERSION)
    return WrittenSnapshot(article.source, article.article_id, article.url, version, rel.as_posix(), digest,
                           created=True, row=row)


class Store:
    """The archive's snapshot files and catalog.  Use as a context manager or call close()."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        try:
            archive.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(archive / "catalog.sqlite", timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise ArchiveError(f"cannot open the catalog in {archive}: {err}") from err

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def has_article(self, source: str, article_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM snapshots WHERE source=? AND article_id=? LIMIT 1", (source, article_id)
        ).fetchone()
        return row is not None

    def latest(self, source: str, article_id: str) -> tuple[int, str, str] | None:
        """(version, sha256, text path) of the newest stored version."""
        row = self.db.execute(
            "SELECT version, sha256, text_path FROM snapshots WHERE source=? AND article_id=? "
            "ORDER BY version DESC LIMIT 1",
            (source, article_id),
        ).fetchone()
        return (int(row[0]), str(row[1]), str(row[2])) if row else None

    def save(self, article: Article, text: str, location: WarcLocation, fetched_at: datetime, *,
             cache: CacheEntry | None = None) -> SnapshotRecord:
        """Store a snapshot; a text equal to the latest version is not stored again.

        In the same transaction the article leaves the frontier and, given ``cache``, its
        response's validators and payload digest are remembered (for ``--refresh``).
        """
        latest = self.latest(article.source, article.article_id)
        return self.commit(write_snapshot(self.archive, article, text, location, fetched_at, latest), cache=cache)

    def commit(self, written: WrittenSnapshot, *, cache: CacheEntry | None = None) -> SnapshotRecord:
        """The catalog row of snapshot files :func:`write_snapshot` wrote (none when unchanged).

        One transaction: the row, the article leaving the frontier, and ``cache`` when given.
        """
        try:
            with self.db:
                if written.created:
                    self.db.execute("INSERT INTO snapshots VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", written.row)
                self._settled(written.source, written.article_id, cache)
        except sqlite3.Error as err:
            if written.created:
                raise ArchiveError(f"cannot store the snapshot of {written.url}: {err}") from err
            raise ArchiveError(f"cannot update the crawl state: {err}") from err
        text_path = self.archive / written.text_path
        return SnapshotRecord(written.source, written.article_id, written.version, text_path,
                              text_path.with_suffix(".json"), written.sha256, created=written.created)

    def _settled(self, source: str, article_id: str, cache: CacheEntry | None) -> None:
        self.db.execute("DELETE FROM frontier WHERE source=? AND article_id=?", (source, article_id))
        if cache is not None:
            self.db.execute("INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?,?,?,?,?)", (
                cache.url, cache.etag, cache.last_modified, cache.status, cache.payload_digest, cache.warc_file,
                cache.warc_offset, cache.warc_date))

    # -- crawl state ---------------------------------------------------------------------------

    def cached(self, url: str) -> CacheEntry | None:
        """Validators and WARC location of the last 200 response recorded for ``url``."""
        row = self.db.execute(
            "SELECT url, etag, last_modified, status, payload_digest, warc_file, warc_offset, warc_date "
            "FROM http_cache WHERE url=?", (url,)
        ).fetchone()
        return CacheEntry(*row) if row else None

    def remember(self, entry: CacheEntry) -> None:
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO http_cache VALUES (?,?,?,?,?,?,?,?)", (
                    entry.url, entry.etag, entry.last_modified, entry.status, entry.payload_digest,
                    entry.warc_file, entry.warc_offset, entry.warc_date))
        except sqlite3.Error as err:
            raise ArchiveError(f"cannot update the crawl state: {err}") from err

    def walk_complete(self, start_url: str) -> bool:
        """Did the last walk of this listing chain reach its end (rather than being cut short)?"""
        row = self.db.execute("SELECT complete FROM walks WHERE start_url=?", (start_url,)).fetchone()
        return bool(row and row[0])

    def set_walk(self, start_url: str, *, complete: bool) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO walks VALUES (?,?)", (start_url, int(complete)))

    def forget(self, url: str) -> None:
        """Drop a URL's validators (its recorded response can no longer be read back)."""
        with self.db:
            self.db.execute("DELETE FROM http_cache WHERE url=?", (url,))

    def enqueue_many(self, source: str, items: list[tuple[str, str]]) -> None:
        """Remember discovered articles ``(article id, url)`` until they are archived (one transaction)."""
        if not items:
            return
        now = datetime.now(UTC).isoformat()
        try:
            with self.db:
                self.db.executemany(
                    "INSERT OR IGNORE INTO frontier (source, article_id, url, discovered_at) VALUES (?,?,?,?)",
                    [(source, article_id, url, now) for article_id, url in items])
        except sqlite3.Error as err:
            raise ArchiveError(f"cannot update the crawl state: {err}") from err

    def pending(self, source: str) -> list[tuple[str, str, int]]:
        """(article id, url, attempts) of articles discovered but not archived yet, oldest first."""
        rows = self.db.execute(
            "SELECT article_id, url, attempts FROM frontier WHERE source=? ORDER BY discovered_at, rowid", (source,)
        ).fetchall()
        return [(str(a), str(u), int(n)) for a, u, n in rows]

    def settle(self, source: str, article_id: str, *, done: bool) -> None:
        """An article left the frontier (archived, or failed for good) or failed once more."""
        with self.db:
            if done:
                self.db.execute("DELETE FROM frontier WHERE source=? AND article_id=?", (source, article_id))
            else:
                self.db.execute("UPDATE frontier SET attempts = attempts + 1 WHERE source=? AND article_id=?",
                                (source, article_id))

    def archived_urls(self, source: str) -> list[tuple[str, str]]:
        """(article id, url) of every archived article of a source (for ``--refresh``)."""
        rows = self.db.execute(
            "SELECT article_id, url FROM snapshots WHERE source=? AND version = "
            "(SELECT MAX(version) FROM snapshots s2 WHERE s2.source=snapshots.source "
            "AND s2.article_id=snapshots.article_id)", (source,)
        ).fetchall()
        return [(str(a), str(u)) for a, u in rows]

    def known_text_paths(self) -> set[str]:
        return {str(row[0]) for row in self.db.execute("SELECT text_path FROM snapshots")}

    def rows(self) -> list[dict[str, object]]:
        """Every catalog row, as a mapping of column name to value (for verify)."""
        cursor = self.db.execute("SELECT * FROM snapshots ORDER BY source, article_id, version")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def add_row_from_metadata(self, meta: dict[str, object]) -> None:
        """Roll forward: the catalog row of a snapshot whose files were written before a crash."""
        text_path = str(meta["text_path"])
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO snapshots VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (meta["source"], meta["article_id"], meta["version"], meta["url"], meta["published"], meta["title"],
                 text_path, str(Path(text_path).with_suffix(".json").as_posix()), meta["sha256"], meta["warc_file"],
                 meta["warc_offset"], meta["fetched_at"], meta["extractor_version"]),
            )
            self.db.execute("DELETE FROM frontier WHERE source=? AND article_id=?",
                            (meta["source"], meta["article_id"]))

    def count(self, source: str | None = None) -> int:
        if source is None:
            row = self.db.execute("SELECT COUNT(DISTINCT source || '/' || article_id) FROM snapshots").fetchone()
        else:
            row = self.db.execute(
                "SELECT COUNT(DISTINCT article_id) FROM snapshots WHERE source=?", (source,)
            ).fetchone()
        return int(row[0])
