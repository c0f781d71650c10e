"""The catalog's schema: its tables, its version numbers and its full-text search index.

Part of the catalog (:mod:`crawler.archive.catalog`, whose :class:`~crawler.archive.catalog.Store`
creates and migrates these): the tables (:data:`SCHEMA`, documented in README.md "The catalog"),
the schema version kept in ``PRAGMA user_version``, and the FTS5 ``search`` / ``search_exact``
tables (:data:`SEARCH_SCHEMA`, :func:`search_values`: what the catalog's writer inserts for each snapshot row;
queried by :mod:`crawler.use.search`).  SQL text only: nothing here opens a database.
"""

from __future__ import annotations

SCHEMA_VERSION = 7  # 5: the search index's body from the snapshot files (no triggers); 6: its mark (search_state);
# 7: the rows of which a newer version exists (superseded, kept by triggers)
BODIES_SCHEMA = 5  # the first schema whose search index holds every body (older ones: none once metadata lost it)
MARK_SCHEMA_VERSION = 6  # the first schema with the search index's mark (search_state; older ones index in-line)
SUPERSEDED_SCHEMA_VERSION = 7  # the first schema with the superseded table
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

# Schema 7: the rowids of the snapshot rows of which the catalog has a newer version (a row of the same source and
# article_id with a greater version), which a search of the latest versions leaves out (crawler.use.search_matches)
# without finding them in the primary key's index each time.  Kept by triggers, so that every writer keeps it (a
# crawl's commits, fetch, recovery, a crawler older than the table writing a newer catalog, a hand edit): after a row
# is inserted, deleted or moved (its source, article_id, version or rowid changed), the rows of the articles it left
# and joined are sorted again (a few lookups in the primary key's index per row written).
_NEWER = ("EXISTS (SELECT 1 FROM snapshots n WHERE n.source = s.source AND n.article_id = s.article_id "
          "AND n.version > s.version)")


def _sorted_again(row: str) -> str:
    """The statements putting the rows of the article of ``row`` (``NEW`` or ``OLD``) in the table or out of it."""
    article = f"s.source = {row}.source AND s.article_id = {row}.article_id"
    return (f"DELETE FROM superseded WHERE id IN (SELECT s.rowid FROM snapshots s WHERE {article});\n"
            f"    INSERT INTO superseded (id) SELECT s.rowid FROM snapshots s WHERE {article} AND {_NEWER};")


SUPERSEDED_SCHEMA = (  # statements (run one by one, in the upgrade's transaction)
    "CREATE TABLE IF NOT EXISTS superseded (id INTEGER PRIMARY KEY)",
    f"""CREATE TRIGGER IF NOT EXISTS snapshots_superseded_insert AFTER INSERT ON snapshots BEGIN
    DELETE FROM superseded WHERE id = NEW.rowid;
    {_sorted_again("NEW")}
END""",
    f"""CREATE TRIGGER IF NOT EXISTS snapshots_superseded_delete AFTER DELETE ON snapshots BEGIN
    DELETE FROM superseded WHERE id = OLD.rowid;
    {_sorted_again("OLD")}
END""",
    f"""CREATE TRIGGER IF NOT EXISTS snapshots_superseded_update AFTER UPDATE ON snapshots
WHEN OLD.rowid IS NOT NEW.rowid OR OLD.source IS NOT NEW.source OR OLD.article_id IS NOT NEW.article_id
    OR OLD.version IS NOT NEW.version BEGIN
    DELETE FROM superseded WHERE id = OLD.rowid OR id = NEW.rowid;
    {_sorted_again("OLD")}
    {_sorted_again("NEW")}
END""",
)
SUPERSEDED_OBJECTS = (("table", "superseded"), ("trigger", "snapshots_superseded_insert"),
                      ("trigger", "snapshots_superseded_delete"), ("trigger", "snapshots_superseded_update"))
# Every superseded row at once (an upgrade fills the table with it; a reader of an older catalog reads it): the
# articles with a version that is not 1 (two versions have one) from the primary key's index, then their rows below
# the greatest version.
SUPERSEDED_SQL = ("SELECT o.rowid FROM (SELECT DISTINCT source, article_id FROM snapshots WHERE version <> 1) g "
                  "JOIN snapshots o ON o.source = g.source AND o.article_id = g.article_id "
                  "WHERE o.version < (SELECT max(version) FROM snapshots n WHERE n.source = g.source AND "
                  "n.article_id = g.article_id)")
