"""``crawler sources``: what the configuration says each source is, and whether its start pages answer.

Where it sits: beside the crawl, reading only ``sources.yaml`` (:mod:`crawler.config`, which
validates it) and, with ``--check`` and ``--origin`` (or ``--fetch``), fetching each start page
and feed once through the crawl's :class:`~crawler.net.fetcher.Fetcher`, at the source's politeness
delay.  Nothing is archived.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import trio

from crawler.config import Politeness, SourceConfig, Sources
from crawler.errors import FetchError
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.net.urls import host_key


def effective(source: SourceConfig, *, delay: float | None = None, host_concurrency: int | None = None) -> Politeness:
    """The politeness a crawl uses for ``source``: the file's (built-in defaults < ``defaults:`` < the
    source's block), then the crawl's ``--delay`` / ``--host-concurrency`` when given."""
    politeness = source.politeness
    if delay is not None:
        politeness = replace(politeness, delay=delay)
    if host_concurrency is not None:
        politeness = replace(politeness, concurrency=host_concurrency)
    return politeness


def describe(source: SourceConfig, politeness: Politeness) -> dict[str, Any]:
    """A source as JSON-ready data (``crawler sources --json``)."""
    return {
        "key": source.key, "name": source.name, "adapter": source.adapter, "hosts": list(source.hosts),
        "base_url": source.base_url, "start_pages": list(source.start_pages), "feeds": list(source.feeds),
        "sitemaps": list(source.sitemaps), "article_url_patterns": list(source.article_url_patterns),
        "pagination": source.pagination, "listing_depth": source.listing_depth,
        "politeness": {"delay": politeness.delay, "concurrency": politeness.concurrency,
                       "timeout": politeness.timeout, "respect_robots": politeness.respect_robots},
        "options": dict(source.options),
    }


def render(data: dict[str, Any]) -> str:
    """A source as lines of text (``crawler sources``)."""
    p = data["politeness"]
    robots = "robots.txt obeyed" if p["respect_robots"] else "robots.txt ignored"
    lines = [f"{data['key']}: {data['name']} (adapter {data['adapter']})",
             f"  hosts: {', '.join(data['hosts'])}",
             f"  politeness: {p['delay']:g} s between requests to a host, {p['concurrency']} in flight per host, "
             f"timeout {p['timeout']:g} s, {robots}",
             f"  article URLs: {' | '.join(data['article_url_patterns'])}",
             f"  pagination: {data['pagination']}, listing depth {data['listing_depth']}"]
    for name in ("start_pages", "feeds", "sitemaps"):
        urls = data[name]
        label = name.replace("_", " ")
        lines.append(f"  {label} ({len(urls)}):" + ("" if urls else " none"))
        lines.extend(f"    {url}" for url in urls)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class PageCheck:
    source: str
    url: str
    ok: bool
    detail: str  # "HTTP 200", "HTTP 404 Not Found", the fetch error, or why it was not checked

    @property
    def checked(self) -> bool:
        return not self.detail.startswith("not checked")


def check_pages(sources: Sources, *, everywhere: bool, timeout: float = 30.0,
                delay: float | None = None) -> list[PageCheck]:
    """Fetch every start page and feed of ``sources`` once (hosts given with ``--origin``, or every host
    when ``everywhere``), ``delay`` (default: the source's) apart; one :class:`PageCheck` per page, in
    configuration order."""
    results: dict[tuple[str, str], PageCheck] = {}

    async def check_source(fetcher: Fetcher, source: SourceConfig) -> None:
        first = True
        for url in (*source.start_pages, *source.feeds):
            if not everywhere and host_key(url) not in sources.origins.wire:
                results[(source.key, url)] = PageCheck(source.key, url, True, "not checked (no --origin for its "
                                                                              "host)")
                continue
            if not first:
                await trio.sleep(source.politeness.delay if delay is None else delay)
            first = False
            try:
                hops = await fetcher.fetch_following(url, allow=source.covers)
            except FetchError as err:
                results[(source.key, url)] = PageCheck(source.key, url, False, err.reason)
                continue
            final = hops[-1]
            detail = f"HTTP {final.status} {final.reason}".strip()
            if len(hops) > 1:
                detail += f" (after {len(hops) - 1} redirect(s) to {source.real_url(final.url)})"
            results[(source.key, url)] = PageCheck(source.key, url, final.status == 200, detail)

    async def main() -> None:
        policy = FetchPolicy(timeout=timeout, retries=1, backoff_base=0.2)
        async with Fetcher(policy, origins=sources.origins) as fetcher, trio.open_nursery() as nursery:
            for source in sources:
                nursery.start_soon(check_source, fetcher, source)

    trio.run(main)
    return [results[(s.key, url)] for s in sources for url in (*s.start_pages, *s.feeds)]
