"""Full-text search over the archive (``crawler search``, ``crawler index``).

Where it sits: the index is the catalog's ``search`` table (SQLite FTS5, :mod:`crawler.archive.catalog`),
filled by a trigger in the transaction that inserts each snapshot row, so it is current after
every crawl batch, ``fetch`` and crash recovery; ``crawler index --search`` makes it again from the rows
(:meth:`crawler.archive.catalog.Store.rebuild_search_index`).
This module turns a user's query into an FTS5 query, runs it with the filters of a
:class:`~crawler.archive.reading.Selection`, ranks by bm25 (title above sapo above body) and cuts a
snippet around the match from the row's metadata (the index keeps no copy of the text).

Folding: FTS5's ``unicode61 remove_diacritics 2`` makes ``tin tuc`` find ``tin tức``; ``đ`` is
a letter of its own there, so it is folded to ``d`` in the index and in queries (``da nang``
finds ``Đà Nẵng``), and so is the eth (``Ð``) some sites write for it.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from itertools import islice

from crawler.archive.catalog import CATALOG, Store
from crawler.archive.reading import Selection
from crawler.errors import ConfigError, StorageError

MAX_LIMIT = 10_000
# A query's cost grows with its terms (each prefix term expands to every word it begins); people type a few.
MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 32
# A query matching more snapshots than this ranks the most recently archived ones (see search()).
RANK_WINDOW = 10_000
# bm25 weights of the indexed columns (title, sapo, body): a word in the title counts most.
WEIGHTS = (10.0, 4.0, 1.0)
SNIPPET_WORDS = 24
MARK_START, MARK_END = "«", "»"
_COLUMNS = ("title", "sapo", "body")
_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"(?:[^"]|"")*"?|\S+')
# A query token: opening parentheses, an initial-token caret, a column filter, the word, a prefix star, closing.
_COLUMN = re.compile(r"(?:title|sapo|body|\{[a-z ]*\}):", re.IGNORECASE)
_WORD = re.compile(r"\w+")


class SearchQueryError(ConfigError):
    """A query FTS5 cannot parse (exit 2, with a hint on the syntax)."""


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


def fold_d(text: str) -> str:
    """``đ`` (and the eth some sites write for it) as ``d``, as the index has them (crawler.archive.catalog)."""
    # str.replace runs at memory speed; str.translate with a mapping looks every character up.
    return text.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")


def fold(text: str) -> str:
    """Lower case without diacritics (``Đà Nẵng`` -> ``da nang``), as the index compares words."""
    decomposed = unicodedata.normalize("NFD", fold_d(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def prepare_query(query: str) -> str:
    """The FTS5 query for what the user typed.

    FTS5 syntax passes through (``"a phrase"``, ``prefix*``, ``AND``/``OR``/``NOT``, parentheses,
    ``title:word``); a word with punctuation FTS5 would refuse (``COVID-19``, ``tin-tức``) is
    quoted as a phrase, and ``đ`` is folded as in the index.
    """
    check_query_size(query)
    query = fold_d(query)
    if "NEAR(" in query:
        return query  # NEAR groups have their own punctuation: as typed
    out: list[str] = []
    for token in _TOKEN.findall(query):
        if token.startswith('"') or token in _OPERATORS:
            out.append(token)
            continue
        opening, caret, column, word, star, closing = _token_parts(token)
        if word and not _WORD.fullmatch(word):
            word = '"' + word.replace('"', '""') + '"'
        out.append(f"{opening}{caret}{column or ''}{word}{star}{closing}")
    return " ".join(out)


def check_query_size(query: str) -> None:
    """Refuse a query longer than MAX_QUERY_CHARS or with more than MAX_QUERY_TERMS words (exit 2)."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"search query of {len(query):,} characters is too long (at most {MAX_QUERY_CHARS:,})")
    words = (m for m in _WORD.finditer(query) if m.group() not in _OPERATORS and m.group() != "NEAR")
    terms = sum(1 for _ in islice(words, MAX_QUERY_TERMS + 1))
    if terms > MAX_QUERY_TERMS:
        raise SearchQueryError(f"search query has more than {MAX_QUERY_TERMS} words (each costs a pass over "
                               f"the index)")


