"""The crawl engine behind ``crawler crawl``, split along the flow.

::

    engine.py     Crawl: one run, one trio nursery, the steps below wired by bounded channels
    discovery.py  listing chains, feeds, sitemaps -> offered article URLs
    frontier.py   which offered articles to fetch (once each, within budget, retry schedule)
    fetching.py   robots.txt, per-host gates (crawler.net.politeness), the global cap
    archiving.py  exchanges to the archive workers (crawler.crawl.worker_pool), replies to the catalog
    stats.py      the run's figures per source

The names below are imported when first used: an archive worker process imports
``crawler.crawl.archive_worker`` (and so this package) but needs none of the engine (trio, httpx2,
the fetcher), whose import would cost every worker a third of a second of CPU at its start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.crawl.engine import Crawl, CrawlOptions
    from crawler.crawl.stats import EventKind, Listener, SourceStats

__all__ = ["Crawl", "CrawlOptions", "EventKind", "Listener", "SourceStats"]

_HOMES = {"Crawl": "crawler.crawl.engine", "CrawlOptions": "crawler.crawl.engine", "EventKind": "crawler.crawl.stats",
          "Listener": "crawler.crawl.stats", "SourceStats": "crawler.crawl.stats"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
