"""The query language of ``crawler search``: what a user types, read into a tree of FTS5 leaves.

Part of :mod:`crawler.use.search`: words, "phrases", prefix*, AND / OR / NOT and -word, parentheses,
column filters (``title:word``), each leaf matched in the exact index when typed with diacritics, else
in the folded one (:mod:`crawler.use.folding`); the runs of bare words typed together (ranked as
phrases); the bound on a query's size, checked before any parsing; and the plain rewriting of a query
into FTS5 syntax (:func:`prepare_query`, used for NEAR groups and by the benchmarks).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import islice
from typing import Any

from crawler.errors import ConfigError
from crawler.use.folding import WORD, fold, fold_d, tone_placements

# A query's cost grows with its terms (each prefix term expands to every word it begins); people type a few.
MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 32
_COLUMNS = ("title", "sapo", "body")
_OPERATORS = {"AND", "OR", "NOT"}
_TOKEN = re.compile(r'"(?:[^"]|"")*"?|\S+')


# A query token: opening parentheses, an initial-token caret, a column filter, the word, a prefix star, closing.
_COLUMN = re.compile(r"(?:title|sapo|body|\{[a-z ]*\}):", re.IGNORECASE)


class SearchQueryError(ConfigError):
    """A query FTS5 cannot parse (exit 2, with a hint on the syntax)."""


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
        if word and not WORD.fullmatch(word):
            word = '"' + word.replace('"', '""') + '"'
        out.append(f"{opening}{caret}{column or ''}{word}{star}{closing}")
    return " ".join(out)


def check_query_size(query: str) -> None:
    """Refuse a query longer than MAX_QUERY_CHARS or with more than MAX_QUERY_TERMS words (exit 2)."""
    if len(query) > MAX_QUERY_CHARS:
        raise SearchQueryError(f"search query of {len(query):,} characters is too long (at most {MAX_QUERY_CHARS:,})")
    words = (m for m in WORD.finditer(query) if m.group() not in _OPERATORS and m.group() != "NEAR")
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
        for part in WORD.findall(fold(word)):
            terms.append((part, bool(match.group(2))))
    return terms


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
            if self.phrase or not WORD.fullmatch(text):
                text = '"' + text.replace('"', '""') + '"'
            forms.append(f"{self.column}{'^' if self.caret else ''}{text}{'*' if self.prefix else ''}")
        return forms[0] if len(forms) == 1 else "(" + " OR ".join(forms) + ")"

    @property
    def table(self) -> str:
        return "search_exact" if self.exact else "search"

    @property
    def plain(self) -> bool:
        """A bare word typed without quotes, column or star: may be a syllable of a word typed with others."""
        return not (self.phrase or self.column or self.caret or self.prefix) and bool(WORD.fullmatch(self.text))


Node = tuple[Any, ...]  # ("leaf", Leaf) | ("and", a, b) | ("or", a, b) | ("not", a) | ("near", fts)


def bad_query(query: str, why: str) -> SearchQueryError:
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
            raise bad_query(query, f"cannot read {text[position:].strip()[:20]!r}")
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
            raise bad_query(query, "an operator without a word after it" if index else "an operator without a word "
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
                raise bad_query(query, "a parenthesis is not closed")
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
                raise bad_query(query, "unterminated string")
            word = word[1:-1].replace('""', '"')
        if not word.strip() or not WORD.search(word):
            raise bad_query(query, f"nothing to look for in {value!r}")
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
        raise bad_query(query, "a closing parenthesis without an opening one")
    close_run()
    return tree, runs
