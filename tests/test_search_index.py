"""The search index's writer (crawler.archive.search_index): a crawl indexes behind its commits, on a thread.

Every snapshot row is indexed exactly once, whoever gets to it first (the crawl's indexer, an in-line writer such
as ``fetch``, the next writer after a crash); rows committed but not yet indexed are counted and said by
``crawler search``; an error of the indexer's thread ends the crawl like any storage error; upgrades from
schema 5 keep the index as it is.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.archive import search_index
from crawler.archive.catalog import CATALOG, Store
from crawler.archive.catalog_schema import ETH_PAIRS, FOLD_PAIRS, SCHEMA_VERSION, folded_sql
from crawler.archive.search_index import mark, unindexed
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main
from crawler.errors import StorageError
from crawler.mirror import Mirror
from crawler.models import Article
from crawler.use.search import search
from tests.conftest import origin_args
from tests.test_search_body import BODIES, article, write

MORE = [article(str(n), f"Bài {n}", (f"Đoạn văn thứ {n} về lúa gạo.", "Nông dân Cần Thơ.")) for n in range(10, 40)]


@pytest.fixture
def indexed_rowids(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """How many times each snapshot rowid was put in the index (by any writer)."""
    seen: Counter[int] = Counter()
    real = search_index._insert

    def spy(db: sqlite3.Connection, values: list[dict[str, object]]) -> None:
        seen.update(int(str(v["rowid"])) for v in values)
        real(db, values)

    monkeypatch.setattr(search_index, "_insert", spy)
    return seen


class Hold(threading.Event):
    """Set it to let the held indexer go on; ``arrived`` is set when the indexer is held."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Event()


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hold]:
    """The background indexer waits until the event is set, each time it has read rows above the mark and before
    it reads their bodies and takes the write lock (other writers may move the mark meanwhile)."""
    go = Hold()
    real = search_index._bodies

    def bodies(archive: Path, rows: list[tuple[object, ...]]) -> list[dict[str, object]]:
        if threading.current_thread().name == "search-indexer":
            go.arrived.set()
            go.wait(30)
        return real(archive, rows)

    monkeypatch.setattr(search_index, "_bodies", bodies)
    yield go
    go.set()


def rowids(archive: Path) -> list[int]:
    with sqlite3.connect(archive / CATALOG) as db:
        return [int(r[0]) for r in db.execute("SELECT rowid FROM snapshots ORDER BY rowid")]


def test_rows_committed_behind_are_indexed_once_when_the_block_ends(tmp_path: Path,
                                                                    indexed_rowids: Counter[int]) -> None:
    rows = write(tmp_path, BODIES + MORE)
    with Store(tmp_path) as store:
        with store.indexing_behind():
            for start in range(0, len(rows), 7):
                store.commit(rows[start:start + 7])  # type: ignore[arg-type]
        assert unindexed(store.db) == 0 and mark(store.db) == max(rowids(tmp_path))
        assert {h.article_id for h in search(store, "chung khanh")} == {"1"}  # a body word
        assert len(search(store, "lua gao", limit=100)) == len(MORE)
    assert sorted(indexed_rowids) == rowids(tmp_path) and set(indexed_rowids.values()) == {1}


