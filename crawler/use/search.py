"""Full-text search over the archive (``crawler search``, ``crawler index``).

Where it sits: the index is the catalog's ``search`` table (SQLite FTS5, :mod:`crawler.archive.catalog_schema`),
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

import itertools
import json
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from itertools import islice
from typing import Any

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
    """``đ`` (and the eth some sites write for it) as ``d``, as the index has them (crawler.archive.catalog_schema)."""
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
    """The hits, best first; ``window`` is set when only the most recently archived matches were ranked;
    ``total`` counts every match the selection keeps; ``readings`` the words typed without diacritics
    that the archive mostly writes one way, and that way (ranked first)."""

    window: int | None = None
    total: int = 0
    offset: int = 0
    readings: tuple[tuple[str, str], ...] = ()


# -- the query: leaves (a word, a phrase, a prefix, with a column filter) joined by AND, OR, NOT ---------------

_LEXER = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<leaf>-?\^?(?:(?:title|sapo|body|\{[a-z ]*\}):)?'
                    r'(?:"(?:[^"]|"")*"?|[^\s()"]+)\*?))', re.IGNORECASE)
_LEAF = re.compile(r'^(-?)(\^?)((?:title|sapo|body|\{[a-z ]*\}):)?("(?:[^"]|"")*"?|[^\s()"]*?)(\*?)$',
                   re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One searchable unit: matched in the exact index when typed with diacritics, else in the folded one."""

    text: str  # the word or the phrase's words, as typed (NFC)
    phrase: bool
    column: str
    caret: bool
    prefix: bool

    @property
    def exact(self) -> bool:
        return fold(self.text) != self.text.casefold()

    def fts(self, *, folded: bool) -> str:
        """The leaf as FTS5 syntax; exact: every placement of its tone marks (``hóa`` / ``hoá``) as alternatives."""
        alternatives = [fold_d(self.text)] if folded else tone_placements(self.text)
        forms: list[str] = []
        for text in alternatives:
            if self.phrase or not _WORD.fullmatch(text):
                text = '"' + text.replace('"', '""') + '"'
            forms.append(f"{self.column}{'^' if self.caret else ''}{text}{'*' if self.prefix else ''}")
        return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"

    @property
    def table(self) -> str:
        return "search_exact" if self.exact else "search"

    @property
    def plain(self) -> bool:
        """A bare word typed without quotes, column or star: may be a syllable of a word typed with others."""
        return not (self.phrase or self.column or self.caret or self.prefix) and bool(_WORD.fullmatch(self.text))


_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng (combining, as NFD writes them)
_GLIDES = re.compile(r"(?i)(?<!q)(oa|oe|uy)$")  # after q the u is the consonant's (quý, quá): one placement
MAX_PLACEMENTS = 16


