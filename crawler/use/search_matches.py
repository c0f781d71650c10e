"""Which rows a query matches, as SQL: from the full-text index alone when it can say, else row by row.

Part of :mod:`crawler.use.search` (issue 22: the count, the window and the ranking of a query on 100,000 articles in
tens of milliseconds).  A query whose leaves all use one index (:mod:`crawler.use.query`) is one FTS5 expression:
its matches come from the index, a row is live when its rowid is in the range of the snapshot rows' rowids (when
they have no gap), the latest version unless the catalog's ``superseded`` table lists it (schema 7, kept by
triggers; an older catalog read only: the rows with a newer version found in the primary key's index), of the
sources when that index says so.  An AND of such an expression and leaves of the other index or a NOT (``Cần tho``,
``tinh -thơ``) is driven by the expression: its matches are tested against the rest.  A query matching the rows
an expression does not (``-word``) is counted as every row minus the expression's matches, its window found between
them.  With few matches, dates to compare or a gap in the rowids, the expression's matches drive a join to their
rows.  Any other query (an OR across both indexes) tests each snapshot row against every leaf.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, replace

from crawler.archive.catalog_schema import SUPERSEDED_SQL
from crawler.archive.reading import Selection
from crawler.archive.search_index import superseded_kept
from crawler.use.query import Leaf, Node

# -- the query run against the indexes ---------------------------------------------------------------------------


def condition(node: Node, args: list[object], rowid: str = "s.rowid") -> str:
    """An SQL condition on ``rowid`` (a snapshots row's) for the tree."""
    kind = node[0]
    if kind == "leaf":
        leaf: Leaf = node[1]
        args.append(leaf.fts(folded=not leaf.exact))
        return f"{rowid} IN (SELECT rowid FROM {leaf.table} WHERE {leaf.table} MATCH ?)"
    if kind == "not":
        return f"NOT ({condition(node[1], args, rowid)})"
    joiner = " AND " if kind == "and" else " OR "
    return "(" + joiner.join(condition(child, args, rowid) for child in node[1:]) + ")"


def positive(node: Node, negated: bool = False) -> list[Leaf]:
    if node[0] == "leaf":
        return [] if negated else [node[1]]
    if node[0] == "not":
        return positive(node[1], not negated)
    return [leaf for child in node[1:] for leaf in positive(child, negated)]



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
class Matches:
    """The rows a query matches that the selection keeps, as SQL: ``FROM {tables} WHERE`` :meth:`Matches.where`, each
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
    rest: str = ""  # what the expression's matches must also match (`` AND ...`` on ``+{table}.rowid``: _driver)
    rest_args: tuple[object, ...] = ()
    # A tree matching the rows an expression does not (``-word``: see _complement), rowids with no gap:
    # (table, expression, low, high), and the count of its matches the selection keeps (every row's minus the
    # expression's), both answered without testing each row.
    outside: tuple[str, str, int, int] | None = None
    outside_count: tuple[str, tuple[object, ...]] | None = None

    def count(self) -> tuple[str, list[object]]:
        """The SQL counting the matches the selection keeps, and its arguments."""
        if self.outside_count is not None:
            return self.outside_count[0], list(self.outside_count[1])
        condition, args = self.condition()
        return f"SELECT count(*) FROM {self.tables} WHERE {condition}", args

    def condition(self, newest: int | None = None) -> tuple[str, list[object]]:
        """The SQL condition and its arguments, only the rows after ``newest`` when given (in the index's own rowid
        range when it answers: one bound, which FTS5 seeks to)."""
        if self.live is None:
            return (self.filters + ("" if newest is None else f" AND {self.rowid} > ?"),
                    [*self.args, *([] if newest is None else [newest])])
        low, high = self.live
        return self.filters, [self.args[0], low if newest is None else max(low, newest + 1), high, *self.args[1:]]


def _latest(db: sqlite3.Connection, rowid: str) -> tuple[str, list[object]]:
    """An SQL condition (and its arguments) keeping the rows ``rowid`` of which the archive has no newer version:
    none when it has no superseded row.  The catalog keeps them (schema 7: the ``superseded`` table,
    :func:`~crawler.archive.search_index.keep_superseded`); an older one not upgraded yet (read only) has them found
    in the primary key's index, and given as a list."""
    if superseded_kept(db):
        if db.execute("SELECT 1 FROM superseded LIMIT 1").fetchone() is None:
            return "", []
        return f" AND +{rowid} NOT IN (SELECT id FROM superseded)", []
    superseded = [int(row) for (row,) in db.execute(SUPERSEDED_SQL)]
    if not superseded:
        return "", []
    return f" AND +{rowid} NOT IN (SELECT value FROM json_each(?))", [json.dumps(superseded)]


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


def matches(db: sqlite3.Connection, tree: Node, selection: Selection) -> Matches:
    """Where the matching rows come from: the index alone (one FTS5 expression; the rows checked for being live, the
    latest version and of the sources through the primary key's index, not row by row) when it can answer, else the
    snapshot rows, each tested against every leaf.

    One FTS5 expression with few matches (at most :data:`PER_ROW`), or dates to compare, or rowids with a gap:
    the expression's matches drive a join to their rows, which keep the selection's conditions as they are.

    ``scored``: the ranking's bm25 (of the positive leaves folded, :mod:`crawler.use.search`) is the expression's own,
    read on the same pass: the expression is on the folded index and has no NOT, so its phrases are the positive
    leaves in the same order (a NEAR group: the same text), and bm25 sums each phrase's weight in the row."""
    one = ("search", tree[1]) if tree[0] == "near" else _one_index(tree)
    rest: Node | None = None  # what the rows the expression matches must also match (it drives: see _driver)
    if one is None and (driver := _driver(tree)) is not None:
        one, rest = (driver[0], driver[1]), driver[2]
    dated = any(getattr(selection, name) is not None for name in _DATED)  # the dates are in the rows only
    if one is None:
        args: list[object] = []
        match = condition(tree, args)
        if selection.all_versions or not superseded_kept(db):
            where, where_args = selection.where("s")
        else:  # the latest versions: the rows not in the catalog's table (no lookup of a newer version per row)
            where, where_args = replace(selection, all_versions=True).where("s")
            where += _latest(db, "s.rowid")[0]
        outside, outside_count = None, None
        inverse = _complement(tree)
        inner = None if inverse is None else _one_index(inverse)
        if inner is not None and not dated and (every := _live_rowids(db)) is not None:
            table, expression = inner
            kept, kept_args = _selected(db, table, selection)
            outside = (table, expression, *every)
            rows, rows_args = f"(SELECT count(*) FROM snapshots s WHERE {where})", list(where_args)
            if not selection.sources and (selection.all_versions or superseded_kept(db)):  # (no row read)
                rows, rows_args = "(SELECT count(*) FROM snapshots)", []
                if not selection.all_versions:  # (every rowid of the range is a row's)
                    rows, rows_args = f"({rows} - (SELECT count(*) FROM superseded WHERE id BETWEEN ? AND ?))", [*every]
            outside_count = (f"SELECT {rows} - (SELECT count(*) FROM {table} WHERE {table} MATCH ? AND {table}.rowid "
                             f"BETWEEN ? AND ?{kept})", (*rows_args, expression, *every, *kept_args))
        return Matches("snapshots s", "s.rowid", f"{match} AND {where}", (*args, *where_args),
                        f"SELECT s.rowid FROM snapshots s WHERE {match} ORDER BY s.rowid DESC LIMIT 1 OFFSET ?",
                        tuple(args), None, outside=outside, outside_count=outside_count)
    table, expression = one
    extra_args: list[object] = []
    extra = "" if rest is None else " AND " + condition(rest, extra_args, f"+{table}.rowid")
    scored = rest is None and table == "search" and (tree[0] == "near" or not _negated(tree))
    few = int(db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT ?)",
                         (expression, PER_ROW + 1)).fetchone()[0]) <= PER_ROW
    live = None if few else _live_rowids(db)
    joined = f"{table} CROSS JOIN snapshots s ON s.rowid = {table}.rowid"  # the index's matches drive the join
    if live is None or (dated and selection.all_versions):
        where, where_args = selection.where("s")
        return Matches(joined, f"{table}.rowid", f"{table} MATCH ?{extra} AND {where}",
                        (expression, *extra_args, *where_args),
                        f"SELECT {table}.rowid FROM {joined} WHERE {table} MATCH ?{extra} ORDER BY {table}.rowid DESC "
                        f"LIMIT 1 OFFSET ?", (expression, *extra_args), None, one, scored, extra, tuple(extra_args))
    sql = f"{table} MATCH ? AND {table}.rowid BETWEEN ? AND ?{extra}"
    args = [expression, *extra_args]  # the range is added by _Matches.condition
    tables = table
    if dated:
        if not selection.all_versions:
            latest, latest_args = _latest(db, f"{table}.rowid")
            sql += latest
            args.extend(latest_args)
        tables = joined
        where, where_args = replace(selection, all_versions=True).where("s")
        sql += f" AND {where}"
        args.extend(where_args)
    else:
        kept, kept_args = _selected(db, table, selection)
        sql += kept
        args.extend(kept_args)
    return Matches(tables, f"{table}.rowid", sql, tuple(args),
                    f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND {table}.rowid BETWEEN ? AND ?{extra} "
                    f"ORDER BY rowid DESC LIMIT 1 OFFSET ?", (expression, *live, *extra_args), live, one, scored,
                    extra, tuple(extra_args))


