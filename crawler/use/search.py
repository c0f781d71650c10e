"""Full-text search over the archive (``crawler search``, ``crawler index``).

Where it sits: the index is the catalog's ``search`` table (SQLite FTS5, :mod:`crawler.archive.catalog_schema`),
filled by the catalog's writer in the transaction that inserts each snapshot row (the body read from the snapshot
file: the metadata has none), so it is current after every crawl batch, ``fetch`` and crash recovery;
``crawler index --search`` makes it again from the rows and files
(:meth:`crawler.archive.catalog.Store.rebuild_search_index`).
This module runs a user's query (read by :mod:`crawler.use.query`) against the indexes with the filters
of a :class:`~crawler.archive.reading.Selection`, ranks the hits (phrases typed together first, then
bm25: title above sapo above body) and gives each a snippet (:mod:`crawler.use.snippets`).  How the
indexes compare words (diacritics, ``đ``, tone placements) is :mod:`crawler.use.folding`.

Speed (issue 22): a query whose leaves all use one index is one FTS5 expression, and the count of its matches, the
window of the newest and their ranking are answered by the index: a row is live when its rowid is in the range of
the snapshot rows' rowids (when they have no gap), the latest version unless the primary key's index lists a newer
one, of the sources when that index says so; the snapshot rows are read for the hits shown (and, with dates to
compare or few matches, for each match).  Other queries (a NOT alone, both indexes) test each row against every
leaf, as before.  The total stays exact.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass, replace

from crawler.archive.catalog import CATALOG, Store
from crawler.archive.catalog_schema import BODIES_SCHEMA
from crawler.archive.reading import Selection
from crawler.archive.snapshot_body import meta_fields, read_body
from crawler.errors import StorageError
from crawler.use.folding import fold, fold_d, tone_placements
from crawler.use.query import (
    Leaf,
    Node,
    SearchQueryError,
    bad_query,
    check_query_size,
    parse_query,
    prepare_query,
    query_terms,
)
from crawler.use.snippets import snippet

MAX_LIMIT = 10_000
# A query matching more snapshots than this ranks the most recently archived ones (see search()).
RANK_WINDOW = 10_000
# bm25 weights of the indexed columns (title, sapo, body): a word in the title counts most.
WEIGHTS = (10.0, 4.0, 1.0)


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching snapshot: where it is, and a snippet around the match (matches between « and »)."""

    source: str
    article_id: str
    version: int
    url: str
    published: str
    title: str
    text_path: str
    snippet: str
    score: float  # bm25: lower is better

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Hits(list[Hit]):
    """The hits, best first; ``window`` is set when only the most recently archived matches were ranked;
    ``total`` counts every match the selection keeps; ``readings`` the words typed without diacritics
    that the archive mostly writes one way, and that way (ranked first)."""

    window: int | None = None
    total: int = 0
    offset: int = 0
    readings: tuple[tuple[str, str], ...] = ()
    note: str | None = None  # a warning for the user (an index built by an older version)


# -- the query run against the indexes ---------------------------------------------------------------------------


def _condition(node: Node, args: list[object]) -> str:
    """An SQL condition on ``s`` (a snapshots row) for the tree."""
    kind = node[0]
    if kind == "leaf":
        leaf: Leaf = node[1]
        args.append(leaf.fts(folded=not leaf.exact))
        return f"s.rowid IN (SELECT rowid FROM {leaf.table} WHERE {leaf.table} MATCH ?)"
    if kind == "not":
        return f"NOT ({_condition(node[1], args)})"
    joiner = " AND " if kind == "and" else " OR "
    return "(" + joiner.join(_condition(child, args) for child in node[1:]) + ")"


def _positive(node: Node, negated: bool = False) -> list[Leaf]:
    if node[0] == "leaf":
        return [] if negated else [node[1]]
    if node[0] == "not":
        return _positive(node[1], not negated)
    return [leaf for child in node[1:] for leaf in _positive(child, negated)]


