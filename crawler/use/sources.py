"""``crawler sources``: what the configuration says each source is, and whether its start pages answer.

Where it sits: beside the crawl, reading only ``sources.yaml`` (:mod:`crawler.config`, which
validates it) and, with ``--check`` and ``--origin`` (or ``--fetch``), fetching each start page
and feed once through the crawl's :class:`~crawler.net.fetcher.Fetcher`: hosts in parallel, one
request at a time per host at the source's politeness delay, a host that cannot be reached given up
at its first page (:func:`check_pages`).  Nothing is archived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TextIO

import trio

from crawler.codings import ContentDecodingError, decode_prefix
from crawler.config import Politeness, SourceConfig, Sources
from crawler.errors import FetchError, TransientFetchError
from crawler.net.fetch_policy import ConnectionRefused, FetchPolicy, HostNotFound, HostUnreachable
from crawler.net.fetcher import Fetcher
from crawler.net.robots import ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, Robots, agent_token
from crawler.net.urls import host_key, origin
from crawler.terminal import plural, printable


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
        "sitemaps": list(source.sitemaps),
        "robots_sitemaps": None,  # those robots.txt names: None until read (--check), else read at crawl time
        "article_url_patterns": list(source.article_url_patterns),
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
    for name in ("start_pages", "feeds"):
        urls = data[name]
        label = name.replace("_", " ")
        lines.append(f"  {label} ({len(urls)}):" + ("" if urls else " none"))
        lines.extend(f"    {url}" for url in urls)
    lines.extend(_sitemap_lines(data))
    return "\n".join(lines)


def _sitemap_lines(data: dict[str, Any]) -> list[str]:
    """Where the crawl's sitemaps come from: the configured ones, and those robots.txt names (read with
    --check, else said to be read at crawl time; none when robots.txt is ignored)."""
    configured = list(data["sitemaps"])
    named = data.get("robots_sitemaps")  # None: robots.txt not read here
    lines = [f"  sitemaps ({len(configured)} configured):" + ("" if configured else " none")]
    lines.extend(f"    {url}" for url in configured)
    if not data["politeness"]["respect_robots"]:
        lines.append("    (robots.txt is ignored: none of its Sitemap lines are read)")
    elif named is None:
        lines.append("    + those robots.txt names, read at crawl time (--check --fetch or --origin lists them)")
    else:
        problem = data.get("robots_problem")
        if problem:
            lines.append(f"    + those robots.txt names: could not be read ({problem})")
        else:
            lines.append(f"    + {len(named)} named in robots.txt" + (":" if named else ""))
        lines.extend(f"    {url} (robots.txt)" for url in named if url not in configured)
    return lines


@dataclass(frozen=True, slots=True)
class PageCheck:
    source: str
    url: str
    ok: bool
    detail: str  # "HTTP 200", "HTTP 404 Not Found", the fetch error, or why it was not checked

    @property
    def checked(self) -> bool:
        return not self.detail.startswith("not checked")


HOSTS_AT_ONCE = 8  # hosts --check asks at the same time (each one request at a time: politeness)


@dataclass(frozen=True, slots=True)
class HostDone:
    """One host's pages are checked (for progress): how many answered 200, and why it was given up, if it was."""

    host: str
    answered: int
    pages: int
    seconds: float
    unreachable: str | None = None
    done: int = 0  # hosts finished so far, this one included
    hosts: int = 0  # hosts to check in all


@dataclass(frozen=True, slots=True)
class RobotsSitemaps:
    """The sitemaps robots.txt names for a source (those it covers), or why robots.txt could not be read."""

    urls: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SourcesCheck:
    pages: list[PageCheck]  # in configuration order
    robots: dict[str, RobotsSitemaps]  # source key -> its robots.txt sitemaps (sources whose hosts were checked)


def check_pages(sources: Sources, *, everywhere: bool, timeout: float = 30.0, delay: float | None = None,
                hosts_at_once: int = HOSTS_AT_ONCE, progress: Callable[[HostDone], None] | None = None,
                ) -> list[PageCheck]:
    """The pages of :func:`check_sources`."""
    return check_sources(sources, everywhere=everywhere, timeout=timeout, delay=delay, hosts_at_once=hosts_at_once,
                         progress=progress).pages


