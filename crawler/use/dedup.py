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
reprint from a common notice).

The cache, ``<archive>/indexes/dedup.sqlite``: each version's signature, keyed by what the catalog says of it
(source, id, version, the snapshot's sha256, the breadcrumb and byline content() drops, and the recipe), so a run
on a warm cache reads the catalog and the cache and no snapshot text: only new or changed versions are read and
hashed (a snapshot file edited behind the catalog's back is ``crawler verify``'s to report, not this cache's).
Beside them, the last answer per threshold with a digest of every input it was computed from (each article's
signature key, URL and dates): an unchanged archive is answered from it without numpy or datasketch.  The cache
is only ever a shortcut: one that cannot be opened or written (a read-only archive: read only; locked by another
process: skipped after ``timeout``) is done without, and one that is not a database is replaced.  ``budget``
(:func:`find`, for ``crawler stats``): when more versions than that would have to be hashed, nothing is
computed and the answer says how many are pending.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from crawler.archive.catalog import Store
from crawler.archive.outputs import read_inside
from crawler.errors import ArchiveError, ConfigError
from crawler.use.dedup_cache import Cache as _Cache

THRESHOLD = 0.5  # estimated Jaccard similarity of the shingle sets
SHINGLE = 5  # words (syllables) per shingle
PERMUTATIONS = 128
SEED = 1
SCHEME = "affine32"  # datasketch's permutation scheme (2.0's default), named so that an upgrade cannot change it
MIN_WORDS = 12
VERSION = 2  # of the signature recipe and its key: part of the cache key
CACHE = Path("indexes", "dedup.sqlite")

_WORD = re.compile(r"\w+")
_DATE_LINE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}(?: - \d{1,2}:\d{2})?")
_SHARE = "Chia sẻ bài viết"
_VN = timezone(timedelta(hours=7))
_LATEST = """SELECT s.source, s.article_id, s.version, s.url, s.published, s.fetched_at, s.text_path, s.sha256,
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
    digest: bytes = b""  # of its row (_Row.digest)


@dataclass(slots=True)
class Duplicates:
    """The answer: ``of[(source, article_id)]`` = the URL of the original, for every near-duplicate."""
    threshold: float
    of: dict[tuple[str, str], str] = field(default_factory=dict)
    originals: dict[tuple[str, str], str] = field(default_factory=dict)  # key -> its own URL, for the marked
    articles: int = 0
    cached: int = 0
    hashed: int = 0
    pending: int = 0  # versions not hashed because there were more than find()'s budget: `of` is then unknown
    answered: bool = False  # from the cached answer (nothing recomputed)
    extended: int = 0  # articles added to the cached answer (all newer than those it was computed from)

    @property
    def complete(self) -> bool:
        return not self.pending

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


_RECIPE = f"v{VERSION} k{SHINGLE} p{PERMUTATIONS} s{SEED} {SCHEME} w{MIN_WORDS}\n".encode()


def _key(source: str, article_id: str, version: int, sha256: str, breadcrumb: list[str], byline: str | None) -> bytes:
    """The cache key of a version's signature: what the catalog says determines its content()."""
    what = json.dumps([source, article_id, version, sha256, breadcrumb, byline], ensure_ascii=False)
    return hashlib.blake2b(_RECIPE + what.encode(), digest_size=20).digest()


@dataclass(slots=True)
class _Row:
    source: str
    article_id: str
    url: str
    published: str
    fetched_at: str
    text_path: str
    breadcrumb: list[str]
    byline: str | None
    key: bytes
    digest: bytes = b""  # of the key, URL and dates: what an answer depends on


def _rows(store: Store) -> list[_Row]:
    rows = []
    for source, article_id, version, url, published, fetched_at, text_path, sha256, crumb, byline in store.db.execute(
            _LATEST):
        breadcrumb = _json_list(crumb)
        own_byline = byline if isinstance(byline, str) else None
        rows.append(_Row(source, article_id, url, str(published), str(fetched_at), text_path, breadcrumb, own_byline,
                         _key(source, article_id, int(version), str(sha256), breadcrumb, own_byline)))
    return rows


def _inputs(rows: list[_Row], threshold: float) -> tuple[bytes, bytes]:
    """A digest of everything an answer depends on (the cached answer is used only for the same one), and the
    rows' own digests, sorted (to tell an archive that only grew)."""
    for row in rows:
        row.digest = hashlib.blake2b(row.key + json.dumps([row.source, row.article_id, row.url, row.published,
                                                           row.fetched_at], ensure_ascii=False).encode(),
                                     digest_size=16).digest()
    each = b"".join(sorted(row.digest for row in rows))
    recipe = _RECIPE + f"t{threshold!r} r{RECALL!r}\n".encode()
    return hashlib.blake2b(recipe + each, digest_size=32).digest(), each


def _from_answer(found: dict[str, Any], result: Duplicates) -> bool:
    try:
        of = {(str(s), str(a)): str(u) for s, a, u in found["of"]}
        originals = {(str(s), str(a)): str(u) for s, a, u in found["originals"]}
    except (KeyError, TypeError, ValueError):
        return False
    result.of, result.originals = of, originals
    return True


def find(store: Store, threshold: float = THRESHOLD, *, cache: bool = True, budget: int | None = None,
         timeout: float = 10) -> Duplicates:
    """The near-duplicates among the latest versions of every article in ``store`` (the whole archive, whatever
    an export selects: an article's answer does not depend on the slice).  ``budget``: at most this many versions
    are read and hashed, else nothing is and ``pending`` says how many would be; ``timeout``: seconds to wait
    for a cache another process holds locked."""
    check_threshold(threshold)
    root = str(store.archive)
    rows = _rows(store)
    result = Duplicates(threshold, articles=len(rows))
    store_cache = _Cache(store.archive / CACHE, timeout) if cache else None
    inputs, each = _inputs(rows, threshold)
    try:
        last = store_cache.answer(threshold) if store_cache else None
        if last is not None and last[0] == inputs and _from_answer(last[1], result):
            result.answered, result.cached = True, result.articles
            return result
        known = store_cache.signatures([row.key for row in rows]) if store_cache else {}
        known = {k: v for k, v in known.items() if len(v) in (0, 4 * PERMUTATIONS)}  # empty: too short
        missing = sum(1 for row in rows if row.key not in known)
        if budget is not None and missing > budget:
            result.pending = missing
            return result
        articles = _signed(rows, known, root, result, store_cache)
        if last is None or not _extend(articles, {row.digest for row in rows}, last, threshold, result):
            result.of, result.originals = {}, {}
            _cluster(articles, threshold, result)
        if store_cache:
            answer = {"of": [[*k, v] for k, v in sorted(result.of.items())],
                      "originals": [[*k, v] for k, v in sorted(result.originals.items())]}
            store_cache.close((threshold, inputs, json.dumps(answer, ensure_ascii=False).encode(), each))
    finally:
        if store_cache:
            store_cache.close()
    return result


def _extend(articles: list[Article], current: set[bytes], last: tuple[bytes, dict[str, Any], bytes],
            threshold: float, result: Duplicates) -> bool:
    """The last answer extended by the articles added since, when that is the answer from scratch: every
    article it was computed from is still there unchanged (``current``: the digests of every row now), and
    every new one comes after all of them in publication order (a crawl's new articles, as a rule).  Each new
    one is then checked against the originals as :func:`_cluster` would: a candidate shares a band of its
    signature (datasketch's LSH buckets bands by their exact values) and agrees on at least the threshold's
    share; the earliest such original is named.  False when it cannot (then everything is recomputed)."""
    import numpy

    _, answer, each = last
    if not each or len(each) % 16:
        return False
    old = {each[i:i + 16] for i in range(0, len(each), 16)}
    if not old <= current:
        return False  # an article changed or went away
    first_new = next((n for n, a in enumerate(articles) if a.digest not in old), len(articles))
    if any(a.digest in old for a in articles[first_new:]) or not _from_answer(answer, result):
        return False  # a new article before an old one
    result.extended = len(articles) - first_new
    band, rows = bands(threshold)
    needed = threshold * PERMUTATIONS
    originals = [a for a in articles[:first_new] if (a.source, a.article_id) not in result.of]
    matrix = numpy.zeros((len(originals) + result.extended, PERMUTATIONS), dtype=numpy.uint32)
    for n, original in enumerate(originals):
        matrix[n] = original.signature
    for article in articles[first_new:]:
        equal = matrix[:len(originals)] == article.signature
        shares = equal[:, :band * rows].reshape(len(originals), band, rows).all(axis=2).any(axis=1)
        matching = numpy.flatnonzero(shares & (numpy.count_nonzero(equal, axis=1) >= needed))
        if matching.size:
            best = originals[int(matching[0])]
            result.of[(article.source, article.article_id)] = best.url
            result.originals[(best.source, best.article_id)] = best.url
            continue
        matrix[len(originals)] = article.signature
        originals.append(article)
    return True


def _signed(rows: list[_Row], known: dict[bytes, bytes], root: str, result: Duplicates,
            store_cache: _Cache | None) -> list[Article]:
    """The articles with a signature (the cached ones, the others read and hashed), in publication order."""
    import numpy

    articles: list[Article] = []
    for row in rows:
        article = Article(row.source, row.article_id, row.url,
                          (_instant(row.published, _VN) or _NEVER, _instant(row.fetched_at, UTC) or _NEVER,
                           row.source, len(row.article_id), row.article_id), digest=row.digest)
        found = known.get(row.key)
        if found is not None:
            result.cached += 1
            if not found:
                continue
            article.signature = numpy.frombuffer(found, dtype=numpy.uint32)
        else:
            try:
                text = read_inside(root, row.text_path, "snapshot file").decode("utf-8")
            except (OSError, ValueError) as err:
                raise ArchiveError(f"{row.source}/{row.article_id}: cannot read its snapshot: {err} (`crawler "
                                   f"verify` checks the archive)") from err
            tokens = words(content(text, row.breadcrumb, row.byline))
            result.hashed += 1
            if len(tokens) < MIN_WORDS:
                if store_cache:
                    store_cache.new.append((row.key, b""))
                continue
            article.signature = signature(tokens)
            if store_cache:
                store_cache.new.append((row.key, article.signature.astype(numpy.uint32).tobytes()))
        articles.append(article)
    articles.sort(key=lambda a: a.order)
    return articles


def _cluster(articles: list[Article], threshold: float, result: Duplicates) -> None:
    import numpy

    datasketch = _datasketch()
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
    try:
        found = json.loads(value) if isinstance(value, str) else value
    except ValueError:  # json_extract gives a lone string unquoted: not a list of names
        return []
    return [str(v) for v in found] if isinstance(found, list) else []