# -- the reading the archive mostly uses of words typed without diacritics ---------------------------------------

_VARIANTS_PER_WORD = {2: 8, 3: 4}


def _initials(letter: str) -> str:
    """The lower-case letters whose fold is ``letter`` (``a`` -> ``aàáảãạăằắ…``; ``d`` -> ``dđ``)."""
    return "".join(chr(code) for code in (*range(0x61, 0x7B), *range(0xC0, 0x250), *range(0x1E00, 0x1F00))
                   if chr(code) == chr(code).lower() and fold(chr(code)) == letter)


# The Vietnamese letters, for the writings of a syllable typed without diacritics; a tone is one of five marks.
_VIETNAMESE = ("aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ")
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_LETTERS = {letter: [letter, *(v for v in _VIETNAMESE if v != letter and fold(v) == letter)]
            for letter in set(map(fold, _VIETNAMESE))}
_MAX_WRITINGS = 400  # more (a long token of vowels): every index word of its initial is read instead


def _toned(letter: str) -> bool:
    return any(mark in _TONES for mark in unicodedata.normalize("NFD", letter))


def _writings(word: str) -> list[str] | None:
    """Every Vietnamese writing of a folded ``word`` with at most one tone mark (``tinh`` -> ``tinh tình tính…``,
    ``da`` -> ``da đa đà…``), or None when there are more than :data:`_MAX_WRITINGS`."""
    out = [""]
    for letter in word:
        options = _LETTERS.get(letter, [letter])
        out = [w + o for w in out for o in options if not (_toned(o) and any(map(_toned, w)))]
        if len(out) > _MAX_WRITINGS:
            return None
    return out


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789" + _VIETNAMESE)


def _documents(db: sqlite3.Connection, writing: str) -> int:
    """How many documents of the exact index hold the word ``writing`` (0: not in the index).

    A word of plain letters and digits is one token for the index's tokenizer: counting the rows that match it reads
    only its list of documents (fts5vocab's ``doc`` reads every position too: about twice the time); any other word
    is looked up in the vocabulary, which compares the term as it is.
    """
    if writing and all(char in _PLAIN for char in writing):
        return int(db.execute("SELECT count(*) FROM search_exact WHERE search_exact MATCH ?",
                              ('"' + writing + '"',)).fetchone()[0])
    row = db.execute("SELECT doc FROM temp.search_exact_vocab WHERE term = ?", (writing,)).fetchone()
    return 0 if row is None else int(row[0])


def _variants(db: sqlite3.Connection, word: str, keep: int) -> list[str]:
    """The exact index's words that fold to ``word``, the most common first."""
    return [term for _, term in _counted_variants(db, word, keep)]


def _counted_variants(db: sqlite3.Connection, word: str, keep: int) -> list[tuple[int, str]]:
    """The exact index's words that fold to ``word``, the most common first, with their document counts.

    Looked up one writing at a time (:func:`_writings`): counting the documents of a word reads its whole list,
    so reading every word of the initial letter (the range below, the fallback) costs hundreds of milliseconds
    on an archive whose bodies are indexed (100,000 articles: 230 ms for ``t``), the lookups a few.
    """
    found: list[tuple[int, str]] = []
    writings = _writings(word)
    if writings is not None:
        for writing in writings:
            docs = _documents(db, writing)
            if docs:
                found.append((docs, writing))
        return sorted(found, reverse=True)[:keep]
    for initial in _initials(word[0]) if word else "":
        for term, docs in db.execute("SELECT term, doc FROM temp.search_exact_vocab WHERE term >= ? AND term < ?",
                                     (initial, chr(ord(initial) + 1))):
            if fold(str(term)) == word:
                found.append((int(docs), str(term)))
    return sorted(found, reverse=True)[:keep]