def _token_parts(token: str) -> tuple[str, str, str, str, str, str]:
    """``((^title:word*))`` -> ``("((", "^", "title:", "word", "*", "))")``, in one pass over the token."""
    word = token.lstrip("(")
    opening = token[:len(token) - len(word)]
    caret = "^" if word.startswith("^") else ""
    word = word[len(caret):]
    column_match = _COLUMN.match(word)
    column = column_match.group() if column_match else ""
    word = word[len(column):]
    inner = word.rstrip(")")
    closing = word[len(inner):]
    star = "*" if inner.endswith("*") else ""
    return opening, caret, column, inner[:len(inner) - len(star)], star, closing


def query_terms(query: str) -> list[tuple[str, bool]]:
    """The folded words of a query and whether each is a prefix (for snippets), operators left out."""
    terms: list[tuple[str, bool]] = []
    for match in re.finditer(r"(\w+)(\*?)", query):
        word = match.group(1)
        if word in _OPERATORS or word == "NEAR" or (word.lower() in _COLUMNS and query.startswith(":", match.end())):
            continue
        for part in _WORD.findall(fold(word)):
            terms.append((part, bool(match.group(2))))
    return terms


class Hits(list[Hit]):
    """The hits, best first; ``window`` is set when only the most recently archived matches were ranked."""

    window: int | None = None


def search(store: Store, query: str, selection: Selection | None = None, limit: int = 20, *,
           rank_all: bool = False) -> Hits:
    """The best ``limit`` snapshots matching ``query`` among those ``selection`` keeps, best first.

    Ranking scores every match (bm25), which is what a query costs when most articles match.  Unless
    ``rank_all``, a query matching more than :data:`RANK_WINDOW` snapshots ranks the ``RANK_WINDOW`` most
    recently archived ones (``Hits.window`` says so); when those give fewer than ``limit`` hits after the
    filters, every match is ranked.
    """
    selection = selection or Selection()
    if not query.strip():
        raise SearchQueryError("empty search query")
    fts = prepare_query(query)
    try:
        return _search(store, fts, selection, limit, rank_all, query_terms(query))
    except sqlite3.OperationalError as err:
        message = str(err)
        if "no such table: search" in message:
            raise StorageError(f"the catalog {store.archive / CATALOG} has no search index yet (written by an "
                               f"older version): run `crawler index --archive {store.archive}` to build it") from err
        if message.startswith(("fts5:", "no such column", "unknown special query", "unterminated")):
            raise SearchQueryError(
                f"bad search query {query!r}: {message} (use words, \"a phrase\", prefix*, AND, OR, NOT, "
                f"parentheses, title:word; put words with punctuation in double quotes)") from err
        raise StorageError(f"cannot search the catalog {store.archive / CATALOG}: {message}") from err
    except sqlite3.Error as err:
        raise StorageError(f"cannot search the catalog {store.archive / CATALOG}: {err}") from err


_RANK = f"bm25(search, {', '.join(map(str, WEIGHTS))})"