def _selected(db: sqlite3.Connection, table: str, selection: Selection) -> tuple[str, list[object]]:
    """The selection's conditions but dates (`` AND ...``) on the rowids of an index's matches, in a range of rowids
    with no gap: the latest versions (:func:`_latest`), of the sources (the primary key's index)."""
    sql, args = ("", []) if selection.all_versions else _latest(db, f"{table}.rowid")
    if selection.sources:
        sql += (f" AND +{table}.rowid IN (SELECT rowid FROM snapshots WHERE source IN "
                f"({','.join('?' * len(selection.sources))}))")
        args = [*args, *selection.sources]
    return sql, args


def _complement(node: Node) -> Node | None:
    """A tree matching exactly the rows ``node`` does not, when ``node`` is a NOT (``-word``) or an AND or OR of
    them (``-a -b``: NOT (a OR b)); else None."""
    if node[0] == "not":
        inner: Node = node[1]
        return inner
    if node[0] in ("and", "or"):
        left, right = _complement(node[1]), _complement(node[2])
        if left is not None and right is not None:
            return ("or" if node[0] == "and" else "and", left, right)
    return None


def window_start(db: sqlite3.Connection, found: Matches, window: int) -> int | None:
    """The rowid of the match ``window`` places below the newest (the filters left out: the rows newer than it are
    ranked), None when there are not that many.  For a tree outside an expression (:attr:`Matches.outside`): the
    rows of the range between the expression's matches, read from the newest down in the index (no row tested)."""
    if found.outside is None:
        row = db.execute(found.window, [*found.window_args, window]).fetchone()
        return None if row is None else int(row[0])
    table, expression, low, high = found.outside
    wanted, seen, above = window + 1, 0, high + 1  # the wanted-th row from the top; rows counted; lowest match seen
    for (rowid,) in db.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ? "
                               f"ORDER BY rowid DESC", (expression, low, high)):
        between = above - int(rowid) - 1  # rows that do not match, between this match and the one above
        if seen + between >= wanted:
            return above - (wanted - seen)
        seen, above = seen + between, int(rowid)
    return above - (wanted - seen) if seen + above - low >= wanted else None


