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
"""

from __future__ import annotations

import itertools
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


def _variants(db: sqlite3.Connection, word: str, keep: int) -> list[str]:
    """The exact index's words that fold to ``word``, the most common first.

    Looked up one writing at a time (:func:`_writings`): counting the documents of a word reads its whole list,
    so reading every word of the initial letter (the range below, the fallback) costs hundreds of milliseconds
    on an archive whose bodies are indexed (100,000 articles: 230 ms for ``t``), the lookups a few.
    """
    found: list[tuple[int, str]] = []
    writings = _writings(word)
    if writings is not None:
        for writing in writings:
            for term, docs in db.execute("SELECT term, doc FROM temp.search_exact_vocab WHERE term = ?", (writing,)):
                found.append((int(docs), str(term)))
        return [term for _, term in sorted(found, reverse=True)[:keep]]
    for initial in _initials(word[0]) if word else "":
        for term, docs in db.execute("SELECT term, doc FROM temp.search_exact_vocab WHERE term >= ? AND term < ?",
                                     (initial, chr(ord(initial) + 1))):
            if fold(str(term)) == word:
                found.append((int(docs), str(term)))
    return [term for _, term in sorted(found, reverse=True)[:keep]]


def _reading(db: sqlite3.Connection, run: list[Leaf]) -> str | None:
    """The way the archive most often writes the syllables of ``run`` together (a phrase), when they were typed
    without diacritics and it writes them some way; else None."""
    keep = _VARIANTS_PER_WORD.get(len(run))
    if keep is None or any(leaf.exact for leaf in run):
        return None
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_exact_vocab USING fts5vocab(main, 'search_exact', "
               "'row')")
    options = [_variants(db, fold(leaf.text), keep) for leaf in run]
    best: tuple[int, str] | None = None
    for combo in itertools.product(*options):
        phrase = " ".join(combo)
        count = int(db.execute("SELECT count(*) FROM search_exact WHERE search_exact MATCH ?",
                               ('"' + phrase + '"',)).fetchone()[0])
        if count and (best is None or count > best[0]):
            best = (count, phrase)
    return None if best is None else best[1]


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
    match_args: list[object] = []
    if tree[0] == "near":
        match_args.append(tree[1])
        match = "s.rowid IN (SELECT rowid FROM search WHERE search MATCH ?)"
        positive = tree[1]
    else:
        match = _condition(tree, match_args)
        leaves = _positive(tree)
        positive = " OR ".join(leaf.fts(folded=True) for leaf in leaves) if leaves else None
    where, where_args = selection.where("s")
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
    hits.total = int(db.execute(f"SELECT count(*) FROM snapshots s WHERE {match} AND {where}",
                                [*match_args, *where_args]).fetchone()[0])
    if hits.total <= offset:
        return hits
    # Tiers: each run of bare words as a phrase, as typed / as the archive mostly writes it / any writing.
    tiers: list[str] = []
    tier_args: list[object] = []
    readings: list[tuple[str, str]] = []
    for run in runs:
        typed = " ".join(leaf.text for leaf in run)
        exact_phrase = " OR ".join('"' + form.replace('"', '""') + '"' for form in tone_placements(typed))
        folded_phrase = '"' + fold_d(typed).replace('"', '""') + '"'
        reading = _reading(db, run)
        parts = ["(s.rowid IN (SELECT rowid FROM search_exact WHERE search_exact MATCH ?))"]
        tier_args.append(exact_phrase)
        if reading is not None:
            readings.append((typed, reading))
            parts.append("(s.rowid IN (SELECT rowid FROM search_exact WHERE search_exact MATCH ?))")
            tier_args.append('"' + reading + '"')
        parts.append("(s.rowid IN (SELECT rowid FROM search WHERE search MATCH ?))")
        tier_args.append(folded_phrase)
        tiers.extend(parts)
    hits.readings = tuple(readings)
    order = "".join(f"{tier} DESC, " for tier in tiers)
    score = "coalesce(r.score, 0)" if positive else "0"
    newest: int | None = None
    if not rank_all:  # the rowid below which matches are not ranked (rowids grow as rows are committed)
        row = db.execute(f"SELECT s.rowid FROM snapshots s WHERE {match} ORDER BY s.rowid DESC LIMIT 1 OFFSET ?",
                         [*match_args, RANK_WINDOW]).fetchone()
        newest = None if row is None else int(row[0])
    while True:
        bound = "" if newest is None else " AND s.rowid > ?"
        # bm25 of the window's matches only (FTS5 takes the rowid bound): a score does not depend on which rows
        # are scored (the statistics are the whole index's), and the rows outside the window are not ranked.
        rank_join = (f"LEFT JOIN (SELECT rowid AS id, {_RANK} AS score FROM search WHERE search MATCH ?"
                     f"{'' if newest is None else ' AND rowid > ?'}) r ON r.id = s.rowid") if positive else ""
        rank_args = [positive, *([] if newest is None else [newest])] if positive else []
        rows = db.execute(
            f"SELECT s.rowid, s.source, s.article_id, s.version, s.url, s.published, s.title, s.text_path, s.meta, "
            f"{score} FROM snapshots s {rank_join} WHERE {match} AND {where}{bound} "
            f"ORDER BY {order}{score + ', ' if positive else ''}s.rowid DESC LIMIT ? OFFSET ?",
            [*rank_args, *match_args, *where_args, *([] if newest is None else [newest]),
             *tier_args, limit, offset]).fetchall()
        if newest is not None and len(rows) < min(limit, hits.total - offset):
            newest = None  # the window was not enough: rank every match
            continue
        break
    hits.window = RANK_WINDOW if newest is not None else None
    for _, source, article_id, version, url, published, title, path, meta, rank in rows:
        body = read_body(store.archive, str(path), str(title), meta_fields(meta))
        hits.append(Hit(str(source), str(article_id), int(version), str(url), str(published), str(title), str(path),
                        snippet(str(title), meta, terms, body=body), float(rank)))
    return hits