def _reading(db: sqlite3.Connection, run: list[Leaf]) -> str | None:
    """The way the archive most often writes the syllables of ``run`` together (a phrase), when they were typed
    without diacritics and it writes them some way; else None.

    The phrase of the most documents wins, the first in the order of the words' writings (most common first) among
    equals.  A phrase is in at most as many documents as its rarest word (``bound``): the candidates are tried from
    the highest bound down, each counted only up to the number that already decides (no later candidate can beat
    it), so the common case (one writing far ahead) costs one short count, not a count of every document holding it.
    """
    keep = _VARIANTS_PER_WORD.get(len(run))
    if keep is None or any(leaf.exact for leaf in run):
        return None
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_exact_vocab USING fts5vocab(main, 'search_exact', "
               "'row')")
    options = [_counted_variants(db, fold(leaf.text), keep) for leaf in run]
    # (bound, place in the order of the product, phrase)
    candidates = sorted(((min(docs for docs, _ in combo), place, " ".join(term for _, term in combo))
                         for place, combo in enumerate(itertools.product(*options))), key=lambda c: (-c[0], c[1]))
    best: tuple[int, int, str] | None = None  # (documents, place, phrase)
    for index, (bound, place, phrase) in enumerate(candidates):
        if best is not None and (bound, -place) <= (best[0], -best[1]):
            break  # neither this one nor a later one (bounds no higher) can beat the best
        # Enough documents to beat the best and every later candidate: counting further decides nothing.
        decisive = max([1, *((b + (p < place)) for b, p, _ in candidates[index + 1:]),
                        *(() if best is None else (best[0] + (best[1] < place),))])
        count = int(db.execute("SELECT count(*) FROM (SELECT 1 FROM search_exact WHERE search_exact MATCH ? "
                               "LIMIT ?)", ('"' + phrase + '"', decisive)).fetchone()[0])
        if count >= decisive:
            return phrase
        if count and (best is None or (count, -place) > (best[0], -best[1])):
            best = (count, place, phrase)
    return None if best is None else best[2]


def search(store: Store, query: str, selection: Selection | None = None, limit: int = 20, *,
           rank_all: bool = False, offset: int = 0) -> Hits:
    """The best ``limit`` snapshots matching ``query`` among those ``selection`` keeps, best first, from
    ``offset``.

    Matching: a word or phrase typed with diacritics matches those diacritics (the exact index), one typed
    without matches every way of writing it (the folded index); AND (or nothing), OR, NOT / -word (also
    alone: every article but), parentheses.  Ranking: bare words typed one after another count as a phrase:
    first the articles with that phrase as typed, then with the archive's most common way of writing it
    (``da nang`` -> ``đà nẵng``), then with it in any writing, then bm25 (title above sapo above body).

    Unless ``rank_all``, a query matching more than :data:`RANK_WINDOW` snapshots ranks the ``RANK_WINDOW``
    most recently archived ones (``Hits.window`` says so); when those give fewer hits than asked after the
    filters, every match is ranked.
    """
    selection = selection or Selection()
    if not query.strip():
        raise SearchQueryError("empty search query")
    check_query_size(query)  # before any parsing: the query's own cost is bounded
    try:
        if "NEAR(" in query:  # NEAR groups have their own punctuation: as typed, folded
            tree: Node = ("near", prepare_query(query))
            runs: list[list[Leaf]] = []
        else:
            tree, runs = parse_query(query)
        return _search(store, tree, runs, selection, limit, offset, rank_all, query_terms(query))
    except sqlite3.OperationalError as err:
        message = str(err)
        if "no such table: search" in message or "no such table: main.search" in message:
            raise StorageError(f"the catalog {store.archive / CATALOG} has no search index yet (written by an "
                               f"older version): run `crawler index --archive {store.archive}` to build it") from err
        if message.startswith(("fts5:", "no such column", "unknown special query", "unterminated")):
            raise bad_query(query, message) from err
        raise StorageError(f"cannot search the catalog {store.archive / CATALOG}: {message}") from err
    except sqlite3.Error as err:
        raise StorageError(f"cannot search the catalog {store.archive / CATALOG}: {err}") from err


_RANK = f"bm25(search, {', '.join(map(str, WEIGHTS))})"


