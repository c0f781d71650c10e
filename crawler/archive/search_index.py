"""The search index's writer: which snapshot rows are indexed, indexing them in a transaction or behind a crawl.

Part of the catalog (:mod:`crawler.archive.catalog` opens the database and calls this; the tables are
:mod:`crawler.archive.catalog_schema`'s, the queries :mod:`crawler.use.search`'s).  Each snapshot row is indexed
once in both FTS5 tables (``search``, folded, and ``search_exact``), with its title and sapo from the catalog
and its body read from its snapshot file (:mod:`crawler.archive.snapshot_body`).

The mark: ``search_state.indexed_upto`` is the largest snapshot rowid indexed (rowids only grow: rows are never
deleted).  Whoever indexes reads the mark, indexes the rows above it and moves it, in one write transaction,
so no row is indexed twice or skipped, whichever writer (a crawl's indexer, a ``fetch``, an upgrade) gets there
first.  Rows above the mark are archived but not yet searchable: a crawl's :class:`BackgroundIndexer` indexes
them right behind its commits, on a thread of its own (SQLite tokenizes without Python's lock: the crawl's
event loop goes on fetching), and waits for the last ones before the run ends; a run killed before that leaves
some above the mark, which the next writer to open the catalog indexes (:func:`index_pending`).

The ``superseded`` table (schema 7: the rows a search of the latest versions leaves out) is kept by triggers;
:func:`keep_superseded` makes and fills it when a catalog is upgraded, :func:`superseded_kept` says whether a
catalog keeps it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from crawler.archive.catalog_schema import (
    ETH_PAIRS,
    FOLD_PAIRS,
    SAPO_SQL,
    SEARCH_TABLES,
    SUPERSEDED_OBJECTS,
    SUPERSEDED_SCHEMA,
    SUPERSEDED_SCHEMA_VERSION,
    SUPERSEDED_SQL,
    search_values,
)
from crawler.archive.snapshot_body import meta_fields, read_body
from crawler.errors import StorageError
from crawler.terminal import plural

# The index's rows, from values read in Python (the body from the snapshot file; title and sapo folded here): what
# the SQL below would insert, at a third of its cost (its JSON functions and replace() chains cost SQLite more than
# tokenizing the text).
_ROW = {table: f"INSERT INTO {table} (rowid, title, sapo, body) VALUES (?, ?, ?, ?)" for table, _ in SEARCH_TABLES}
_FOLDING = {table: ETH_PAIRS if exact else FOLD_PAIRS for table, exact in SEARCH_TABLES}
# The same from SQL (catalog_schema.search_values), for a row whose metadata Python might read otherwise than
# SQLite would (hand-edited metadata: a sapo that is a number; no snapshot file, and a body in the metadata).
_SQL_ROW = {table: f"INSERT INTO {table} (rowid, title, sapo, body) SELECT rowid, "
                   f"{search_values('title', 'meta', ':body', exact=exact)} FROM snapshots WHERE rowid = :rowid"
            for table, exact in SEARCH_TABLES}
# The sapo as the SQL expressions read it (SQLite's own JSON reading: its choice between repeated keys), as bytes:
# a JSON escape of a lone surrogate gives text that is no UTF-8 (SQLite indexes it, Python cannot decode it).
_SAPO = SAPO_SQL.format("meta")
_ROWS = (f"SELECT rowid, title, text_path, meta, typeof({_SAPO}), CAST({_SAPO} AS BLOB) FROM snapshots "
         f"WHERE rowid > ? ORDER BY rowid LIMIT ?")
CHUNK = 500  # rows read from the catalog, and snapshot files, at a time
BEHIND_CHUNK = 64  # rows a background indexer indexes per transaction (it holds the write lock meanwhile)
# How much lower the background indexer's CPU priority is than the crawl's (nice values; Linux keeps one per thread).
# The crawl's event loop is the serial part of a crawl: given the cores first, it keeps the workers and the server
# busy, and the indexer takes what they leave (issue 22: +7-8 % pages/s against nginx, the same CPU per page).
INDEXER_NICENESS = 5


def mark(db: sqlite3.Connection) -> int:
    """The largest snapshot rowid indexed (0 when none is, or the catalog has no mark yet)."""
    row = db.execute("SELECT indexed_upto FROM search_state WHERE id = 1").fetchone()
    return 0 if row is None else int(row[0])


def set_mark(db: sqlite3.Connection, upto: int) -> None:
    db.execute("INSERT INTO search_state (id, indexed_upto) VALUES (1, ?) "
               "ON CONFLICT (id) DO UPDATE SET indexed_upto = excluded.indexed_upto", (upto,))


def unindexed(db: sqlite3.Connection) -> int:
    """How many snapshot rows are above the mark (archived, not yet searchable)."""
    return int(db.execute("SELECT count(*) FROM snapshots WHERE rowid > ?", (mark(db),)).fetchone()[0])


def superseded_kept(db: sqlite3.Connection) -> bool:
    """Whether the catalog keeps its superseded rows (schema 7): the ``superseded`` table and every trigger keeping
    it (an older catalog has none; a trigger dropped by hand leaves the table stale)."""
    return int(db.execute(
        "SELECT count(*) FROM sqlite_master WHERE (type, name) IN (SELECT json_extract(value, '$[0]'), "
        "json_extract(value, '$[1]') FROM json_each(?))",
        (json.dumps(SUPERSEDED_OBJECTS),)).fetchone()[0]) == len(SUPERSEDED_OBJECTS)


def keep_superseded(db: sqlite3.Connection, version: int) -> None:
    """Make the ``superseded`` table and its triggers, and fill the table from the rows when the catalog (of schema
    ``version``) did not keep it: older than schema 7, or a trigger dropped by hand (within the caller's write
    transaction, which commits the schema version with it: a crash in between fills it again)."""
    if version >= SUPERSEDED_SCHEMA_VERSION and superseded_kept(db):
        return
    for statement in SUPERSEDED_SCHEMA:
        db.execute(statement)
    _sort_superseded(db)


def _sort_superseded(db: sqlite3.Connection) -> None:
    """Fill the ``superseded`` table from the rows (within the caller's write transaction)."""
    db.execute("DELETE FROM superseded")
    db.execute(f"INSERT INTO superseded (id) {SUPERSEDED_SQL}")


def superseded_problem(db: sqlite3.Connection) -> str | None:
    """How the ``superseded`` table differs from what the rows say (a hand edit: the triggers keep it otherwise),
    or None; None too for a catalog that does not keep it (a search then finds the rows itself).  An id no row has
    (what ``INSERT OR REPLACE`` can leave) is no difference: no search sees it."""
    if not superseded_kept(db):
        return None
    listed = {int(i) for (i,) in db.execute("SELECT id FROM superseded WHERE id IN (SELECT rowid FROM snapshots)")}
    expected = {int(i) for (i,) in db.execute(SUPERSEDED_SQL)}
    wrong = []
    if listed - expected:
        wrong.append(f"{plural(len(listed - expected), 'latest version')} listed (a search hides them)")
    if expected - listed:
        wrong.append(f"{plural(len(expected - listed), 'older version')} not listed (a search shows them beside the "
                     f"latest)")
    return (f"its superseded table differs from the rows: {' and '.join(wrong)}; `crawler index --search` sorts it "
            f"again") if wrong else None


def _text(kind: object, value: object) -> tuple[bool, str | None]:
    """(plain, text) of an SQL value read as ``typeof()`` and bytes: plain when it is NULL or UTF-8 text."""
    if kind == "null":
        return True, None
    if kind == "text" and isinstance(value, bytes):
        try:
            return True, value.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return False, None


def _bodies(archive: Path, rows: Iterable[tuple[object, ...]]) -> list[dict[str, object]]:
    """The index's values of snapshot rows (:data:`_ROWS`): the body read from each file.

    ``plain``: the values can be inserted as they are (folded in Python); otherwise (a sapo or title that is no
    text, no body but maybe one in the metadata) the SQL expressions read them as they always did."""
    values: list[dict[str, object]] = []
    for rowid, title, text_path, meta, kind, raw in rows:
        body = read_body(archive, str(text_path), str(title), meta_fields(meta if isinstance(meta, str) else None))
        plain, sapo = _text(kind, raw)
        plain = plain and body is not None and isinstance(title, str)  # a title that is no text: as SQL reads it
        values.append({"rowid": rowid, "title": title, "sapo": sapo, "plain": plain,
                       "body": None if body is None else "\n".join(body)})
    return values


def _folded(text: object, pairs: tuple[tuple[str, str], ...]) -> str | None:
    if text is None:
        return None
    text = str(text)
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def _insert(db: sqlite3.Connection, values: list[dict[str, object]]) -> None:
    plain = [v for v in values if v["plain"]]
    odd = [v for v in values if not v["plain"]]
    for table, pairs in _FOLDING.items():
        if plain:
            db.executemany(_ROW[table], [(v["rowid"], _folded(v["title"], pairs), _folded(v["sapo"], pairs),
                                          _folded(v["body"], pairs)) for v in plain])
        if odd:
            db.executemany(_SQL_ROW[table], [{"rowid": v["rowid"], "body": v["body"]} for v in odd])


def index_pending(db: sqlite3.Connection, archive: Path) -> int:
    """Index every snapshot row above the mark and move it (within the caller's write transaction: begun with
    ``BEGIN IMMEDIATE`` before the mark is read); returns how many rows were indexed."""
    upto, done = mark(db), 0
    while True:
        rows = db.execute(_ROWS, (upto, CHUNK)).fetchall()
        if not rows:
            break
        _insert(db, _bodies(archive, rows))
        upto, done = int(rows[-1][0]), done + len(rows)
    if done:
        set_mark(db, upto)
    return done


def rebuild(db: sqlite3.Connection, archive: Path) -> int:
    """Empty both tables and index every snapshot row again (within the caller's write transaction)."""
    for table, _ in SEARCH_TABLES:
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
    if superseded_kept(db):  # what a search leaves out, sorted again too (a hand edit: superseded_problem)
        _sort_superseded(db)
    set_mark(db, 0)
    return index_pending(db, archive)


@contextmanager
def behind(path: Path, archive: Path, turn: threading.RLock) -> Iterator[BackgroundIndexer]:
    """A :class:`BackgroundIndexer` for the block.  Leaving it normally waits for the last rows; an error of the
    thread (a full disk) is raised by :meth:`BackgroundIndexer.check` (the next commit) or when leaving, as a
    :class:`~crawler.errors.StorageError`; after an exception the rows left wait for the next writer."""
    indexer = BackgroundIndexer(path, archive, turn)
    try:
        yield indexer
    except BaseException:
        indexer.abandon()
        raise
    indexer.finish()


class BackgroundIndexer:
    """Indexes the rows a crawl commits, on its own thread and database connection, right behind the commits.

    :meth:`wake` after each commit; :meth:`finish` indexes what is left and stops (raising the error that stopped
    the thread, if one did); :meth:`abandon` stops after the chunk under way (the rest waits for the next writer).
    """

    def __init__(self, path: Path, archive: Path, turn: threading.RLock) -> None:
        """``turn``: taken around each transaction, in turn with the other write transactions of this process."""
        self.path = path
        self.archive = archive
        self._turn = turn
        self.error: BaseException | None = None
        self._wake = threading.Event()
        self._stopping = False  # finish: index what is left, then stop
        self._abandoned = False  # abandon: stop now
        self._thread = threading.Thread(target=self._run, name="search-indexer", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def check(self) -> None:
        """Raise what stopped the thread early, as a StorageError when it is the database's or the disk's."""
        if self.error is None:
            return
        if isinstance(self.error, sqlite3.Error | OSError):
            raise StorageError(f"cannot index new snapshots for search in the catalog {self.path}: {self.error}",
                               path=str(self.path)) from self.error
        raise self.error

    def finish(self) -> None:
        """Index every row left above the mark, then stop the thread; re-raise what stopped it early."""
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self.check()

    def abandon(self) -> None:
        self._abandoned = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        lower_priority(INDEXER_NICENESS)
        try:
            db = sqlite3.connect(self.path, timeout=60)
        except BaseException as err:  # given to the crawl's thread at its next commit
            self.error = err
            return
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            while not self._abandoned:
                self._wake.wait()
                self._wake.clear()
                while not self._abandoned and self._step(db):
                    pass
                if self._stopping:
                    break
        except BaseException as err:  # given to the crawl's thread at its next commit
            self.error = err
        finally:
            db.close()

    def _step(self, db: sqlite3.Connection) -> bool:
        """Index up to :data:`BEHIND_CHUNK` rows above the mark; False when there were none.  The bodies are read
        before the write transaction, which re-reads the mark (another writer may have indexed them)."""
        upto = mark(db)
        rows = db.execute(_ROWS, (upto, BEHIND_CHUNK)).fetchall()
        if not rows:
            return False
        values = _bodies(self.archive, rows)
        with self._turn, db:
            db.execute("BEGIN IMMEDIATE")
            if mark(db) == upto:
                _insert(db, values)
                set_mark(db, int(rows[-1][0]))
        return True


def lower_priority(by: int) -> None:
    """Lower the calling thread's CPU priority (raise its nice value) by ``by``, on Linux, where the nice value is
    a thread's own (elsewhere ``PRIO_PROCESS`` with a thread id could name another process: nothing is done)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + by))
    except OSError:  # a sandbox that forbids it: the indexer runs at the crawl's priority, as it did
        pass