def test_commit_does_not_wait_for_the_index(tmp_path: Path, held: Hold,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """While the indexer is held, commits go on; the rows are archived, counted as not yet searchable, and said."""
    rows = write(tmp_path, BODIES + MORE)
    with Store(tmp_path) as store:
        with store.indexing_behind():
            store.commit(rows)  # type: ignore[arg-type]
            assert unindexed(store.db) == len(rows)
            with Store(tmp_path, readonly=True, live=True) as reader:
                hits = search(reader, "can tho")
                assert hits.note is not None and f"{len(rows)} snapshots" in hits.note
                assert "not in the search index yet" in hits.note
            held.set()
        assert unindexed(store.db) == 0
        assert search(store, "can tho").note is None


def test_an_abandoned_indexer_leaves_the_rows_to_the_next_writer(tmp_path: Path, held: Hold,
                                                                 indexed_rowids: Counter[int],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "BEHIND_CHUNK", 5)
    rows = write(tmp_path, BODIES + MORE)
    with Store(tmp_path) as store, pytest.raises(KeyboardInterrupt), store.indexing_behind():
        store.commit(rows)  # type: ignore[arg-type]
        threading.Timer(0.2, held.set).start()  # the thread must finish its chunk, not the rest
        raise KeyboardInterrupt
    left = len(rows) - sum(indexed_rowids.values())
    assert left >= len(rows) - 5  # the chunk under way at most
    with Store(tmp_path) as store:  # the next writer indexes what was left
        assert store.search_caught_up == left
        assert unindexed(store.db) == 0
        assert len(search(store, "lua gao", limit=100)) == len(MORE)
    assert sorted(indexed_rowids) == rowids(tmp_path) and set(indexed_rowids.values()) == {1}


def test_an_in_line_writer_and_the_indexer_never_index_a_row_twice(tmp_path: Path, held: Hold,
                                                                  indexed_rowids: Counter[int]) -> None:
    """A second writer (in-line, as ``fetch``) indexes everything above the mark, the crawl's rows too; the held
    indexer then finds the mark moved and indexes nothing again."""
    first, second = write(tmp_path, BODIES, "w1"), write(tmp_path, MORE, "w2")
    with Store(tmp_path) as store:
        with store.indexing_behind():
            store.commit(first)  # type: ignore[arg-type]
            assert held.arrived.wait(30)  # the indexer has read the rows above the mark
            with Store(tmp_path) as other:
                other.commit(second)  # type: ignore[arg-type]
            held.set()
        assert unindexed(store.db) == 0
    assert sorted(indexed_rowids) == rowids(tmp_path) and set(indexed_rowids.values()) == {1}


@pytest.mark.parametrize("error", [sqlite3.OperationalError("database or disk is full"),
                                   OSError(28, "No space left on device")])
def test_an_indexer_error_ends_the_crawl_as_a_storage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           error: Exception) -> None:
    def fail(db: sqlite3.Connection, values: list[dict[str, object]]) -> None:
        raise error

    monkeypatch.setattr(search_index, "_insert", fail)
    rows = write(tmp_path, BODIES + MORE)
    with Store(tmp_path) as store:
        with pytest.raises(StorageError, match="cannot index new snapshots for search in the catalog"), \
                store.indexing_behind():
            store.commit(rows[:5])  # type: ignore[arg-type]
            for _ in range(200):  # the next commit raises once the thread failed (or leaving the block does)
                threading.Event().wait(0.01)
            store.commit(rows[5:])  # type: ignore[arg-type]
        assert len(rowids(tmp_path)) >= 5  # the rows themselves stay archived
    monkeypatch.undo()
    with Store(tmp_path) as store:
        assert unindexed(store.db) == 0


