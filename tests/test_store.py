"""Snapshot files, the catalog, the journal, the retry schedule and the schema upgrade."""

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

import _brotli  # type: ignore[import-not-found]
import brotli
import orjson
import pytest
import zlib_ng

import crawler
from crawler.archive.catalog import Store, atomic_write
from crawler.archive.crawl_state import BACKOFF, MAX_ATTEMPTS, CacheEntry
from crawler.archive.outputs import sweep_temporaries
from crawler.archive.recovery import replay_journals
from crawler.archive.snapshots import SnapshotWriter, snapshot_relpath
from crawler.errors import ArchiveError
from crawler.models import Article, WarcLocation

VN = timezone(timedelta(hours=7))
ARTICLE = Article(
    source="baocantho", article_id="216001", url="https://baocantho.com.vn/x-a216001.html",
    canonical_url="https://baocantho.com.vn/x-a216001.html", breadcrumb=("Thời sự",), category_slugs=("thoi-su",),
    published=datetime(2026, 1, 31, 23, 30, tzinfo=VN), kicker=None, title="T", sapo=None, body=("B",),
    byline=None, rules={"template": "vdoc"},
)
LOC = WarcLocation("baocantho-x.warc.gz", 1234)


def save(store: Store, writer: SnapshotWriter, article: Article, text: str) -> tuple[bool, int, str]:
    written = writer.write(article, text, LOC, datetime.now(UTC), store.latest(article.source, article.article_id))
    store.commit([written.row] if written.row else [], settled=[(article.source, article.article_id)])
    return written.created, written.version, written.text_path


def test_one_file_per_snapshot_metadata_in_the_catalog(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        writer = SnapshotWriter(tmp_path, "t")
        created, version, rel = save(store, writer, ARTICLE, "snapshot text")
        assert created and version == 1 and rel == "text/baocantho/2026/01/216001.txt"
        assert (tmp_path / rel).read_bytes() == b"snapshot text"
        assert sorted(p.name for p in (tmp_path / rel).parent.iterdir()) == ["216001.txt"]  # no .json beside it
        (meta_json,) = store.db.execute("SELECT meta FROM snapshots").fetchone()
        meta = json.loads(meta_json)
        assert meta["warc_file"] == "baocantho-x.warc.gz" and meta["warc_offset"] == 1234
        assert meta["published"] == "2026-01-31T23:30:00+07:00" and meta["template"] == "vdoc"
        assert store.has_article("baocantho", "216001") and not store.has_article("baocantho", "1")
        assert save(store, writer, ARTICLE, "snapshot text")[:2] == (False, 1)  # same text: nothing written
        created, version, rel2 = save(store, writer, replace(ARTICLE, title="T2"), "changed text")
        assert created and version == 2 and rel2.endswith("216001.v2.txt")
        assert (tmp_path / rel).read_bytes() == b"snapshot text"  # the old version is kept
        assert store.count() == 1
        writer.close()
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", ".hidden", "x" * 65, "1\x00", "1\n", "١٢٣"])
def test_unsafe_ids_never_become_paths(bad: str) -> None:
    with pytest.raises(ArchiveError, match="unsafe"):
        snapshot_relpath("baocantho", bad, ARTICLE.published)


def test_a_snapshot_never_follows_a_planted_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("precious")
    rel = snapshot_relpath("baocantho", "216001", ARTICLE.published)
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).symlink_to(target)
    with Store(tmp_path) as store:
        writer = SnapshotWriter(tmp_path, "t")
        save(store, writer, ARTICLE, "new text")
        writer.close()
    assert target.read_text() == "precious"
    assert not (tmp_path / rel).is_symlink() and (tmp_path / rel).read_text() == "new text"


def test_journal_rolls_a_crash_forward_and_drops_a_file_cut_short(tmp_path: Path) -> None:
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / LOC.filename).write_bytes(b"x" * 5000)
    with Store(tmp_path) as store:
        store.enqueue_many("baocantho", [("216001", ARTICLE.url), ("216002", ARTICLE.url + "?2")])
        writer = SnapshotWriter(tmp_path, "dead-worker")
        good = writer.write(ARTICLE, "complete", LOC, datetime.now(UTC), None)
        cut = writer.write(replace(ARTICLE, article_id="216002"), "complete too", LOC, datetime.now(UTC), None)
        writer.close()
        (tmp_path / cut.text_path).write_bytes(b"compl")  # the crash cut the second file short
        with (tmp_path / "journal" / "dead-worker.jsonl").open("a") as journal:
            journal.write('["baocantho", "216003", 1, "https://x/')  # a line cut short: its file never existed
        done = replay_journals(store)
        assert [d.what for d in done] == ["added the catalog row a crash left out",
                                          "removed a snapshot a crash cut short (incomplete file); "
                                          "its article is fetched again"]
        assert store.latest("baocantho", "216001") == (1, good.sha256, good.text_path)
        assert store.latest("baocantho", "216002") is None and not (tmp_path / cut.text_path).exists()
        assert [a for a, _u, _n in store.pending("baocantho")] == ["216002"]
        assert not list((tmp_path / "journal").iterdir())
        assert replay_journals(store) == []