# -- which rows match: from the index alone when it can say, else row by row ----------------------------------------


def _one_index(node: Node) -> tuple[str, str] | None:
    """The table and one FTS5 expression for the whole tree, when every leaf is looked for in the same index and
    every NOT is the right side of an AND (FTS5's ``a NOT b``); else None (a NOT alone, or both indexes)."""
    kind = node[0]
    if kind == "leaf":
        leaf: Leaf = node[1]
        return leaf.table, "(" + leaf.fts(folded=not leaf.exact) + ")"
    if kind == "not":
        return None
    left, right = node[1], node[2]
    if kind == "and" and right[0] == "not" and left[0] != "not":
        left_fts, right_fts = _one_index(left), _one_index(right[1])
        joiner = " NOT "
    elif kind == "and" and left[0] == "not" and right[0] != "not":
        left_fts, right_fts = _one_index(right), _one_index(left[1])
        joiner = " NOT "
    else:
        left_fts, right_fts = _one_index(left), _one_index(right)
        joiner = " AND " if kind == "and" else " OR "
    if left_fts is None or right_fts is None or left_fts[0] != right_fts[0]:
        return None
    return left_fts[0], "(" + left_fts[1] + joiner + right_fts[1] + ")"


_DATED = ("since", "until", "captured_since", "captured_until")


@dataclass(frozen=True, slots=True)
class _Matches:
    """The rows a query matches that the selection keeps, as SQL: ``FROM {tables} WHERE`` :meth:`condition`, each
    row's rowid ``{rowid}``; ``window`` the query of the rowid of the match ``OFFSET ?`` from the newest (the filters
    left out).  ``live``: the rowids of the snapshot rows when the index alone answers (see :func:`_live_rowids`)."""

    tables: str
    rowid: str
    filters: str
    args: tuple[object, ...]
    window: str
    window_args: tuple[object, ...]
    live: tuple[int, int] | None
    index: tuple[str, str] | None = None  # (table, FTS5 expression) when the index answers
    scored: bool = False  # the expression's bm25 is the ranking's (see _scored)

    def condition(self, newest: int | None = None) -> tuple[str, list[object]]:
        """The SQL condition and its arguments, only the rows after ``newest`` when given (in the index's own rowid
        range when it answers: one bound, which FTS5 seeks to)."""
        if self.live is None:
            return (self.filters + ("" if newest is None else f" AND {self.rowid} > ?"),
                    [*self.args, *([] if newest is None else [newest])])
        low, high = self.live
        return self.filters, [self.args[0], low if newest is None else max(low, newest + 1), high, *self.args[1:]]


def _superseded(db: sqlite3.Connection) -> list[int]:
    """The rowids of the snapshot rows of which the archive has a newer version (from the primary key's index:
    an article with two versions has one that is not 1)."""
    return [int(rowid) for (rowid,) in db.execute(
        "SELECT o.rowid FROM (SELECT DISTINCT source, article_id FROM snapshots WHERE version <> 1) g "
        "JOIN snapshots o ON o.source = g.source AND o.article_id = g.article_id "
        "WHERE o.version < (SELECT max(version) FROM snapshots n WHERE n.source = g.source AND "
        "n.article_id = g.article_id)")]


def _live_rowids(db: sqlite3.Connection) -> tuple[int, int] | None:
    """``(low, high)`` when the snapshot rows' rowids are every integer from low to high (no row was ever deleted),
    so an index entry is a row's exactly when its rowid is in that range; else None."""
    count, low, high = db.execute("SELECT (SELECT count(*) FROM snapshots), (SELECT min(rowid) FROM snapshots), "
                                  "(SELECT max(rowid) FROM snapshots)").fetchone()
    if not count:
        return 1, 0
    return (int(low), int(high)) if int(high) - int(low) + 1 == int(count) else None


# Up to this many matches in the index, each is looked up in snapshots (a few microseconds each); beyond, the
# articles with versions are found once in the primary key's index (a few milliseconds on 100,000 rows).
PER_ROW = 1000