def test_a_crawl_killed_before_its_indexer_caught_up(tmp_path: Path) -> None:
    """kill -9 while rows wait for the indexer: they are in the catalog; the next writer indexes them."""
    rows = write(tmp_path, BODIES + MORE)
    script = f"""
import os, sys, threading
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from pathlib import Path
from crawler.archive.catalog import Store
from crawler.archive.search_index import BackgroundIndexer
from crawler.archive.snapshots import SnapshotRow
from crawler.archive.reading import Selection
import crawler.archive.search_index as search_index
search_index._bodies = lambda archive, rows: threading.Event().wait(60)
import pickle
rows = pickle.loads(bytes.fromhex(sys.argv[1]))
store = Store(Path(sys.argv[2]))
with store.indexing_behind():
    store.commit(rows)
    os.kill(os.getpid(), 9)
"""
    import pickle

    done = subprocess.run([sys.executable, "-c", script, pickle.dumps(rows).hex(), str(tmp_path)], check=False,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr
    with Store(tmp_path, readonly=True) as reader:
        assert unindexed(reader.db) == len(rows)
        assert "not in the search index yet" in str(search(reader, "can tho").note)
    with Store(tmp_path) as store:
        assert store.search_caught_up == len(rows)
        assert len(search(store, "lua gao", limit=100)) == len(MORE)
        assert search(store, "can tho").note is None


def test_schema_5_is_upgraded_without_indexing_again(tmp_path: Path, indexed_rowids: Counter[int]) -> None:
    with Store(tmp_path) as store:
        store.commit(write(tmp_path, BODIES))  # type: ignore[arg-type]
    with sqlite3.connect(tmp_path / CATALOG) as db:  # as schema 5 left it: no mark, every row indexed
        db.execute("DROP TABLE search_state")
        db.execute("PRAGMA user_version = 5")
    indexed_rowids.clear()
    with Store(tmp_path) as store:
        assert store.upgraded_from == 5 and not store.search_rebuilt
        assert int(store.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION
        assert mark(store.db) == max(rowids(tmp_path)) and unindexed(store.db) == 0
        assert {h.article_id for h in search(store, "chung khanh")} == {"1"}
    assert not indexed_rowids


def test_a_lost_mark_rebuilds_the_index(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.commit(write(tmp_path, BODIES))  # type: ignore[arg-type]
    with sqlite3.connect(tmp_path / CATALOG) as db:
        db.execute("DROP TABLE search_state")
    with Store(tmp_path) as store:
        assert store.search_rebuilt and unindexed(store.db) == 0
        assert {h.article_id for h in search(store, "chung khanh")} == {"1"}


def test_a_crawl_of_the_mirror_is_searchable_when_it_exits(tmp_path: Path) -> None:
    with Mirror(articles=4, seed=3) as m:
        assert main(["crawl", "--archive", str(tmp_path), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    with Store(tmp_path, readonly=True) as store:
        count = int(store.db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
        assert count > 0 and unindexed(store.db) == 0 and mark(store.db) == max(rowids(tmp_path))
        assert int(store.db.execute("SELECT count(*) FROM search WHERE search MATCH 'body:a* OR body:t* OR "
                                    "body:n*'").fetchone()[0]) == count
    assert os.path.exists(tmp_path / CATALOG)


# -- the values folded in Python index exactly what the SQL expressions (catalog_schema.search_values) indexed ----

ODD_METAS = [
    None, "", "not json", "{sapo: 'JSON5 Ðầu tư'}", '{"sapo": 12}', '{"sapo": true}', '{"sapo": ["a", "đ"]}',
    '{"sapo": {"x": "Đà"}}', '{"sapo": "một", "sapo": "hai"}', '["sapo"]', "null", '"sapo"', '{"sapo": null}',
    '{"sapo": "Ðường đi", "body": "thân bài Ð"}', '{"body": ["khối một", 3, "khối ð"]}', '{"body": {"a": "đ"}}',
    '{"sapo": "lớn", "n": 123456789012345678901234567890}', '{"title": "Tin tức", "sapo": "Mở đầu ð"}',
    '{"sapo": "\\ud800 lẻ"}', '{"body": []}', '{"body": null}',
]


def vocab(db: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in ("search", "search_exact"):
        db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.v_{table} USING fts5vocab(main, '{table}', 'instance')")
        out[table] = db.execute(f"SELECT term, doc, col, offset FROM temp.v_{table} ORDER BY 1, 2, 3, 4").fetchall()
    return out


def index_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, items: list[Article],
                    metas: dict[int, str | None], missing: set[int]) -> tuple[object, object]:
    """Index the writer's rows of ``items`` (the metadata of row N replaced by ``metas[N]``, the snapshot files of
    ``missing`` removed) in Python and with the SQL expressions; the two indexes' every token and place."""
    results = []
    real = search_index._bodies

    def as_sql(archive: Path, rows: list[tuple[object, ...]]) -> list[dict[str, object]]:
        return [{**value, "plain": False} for value in real(archive, rows)]

    for way in ("python", "sql"):
        archive = tmp_path / way
        rows: list[SnapshotRow] = write(archive, items)  # type: ignore[assignment]
        # The rows, not indexed yet: as a crawl killed before its indexer got to them leaves them.
        with Store(archive) as store, store.indexing_behind():
            store._indexer.abandon()  # type: ignore[union-attr]
            store.commit(rows)
        with sqlite3.connect(archive / CATALOG) as db:
            for rowid, meta in metas.items():
                db.execute("UPDATE snapshots SET meta = ? WHERE rowid = ?", (meta, rowid))
            for rowid, title in ((4, 1e20), (22, 12), (23, b"Ti\xeau"), (24, b"T\xc3\xaan")):  # titles edited by hand
                db.execute("UPDATE snapshots SET title = ? WHERE rowid = ?", (title, rowid))
        for number in missing:
            (archive / rows[number - 1].text_path).unlink()
        with monkeypatch.context() as patch:
            if way == "sql":
                patch.setattr(search_index, "_bodies", as_sql)
            with Store(archive) as store:
                assert store.search_caught_up == len(rows)
                results.append(vocab(store.db))
    return results[0], results[1]


def test_python_folding_indexes_what_sql_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [article(str(n), title, (f"Thân {n} Ðường đi ð Đ.", "Ông Đỗ ðến."), sapo=sapo)
             for n, (title, sapo) in enumerate([("Đà Nẵng", "Mở đầu"), ("Ðầu tư", None), ("ðêm", "Ð Đ đ ð"),
                                               ("Tin tức", "Mở đầu ð")] * 6)]
    metas = dict(enumerate(ODD_METAS, 1))  # the rows after them keep the writer's metadata
    python, sql = index_both_ways(tmp_path, monkeypatch, items, metas, missing={2, 14, 15, 16, 20, 21})
    assert python == sql
    assert len(python["search"]) > 100


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("đĐðÐdDaàẤ ơ\n\u0111\u00f0") | st.characters(), max_size=60))
def test_python_folding_is_sqls(text: str) -> None:
    with sqlite3.connect(":memory:") as db:
        for exact, pairs in ((False, FOLD_PAIRS), (True, ETH_PAIRS)):
            sql = folded_sql("?", exact=exact)
            try:
                expected = db.execute(f"SELECT {sql}", (text,)).fetchone()[0]
            except UnicodeEncodeError:  # a lone surrogate: SQLite takes no such text at all
                continue
            assert search_index._folded(text, pairs) == expected
