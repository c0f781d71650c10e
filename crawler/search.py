"""Full-text search over the archive (``crawler search``, ``crawler index``).

Where it sits: the index is the catalog's ``search`` table (SQLite FTS5, :mod:`crawler.store`),
filled by a trigger in the transaction that inserts each snapshot row, so it is current after
every crawl batch, ``fetch`` and crash recovery; :func:`rebuild` makes it again from the rows.
This module turns a user's query into an FTS5 query, runs it with the filters of a
:class:`~crawler.reading.Selection`, ranks by bm25 (title above sapo above body) and cuts a
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

from crawler.errors import ConfigError, StorageError
from crawler.reading import Selection
from crawler.store import CATALOG, Store

MAX_LIMIT = 10_000
# bm25 weights of the indexed columns (title, sapo, body): a word in the title counts most.
WEIGHTS = (10.0, 4.0, 1.0)
SNIPPET_WORDS = 24
MARK_START, MARK_END = "«", "»"
_COLUMNS = ("title", "sapo", "body")
_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"(?:[^"]|"")*"?|\S+')
# A query token: opening parentheses, an initial-token caret, a column filter, the word, a prefix star, closing.
_PARTS = re.compile(r"^(\(*)(\^?)((?:title|sapo|body|\{[a-z ]*\}):)?(.*?)(\*?)(\)*)$", re.IGNORECASE | re.DOTALL)
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
    """``đ`` (and the eth some sites write for it) as ``d``, as the index has them (crawler.store)."""
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
    query = fold_d(query)
    if "NEAR(" in query:
        return query  # NEAR groups have their own punctuation: as typed
    out: list[str] = []
    for token in _TOKEN.findall(query):
        if token.startswith('"') or token in _OPERATORS:
            out.append(token)
            continue
        match = _PARTS.match(token)
        assert match is not None  # every group may be empty
        opening, caret, column, word, star, closing = match.groups()
        if word and not _WORD.fullmatch(word):
            word = '"' + word.replace('"', '""') + '"'
        out.append(f"{opening}{caret}{column or ''}{word}{star}{closing}")
    return " ".join(out)


def query_terms(query: str) -> list[tuple[str, bool]]:
    """The folded words of a query and whether each is a prefix (for snippets), operators left out."""
    terms: list[tuple[str, bool]] = []
    for match in re.finditer(r"(\w+)(\*?)", query):
        word = match.group(1)
        if word in _OPERATORS or word == "NEAR" or (word.lower() in _COLUMNS and query[match.end():].startswith(":")):
            continue
        for part in _WORD.findall(fold(word)):
            terms.append((part, bool(match.group(2))))
    return terms


def search(store: Store, query: str, selection: Selection | None = None, limit: int = 20) -> list[Hit]:
    """The best ``limit`` snapshots matching ``query`` among those ``selection`` keeps, best first."""
    selection = selection or Selection()
    if not query.strip():
        raise SearchQueryError("empty search query")
    fts = prepare_query(query)
    where, args = selection.where("s")
    sql = (f"SELECT s.source, s.article_id, s.version, s.url, s.published, s.title, s.text_path, s.meta, "
           f"bm25(search, {', '.join(map(str, WEIGHTS))}) AS score "
           f"FROM search JOIN snapshots s ON s.rowid = search.rowid "
           f"WHERE search MATCH ? AND {where} ORDER BY score LIMIT ?")
    try:
        rows = store.db.execute(sql, [fts, *args, limit]).fetchall()
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
    terms = query_terms(query)
    return [Hit(str(source), str(article_id), int(version), str(url), str(published), str(title), str(path),
                snippet(str(title), meta, terms), float(score))
            for source, article_id, version, url, published, title, path, meta, score in rows]


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


def rebuild(store: Store) -> int:
    """Build the search index again from every snapshot row (one transaction); returns the rows indexed."""
    try:
        with store.db:
            store.db.execute("BEGIN IMMEDIATE")
            store.index_all()
        return int(store.db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    except sqlite3.Error as err:
        raise StorageError(f"cannot rebuild the search index of {store.archive / CATALOG}: {err}") from err
