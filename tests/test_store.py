"""Snapshot store: layout, atomic writes, versions, unsafe ids."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.errors import ArchiveError
from crawler.models import Article, WarcLocation
from crawler.store import CacheEntry, Store, atomic_write, snapshot_relpath

VN = timezone(timedelta(hours=7))
ARTICLE = Article(
    source="baocantho", article_id="216001", url="https://baocantho.com.vn/x-a216001.html",
    canonical_url="https://baocantho.com.vn/x-a216001.html", breadcrumb=("Thời sự",), category_slugs=("thoi-su",),
    published=datetime(2026, 1, 31, 23, 30, tzinfo=VN), kicker=None, title="T", sapo=None, body=("B",),
    byline=None,
)
LOC = WarcLocation("baocantho-x.warc.gz", 1234)


def test_save_layout_metadata_and_catalog(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        record = store.save(ARTICLE, "snapshot text", LOC, datetime.now(UTC))
        assert record.created and record.version == 1
        assert record.text_path == tmp_path / "text/baocantho/2026/01/216001.txt"
        assert record.text_path.read_bytes() == b"snapshot text"
        meta = json.loads(record.meta_path.read_text(encoding="utf-8"))
        assert meta["warc_file"] == "baocantho-x.warc.gz" and meta["warc_offset"] == 1234
        assert meta["published"] == "2026-01-31T23:30:00+07:00"
        assert meta["sha256"] == record.sha256 and meta["extractor_version"]
        assert store.has_article("baocantho", "216001") and not store.has_article("baocantho", "1")
        again = store.save(ARTICLE, "snapshot text", LOC, datetime.now(UTC))
        assert not again.created and again.version == 1
        changed = store.save(replace(ARTICLE, title="T2"), "changed text", LOC, datetime.now(UTC))
        assert changed.created and changed.version == 2 and changed.text_path.name == "216001.v2.txt"
        assert record.text_path.read_bytes() == b"snapshot text"  # the old version is kept
        assert store.count() == 1
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", ".hidden", "x" * 65, "1\x00"])
def test_unsafe_ids_never_become_paths(bad: str) -> None:
    with pytest.raises(ArchiveError, match="unsafe"):
        snapshot_relpath("baocantho", bad, ARTICLE.published)


def test_trailing_newline_is_not_a_safe_id() -> None:
    for bad in ("216001\n", "baocantho\n"):
        with pytest.raises(ArchiveError, match="unsafe"):
            snapshot_relpath("baocantho", bad, ARTICLE.published)
        with pytest.raises(ArchiveError, match="unsafe"):
            snapshot_relpath(bad, "216001", ARTICLE.published)


def test_atomic_write_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    target = tmp_path / "dir" / "file.txt"
    target.parent.mkdir()
    tmp = target.parent / f".file.txt.{os.getpid()}.tmp"
    tmp.symlink_to(victim)  # where the temporary is about to be created
    atomic_write(target, b"new")
    assert target.read_bytes() == b"new" and not target.is_symlink()
    assert victim.read_bytes() == b"precious"
    assert not tmp.exists() and not tmp.is_symlink()

    # A link at the final name is replaced itself, never written through.
    link = target.parent / "link.txt"
    link.symlink_to(victim)
    atomic_write(link, b"data")
    assert not link.is_symlink() and link.read_bytes() == b"data"
    assert victim.read_bytes() == b"precious"


def test_atomic_write_replaces_a_stale_temporary(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    stale = tmp_path / f".x.json.{os.getpid()}.tmp"
    stale.write_bytes(b"left by a killed process with the same pid")
    atomic_write(target, b"{}")
    assert target.read_bytes() == b"{}" and not stale.exists()


def _written_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    with Store(archive) as store:
        store.save(ARTICLE, "snapshot text", LOC, datetime.now(UTC))
    return archive


def test_readonly_store_reads_without_writing(tmp_path: Path) -> None:
    archive = _written_archive(tmp_path)
    before = {p.name: p.read_bytes() for p in archive.iterdir() if p.is_file()}
    with Store(archive, readonly=True) as store:
        assert [row["article_id"] for row in store.rows()] == ["216001"]
        assert store.has_article("baocantho", "216001")
        with pytest.raises(ArchiveError, match="readonly database"):
            store.remember(CacheEntry("u", None, None, 200, "sha1:X", "f", 0, "d"))
    after = {p.name: p.read_bytes() for p in archive.iterdir() if p.is_file()}
    assert after == before


def test_readonly_store_refuses_what_is_not_a_catalog(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"no catalog\.sqlite"):
        Store(tmp_path / "missing", readonly=True)
    assert not (tmp_path / "missing").exists()
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "catalog.sqlite").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ArchiveError, match="not a database"):
        Store(garbage, readonly=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    sqlite3.connect(empty / "catalog.sqlite").close()  # a database without the tables
    with pytest.raises(ArchiveError, match="no such table"):
        Store(empty, readonly=True)


def test_a_symlinked_catalog_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "other.sqlite"
    sqlite3.connect(elsewhere).close()
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "catalog.sqlite").symlink_to(elsewhere)
    for readonly in (False, True):
        with pytest.raises(ArchiveError, match="symbolic link"):
            Store(archive, readonly=readonly)
    with sqlite3.connect(elsewhere) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def _leave_rows_in_the_wal(archive: Path) -> None:
    """A writer that commits and dies without closing: its change is only in catalog.sqlite-wal."""
    script = ("import os, sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('PRAGMA journal_mode=WAL'); "
              "db.execute(\"UPDATE snapshots SET title='from the wal'\"); db.commit(); os._exit(0)")
    subprocess.run([sys.executable, "-c", script, str(archive / "catalog.sqlite")], check=True)
    assert (archive / "catalog.sqlite-wal").stat().st_size > 0


def test_readonly_store_sees_rows_a_killed_run_left_in_the_wal(tmp_path: Path) -> None:
    archive = _written_archive(tmp_path)
    _leave_rows_in_the_wal(archive)
    with Store(archive, readonly=True) as store:
        assert [row["title"] for row in store.rows()] == ["from the wal"]


def test_a_wal_that_cannot_be_read_is_refused_not_ignored() -> None:
    base = Path(tempfile.mkdtemp(prefix="crawler-wal-"))
    archive = base / "archive"
    try:
        base.chmod(0o755)
        _written_archive(base)
        _leave_rows_in_the_wal(archive)
        (archive / "catalog.sqlite-shm").unlink()  # and no -shm may be created: the WAL cannot be read
        archive.chmod(0o555)
        if os.geteuid() != 0:
            with pytest.raises(ArchiveError, match="-wal file holds changes"):
                Store(archive, readonly=True)
            return
        if shutil.which("setpriv") is None:
            pytest.skip("as root, this needs setpriv to run as nobody")
        probe = ("import sys; from pathlib import Path; from crawler.store import Store; "
                 "Store(Path(sys.argv[1]), readonly=True)")
        result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c",
                                 probe, str(archive)], capture_output=True, text=True, check=False)
        assert result.returncode != 0 and "-wal file holds changes" in result.stderr, result.stderr
    finally:
        if archive.exists():
            archive.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