def _matches(db: sqlite3.Connection, tree: Node, selection: Selection) -> _Matches:
    """Where the matching rows come from: the index alone (one FTS5 expression; the rows checked for being live, the
    latest version and of the sources through the primary key's index, not row by row) when it can answer, else the
    snapshot rows, each tested against every leaf.

    One FTS5 expression with few matches (at most :data:`PER_ROW`), or dates to compare, or rowids with a gap:
    the expression's matches drive a join to their rows, which keep the selection's conditions as they are.

    ``scored``: the ranking's bm25 (of the query's positive leaves folded, :func:`_search`) is the expression's own,
    read on the same pass: the expression is on the folded index and has no NOT, so its phrases are the positive
    leaves in the same order (a NEAR group: the same text), and bm25 sums each phrase's weight in the row."""
    one = ("search", tree[1]) if tree[0] == "near" else _one_index(tree)
    if one is None:
        args: list[object] = []
        match = _condition(tree, args)
        where, where_args = selection.where("s")
        return _Matches("snapshots s", "s.rowid", f"{match} AND {where}", (*args, *where_args),
                        f"SELECT s.rowid FROM snapshots s WHERE {match} ORDER BY s.rowid DESC LIMIT 1 OFFSET ?",
                        tuple(args), None)
    table, expression = one
    scored = table == "search" and (tree[0] == "near" or not _negated(tree))
    few = int(db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)",
                         (expression, PER_ROW + 1)).fetchone()[0]) <= PER_ROW
    dated = any(getattr(selection, name) is not None for name in _DATED)  # the dates are in the rows only
    live = None if few else _live_rowids(db)
    joined = f"{table} CROSS JOIN snapshots s ON s.rowid = {table}.rowid"  # the index's matches drive the join
    if live is None or (dated and selection.all_versions):
        where, where_args = selection.where("s")
        return _Matches(joined, f"{table}.rowid", f"{table} MATCH ? AND {where}", (expression, *where_args),
                        f"SELECT {table}.rowid FROM {joined} WHERE {table} MATCH ? ORDER BY {table}.rowid DESC "
                        f"LIMIT 1 OFFSET ?", (expression,), None, one, scored)
    condition = f"{table} MATCH ? AND {table}.rowid BETWEEN ? AND ?"
    args = [expression]  # the range is added by _Matches.condition
    if not selection.all_versions and (superseded := _superseded(db)):
        condition += f" AND +{table}.rowid NOT IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(superseded))
    tables = table
    if dated:
        tables = joined
        where, where_args = replace(selection, all_versions=True).where("s")
        condition += f" AND {where}"
        args.extend(where_args)
    elif selection.sources:
        condition += (f" AND +{table}.rowid IN (SELECT rowid FROM snapshots WHERE source IN "
                      f"({','.join('?' * len(selection.sources))}))")
        args.extend(selection.sources)
    return _Matches(tables, f"{table}.rowid", condition, tuple(args),
                    f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ? "
                    f"ORDER BY rowid DESC LIMIT 1 OFFSET ?", (expression, *live), live, one, scored)


def _negated(node: Node) -> bool:
    return node[0] == "not" or (node[0] in ("and", "or") and any(_negated(child) for child in node[1:]))