def _driver(node: Node) -> tuple[str, str, Node | None] | None:
    """``(table, expression, rest)`` for a tree that is no one FTS5 expression but an AND of parts of which some are
    (each on one index, or a NOT of one): the parts of the index with the most positive ones make the driver's
    expression (``kinh Cần tho``: the folded index's ``kinh AND tho``), the others the rest (None: no other).  Its
    matches are the driver's matches that match the rest, found by reading the driver's in the index and testing
    each against the rest's leaves, not each snapshot row; else None."""
    if node[0] != "and":
        return None
    parts = _conjuncts(node)
    groups: dict[str, tuple[list[Node], list[Node]]] = {}  # table -> (positive parts, NOT parts)
    for part in parts:
        negated = part[0] == "not"
        one = _one_index(part[1] if negated else part)
        if one is not None:
            groups.setdefault(one[0], ([], []))[negated].append(part)
    best = max((table for table in groups if groups[table][0]), key=lambda table: len(groups[table][0]),
               default=None)  # (the first of the most positive parts among equals)
    if best is None:
        return None
    chosen = [*groups[best][0], *groups[best][1]]  # the positive parts first: FTS5 takes "a NOT b", not "NOT b"
    driving = chosen[0]
    for part in chosen[1:]:
        driving = ("and", driving, part)
    one = _one_index(driving)
    if one is None:
        return None
    others = [part for part in parts if not any(part is taken for taken in chosen)]
    rest: Node | None = others[0] if others else None
    for part in others[1:]:
        rest = ("and", rest, part)
    return one[0], one[1], rest


def _conjuncts(node: Node) -> list[Node]:
    """The parts of a chain of ANDs, in order."""
    return [*_conjuncts(node[1]), *_conjuncts(node[2])] if node[0] == "and" else [node]


def _negated(node: Node) -> bool:
    return node[0] == "not" or (node[0] in ("and", "or") and any(_negated(child) for child in node[1:]))