def test_failures_are_retried_on_a_schedule_and_rediscovery_does_not_reset_it(tmp_path: Path) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with Store(tmp_path) as store:
        store.enqueue_many("s", [("1", "u1"), ("2", "u2")])
        for attempt in range(1, MAX_ATTEMPTS):  # transient: tried again next run
            state = store.fail("s", "1", "u1", "HTTP 503", permanent=False, now=now)
            assert state.attempts == attempt and not state.failed and state.next_try is None
        state = store.fail("s", "1", "u1", "HTTP 503", permanent=False, now=now)
        assert state.failed and state.next_try == (now + BACKOFF[0]).isoformat()
        waits = []
        for _ in range(len(BACKOFF) + 1):  # permanent: 1 h, 6 h, 1 day, 1 week, 1 week, ...
            state = store.fail("s", "2", "u2", "HTTP 404", permanent=True, now=now)
            waits.append(datetime.fromisoformat(str(state.next_try)) - now)
        assert waits == [*BACKOFF, BACKOFF[-1]]
        store.enqueue_many("s", [("2", "u2")])  # found again on a listing page
        assert store.waiting("s", now) == {"1", "2"}
        assert store.pending("s", now) == []
        assert [a for a, _u, _n in store.pending("s", now + timedelta(weeks=2))] == ["1", "2"]
        failed = {f.article_id: f for f in store.failed("s")}
        assert failed["2"].last_error == "HTTP 404" and failed["2"].attempts == len(BACKOFF) + 1
        store.commit(settled=[("s", "2")])  # archived at last
        assert [f.article_id for f in store.failed()] == ["1"]


def test_a_schema_1_catalog_is_upgraded_and_its_json_metadata_adopted(tmp_path: Path) -> None:
    legacy = {"source": "baocantho", "article_id": "7", "title": "Old"}
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "7.json").write_text(json.dumps(legacy), encoding="utf-8")
    with sqlite3.connect(tmp_path / "catalog.sqlite") as db:
        db.executescript("""
            CREATE TABLE snapshots (source TEXT NOT NULL, article_id TEXT NOT NULL, version INTEGER NOT NULL,
              url TEXT NOT NULL, published TEXT NOT NULL, title TEXT NOT NULL, text_path TEXT NOT NULL,
              meta_path TEXT NOT NULL, sha256 TEXT NOT NULL, warc_file TEXT NOT NULL, warc_offset INTEGER NOT NULL,
              fetched_at TEXT NOT NULL, extractor_version TEXT NOT NULL, PRIMARY KEY (source, article_id, version));
            CREATE TABLE frontier (source TEXT NOT NULL, article_id TEXT NOT NULL, url TEXT NOT NULL,
              discovered_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, article_id));
            INSERT INTO snapshots VALUES ('baocantho','7',1,'u','2020-01-01T00:00:00+07:00','Old','text/7.txt',
              'text/7.json','0','w.warc.gz',0,'2020','1');
            INSERT INTO frontier VALUES ('baocantho','8','u8','2020',2);
        """)
    with Store(tmp_path) as store:
        assert store.upgraded_from == 0
        assert json.loads(store.db.execute("SELECT meta FROM snapshots").fetchone()[0]) == legacy
        assert store.pending("baocantho") == [("8", "u8", 2)]
    with Store(tmp_path) as store:
        assert store.upgraded_from is None


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
    # The temporary had another, unpredictable name: the planted link is not ours and is left as it was.
    assert tmp.is_symlink() and sorted(p.name for p in target.parent.iterdir()) == [tmp.name, "file.txt"]

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
    atomic_write(target, b"{}")  # its temporary has another name: no clash
    assert target.read_bytes() == b"{}" and stale.exists()
    dead = tmp_path / ".x.json.crawler-999999999-abcdefgh.tmp"  # a pid no process has
    dead.write_bytes(b"left by a killed process")
    assert sweep_temporaries(tmp_path) == [dead] and stale.exists()  # ours (alive) is kept


def _written_archive(tmp_path: Path) -> Path:
    archive = tmp_path / "archive"
    with Store(archive) as store:
        writer = SnapshotWriter(archive, "t")
        save(store, writer, ARTICLE, "snapshot text")
        writer.close()
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
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        # nobody may not reach this checkout or its virtual environment (a clone in a mode-700 home):
        # the code the probe needs is copied beside the archive, run by the real interpreter.
        interpreter = os.path.realpath(sys.executable)
        if subprocess.run([*nobody, interpreter, "-c", "pass"], capture_output=True, check=False).returncode:
            pytest.skip(f"nobody cannot run the interpreter {interpreter}")
        lib = base / "lib"
        # what crawler.archive.catalog imports, outside the stdlib
        for module in (crawler, brotli, _brotli, zlib_ng, orjson):
            source = Path(str(module.__file__))
            if source.name == "__init__.py":
                shutil.copytree(source.parent, lib / source.parent.name)
            else:
                lib.mkdir(exist_ok=True)
                shutil.copy2(source, lib / source.name)
        subprocess.run(["chmod", "-R", "a+rX", str(lib)], check=True)
        probe = ("import sys; sys.path.insert(0, sys.argv[2]); from pathlib import Path; "
                 "from crawler.archive.catalog import Store; Store(Path(sys.argv[1]), readonly=True)")
        result = subprocess.run([*nobody, interpreter, "-s", "-E", "-c", probe, str(archive), str(lib)],
                                capture_output=True, text=True, check=False, cwd=base)
        assert result.returncode != 0 and "-wal file holds changes" in result.stderr, result.stderr
    finally:
        if archive.exists():
            archive.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