def check_sources(sources: Sources, *, everywhere: bool, timeout: float = 30.0, delay: float | None = None,
                  hosts_at_once: int = HOSTS_AT_ONCE, progress: Callable[[HostDone], None] | None = None,
                  ) -> SourcesCheck:
    """Fetch every start page and feed of ``sources`` once (hosts given with ``--origin``, or every host
    when ``everywhere``); one :class:`PageCheck` per page, in configuration order.

    Hosts are checked in parallel (``hosts_at_once`` of them), the pages of one host one after the other,
    ``delay`` (default: the source's) apart, whichever sources they belong to.  A host that cannot be
    reached at its first page (a name that does not exist, a refused or failed connection: not retried)
    is given up: its other pages are failed as "not checked".  ``progress`` is told of each host done.
    A source that obeys robots.txt has it read first on each host the crawl reads it on (its base URL's
    and start pages' hosts), for the sitemaps it names (:class:`RobotsSitemaps`), as discovery does.
    """
    pages: dict[str, list[tuple[SourceConfig, str]]] = {}
    results: dict[tuple[str, str], PageCheck] = {}
    for source in sources:
        for url in (*source.start_pages, *source.feeds):
            if not everywhere and host_key(url) not in sources.origins.wire:
                results[(source.key, url)] = PageCheck(source.key, url, True, "not checked (no --origin for its "
                                                                              "host)")
            else:
                pages.setdefault(host_key(url), []).append((source, url))
    done = 0
    robots: dict[str, RobotsSitemaps] = {}
    robots_of: dict[str, list[SourceConfig]] = {}  # host -> the sources that read robots.txt there
    for source in sources:
        if source.politeness.respect_robots:
            for site in dict.fromkeys(origin(u) for u in (source.base_url, *source.start_pages)):
                if host_key(site) in pages:
                    robots_of.setdefault(host_key(site), []).append(source)

    async def read_robots(fetcher: Fetcher, host: str) -> HostUnreachable | None:
        """robots.txt of ``host`` for the sources reading it there; a host that cannot be reached, or None."""
        first = robots_of[host][0]
        url = origin(first.base_url if host_key(first.base_url) == host else
                     next(u for u in first.start_pages if host_key(u) == host)) + "/robots.txt"
        try:
            hops = await fetcher.fetch_following(url, allow=first.covers, give_up=_dead,
                                                 max_redirects=ROBOTS_MAX_REDIRECTS)
        except FetchError as err:
            why = err.reason
            for source in robots_of[host]:
                robots[source.key] = RobotsSitemaps(robots[source.key].urls if source.key in robots else (), why)
            return err if isinstance(err, HostUnreachable) else None
        final = hops[-1]
        named: list[str] = []
        if final.status >= 500 or final.status == 429:
            for source in robots_of[host]:
                robots[source.key] = RobotsSitemaps(robots[source.key].urls if source.key in robots else (),
                                                    f"HTTP {final.status}")
            return None
        if final.status == 200:
            try:
                text = decode_prefix(final.body, final.content_encoding, ROBOTS_MAX_BYTES + 1)
            except ContentDecodingError:
                text = b""
            named = Robots.parse_prefix(text, agent_token(fetcher.policy.user_agent)).sitemaps
        for source in robots_of[host]:
            known = robots[source.key].urls if source.key in robots else ()
            mine = [source.real_url(u) for u in named if source.covers(u)]
            robots[source.key] = RobotsSitemaps(tuple(dict.fromkeys((*known, *mine))))
        return None

    async def check_page(fetcher: Fetcher, source: SourceConfig, url: str) -> HostUnreachable | None:
        try:
            hops = await fetcher.fetch_following(url, allow=source.covers, give_up=_dead)
        except FetchError as err:
            results[(source.key, url)] = PageCheck(source.key, url, False, err.reason)
            return err if isinstance(err, HostUnreachable) else None
        final = hops[-1]
        detail = f"HTTP {final.status} {final.reason}".strip()
        if len(hops) > 1:
            detail += f" (after {plural(len(hops) - 1, 'redirect')} to {source.real_url(final.url)})"
        results[(source.key, url)] = PageCheck(source.key, url, final.status == 200, detail)
        return None

    async def check_host(fetcher: Fetcher, limiter: trio.CapacityLimiter, host: str,
                         todo: list[tuple[SourceConfig, str]]) -> None:
        nonlocal done
        async with limiter:
            started = trio.current_time()
            dead: str | None = None
            if host in robots_of:
                unreachable = await read_robots(fetcher, host)
                if unreachable is not None:
                    dead = unreachable.reason
            for index, (source, url) in enumerate(todo):
                if dead is not None:  # the first page says why; the others were not tried
                    detail = dead if index == 0 else f"not checked: host {host} could not be reached"
                    results[(source.key, url)] = PageCheck(source.key, url, False, detail)
                    continue
                if index or host in robots_of:
                    await trio.sleep(source.politeness.delay if delay is None else delay)
                unreachable = await check_page(fetcher, source, url)
                if unreachable is not None:
                    dead = unreachable.reason
            done += 1
            if progress is not None:
                answered = sum(results[(s.key, u)].ok for s, u in todo)
                progress(HostDone(host, answered, len(todo), trio.current_time() - started, dead, done, len(pages)))

    async def main() -> None:
        policy = FetchPolicy(timeout=timeout, retries=1, backoff_base=0.2)
        limiter = trio.CapacityLimiter(max(1, hosts_at_once))
        async with Fetcher(policy, origins=sources.origins) as fetcher, trio.open_nursery() as nursery:
            for host, todo in pages.items():
                nursery.start_soon(check_host, fetcher, limiter, host, todo)

    trio.run(main)
    return SourcesCheck([results[(s.key, url)] for s in sources for url in (*s.start_pages, *s.feeds)], robots)


def _dead(err: TransientFetchError) -> bool:
    """Not retried: a refused connection (nothing listens) or a name that does not exist."""
    return isinstance(err, (ConnectionRefused, HostNotFound))


def host_line(item: HostDone) -> str:
    """One line for a host --check finished (stderr, when it is not a terminal)."""
    what = f"{item.answered} of {plural(item.pages, 'page')} answered 200"
    if item.unreachable is not None:
        what = f"could not be reached ({item.unreachable}); its {plural(item.pages, 'page')} failed"
    return f"sources: [{item.done}/{item.hosts}] checked {item.host}: {what} ({item.seconds:.1f} s)"


def host_progress(stream: TextIO) -> Callable[[HostDone], None]:
    """Progress of --check on ``stream``: a live counter on a terminal, else a line per host done."""
    live = stream.isatty()

    def show(item: HostDone) -> None:
        if live:
            if item.unreachable is not None:  # kept, above the counter
                stream.write(f"\r\x1b[K{printable(host_line(item))}\n")
            stream.write(f"\r\x1b[Ksources: checked {item.done} of {plural(item.hosts, 'host')}")
            stream.write("\n" if item.done == item.hosts else "")
        else:
            stream.write(printable(host_line(item)) + "\n")
        stream.flush()

    return show
