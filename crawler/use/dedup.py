"""Near-duplicate articles (``crawler export --dedup``, ``crawler stats``): provincial papers reprint agency copy
and each other's articles, with a new title or lead and a few sentences edited.

Where it sits: a reader of a finished archive, beside :mod:`crawler.use.export`; the only user of datasketch.

How: each article's latest snapshot is reduced to its content (:func:`content`: the FORMAT.md blocks without
the breadcrumb, the date line, the byline and the share label, which are the paper's, not the article's), then
to word n-grams (:data:`SHINGLE` words; NFC, lower case, diacritics kept: ``Đà Nẵng`` and ``đã nâng`` stay
apart), then to a MinHash signature (:data:`PERMUTATIONS` permutations, fixed seed, SHA-1 of each shingle: the
same text gives the same signature in every run and on every machine).  Locality-sensitive hashing finds the
candidates; a candidate counts when its estimated Jaccard similarity is at least the threshold (default
:data:`THRESHOLD`).  The articles are taken in publication order (then capture order, source, id): an article
matching an earlier *original* is a duplicate of the earliest such original; otherwise it is an original
itself.  So ``duplicate_of`` always names an original, never a chain, and two runs give the same answer.

Articles with fewer than :data:`MIN_WORDS` words of content are never marked (too little text to tell a
reprint from a common notice).  Signatures are cached in ``<archive>/indexes/dedup.sqlite``, keyed by a digest
of the content and the parameters, so a second run reads the texts but hashes nothing again; an archive that
cannot be written to is read without the cache.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from crawler.archive.catalog import Store
from crawler.archive.outputs import read_inside
from crawler.errors import ArchiveError, ConfigError

THRESHOLD = 0.5  # estimated Jaccard similarity of the shingle sets
SHINGLE = 5  # words (syllables) per shingle
PERMUTATIONS = 128
SEED = 1
SCHEME = "affine32"  # datasketch's permutation scheme (2.0's default), named so that an upgrade cannot change it
MIN_WORDS = 12
VERSION = 1  # of the signature recipe: part of the cache key
CACHE = Path("indexes", "dedup.sqlite")

_WORD = re.compile(r"\w+")
_DATE_LINE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}(?: - \d{1,2}:\d{2})?")
_SHARE = "Chia sẻ bài viết"
_VN = timezone(timedelta(hours=7))
_LATEST = """SELECT s.source, s.article_id, s.url, s.published, s.fetched_at, s.text_path,
    CASE WHEN json_valid(s.meta) THEN json_extract(s.meta, '$.breadcrumb') END,
    CASE WHEN json_valid(s.meta) THEN json_extract(s.meta, '$.byline') END
    FROM snapshots s WHERE s.version = (SELECT max(version) FROM snapshots v
                                        WHERE v.source = s.source AND v.article_id = s.article_id)"""


def check_threshold(value: float) -> float:
    if not 0.0 < value <= 1.0:
        raise ConfigError(f"--dedup-threshold must be above 0 and at most 1, not {value}")
    return value


def content(text: str, breadcrumb: Iterable[str] | None = None, byline: str | None = None) -> str:
    """The article's own text: the snapshot's blocks without the paper's (breadcrumb, date line, byline,
    share label)."""
    blocks = text.split("\n\n")
    crumb = " ".join(breadcrumb or ())
    if blocks and crumb and blocks[0] == crumb:
        blocks = blocks[1:]
    return "\n".join(b for b in blocks if b != _SHARE and b != byline and not _DATE_LINE.fullmatch(b))


def words(text: str) -> list[str]:
    """Normalized words: NFC, lower case, diacritics kept (``đ`` is not ``d``)."""
    return _WORD.findall(unicodedata.normalize("NFC", text).lower())


def shingles(tokens: list[str], size: int = SHINGLE) -> set[bytes]:
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[i:i + size]).encode() for i in range(len(tokens) - size + 1)}


def _datasketch() -> Any:
    import datasketch

    return datasketch


_TEMPLATE: list[Any] = []  # one MinHash whose permutations every signature reuses (making them costs ~1 ms)


def signature(tokens: list[str], size: int = SHINGLE) -> Any:
    """The MinHash hash values (a numpy array of uint32) of ``tokens``' shingles."""
    datasketch = _datasketch()
    if not _TEMPLATE:
        _TEMPLATE.append(datasketch.MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME))
    minhash = datasketch.MinHash(num_perm=PERMUTATIONS, seed=SEED, scheme=SCHEME,
                                 permutations=_TEMPLATE[0].permutations)
    minhash.update_batch(sorted(shingles(tokens, size)))
    return minhash.hashvalues


@dataclass(slots=True)
class Article:
    source: str
    article_id: str
    url: str
    order: tuple[Any, ...]
    signature: Any = None


