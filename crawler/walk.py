"""A simple listing walk: start pages and their pagination -> every article not yet archived.

Used by ``crawler demo`` until the crawl engine (politeness, feeds, incremental
state) takes over.  Each chain of listing pages stops at the first page that
brings no new article link, or at the source's ``listing_depth``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio

from crawler.archiver import Archive, Outcome, archive_article
from crawler.config import SourceConfig
from crawler.errors import FetchError
from crawler.fetcher import Fetcher


@dataclass(slots=True)
class WalkStats:
    source: str
    listings: int = 0
    archived: int = 0
    unchanged: int = 0
    skipped: int = 0  # already in the catalog
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.status == "archived":
            self.archived += 1
        elif outcome.status == "unchanged":
            self.unchanged += 1
        else:
            self.failures.append(outcome.message)


async def walk_source(fetcher: Fetcher, archive: Archive, source: SourceConfig, *, concurrency: int = 8,
                      max_pages: int | None = None) -> WalkStats:
    stats = WalkStats(source.key)
    seen_ids: set[str] = set()
    limiter = trio.CapacityLimiter(concurrency)
    depth = max_pages if max_pages is not None else source.listing_depth
    adapter = archive.adapter(source)

    async def one(url: str) -> None:
        async with limiter:
            stats.add(await archive_article(fetcher, archive, source, url))

    for start in source.start_pages:
        url: str | None = start
        pages = 0
        while url is not None and pages < depth:
            pages += 1
            try:
                results = await fetcher.fetch_following(url, allow=source.covers)
            except FetchError as err:
                stats.failures.append(str(err))
                break
            archive.record(source, results)
            stats.listings += 1
            final = results[-1]
            if final.status != 200:
                break
            listing = adapter.parse_listing(final.content, final.url)
            fresh: list[str] = []
            for article_url in listing.article_urls:
                article_id = source.article_id(article_url)
                if article_id is None or article_id in seen_ids:
                    continue
                seen_ids.add(article_id)
                if archive.store.has_article(source.key, article_id):
                    stats.skipped += 1
                    continue
                fresh.append(article_url)
            if not fresh and pages > 1:
                break
            async with trio.open_nursery() as nursery:
                for article_url in fresh:
                    nursery.start_soon(one, article_url)
            url = listing.next_url
    return stats