def _placements(syllable: str) -> list[str]:
    """A syllable and, when it ends in oa/oe/uy with a tone mark on either vowel, the other placement of the
    mark (old style ``hoá``, ``thuỷ``; new style ``hóa``, ``thủy``): both are in use on the same sites."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONES]
    bare = "".join(c for c in decomposed if c not in _TONES)
    base = unicodedata.normalize("NFC", bare)
    if len(tones) != 1 or not _GLIDES.search(base):
        return [syllable]
    forms = []
    for position in (len(base) - 2, len(base) - 1):
        marked = base[:position + 1] + tones[0] + base[position + 1:]
        forms.append(unicodedata.normalize("NFC", unicodedata.normalize("NFD", marked)))
    return list(dict.fromkeys([syllable, *forms]))


def tone_placements(text: str) -> list[str]:
    """``text`` with every placement of the tone marks of its oa/oe/uy syllables (at most MAX_PLACEMENTS)."""
    parts = re.split(r"(\w+)", text)
    options = [_placements(part) if _WORD.fullmatch(part) else [part] for part in parts]
    out: list[str] = []
    for combo in itertools.product(*options):
        out.append("".join(combo))
        if len(out) == MAX_PLACEMENTS:
            break
    return out


Node = tuple[Any, ...]  # ("leaf", Leaf) | ("and", a, b) | ("or", a, b) | ("not", a) | ("near", fts)


def _bad(query: str, why: str) -> SearchQueryError:
    shown = query if len(query) <= 80 else query[:77] + "..."
    return SearchQueryError(f"bad search query {shown!r}: {why} (use words, \"a phrase\", prefix*, AND, OR, NOT or "
                            f"-word, parentheses, title:word; put words with punctuation in double quotes)")


def parse_query(query: str) -> tuple[Node, list[list[Leaf]]]:
    """The query's tree, and the runs of bare words typed one after another (ranked as phrases)."""
    tokens: list[tuple[str, str]] = []
    position = 0
    text = unicodedata.normalize("NFC", query).replace("ð", "đ").replace("Ð", "Đ")
    while position < len(text):
        if not text[position:].strip():
            break
        match = _LEXER.match(text, position)
        if match is None or match.end() == position:
            raise _bad(query, f"cannot read {text[position:].strip()[:20]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "leaf" and value in _OPERATORS:
            kind = value
        tokens.append((kind, value))
    runs: list[list[Leaf]] = []
    run: list[Leaf] = []
    index = 0

    def peek() -> str | None:
        return tokens[index][0] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def close_run() -> None:
        nonlocal run
        if len(run) > 1:
            runs.append(run)
        run = []

    def parse_or() -> Node:
        node = parse_and()
        while peek() == "OR":
            take()
            close_run()
            node = ("or", node, parse_and())
        return node

    def parse_and() -> Node:
        node = parse_unary(first=True)
        while peek() not in (None, "OR", "close"):
            if peek() == "AND":
                take()
                close_run()
            if peek() == "NOT":  # binary: a NOT b = a AND NOT b
                take()
                close_run()
                node = ("and", node, ("not", parse_unary(first=False)))
                continue
            node = ("and", node, parse_unary(first=False))
        return node

    def parse_unary(*, first: bool) -> Node:
        kind = peek()
        if kind is None or kind in ("OR", "AND", "close"):
            raise _bad(query, "an operator without a word after it" if index else "an operator without a word "
                       "before it")
        if kind == "NOT":
            take()
            close_run()
            return ("not", parse_unary(first=False))
        if kind == "open":
            take()
            close_run()
            node = parse_or()
            if peek() != "close":
                raise _bad(query, "a parenthesis is not closed")
            take()
            close_run()
            return node
        _, value = take()
        match = _LEAF.match(value)
        assert match is not None  # the lexer's leaf
        minus, caret, column, word, star = match.groups()
        phrase = word.startswith('"')
        if phrase:
            if len(word) < 2 or not word.endswith('"'):
                raise _bad(query, "unterminated string")
            word = word[1:-1].replace('""', '"')
        if not word.strip() or not _WORD.search(word):
            raise _bad(query, f"nothing to look for in {value!r}")
        leaf = Leaf(word, phrase, (column or "").lower(), bool(caret), bool(star))
        if minus:
            close_run()
            return ("not", ("leaf", leaf))
        if leaf.plain:
            run.append(leaf)
        else:
            close_run()
        return ("leaf", leaf)

    if not tokens:
        raise SearchQueryError("empty search query")
    tree = parse_or()
    if index < len(tokens):
        raise _bad(query, "a closing parenthesis without an opening one")
    close_run()
    return tree, runs


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


def _variants(db: sqlite3.Connection, word: str, keep: int) -> list[str]:
    """The exact index's words that fold to ``word``, the most common first."""
    found: list[tuple[int, str]] = []
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
            raise _bad(query, message) from err
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
    rank_join = (f"LEFT JOIN (SELECT rowid AS id, {_RANK} AS score FROM search WHERE search MATCH ?) r "
                 f"ON r.id = s.rowid") if positive else ""
    score = "coalesce(r.score, 0)" if positive else "0"
    newest: int | None = None
    if not rank_all:  # the rowid below which matches are not ranked (rowids grow as rows are committed)
        row = db.execute(f"SELECT s.rowid FROM snapshots s WHERE {match} ORDER BY s.rowid DESC LIMIT 1 OFFSET ?",
                         [*match_args, RANK_WINDOW]).fetchone()
        newest = None if row is None else int(row[0])
    while True:
        bound = "" if newest is None else " AND s.rowid > ?"
        rows = db.execute(
            f"SELECT s.rowid, s.source, s.article_id, s.version, s.url, s.published, s.title, s.text_path, s.meta, "
            f"{score} FROM snapshots s {rank_join} WHERE {match} AND {where}{bound} "
            f"ORDER BY {order}{score + ', ' if positive else ''}s.rowid DESC LIMIT ? OFFSET ?",
            [*([positive] if positive else []), *match_args, *where_args, *([] if newest is None else [newest]),
             *tier_args, limit, offset]).fetchall()
        if newest is not None and len(rows) < min(limit, hits.total - offset):
            newest = None  # the window was not enough: rank every match
            continue
        break
    hits.window = RANK_WINDOW if newest is not None else None
    for _, source, article_id, version, url, published, title, path, meta, rank in rows:
        hits.append(Hit(str(source), str(article_id), int(version), str(url), str(published), str(title), str(path),
                        snippet(str(title), meta, terms), float(rank)))
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

