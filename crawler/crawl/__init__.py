"""The crawl engine behind ``crawler crawl``, split along the flow.

::

    engine.py     Crawl: one run, one trio nursery, the steps below wired by bounded channels
    discovery.py  listing chains, feeds, sitemaps -> offered article URLs
    frontier.py   which offered articles to fetch (once each, within budget, retry schedule)
    fetching.py   robots.txt, per-host gates (crawler.net.politeness), the global cap
    archiving.py  exchanges to the archive workers (crawler.crawl.worker_pool), replies to the catalog
    stats.py      the run's figures per source
"""

from crawler.crawl.engine import Crawl, CrawlOptions
from crawler.crawl.stats import EventKind, Listener, SourceStats

__all__ = ["Crawl", "CrawlOptions", "EventKind", "Listener", "SourceStats"]
