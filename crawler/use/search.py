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
the snapshot rows' rowids (when they have no gap), the latest version unless the catalog's ``superseded`` table lists
it, of the sources when the primary key's index says so; the snapshot rows are read for the hits shown (and, with
dates to compare or few matches, for each match).  An AND of such an expression and the rest (leaves of the other
index) is driven by the expression's matches; a NOT alone is counted and windowed from the matches of what it
negates (:mod:`crawler.use.search_matches`).  Other queries (an OR across both indexes) test each row against every
leaf, as before.  The total stays exact.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass

from crawler.archive.catalog import CATALOG, Store
from crawler.archive.catalog_schema import BODIES_SCHEMA, MARK_SCHEMA_VERSION
from crawler.archive.reading import Selection
from crawler.archive.search_index import unindexed
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
from crawler.use.search_limits import MAX_LIMIT as MAX_LIMIT
from crawler.use.search_limits import RANK_WINDOW as RANK_WINDOW
from crawler.use.search_matches import matches, positive, window_start
from crawler.use.snippets import snippet

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


def _search(store: Store, tree: Node, runs: list[list[Leaf]], selection: Selection, limit: int, offset: int,
            rank_all: bool, terms: list[tuple[str, bool]]) -> Hits:
    db = store.db
    if tree[0] == "near":
        scoring = tree[1]
    else:
        leaves = positive(tree)
        scoring = " OR ".join(leaf.fts(folded=True) for leaf in leaves) if leaves else None
    hits = Hits()
    hits.offset = offset
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    if version < BODIES_SCHEMA:
        hits.note = (f"the search index of {store.archive} was built by an older version and may miss the words of "
                     f"article bodies: `crawler index --archive {store.archive}` (or the next crawl or fetch) "
                     f"rebuilds it")
    elif version >= MARK_SCHEMA_VERSION and (waiting := unindexed(db)):
        hits.note = (f"{waiting} snapshot{'s' if waiting > 1 else ''} of {store.archive} not in the search index yet "
                     f"(a crawl indexes them right behind its commits; one that was killed leaves them to the next "
                     f"crawl, fetch or `crawler index --archive {store.archive}`)")
    found = matches(db, tree, selection)
    count, count_args = found.count()
    hits.total = int(db.execute(count, count_args).fetchone()[0])
    if hits.total <= offset:
        return hits
    newest: int | None = None
    if not rank_all:  # the rowid below which matches are not ranked (rowids grow as rows are committed)
        newest = window_start(db, found, RANK_WINDOW)
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
    score = _RANK if found.scored else "coalesce(r.score, 0)" if scoring else "0"
    rowid = found.rowid
    while True:
        # Only the window's rows are scored and sorted (FTS5 takes the rowid bound: a score does not depend on which
        # rows are scored, the statistics are the whole index's), and sorted by rowid and score alone: the rows
        # themselves are read for the hits shown.
        bound = "" if newest is None else " AND rowid > ?"
        bound_args = [] if newest is None else [newest]
        rank_join, rank_args = "", []
        if scoring and not found.scored:
            # Scored are only the rows the query matches in the window (when the index answers: bm25 costs a
            # lookup of the row's size in the index, and the positive words may be in many more rows).
            only, only_args = "", []
            if found.index is not None and found.live is not None:
                table = found.index[0]
                only = (f" AND +rowid IN (SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?"
                        f"{found.rest})")
                only_args = [found.index[1], found.live[0] if newest is None else max(found.live[0],
                                                                                          newest + 1),
                             found.live[1], *found.rest_args]
            rank_join = (f"LEFT JOIN (SELECT rowid AS id, {_RANK} AS score FROM search WHERE search MATCH ?{bound}"
                         f"{only}) r ON r.id = {rowid}")
            rank_args = [scoring, *bound_args, *only_args]
        order = "".join(f"({rowid} IN (SELECT rowid FROM {table} WHERE {table} MATCH ?{bound})) DESC, "
                        for table, _ in tiers)
        condition, condition_args = found.condition(newest)
        ranked = db.execute(
            f"SELECT {rowid}, {score} FROM {found.tables} {rank_join} WHERE {condition} "
            f"ORDER BY {order}{score + ', ' if scoring else ''}{rowid} DESC LIMIT ? OFFSET ?",
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
