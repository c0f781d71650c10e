"""Per-source arithmetic: index <-> id, publication time, category, listings, host.

Part of the offline mirror.  Nothing here holds articles in memory: article ``i``
of a source is described by a few integer formulas, so a catalog of 100,000
articles costs the same as one of 60.  Index ``-1`` (:data:`SEED`) stands for the
hand-written seed article, older than every generated one.

Categories are dealt out in blocks of ``L`` consecutive articles (``L`` = number of
category leaves): each block is a seeded permutation of the leaves, so every leaf
gets one article per block and a listing page can jump straight to the block that
holds its ``k``-th newest entry.
"""

from __future__ import annotations

import random
import threading
import zlib
from datetime import datetime, timedelta
from functools import lru_cache

from crawler.mirror.sources import HUE_NEW_HOST, HUE_OLD_HOST, VN_TZ, SourceInfo

SEED = -1
# Huế's CMS eras by article index, never by the number of articles (an article's page must not change
# when the mirror grows): the two oldest generated articles date from the VDOC CMS (2022), the next two
# from the category-path site (2023-2024), both on baothuathienhue.vn; every later one from DotNetNuke on
# huengaynay.vn (2025-, at the source's own pace).  /work/shared/SITES.md has the real eras.
HUE_VDOC_UNTIL = 2
HUE_RENAME_INDEX = 4
# When the older eras' articles were published: era start, days between articles.
HUE_OLD_ERAS: tuple[tuple[int, datetime, int], ...] = (
    (0, datetime(2022, 5, 9, 8, 0, tzinfo=VN_TZ), 150),
    (HUE_VDOC_UNTIL, datetime(2023, 8, 14, 8, 0, tzinfo=VN_TZ), 300),
)
# Hex ids (the Java platform: 7 hex digits that look random, e.g. 0e36a0a, cb73be6): the decimal id
# n of the usual formula, scrambled by n * HEX_MULT mod 16**7 (odd, so invertible: HEX_INV undoes it).
HEX_SPACE = 16**7
HEX_MULT = 0x9E3779B
HEX_INV = pow(HEX_MULT, -1, HEX_SPACE)


def mix(*parts: object) -> int:
    """A cheap deterministic hash (crc32 of the joined parts); never Python's salted ``hash``."""
    return zlib.crc32(":".join(map(str, parts)).encode())


@lru_cache(maxsize=8192)
def _block_perm(seed: int, source: str, block: int, size: int) -> tuple[int, ...]:
    order = list(range(size))
    random.Random(f"{seed}:{source}:block:{block}").shuffle(order)
    return tuple(order)