@dataclass(slots=True)
class Duplicates:
    """The answer: ``of[(source, article_id)]`` = the URL of the original, for every near-duplicate."""
    threshold: float
    of: dict[tuple[str, str], str] = field(default_factory=dict)
    originals: dict[tuple[str, str], str] = field(default_factory=dict)  # key -> its own URL, for the marked
    articles: int = 0
    cached: int = 0
    hashed: int = 0

    def per_source(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for source, _ in self.of:
            counts[source] = counts.get(source, 0) + 1
        return counts


def _instant(value: str | None, zone: timezone) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


_NEVER = datetime.max.replace(tzinfo=UTC)


class _Cache:
    """Signatures by content digest in ``<archive>/indexes/dedup.sqlite``; nothing when it cannot be opened."""

    def __init__(self, archive: Path) -> None:
        self.db: sqlite3.Connection | None = None
        self.new: list[tuple[bytes, bytes]] = []
        try:
            path = archive / CACHE
            path.parent.mkdir(exist_ok=True)
            self.db = sqlite3.connect(path, timeout=10)
            self.db.execute("CREATE TABLE IF NOT EXISTS signatures (key BLOB PRIMARY KEY, hashes BLOB NOT NULL) "
                            "WITHOUT ROWID")
        except (OSError, sqlite3.Error):
            self.db = None

    def get(self, key: bytes) -> bytes | None:
        if self.db is None:
            return None
        try:
            row = self.db.execute("SELECT hashes FROM signatures WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        return bytes(row[0]) if row else None

    def close(self) -> None:
        if self.db is None:
            return
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?)", self.new)
        except sqlite3.Error:
            pass  # a cache: the answer is the same without it
        finally:
            self.db.close()


def _key(text: str) -> bytes:
    recipe = f"v{VERSION} k{SHINGLE} p{PERMUTATIONS} s{SEED} {SCHEME}\n".encode()
    return hashlib.blake2b(recipe + text.encode(), digest_size=20).digest()


def find(store: Store, threshold: float = THRESHOLD, *, cache: bool = True) -> Duplicates:
    """The near-duplicates among the latest versions of every article in ``store`` (the whole archive, whatever
    an export selects: an article's answer does not depend on the slice)."""
    import numpy

    check_threshold(threshold)
    datasketch = _datasketch()
    root = str(store.archive)
    store_cache = _Cache(store.archive) if cache else None
    articles: list[Article] = []
    result = Duplicates(threshold)
    try:
        for source, article_id, url, published, fetched_at, text_path, crumb, byline in store.db.execute(_LATEST):
            breadcrumb = _json_list(crumb)
            try:
                text = read_inside(root, text_path, "snapshot file").decode("utf-8")
            except (OSError, ValueError) as err:
                raise ArchiveError(f"{source}/{article_id}: cannot read its snapshot: {err} (`crawler verify` "
                                   f"checks the archive)") from err
            own = content(text, breadcrumb, byline if isinstance(byline, str) else None)
            order = (_instant(published, _VN) or _NEVER, _instant(fetched_at, UTC) or _NEVER, source,
                     len(article_id), article_id)
            article = Article(source, article_id, url, order)
            result.articles += 1
            key = _key(own)
            found = store_cache.get(key) if store_cache else None
            if found is not None and len(found) in (0, 4 * PERMUTATIONS):  # empty: too short
                result.cached += 1
                if not found:
                    continue
                article.signature = numpy.frombuffer(found, dtype=numpy.uint32)
            else:
                tokens = words(own)
                result.hashed += 1
                if len(tokens) < MIN_WORDS:
                    if store_cache:
                        store_cache.new.append((key, b""))
                    continue
                article.signature = signature(tokens)
                if store_cache:
                    store_cache.new.append((key, article.signature.astype(numpy.uint32).tobytes()))
            articles.append(article)
    finally:
        if store_cache:
            store_cache.close()
    articles.sort(key=lambda a: a.order)
    lsh = datasketch.MinHashLSH(num_perm=PERMUTATIONS, params=bands(threshold))
    # Keys are positions in publication order: the earliest candidate is the smallest.  The candidates are checked
    # all at once (a row of the signature matrix each), as a query proposes many in a corpus of set phrases.
    matrix = numpy.vstack([a.signature for a in articles]) if articles else numpy.zeros((0, PERMUTATIONS))
    needed = threshold * PERMUTATIONS
    for n, article in enumerate(articles):
        minhash = datasketch.LeanMinHash(seed=SEED, hashvalues=article.signature, scheme=SCHEME)
        candidates = numpy.fromiter(lsh.query(minhash), dtype=numpy.int64)
        if candidates.size:
            agree = numpy.count_nonzero(matrix[candidates] == article.signature, axis=1)
            matching = candidates[agree >= needed]
            if matching.size:
                best = articles[int(matching.min())]
                result.of[(article.source, article.article_id)] = best.url
                result.originals[(best.source, best.article_id)] = best.url
                continue
        lsh.insert(n, minhash, check_duplication=False)
    return result


RECALL = 0.97  # at least this chance that LSH proposes a pair whose similarity is the threshold (more above it)


def bands(threshold: float) -> tuple[int, int]:
    """LSH bands and rows per band for ``threshold``, chosen for recall: LSH only proposes candidates, each is
    checked against the threshold, so a false candidate costs a comparison and a missed one a wrong answer.
    (datasketch's own choice weighs both alike: at 0.5 it proposes 55 % of the pairs at 0.5, 87 % at 0.6.)"""
    for rows in range(PERMUTATIONS // 2, 0, -1):  # datasketch wants two bands at least
        count = PERMUTATIONS // rows
        if 1 - (1 - threshold ** rows) ** count >= RECALL:
            return count, rows
    return PERMUTATIONS, 1


def _json_list(value: Any) -> list[str]:
    if value is None:
        return []
    import json

    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:  # json_extract gives a lone string unquoted: not a list of names
        return []
    return [str(v) for v in found] if isinstance(found, list) else []
