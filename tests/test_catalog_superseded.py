"""The catalog's ``superseded`` table (schema 7): the rowids of the snapshot rows of which it has a newer version.

``crawler search`` leaves these out of the latest versions (:mod:`crawler.use.search_matches`) instead of finding them
in the primary key's index each time.  The table is kept by triggers, so every writer keeps it: whatever is done to
the rows (inserted by a crawl's commit, a fetch, a recovery, in batches or one by one, in any order of versions;
deleted, moved to another article, renumbered or given another rowid by hand; written by an older crawler that knows
nothing of the table), it holds exactly the rows for which the reference condition (a row of the same source and
article with a greater version, :meth:`crawler.archive.reading.Selection.where`) holds.  An older catalog is filled
when a writer upgrades it; a reader of one that was not upgraded finds the rows as before.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.archive.catalog import CATALOG, Store
from crawler.archive.catalog_schema import SCHEMA_VERSION, SUPERSEDED_OBJECTS
from crawler.archive.reading import Selection
from crawler.archive.snapshots import SnapshotRow
from crawler.use.search import search

# The reference: a row is not its article's latest version when a row of the same source and article has a greater
# version (the condition of Selection.where, as the search used it before the table).
_NEWER = ("EXISTS (SELECT 1 FROM snapshots newer WHERE newer.source = s.source AND newer.article_id = s.article_id "
          "AND newer.version > s.version)")


def computed(db: sqlite3.Connection) -> list[int]:
    return [int(r[0]) for r in db.execute(f"SELECT s.rowid FROM snapshots s WHERE {_NEWER} ORDER BY s.rowid")]


def kept(db: sqlite3.Connection) -> list[int]:
    """The table's rowids of rows the catalog has.  (A row that ``INSERT OR REPLACE`` or ``UPDATE OR REPLACE`` deletes
    to make room fires no trigger, SQLite's recursive triggers being off: its rowid may stay, a rowid no row has, which
    is no match of any search; an insert that takes the rowid again removes it.)"""
    return [int(r[0]) for r in db.execute("SELECT id FROM superseded WHERE id IN (SELECT rowid FROM snapshots) "
                                          "ORDER BY id")]


def assert_kept(archive: Path) -> None:
    """The archive's ``superseded`` table holds exactly the rows with a newer version (for the writers' tests)."""
    with sqlite3.connect(f"file:{archive / CATALOG}?mode=ro", uri=True) as db:
        assert kept(db) == computed(db)


def row(source: str, article_id: str, version: int, n: int = 0) -> SnapshotRow:
    meta = {"source": source, "article_id": article_id, "version": version, "title": f"lúa gạo {n}", "body": []}
    return SnapshotRow(source, article_id, version, f"https://example.vn/{article_id}", "2024-05-01T08:00:00+07:00",
                       f"lúa gạo {n}", f"text/{source}/{article_id}.v{version}.txt", "0" * 64, "x.warc.gz", 0,
                       "2024-05-01T02:00:00+00:00", "1", json.dumps(meta, ensure_ascii=False))


def as_older_catalog(archive: Path) -> None:
    """Make the catalog what schema 6 wrote: no table, no triggers."""
    with sqlite3.connect(archive / CATALOG) as db:
        for kind, name in SUPERSEDED_OBJECTS:
            db.execute(f"DROP {kind.upper()} {name}")
        db.execute("PRAGMA user_version = 6")


KEYS = st.tuples(st.sampled_from(["hue", "baocantho"]), st.sampled_from(["1", "2", "3"]))
VERSION = st.sampled_from([1, 1, 2, 3, 0, -1, 10])
_PICK = "(SELECT rowid FROM snapshots ORDER BY rowid LIMIT 1 OFFSET abs(?) % max(1, (SELECT count(*) FROM snapshots)))"
# What writers and hands do to the rows (SQL run as it is, on the catalog the Store opened).
steps = st.one_of(
    st.tuples(st.just("commit"), st.lists(st.tuples(KEYS, VERSION), max_size=6)),  # a crawl's, fetch's batch
    st.tuples(st.just("metadata"), st.tuples(KEYS, VERSION)),  # recovery of a schema 1 snapshot
    st.tuples(st.just("sql"), st.tuples(st.sampled_from([
        f"DELETE FROM snapshots WHERE rowid = {_PICK}",
        f"UPDATE OR IGNORE snapshots SET version = version + 5 WHERE rowid = {_PICK}",
        f"UPDATE OR IGNORE snapshots SET version = -version WHERE rowid = {_PICK}",
        f"UPDATE OR IGNORE snapshots SET article_id = '1' WHERE rowid = {_PICK}",
        f"UPDATE OR REPLACE snapshots SET article_id = '2', version = 1 WHERE rowid = {_PICK}",
        f"UPDATE OR IGNORE snapshots SET rowid = rowid + 100 WHERE rowid = {_PICK}",
        f"UPDATE snapshots SET title = 'edited' WHERE rowid = {_PICK}",
        f"INSERT OR REPLACE INTO snapshots SELECT * FROM snapshots WHERE rowid = {_PICK}",
        "INSERT OR IGNORE INTO snapshots SELECT source, article_id, version + 1, url, published, title, text_path, "
        f"meta_path, sha256, warc_file, warc_offset, fetched_at, extractor_version, meta FROM snapshots "
        f"WHERE rowid = {_PICK}",
        "DELETE FROM snapshots WHERE version = (SELECT max(version) FROM snapshots) AND ? = ?",
    ]), st.integers(0, 50))),
    st.tuples(st.just("reopen"), st.booleans()),  # a writer opens it again (true: after an older crawler wrote it)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(steps, min_size=1, max_size=12))
def test_the_table_holds_exactly_the_rows_with_a_newer_version(tmp_path_factory: pytest.TempPathFactory,
                                                                actions: list[tuple[str, object]]) -> None:
    archive = tmp_path_factory.mktemp("kept")
    store = Store(archive)
    try:
        for kind, what in actions:
            if kind == "commit":
                assert isinstance(what, list)
                store.commit([row(source, article_id, version) for (source, article_id), version in what])
            elif kind == "metadata":
                assert isinstance(what, tuple)
                (source, article_id), version = what
                store.add_row_from_metadata({**json.loads(row(source, article_id, version).meta or "{}"),
                                             "url": "u", "published": "p", "text_path": "text/x.txt",
                                             "sha256": "0", "warc_file": "w", "warc_offset": 0, "fetched_at": "f",
                                             "extractor_version": "1"})
            elif kind == "sql":
                assert isinstance(what, tuple)
                sql, pick = what
                with store.db:
                    store.db.execute(sql, (pick, pick) if sql.count("?") == 2 else (pick,))
            else:
                store.close()
                if what:  # an older crawler wrote it: it set its own schema version (its triggers stay)
                    with sqlite3.connect(archive / CATALOG) as db:
                        db.execute("PRAGMA user_version = 6")
                        db.execute("INSERT OR IGNORE INTO snapshots SELECT source, article_id, version + 1, url, "
                                   "published, title, text_path, meta_path, sha256, warc_file, warc_offset, "
                                   "fetched_at, extractor_version, meta FROM snapshots ORDER BY rowid DESC LIMIT 1")
                    with Store(archive, readonly=True) as reader:
                        assert kept(reader.db) == computed(reader.db)
                store = Store(archive)
            assert kept(store.db) == computed(store.db), (kind, what)
    finally:
        store.close()


def test_an_older_catalog_is_filled_when_a_writer_upgrades_it(tmp_path: Path) -> None:
    rows = [row("hue", str(n % 4), 1 + n // 4, n) for n in range(14)]
    with Store(tmp_path) as store:
        store.commit(rows)
        expected = computed(store.db)
    assert len(expected) == 10
    as_older_catalog(tmp_path)
    with Store(tmp_path, readonly=True) as reader:  # read only: nothing written, the rows found as before
        assert {h.version for h in search(reader, "lua", limit=50)} == {3, 4}
        assert search(reader, "lua").total == 4
        assert not reader.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'superseded'").fetchall()
    with Store(tmp_path) as store:
        assert store.upgraded_from == 6
        assert int(store.db.execute("PRAGMA user_version").fetchone()[0]) == SCHEMA_VERSION == 7
        assert kept(store.db) == expected
        store.commit([row("hue", "0", 9, 99)])
        assert kept(store.db) == computed(store.db) != expected
        assert search(store, "lua").total == 4


@pytest.mark.parametrize("missing", range(4))
def test_a_table_without_all_its_triggers_is_not_trusted(tmp_path: Path, missing: int) -> None:
    """A trigger dropped by hand: the table may be stale, the search finds the rows itself (and a writer makes the
    table again)."""
    with Store(tmp_path) as store:
        store.commit([row("hue", "1", 1, 1), row("hue", "2", 1, 2), row("hue", "1", 2, 3)])
    with sqlite3.connect(tmp_path / CATALOG) as db:
        kind, name = SUPERSEDED_OBJECTS[missing]
        if kind == "trigger":  # and the table stale (as a write the trigger missed would leave it)
            db.execute(f"DROP TRIGGER {name}")
            db.execute("DELETE FROM superseded")
        else:  # (with the triggers left, every insert fails until a writer makes the table again)
            db.execute("DROP TABLE superseded")
    with Store(tmp_path, readonly=True) as reader:
        assert sorted((h.article_id, h.version) for h in search(reader, "lua")) == [("1", 2), ("2", 1)]
        assert sorted((h.article_id, h.version) for h in search(reader, "lua", Selection(all_versions=True))) == [
            ("1", 1), ("1", 2), ("2", 1)]
    with Store(tmp_path) as store:
        assert kept(store.db) == computed(store.db)
        assert sorted((h.article_id, h.version) for h in search(store, "lua")) == [("1", 2), ("2", 1)]


@pytest.mark.parametrize("query", ["lua", "lua gao", "title:lu*", "(lua OR gao) AND NOT xyz"])
def test_a_search_reads_the_table_and_looks_for_no_newer_version(tmp_path: Path, query: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On a catalog that keeps the table, a search of the latest versions reads it: it neither finds the superseded
    rows in the primary key's index (SUPERSEDED_SQL) nor looks for a newer version of each match."""
    from crawler.use import search_matches

    monkeypatch.setattr(search_matches, "PER_ROW", 3)  # the index answers (more matches than looked up one by one)
    rows = [row("hue", str(n % 6), 1 + n // 6, n) for n in range(20)]
    with Store(tmp_path) as store:
        store.commit(rows)
        statements: list[str] = []
        store.db.set_trace_callback(statements.append)
        hits = search(store, query, limit=50)
        store.db.set_trace_callback(None)
        assert sorted((h.article_id, h.version) for h in hits) == [("0", 4), ("1", 4), *((str(n), 3)
                                                                                        for n in range(2, 6))]
        assert any("FROM superseded" in sql for sql in statements)
        assert not any("DISTINCT source, article_id" in sql or "newer.version" in sql for sql in statements)


def test_journal_recovery_of_a_later_version(tmp_path: Path) -> None:
    """A crash after a new version's file and journal line, before its commit: recovery commits it, and the version
    before it is superseded (the crawl's and fetch's own commits: tests/test_crawl_run.py, tests/test_cli.py)."""
    from datetime import UTC, datetime

    from crawler.archive.recovery import replay_journals
    from crawler.archive.snapshots import SnapshotWriter
    from crawler.models import WarcLocation
    from crawler.parse.normalize import render_snapshot
    from tests.test_search_body import article

    first = [article(str(n), f"Lúa gạo {n}", (f"Bản thứ nhất {n}.",)) for n in range(3)]
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "x.warc.gz").write_bytes(b"record")
    when = datetime(2024, 5, 1, tzinfo=UTC)
    with Store(tmp_path) as store:
        writer = SnapshotWriter(tmp_path, "w1")
        store.commit([writer.write(a, render_snapshot(a), WarcLocation("x.warc.gz", 0), when, None).row
                      for a in first])  # type: ignore[misc]
        writer.close()
        later = SnapshotWriter(tmp_path, "crashed")  # a new version of two of them, not committed
        for a in first[:2]:
            changed = article(a.article_id, a.title, ("Bản thứ hai.",))
            later.write(changed, render_snapshot(changed), WarcLocation("x.warc.gz", 0), when,
                        store.latest(a.source, a.article_id))
        later.close()
    with Store(tmp_path) as store:
        assert [r.what for r in replay_journals(store)] == ["added the catalog row a crash left out"] * 2
        assert len(kept(store.db)) == 2 and kept(store.db) == computed(store.db)
        assert sorted((h.article_id, h.version) for h in search(store, "lua gao")) == [("0", 2), ("1", 2), ("2", 1)]


def _edited_by_hand(archive: Path, statement: str) -> None:
    with sqlite3.connect(archive / CATALOG) as db:
        db.execute(statement)


@pytest.mark.parametrize(("statement", "message"), [
    # a latest version listed: search would hide it
    ("INSERT INTO superseded (id) SELECT max(rowid) FROM snapshots", "1 latest version listed"),
    # an older version not listed: search would show two versions of the article
    ("DELETE FROM superseded WHERE id = (SELECT min(id) FROM superseded)", "1 older version not listed"),
    ("DELETE FROM superseded", "10 older versions not listed"),
])
def test_verify_names_a_table_edited_by_hand_and_index_sorts_it_again(tmp_path: Path, statement: str,
                                                                      message: str) -> None:
    from crawler.archive.indexing import rebuild
    from crawler.archive.verify import verify

    with Store(tmp_path) as store:
        store.commit([row("hue", str(n % 4), 1 + n // 4, n) for n in range(14)])
    assert [p for p in verify(tmp_path, check_digests=False).problems if "superseded" in p] == []
    _edited_by_hand(tmp_path, statement)
    problems = [p for p in verify(tmp_path, check_digests=False).problems if "superseded" in p]
    assert len(problems) == 1 and message in problems[0] and "crawler index --search" in problems[0], problems
    rebuild(tmp_path, only=["search"])
    assert_kept(tmp_path)
    assert [p for p in verify(tmp_path, check_digests=False).problems if "superseded" in p] == []


def test_verify_leaves_alone_an_id_no_row_has(tmp_path: Path) -> None:
    """What ``INSERT OR REPLACE`` can leave (no trigger fires for the row it deletes): no search sees it."""
    from crawler.archive.verify import verify

    with Store(tmp_path) as store:
        store.commit([row("hue", str(n % 4), 1 + n // 4, n) for n in range(14)])
    _edited_by_hand(tmp_path, "INSERT INTO superseded (id) VALUES (1000000)")
    assert [p for p in verify(tmp_path, check_digests=False).problems if "superseded" in p] == []
