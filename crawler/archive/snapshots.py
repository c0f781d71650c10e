"""Snapshot files and their journal: where an article's text lands on disk (no database here).

Layout under the archive directory::

    text/<source>/<YYYY>/<MM>/<article id>.txt      the snapshot (FORMAT.md)
    text/<source>/<YYYY>/<MM>/<article id>.v2.txt   a later, changed version (the old one is kept)
    journal/<writer>.jsonl                          catalog rows not committed yet (crash safety)

One file per article: its metadata (every field, the WARC file and offset, hashes) goes to
the catalog (:mod:`crawler.archive.catalog`), not to a file beside it, because creating files is what
costs most on some file systems (docs/decisions/0006-crawl-pipeline.md).  Archives written
before kept a ``.json`` file per snapshot; those are still read.

Crash safety without a temporary file per snapshot: :class:`SnapshotWriter` first appends the
catalog row to its journal (an intent: path and sha256), then creates the snapshot file with
``O_EXCL`` (a snapshot file name is never reused: a changed text is a new version).  The
catalog row is committed later, in batches, by the crawl process.  After a crash,
:func:`crawler.archive.recovery.replay_journals` adds the row of every journalled snapshot whose file is
complete (its sha256 matches) and removes a file cut short, whose article is fetched again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from crawler import EXTRACTOR_VERSION
from crawler.archive.jsonlines import escape_bytes
from crawler.archive.outputs import write_atomic
from crawler.errors import ArchiveError, StorageError
from crawler.models import Article, WarcLocation, pickled_by_fields

SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,63}")
JOURNAL_DIR = "journal"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SnapshotRow:
    """One catalog row (one version of one article's snapshot)."""

    source: str
    article_id: str
    version: int
    url: str
    published: str  # ISO 8601, +07:00
    title: str
    text_path: str  # relative to the archive, POSIX
    sha256: str
    warc_file: str
    warc_offset: int
    fetched_at: str  # ISO 8601, UTC
    extractor_version: str
    meta: str  # JSON: every field of the article (metadata())

    def as_json(self) -> str:
        return self.as_json_bytes().decode("utf-8")

    def as_json_bytes(self) -> bytes:
        # orjson: ~5x the json module on these rows, and the worker writes one per article.
        return escape_bytes(orjson.dumps(  # one journal line: U+2028, U+2029, U+0085 escaped
            [self.source, self.article_id, self.version, self.url, self.published, self.title, self.text_path,
             self.sha256, self.warc_file, self.warc_offset, self.fetched_at, self.extractor_version, self.meta]))

    @classmethod
    def from_json(cls, line: str) -> SnapshotRow:
        values = json.loads(line)
        if not isinstance(values, list) or len(values) != 13:
            raise ValueError("not a journal row")
        return cls(*values)


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class WrittenSnapshot:
    """A snapshot on disk (or found unchanged), waiting for its catalog row."""

    source: str
    article_id: str
    url: str
    version: int
    text_path: str  # relative to the archive, POSIX
    sha256: str
    row: SnapshotRow | None  # None: the text equals the latest stored version, nothing was written

    @property
    def created(self) -> bool:
        return self.row is not None


def check_id(article_id: str, what: str = "article id") -> None:
    if not SAFE_ID.fullmatch(article_id):
        raise ArchiveError(f"refusing unsafe {what} {article_id!r} for a file name")


def snapshot_relpath(source: str, article_id: str, published: datetime, version: int = 1) -> Path:
    """``text/<source>/<YYYY>/<MM>/<id>[.vN].txt``; ids that could escape the tree are refused."""
    check_id(article_id)
    check_id(source, "source key")
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
        "byline": article.byline,
        "images": [{"url": image.url, "caption": image.caption} for image in article.images],
        "rules": dict(article.rules),
        "template": article.rules.get("template"),
        "family": article.rules.get("family"),
        "text_path": text_path,
        "sha256": sha256,
        "warc_file": location.filename,
        "warc_offset": location.offset,
        "fetched_at": fetched_at.astimezone(UTC).isoformat(),
        "extractor_version": EXTRACTOR_VERSION,
    }


_MADE_DIRS: set[Path] = set()


def make_parent(path: Path) -> None:
    parent = path.parent
    if parent not in _MADE_DIRS:
        parent.mkdir(parents=True, exist_ok=True)
        _MADE_DIRS.add(parent)


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (never following a link, never replacing a file) and write ``data`` to it.

    A file of that name left by a crash with the same content is accepted; one with other
    content is replaced atomically (temporary file + rename).  A partial write is removed.
    """
    make_parent(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileNotFoundError:  # the directory went away since we made it
        _MADE_DIRS.discard(path.parent)
        make_parent(path)
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
            return
        # A leftover with other content: replace it whole (the one writer, crawler.archive.outputs).
        write_atomic(path, data, durable=False, mkdir=False, wrap=False)
        return
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise


class SnapshotWriter:
    """Writes snapshot files under an archive, journalling each catalog row first.

    One writer per process; ``name`` makes its journal file unique.  Not thread-safe.
    """

    def __init__(self, root: Path, name: str) -> None:
        self.root = root
        self.journal_path = root / JOURNAL_DIR / f"{name}.jsonl"
        self._journal: int | None = None

    def _journal_fd(self) -> int:
        if self._journal is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
            make_parent(self.journal_path)
            try:
                self._journal = os.open(self.journal_path, flags, 0o644)
            except FileNotFoundError:  # the directory went away since we made it
                _MADE_DIRS.discard(self.journal_path.parent)
                make_parent(self.journal_path)
                self._journal = os.open(self.journal_path, flags, 0o644)
        return self._journal

    def write(self, article: Article, text: str, location: WarcLocation, fetched_at: datetime,
              latest: tuple[int, str, str] | None) -> WrittenSnapshot:
        """Write the snapshot of ``article`` unless its text equals ``latest`` (:meth:`Store.latest`)."""
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        if latest is not None and latest[1] == digest:
            return WrittenSnapshot(article.source, article.article_id, article.url, latest[0], latest[2], digest,
                                   None)
        version = 1 if latest is None else latest[0] + 1
        rel = snapshot_relpath(article.source, article.article_id, article.published, version).as_posix()
        meta = metadata(article, sha256=digest, location=location, fetched_at=fetched_at, version=version,
                        text_path=rel)
        row = SnapshotRow(article.source, article.article_id, version, article.url, article.published.isoformat(),
                          article.title, rel, digest, location.filename, location.offset, str(meta["fetched_at"]),
                          EXTRACTOR_VERSION, orjson.dumps(meta).decode("utf-8"))
        path = self.root / rel
        try:
            os.write(self._journal_fd(), row.as_json_bytes() + b"\n")
            write_new_file(path, data)
        except OSError as err:
            raise StorageError.from_os(err, "write", path) from err
        return WrittenSnapshot(article.source, article.article_id, article.url, version, rel, digest, row)

    def close(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None