def _search(store: Store, fts: str, selection: Selection, limit: int, rank_all: bool,
            terms: list[tuple[str, bool]]) -> Hits:
    db = store.db
    where, args = selection.where("s")
    newest: int | None = None
    if not rank_all:  # the rowid below which matches are not ranked (rowids grow as rows are committed)
        row = db.execute("SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                         (fts, RANK_WINDOW)).fetchone()
        newest = None if row is None else int(row[0])
    hits = Hits()
    # Candidates from the index alone (ranked), then their catalog rows through the filters; more
    # candidates while the filters leave fewer than `limit`.
    wanted = limit * 4
    while True:
        bound = "" if newest is None else " AND rowid > ?"
        candidates = db.execute(f"SELECT rowid, {_RANK} AS score FROM search WHERE search MATCH ?{bound} "
                                f"ORDER BY score LIMIT ?", [fts, *([] if newest is None else [newest]), wanted]
                                ).fetchall()
        ids = [int(r[0]) for r in candidates]
        rows = {int(r[0]): r for r in db.execute(
            f"SELECT s.rowid, s.source, s.article_id, s.version, s.url, s.published, s.title, s.text_path, s.meta "
            f"FROM snapshots s WHERE s.rowid IN ({','.join('?' * len(ids))}) AND {where}", [*ids, *args])} \
            if ids else {}
        kept = [(rowid, score) for rowid, score in candidates if rowid in rows][:limit]
        if len(kept) >= limit or len(candidates) < wanted:
            if len(kept) < limit and newest is not None:  # the window was not enough: rank every match
                newest, wanted = None, limit * 4
                continue
            break
        wanted *= 8
    hits.window = RANK_WINDOW if newest is not None else None
    for rowid, score in kept:
        _, source, article_id, version, url, published, title, path, meta = rows[rowid]
        hits.append(Hit(str(source), str(article_id), int(version), str(url), str(published), str(title), str(path),
                        snippet(str(title), meta, terms), float(score)))
    return hits


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding one character at a time, as :func:`fold` does, filled on first use.

    A character whose fold is not one character (``ß`` -> ``ss``) is only lower-cased: a folded text
    then has the length of the original, so a word's place in one is its place in the other.
    """

    def __missing__(self, code: int) -> str:
        folded = fold(chr(code))
        value = folded if len(folded) == 1 else chr(code).lower()
        if len(value) != 1:
            value = chr(code)
        self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


def snippet(title: str, meta: str | None, terms: list[tuple[str, bool]], words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of the sapo or body block with the most matches, matches marked «so»."""
    blocks: list[str] = []
    try:
        data = json.loads(meta) if meta else {}
    except ValueError:
        data = {}
    if isinstance(data, dict):
        if isinstance(data.get("sapo"), str):
            blocks.append(data["sapo"])
        blocks.extend(b for b in data.get("body") or [] if isinstance(b, str))
    blocks = blocks or [title]
    exact = {term for term, prefix in terms if not prefix}
    prefixes = tuple(term for term, prefix in terms if prefix)
    alternatives = [re.escape(t) for t in sorted(exact)] + [re.escape(t) + r"\w*" for t in prefixes]
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)") if alternatives else None
    block = blocks[0]
    if pattern is not None and len(blocks) > 1:
        # The block with the most matches, counted on a quick ASCII folding of all of them at once (blocks
        # are single lines); only the chosen one is folded character by character (to keep positions).
        quick = unicodedata.normalize("NFD", fold_d("\n".join(blocks))).encode("ascii", "ignore").decode().lower()
        counts = [len(pattern.findall(line)) for line in quick.split("\n")]
        if len(counts) == len(blocks):
            block = blocks[max(range(len(blocks)), key=counts.__getitem__)]
    folded = block.translate(_FOLD_TABLE)
    found = pattern.search(folded) if pattern is not None else None
    low = max(0, found.start() - 300) if found is not None else 0
    tokens = [(m.start(), m.end(), m.group() in exact or (bool(prefixes) and m.group().startswith(prefixes)))
              for m in _WORD.finditer(folded, low, low + 1200)]
    if not tokens:
        return block[:200]
    first = next((i for i, (_, _, hit) in enumerate(tokens) if hit), 0)
    start = max(0, min(first - words // 4, len(tokens) - words))
    end = min(len(tokens), start + words)
    out: list[str] = ["…" if start > 0 or low > 0 else ""]
    position = tokens[start][0]
    for begin, finish, hit in tokens[start:end]:
        out.append(block[position:begin])
        out.append(f"{MARK_START}{block[begin:finish]}{MARK_END}" if hit else block[begin:finish])
        position = finish
    if end == len(tokens) and _WORD.search(folded, position) is None:  # the block's last word
        tail = block[position:]
    else:
        tail = block[position:tokens[end][0] if end < len(tokens) else position].rstrip() + " …"
    out.append(tail)
    return "".join(out).strip()