class Catalog:
    """The article sequence of one source; ``count`` grows with :meth:`publish`."""

    def __init__(self, info: SourceInfo, seed: int, count: int, seed_id: str | None = None) -> None:
        self.info = info
        self.seed = seed
        self._count = count
        self._lock = threading.Lock()
        self.seed_id = seed_id
        # Huế's eras, by index (the same whatever ``count``): see HUE_VDOC_UNTIL.
        self.vdoc_until = HUE_VDOC_UNTIL
        self.rename_index = HUE_RENAME_INDEX

    @property
    def count(self) -> int:
        """Number of generated articles (the seed article not included)."""
        return self._count

    def publish(self, n: int) -> None:
        with self._lock:
            self._count += n

    # -- ids and times -------------------------------------------------------------------

    def article_id(self, index: int) -> str:
        if index == SEED:
            assert self.seed_id is not None
            return self.seed_id
        info = self.info
        n = info.id_base + info.id_stride * index + mix(self.seed, info.key, index, "id") % info.id_stride
        return f"{n * HEX_MULT % HEX_SPACE:07x}" if info.id_hex else str(n)

    def index_of(self, article_id: str) -> int | None:
        """The index of an id this source serves now, else None."""
        if article_id == self.seed_id:
            return SEED
        if self.info.id_hex:
            if len(article_id) != 7 or not all(c in "0123456789abcdef" for c in article_id):
                return None
            number = int(article_id, 16) * HEX_INV % HEX_SPACE
        elif not article_id.isdigit():
            return None
        else:
            number = int(article_id)
        index = (number - self.info.id_base) // self.info.id_stride
        if 0 <= index < self._count and self.article_id(index) == article_id:
            return index
        return None

    def published(self, index: int) -> datetime:
        """When article ``index`` was published: a function of (seed, source, index) only."""
        info = self.info
        jitter = mix(self.seed, info.key, index, "t") % info.spacing_minutes
        if info.key == "hue" and 0 <= index < self.rename_index:  # the older eras, months apart
            first, start, days = next(era for era in reversed(HUE_OLD_ERAS) if index >= era[0])
            return start + timedelta(days=days * (index - first), minutes=jitter * 7)
        if info.key == "hue":
            index -= self.rename_index  # DotNetNuke's articles at the source's pace from its start
        return info.start + timedelta(minutes=info.spacing_minutes * index + jitter)

    def leaf(self, index: int) -> int:
        size = len(self.info.leaves)
        return _block_perm(self.seed, self.info.key, index // size, size)[index % size]

    def era(self, index: int) -> str:
        """Huế: the CMS an article was published under: ``vdoc``, ``path`` (2022-2024) or ``dnn``.

        The seed article (March 2022) is of the VDOC era.  Other sources: their one template.
        """
        if self.info.key != "hue":
            return self.info.key
        if index == SEED or index < self.vdoc_until:
            return "vdoc"
        return "path" if index < self.rename_index else "dnn"

    def host(self, index: int) -> str:
        """The primary host of an article (Huế: old host before the rename, new after)."""
        if self.info.key != "hue":
            return self.info.hosts[0]
        return HUE_NEW_HOST if self.era(index) == "dnn" else HUE_OLD_HOST

    # -- listings ------------------------------------------------------------------------

    def _block_members(self, block: int, leaves: frozenset[int], upto: int) -> list[int]:
        """Indices of ``block`` in ``leaves``, newest first, only positions < ``upto``."""
        size = len(self.info.leaves)
        perm = _block_perm(self.seed, self.info.key, block, size)
        return [block * size + p for p in range(upto - 1, -1, -1) if perm[p] in leaves]

    def total(self, leaves: frozenset[int]) -> int:
        """How many articles (seed included) a listing over ``leaves`` holds."""
        size = len(self.info.leaves)
        count = self._count
        full, rem = divmod(count, size)
        n = full * len(leaves) + (len(self._block_members(full, leaves, rem)) if rem else 0)
        return n + (1 if self._has_seed(leaves) else 0)

    def _has_seed(self, leaves: frozenset[int]) -> bool:
        return self.seed_id is not None and self.info.seed_leaf in leaves

    def listing(self, leaves: frozenset[int], offset: int, limit: int) -> list[int]:
        """Entries ``offset .. offset+limit-1`` of a listing over ``leaves``, newest first.

        The seed article (:data:`SEED`) comes last, after every generated article.
        """
        size = len(self.info.leaves)
        count = self._count
        if offset < 0 or limit <= 0:
            return []
        out: list[int] = []
        if len(leaves) == size:  # every leaf: plain descending indices
            out = list(range(count - 1 - offset, max(count - 1 - offset - limit, -1), -1))
            generated = count
        else:
            full, rem = divmod(count, size)
            partial = self._block_members(full, leaves, rem) if rem else []
            out = partial[offset : offset + limit]
            k = max(0, offset - len(partial))  # position within the full blocks, newest first
            per_block = len(leaves)
            while len(out) < limit and per_block:
                block = full - 1 - k // per_block
                if block < 0:
                    break
                chunk = self._block_members(block, leaves, size)[k % per_block :][: limit - len(out)]
                out.extend(chunk)
                k += len(chunk)
            generated = len(partial) + full * per_block
        if self._has_seed(leaves) and offset <= generated < offset + limit:
            out.append(SEED)
        return out
