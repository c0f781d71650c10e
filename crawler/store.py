"""Snapshot store and catalog: text + JSON metadata files and the SQLite index (the only sqlite3 user).

Layout under the archive directory::

    text/<source>/<YYYY>/<MM>/<article id>.txt     the snapshot (FORMAT.md)
    text/<source>/<YYYY>/<MM>/<article id>.json    its metadata
    text/<source>/<YYYY>/<MM>/<article id>.v2.txt  a later, changed version (the old one is kept)
    catalog.sqlite                                  one row per snapshot version

Every file is written to a temporary name, fsynced and renamed, so a crash leaves
either the old file or the new one.  The WARC record a snapshot came from is
always written before the snapshot (raw first), and the catalog row last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
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


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
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
        "text_path": text_path,
        "sha256": sha256,
        "warc_file": location.filename,
        "warc_offset": location.offset,
        "fetched_at": fetched_at.astimezone(UTC).isoformat(),
        "extractor_version": EXTRACTOR_VERSION,
    }


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

    def save(self, article: Article, text: str, location: WarcLocation, fetched_at: datetime) -> SnapshotRecord:
        """Store a snapshot; a text equal to the latest version is not stored again."""
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        latest = self.latest(article.source, article.article_id)
        if latest is not None and latest[1] == digest:
            path = self.archive / latest[2]
            return SnapshotRecord(article.source, article.article_id, latest[0], path,
                                  path.with_suffix(".json"), digest, created=False)
        version = 1 if latest is None else latest[0] + 1
        rel = snapshot_relpath(article.source, article.article_id, article.published, version)
        meta_rel = rel.with_suffix(".json")
        meta = metadata(article, sha256=digest, location=location, fetched_at=fetched_at, version=version,
                        text_path=rel.as_posix())
        try:
            atomic_write(self.archive / rel, data)
            atomic_write(self.archive / meta_rel,
                         json.dumps(meta, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
            with self.db:
                self.db.execute(
                    "INSERT INTO snapshots VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (article.source, article.article_id, version, article.url, article.published.isoformat(),
                     article.title, rel.as_posix(), meta_rel.as_posix(), digest, location.filename,
                     location.offset, meta["fetched_at"], EXTRACTOR_VERSION),
                )
        except (OSError, sqlite3.Error) as err:
            raise ArchiveError(f"cannot store the snapshot of {article.url}: {err}") from err
        return SnapshotRecord(article.source, article.article_id, version, self.archive / rel,
                              self.archive / meta_rel, digest, created=True)

    def count(self, source: str | None = None) -> int:
        if source is None:
            row = self.db.execute("SELECT COUNT(DISTINCT source || '/' || article_id) FROM snapshots").fetchone()
        else:
            row = self.db.execute(
                "SELECT COUNT(DISTINCT article_id) FROM snapshots WHERE source=?", (source,)
            ).fetchone()
        return int(row[0])