def _search(store: Store, tree: Node, runs: list[list[Leaf]], selection: Selection, limit: int, offset: int,
            rank_all: bool, terms: list[tuple[str, bool]]) -> Hits:
    db = store.db
    if tree[0] == "near":
        positive = tree[1]
    else:
        leaves = _positive(tree)
        positive = " OR ".join(leaf.fts(folded=True) for leaf in leaves) if leaves else None
    hits = Hits()
    hits.offset = offset
    if int(db.execute("PRAGMA user_version").fetchone()[0]) < BODIES_SCHEMA:
        hits.note = (f"the search index of {store.archive} was built by an older version and may miss the words of "
                     f"article bodies: `crawler index --archive {store.archive}` (or the next crawl or fetch) "
                     f"rebuilds it")
    matches = _matches(db, tree, selection)
    condition, condition_args = matches.condition()
    hits.total = int(db.execute(f"SELECT count(*) FROM {matches.tables} WHERE {condition}",
                                condition_args).fetchone()[0])
    if hits.total <= offset:
        return hits
    newest: int | None = None
    if not rank_all:  # the rowid below which matches are not ranked (rowids grow as rows are committed)
        row = db.execute(matches.window, [*matches.window_args, RANK_WINDOW]).fetchone()
        newest = None if row is None else int(row[0])
    # Tiers: each run of bare words as a phrase, as typed / as the archive mostly writes it / any writing.
    tiers: list[tuple[str, str]] = []  # (table, FTS5 phrase)
    readings: list[tuple[str, str]] = []
    for run in runs:
        typed = " ".join(leaf.text for leaf in run)
        tiers.append(("search_exact", " OR ".join('"' + form.replace('"', '""') + '"'
                                                  for form in tone_placements(typed))))
        reading = _reading(db, run)
        if reading is not None:
            readings.append((typed, reading))
            tiers.append(("search_exact", '"' + reading + '"'))
        tiers.append(("search", '"' + fold_d(typed).replace('"', '""') + '"'))
    hits.readings = tuple(readings)
    score = _RANK if matches.scored else "coalesce(r.score, 0)" if positive else "0"
    rowid = matches.rowid
    while True:
        # Only the window's rows are scored and sorted (FTS5 takes the rowid bound: a score does not depend on which
        # rows are scored, the statistics are the whole index's), and sorted by rowid and score alone: the rows
        # themselves are read for the hits shown.
        bound = "" if newest is None else " AND rowid > ?"
        bound_args = [] if newest is None else [newest]
        rank_join, rank_args = "", []
        if positive and not matches.scored:
            # Scored are only the rows the query matches in the window (when the index answers: bm25 costs a
            # lookup of the row's size in the index, and the positive words may be in many more rows).
            only, only_args = "", []
            if matches.index is not None and matches.live is not None:
                table = matches.index[0]
                only = f" AND +rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?)"
                only_args = [matches.index[1], matches.live[0] if newest is None else max(matches.live[0],
                                                                                          newest + 1),
                             matches.live[1]]
            rank_join = (f"LEFT JOIN (SELECT rowid AS id, {_RANK} AS score FROM search WHERE search MATCH ?{bound}"
                         f"{only}) r ON r.id = {rowid}")
            rank_args = [positive, *bound_args, *only_args]
        order = "".join(f"({rowid} IN (SELECT rowid FROM {table} WHERE {table} MATCH ?{bound})) DESC, "
                        for table, _ in tiers)
        condition, condition_args = matches.condition(newest)
        ranked = db.execute(
            f"SELECT {rowid}, {score} FROM {matches.tables} {rank_join} WHERE {condition} "
            f"ORDER BY {order}{score + ', ' if positive else ''}{rowid} DESC LIMIT ? OFFSET ?",
            [*rank_args, *condition_args,
             *(arg for _, phrase in tiers for arg in (phrase, *bound_args)), limit, offset]).fetchall()
        if newest is not None and len(ranked) < min(limit, hits.total - offset):
            newest = None  # the window was not enough: rank every match
            continue
        break
    hits.window = RANK_WINDOW if newest is not None else None
    rows = {int(row[0]): row[1:] for row in db.execute(
        "SELECT rowid, source, article_id, version, url, published, title, text_path, meta FROM snapshots "
        "WHERE rowid IN (SELECT value FROM json_each(?))", (json.dumps([rowid for rowid, _ in ranked]),))}
    for key, rank in ranked:
        source, article_id, version, url, published, title, path, meta = rows[int(key)]
        body = read_body(store.archive, str(path), str(title), meta_fields(meta))
        hits.append(Hit(str(source), str(article_id), int(version), str(url), str(published), str(title), str(path),
                        snippet(str(title), meta, terms, body=body), float(rank)))
    return hits
