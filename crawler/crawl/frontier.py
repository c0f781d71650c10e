"""One source's frontier for one run: which discovered articles to fetch, once each, within the budget.

Discovery offers URLs; :meth:`Frontier.admit` keeps those that are article URLs of the
source (ids validated by :meth:`~crawler.config.SourceConfig.article_id`), not archived
yet (unless ``--refresh``; an old URL that redirected to an archived article counts as
archived), not offered before in this run, not waiting for their next try
after a failure (:meth:`crawler.archive.catalog.Store.fail`), and within ``--max-articles``.  The
admitted ones are remembered in the catalog's frontier table (one transaction), so that a
run that ends early leaves them for the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from crawler.archive.catalog import Store
from crawler.config import SourceConfig
from crawler.crawl.stats import SourceStats


class Frontier:
    def __init__(self, source: SourceConfig, store: Store, stats: SourceStats, *, budget: int | None,
                 refresh: bool, archived: Callable[[str, str], bool]) -> None:
        """``archived(source key, article id)``: in the catalog, or committed soon (this run)."""
        self.source = source
        self.store = store
        self.stats = stats
        self.budget = budget
        self.refresh = refresh
        self.archived = archived
        self.seen: set[str] = set()
        self.offered = 0
        self.waiting = store.waiting(source.key)

    def redirected(self, url: str) -> bool:
        """Whether ``url`` was archived before under another id: it redirected to another article's URL.

        Its response is remembered (``http_cache``, committed with the target's row) though its own id
        has no snapshot: the next run does not fetch the old URL again.
        """
        return self.store.cached(url) is not None

    def budget_left(self) -> bool:
        return self.budget is None or self.offered < self.budget

    def admit(self, urls: Iterable[str], *, resumed: bool = False) -> tuple[list[tuple[str, str]], int]:
        """``(article id, url)`` to fetch now, and how many of ``urls`` are articles not archived yet.

        ``resumed``: the URLs come from the catalog (pending articles, ``--refresh``): not checked
        against the archive or the retry schedule again, not re-enqueued.
        """
        source, key = self.source, self.source.key
        unarchived = 0
        admitted: list[tuple[str, str]] = []
        for url in map(source.real_url, urls):
            article_id = source.article_id(url)  # None for other hosts, non-article URLs and invalid ids
            if article_id is None:
                continue
            archived = not resumed and (self.archived(key, article_id) or self.redirected(url))
            unarchived += not archived
            if article_id in self.seen or not self.budget_left():
                continue
            self.seen.add(article_id)
            if archived and not self.refresh:
                continue
            if not resumed and article_id in self.waiting:
                self.stats.waiting += 1
                continue
            self.offered += 1
            admitted.append((article_id, url))
        if not resumed:
            self.store.enqueue_many(key, admitted)
        return admitted, unarchived
