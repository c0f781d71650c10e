"""The catalog's schema: its tables, its version numbers and its full-text search index.

Part of the catalog (:mod:`crawler.archive.catalog`, whose :class:`~crawler.archive.catalog.Store`
creates and migrates these): the tables (:data:`SCHEMA`, documented in README.md "The catalog"),
the schema version kept in ``PRAGMA user_version``, and the FTS5 ``search`` / ``search_exact``
tables (:data:`SEARCH_SCHEMA`, :func:`search_values`: what the catalog's writer inserts for each snapshot row;
queried by :mod:`crawler.use.search`).  SQL text only: nothing here opens a database.
"""

from __future__ import annotations

SCHEMA_VERSION = 6  # 5: the search index's body from the snapshot files (no triggers); 6: its mark (search_state)
BODIES_SCHEMA = 5  # the first schema whose search index holds every body (older ones: none once metadata lost it)
MARK_SCHEMA_VERSION = 6  # the first schema with the search index's mark (search_state; older ones index in-line)
JOURNALS_SCHEMA = 2  # the first schema whose writers journal their rows (older archives need reconcile())

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (
    source TEXT NOT NULL,
    article_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    url TEXT NOT NULL,
    published TEXT NOT NULL,
    title TEXT NOT NULL,
    text_path TEXT NOT NULL,
    meta_path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    fetched_at TEXT NOT NULL,
    extractor_version TEXT NOT NULL,
    meta TEXT,
    PRIMARY KEY (source, article_id, version)
);
CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    status INTEGER NOT NULL,
    payload_digest TEXT NOT NULL,
    warc_file TEXT NOT NULL,
    warc_offset INTEGER NOT NULL,
    warc_date TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS walks (
    start_url TEXT PRIMARY KEY,
    complete INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS frontier (
    source TEXT NOT NULL,
    article_id TEXT NOT NULL,
    url TEXT NOT NULL,
    discovered_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    next_try TEXT,
    last_error TEXT,
    PRIMARY KEY (source, article_id)
);
"""


# The full-text index (schema 3; queried by crawler.use.search).  Contentless: it holds the index only, not a
# second copy of the text (snippets are made from the snapshot file, crawler.archive.snapshot_body).  Since schema 5
# the catalog's writer (crawler.archive.catalog.Store) indexes every snapshot row it inserts, in the same
# transaction, with the body read from the row's snapshot file: the metadata has no body (schema 3 and 4 indexed
# it from the metadata with triggers, and so indexed no body at all once the metadata lost it).
# unicode61 folds diacritics but not đ (a letter of its own), nor the Icelandic eth some sites write for it
# (baocantho.com.vn: "Ðầu tư", U+00D0): folded here, and in queries (crawler.use.folding.fold_d).
_FOLD = "replace(replace(replace(replace({}, 'đ', 'd'), 'Đ', 'D'), 'ð', 'd'), 'Ð', 'D')"


# The exact index (schema 4) keeps diacritics (a query typed with them matches them: "Cần Thơ" is not "cán thổ");
# the eth some sites write for đ is written as đ there.
_ETH = "replace(replace({}, 'ð', 'đ'), 'Ð', 'Đ')"
# The same two foldings in Python (the writer folds the values it reads itself: crawler.archive.search_index), as
# (old, new) replacements: str.replace scans a text without them at memchr speed, str.translate goes letter by letter.
FOLD_PAIRS = (("đ", "d"), ("Đ", "D"), ("ð", "d"), ("Ð", "D"))
ETH_PAIRS = (("ð", "đ"), ("Ð", "Đ"))


# The sapo of a snapshot row's metadata (an SQL expression: format it with the metadata's), NULL when it is no JSON
# (a malformed metadata string must not fail the insert of its row).
SAPO_SQL = "CASE WHEN json_valid({0}) THEN json_extract({0}, '$.sapo') END"


def folded_sql(expr: str, *, exact: bool = False) -> str:
    """The SQL expression of ``expr`` as the ``search`` table (or, ``exact``, ``search_exact``) indexes it."""
    return (_ETH if exact else _FOLD).format(expr)


def search_values(row: str, meta: str, body: str, *, exact: bool = False) -> str:
    """SQL expressions of the indexed columns of a snapshot row (``row``: its title; ``meta``: its metadata, for
    the sapo; ``body``: its body blocks joined by newlines, from the snapshot file; when NULL, the metadata's
    ``body`` of archives written before it left the metadata), folded for the ``search`` table, or with
    diacritics for ``search_exact`` (``exact``)."""
    valid = f"json_valid({meta})"
    sapo = SAPO_SQL.format(meta)
    legacy = f"CASE WHEN {valid} THEN (SELECT group_concat(value, char(10)) FROM json_each({meta}, '$.body')) END"
    return ", ".join(folded_sql(expr, exact=exact) for expr in (row, sapo, f"coalesce({body}, {legacy})"))


SEARCH_TABLES = (("search", False), ("search_exact", True))  # (table, exact)
# Schema 6: the largest snapshot rowid the search index holds (crawler.archive.search_index: a crawl indexes behind
# its commits, and the rows above the mark are archived but not yet searchable).
MARK_SCHEMA = """
CREATE TABLE IF NOT EXISTS search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_upto INTEGER NOT NULL
);
"""
SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(title, sapo, body, content='',
    tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS search_exact USING fts5(title, sapo, body, content='',
    tokenize='unicode61 remove_diacritics 0');
DROP TRIGGER IF EXISTS snapshots_search;
DROP TRIGGER IF EXISTS snapshots_search_exact;
"""
