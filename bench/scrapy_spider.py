"""A minimal Scrapy spider over the offline mirror, for ``bench/crawl.py``: walk listings, fetch articles, keep nothing.

Starts at the same start pages as ``crawler crawl``, follows each listing's pagination
(``a.next``) and every link matching a source's article URL pattern on its hosts, and
stores nothing.  The configuration (start URLs, hosts and patterns) comes from a JSON
file written by ``bench/crawl.py``; the settings it is tuned with come on the command line::

    .venv/bin/scrapy runspider bench/scrapy_spider.py -a config=spider.json -a stats=stats.json \\
        -s CONCURRENT_REQUESTS=32 -s CONCURRENT_REQUESTS_PER_DOMAIN=32 -s ROBOTSTXT_OBEY=False \\
        -s LOG_LEVEL=WARNING -s AUTOTHROTTLE_ENABLED=False -s DOWNLOAD_DELAY=0
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response


class MirrorSpider(scrapy.Spider):
    name = "mirror"

    def __init__(self, config: str, stats: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        spec = json.loads(Path(config).read_text(encoding="utf-8"))
        self.start_urls = spec["start_urls"]
        # Several patterns per source (Huế), a pattern naming "\\?" sees the query too (crawler.config).
        self.patterns = [(frozenset(s["hosts"]), [re.compile(p) for p in s["article_url_patterns"]])
                         for s in spec["sources"]]
        self.stats_path = stats

    def _is_article(self, url: str) -> bool:
        parts = urlsplit(url)
        return any(parts.netloc in hosts and any(
            p.search(f"{parts.path}?{parts.query}" if "\\?" in p.pattern else parts.path) for p in patterns)
            for hosts, patterns in self.patterns)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[scrapy.Request]:
        """A listing page: its articles, then the next page."""
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if self._is_article(url):
                yield scrapy.Request(url, callback=self.parse_article)
        next_href = response.css("a.next::attr(href)").get()
        if next_href:
            yield scrapy.Request(response.urljoin(next_href), callback=self.parse)

    def parse_article(self, response: Response) -> None:
        """An article: nothing is stored (the benchmark measures fetching and link handling)."""
        return None

    def closed(self, reason: str) -> None:
        if self.stats_path and self.crawler.stats is not None:
            stats = {k: (v if isinstance(v, int | float | str) else str(v))
                     for k, v in self.crawler.stats.get_stats().items()}
            stats["finish_reason"] = reason
            Path(self.stats_path).write_text(json.dumps(stats, indent=1), encoding="utf-8")
