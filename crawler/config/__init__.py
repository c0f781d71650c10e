"""sources.yaml -> frozen :class:`SourceConfig` records (the only YAML reader).

Precedence, lowest first: built-in defaults < the file's ``defaults:`` block <
a source's own block < command-line flags (applied by the CLI with
:func:`dataclasses.replace`).  Every validation error names the source and key.

This package owns the records (:class:`SourceConfig`, :class:`Sources`) and their loading
(:func:`load_sources`, :func:`parse_sources`); beside it, :mod:`.yaml_file` reads the file safely
(the strict YAML loader) and :mod:`.checks` checks one value (hosts, URLs, selectors, options,
politeness, budgets, URL patterns).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

from crawler.config.checks import (
    budget_problem,
    check_options,
    host_problem,
    http_url_problem,
    key_names,
    parse_url_patterns,
    politeness_problem,
)
from crawler.errors import ConfigError, UnknownSourceError
from crawler.net.origins import NO_ORIGINS, Origins
from crawler.net.urls import absolute, host_key, valid_article_id

# The built-in configuration, shipped inside the package (the repository's top-level
# sources.yaml is a symbolic link to it): crawler/data/sources.yaml.
PACKAGED_SOURCES_FILE = Path(__file__).resolve().parent.parent / "data" / "sources.yaml"

RUN_BUDGET = 720.0  # a run's time budget by default: 12 minutes, under a 15-minute cron period
HOST_BUDGET = 540.0  # one host's share of it by default (the others go on meanwhile)
MAX_LISTING_DEPTH = 1000


def default_sources_path() -> Path:
    """``./sources.yaml`` when there is one, else the built-in configuration shipped in the package."""
    local = Path("sources.yaml")
    return local if local.is_file() else PACKAGED_SOURCES_FILE


KNOWN_ADAPTERS = ("vdoc", "hue", "mediatech", "onecms", "javaplatform", "bbg", "generic")

_SOURCE_KEYS = {
    "name", "adapter", "hosts", "base_url", "start_pages", "feeds", "sitemaps", "article_url_pattern",
    "pagination", "listing_depth", "politeness", "options", "images", "archive", "expect_articles",
    "feed_index", "feed_link_pattern", "requisites",
}  # fmt: skip
# A feed index's links that are feeds, by default: a path with an "rss" segment or ending ".rss" / "/rss.xml".
DEFAULT_FEED_LINK_PATTERN = r"(?:^|/)rss(?:/|\.xml$|$)|\.rss$"
_RUN_KEYS = {"run_budget"}  # settings of a run, not of a source: in 'defaults' only
_POLITENESS_KEYS = {"concurrency", "delay", "respect_robots", "timeout", "host_budget"}
_KEY_RE = re.compile(r"[a-z][a-z0-9_-]{0,39}")  # used with fullmatch: "s1\n" is not a key


@dataclass(frozen=True, slots=True)
class Politeness:
    concurrency: int = 2  # requests in flight per host
    delay: float = 1.0  # minimum seconds between two requests to one host
    respect_robots: bool = True
    timeout: float = 30.0
    host_budget: float = HOST_BUDGET  # seconds one host may take in a run before it is deferred to the next


@dataclass(frozen=True, slots=True)
class SourceConfig:
    key: str
    name: str
    adapter: str
    hosts: tuple[str, ...]  # host keys (see crawler.net.urls.host_key); the first is the primary host
    base_url: str
    start_pages: tuple[str, ...]  # absolute URLs
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    # Regexes with a group "id", tried in order; the first that matches decides (see article_id).
    article_url_patterns: tuple[str, ...]
    pagination: str  # "query:p" (?p=N), "path:p" (/p/N) or "none" (not known: first pages only)
    listing_depth: int
    politeness: Politeness
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # ``--origin``: hosts served from another origin, and the host keys of those origins (aliases
    # of ours: a mirror page links to the mirror's own address).
    origins: Origins = NO_ORIGINS
    aliases: tuple[str, ...] = ()
    images: bool = False  # archive the images of each article (crawler.crawl.images)
    requisites: bool = False  # archive each page's stylesheets, fonts and images (crawler.crawl.requisites)
    # Per pattern of ``article_url_patterns``: the shape of its ids and their prefix
    # (crawler.net.urls.ID_SHAPES); empty: every pattern gives plain decimal ids.
    article_id_shapes: tuple[tuple[str, str], ...] = ()
    # A frozen archive (``archive: true``): a site that no longer publishes.  A crawl does not
    # expect it to grow, so "fetched nothing" is no alarm for it (crawler.crawl.stats).
    archive: bool = False
    # A run whose start pages answer but list no article of the source (a parked domain, a redesign) ends
    # with exit 4; false by default for a frozen archive (``archive: true``), which lists nothing new.
    expect_articles: bool = True
    # Pages that list the site's feeds (Huế's human site map /so-do-website): each run reads them, and
    # their links on the source's hosts whose path (?query) matches ``feed_link_pattern`` are read as feeds.
    feed_index: tuple[str, ...] = ()
    feed_link_pattern: str = DEFAULT_FEED_LINK_PATTERN

    def covers(self, url: str) -> bool:
        return _covers(self.hosts, self.aliases, url)

    def real_url(self, url: str) -> str:
        """``url`` with a mirror origin mapped back to the real host (see :mod:`crawler.net.origins`)."""
        return self.origins.real(url) if self.aliases else url

    def __reduce__(self) -> tuple[object, tuple[dict[str, Any]]]:
        # Picklable for extraction worker processes (a mappingproxy is not).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["options"] = dict(self.options)
        values["origins"] = (dict(self.origins.wire), dict(self.origins.back))
        return _source_from_fields, (values,)

    @property
    def article_url_pattern(self) -> str:
        """The patterns for messages (``a`` or ``a | b``); not a regular expression itself."""
        return " | ".join(self.article_url_patterns)

    def article_id(self, url: str) -> str | None:
        """The article id in an article URL of this source, None when the URL is not an article.

        Each pattern of ``article_url_patterns`` is searched in the URL's path, or, when it
        names a query (contains ``\\?``, e.g. ``^/amp\\.aspx\\?newid=(?P<id>[0-9]+)$``), in
        ``path?query``; the first pattern that matches decides.  An id that is not a valid
        article id of the pattern's shape (:func:`~crawler.net.urls.valid_article_id`: decimal by
        default, ASCII digits, no leading zero, at most 18 of them; or ``hex``, lower-cased)
        makes the URL no article URL at all.  A pattern's prefix is put before its ids.
        """
        # Asked several times per URL (the listing, the frontier, the archiving): answered once per
        # URL and rules (a crawl's few thousand recent URLs are kept).
        return _article_id(self.hosts, self.aliases, self.article_url_patterns, self.article_id_shapes, url)

    def with_origins(self, origins: Origins) -> SourceConfig:
        """The same source, with those of its hosts that ``origins`` remaps fetched from there."""
        aliases = tuple(alias for alias, real in origins.back.items() if host_key(real) in self.hosts)
        return replace(self, origins=origins, aliases=aliases)


def _covers(hosts: tuple[str, ...], aliases: tuple[str, ...], url: str) -> bool:
    """:meth:`SourceConfig.covers`, from the fields it depends on."""
    key = host_key(url)  # "" for a URL whose host cannot be told apart from another's
    return bool(key) and (key in hosts or (bool(aliases) and key in aliases))


# A 10k-article crawl meets ~20k URLs: 8,192 were always full (~3 MB more per process); 1,024 keep most repeat asks.
@lru_cache(maxsize=1024)
def _article_id(hosts: tuple[str, ...], aliases: tuple[str, ...], patterns: tuple[str, ...],
                shapes: tuple[tuple[str, str], ...], url: str) -> str | None:
    """:meth:`SourceConfig.article_id`, from the fields it depends on."""
    if not _covers(hosts, aliases, url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path, query = parts.path, parts.query
    for n, (pattern, wants_query) in enumerate(_compiled(patterns)):
        match = pattern.search(f"{path}?{query}" if wants_query else path)
        if match is not None:
            shape, prefix = shapes[n] if n < len(shapes) else ("decimal", "")
            return valid_article_id(match.group("id"), shape, prefix)
    return None


@cache
def _compiled(patterns: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """Compiled article URL patterns, each with whether it is matched against ``path?query``."""
    return tuple((re.compile(p), _names_query(p)) for p in patterns)


def _names_query(pattern: str) -> bool:
    """Whether a pattern matches a literal ``?`` (``\\?`` or ``[?]``): then it sees the query too."""
    return "\\?" in pattern or "[?]" in pattern


def _source_from_fields(values: dict[str, Any]) -> SourceConfig:
    wire, back = values["origins"]
    return SourceConfig(**{**values, "options": MappingProxyType(dict(values["options"])),
                           "origins": Origins(MappingProxyType(wire), MappingProxyType(back))})


@dataclass(frozen=True, slots=True)
class Sources:
    """All configured sources, in file order."""

    sources: tuple[SourceConfig, ...]
    run_budget: float | None = None  # ``defaults: run_budget:`` (seconds); None: the built-in RUN_BUDGET

    @property
    def origins(self) -> Origins:
        """``--origin``: real host -> origin actually connected to (every source carries the same map)."""
        return next((s.origins for s in self.sources if s.origins), NO_ORIGINS)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.sources)

    def __len__(self) -> int:
        return len(self.sources)

    def get(self, key: str) -> SourceConfig:
        for source in self.sources:
            if source.key == key:
                return source
        known = ", ".join(s.key for s in self.sources)
        raise UnknownSourceError(f"no source named {key!r} (known: {known})")

    def for_url(self, url: str) -> SourceConfig:
        host = host_key(url)
        for source in self.sources:
            if host in source.hosts or host in source.aliases:
                return source
        known = ", ".join(h for s in self.sources for h in s.hosts)
        raise UnknownSourceError(f"no configured source covers host {host!r} of {url} (known hosts: {known})")

    def reachable(self) -> Sources:
        """The sources a crawl fetches: all of them; with ``--origin``, only those one of whose hosts it
        remaps (the others would be fetched from the real sites: a crawl pointed at a mirror leaves them
        out, as ``crawler sources --check`` does)."""
        if not self.origins:
            return self
        return replace(self, sources=tuple(s for s in self.sources if s.aliases))

    def only(self, keys: list[str]) -> Sources:
        """The named sources, in the order given (an unknown key is an :class:`UnknownSourceError`)."""
        return replace(self, sources=tuple(self.get(key) for key in keys))

    def with_origins(self, pairs: Mapping[str, str] | list[tuple[str, str]]) -> Sources:
        """Fetch some hosts from other origins (``{"baocantho.com.vn": "http://127.0.0.1:8001"}``).

        URLs keep naming the real hosts; see :mod:`crawler.net.origins`.  A host no source has is a
        :class:`ConfigError`.
        """
        items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
        real = {host: _origin_of(source.base_url, host) for source in self.sources for host in source.hosts}
        for host, _url in items:  # a sub-domain of a source's host (its image host) may be remapped too
            key = host_key(host.strip())
            parent = next((h for h in list(real) if key.endswith("." + h)), None) if key not in real else None
            if parent is not None:
                real[key] = f"{real[parent].split('://', 1)[0]}://{key}"
        origins = Origins.build(items, real)
        return replace(self, sources=tuple(s.with_origins(origins) for s in self.sources))


def _origin_of(base_url: str, host: str) -> str:
    """The real origin of one of a source's hosts: the base URL's scheme with that host."""
    return f"{urlsplit(base_url).scheme}://{host}"


def load_sources(path: Path | None = None) -> Sources:
    """Read and validate a sources file (``./sources.yaml`` or the packaged one when ``path`` is None)."""
    from crawler.config.yaml_file import read_sources_file  # YAML only for a command that reads the file

    path = path or default_sources_path()
    return parse_sources(read_sources_file(path), origin=str(path))


def parse_sources(data: object, *, origin: str = "sources.yaml") -> Sources:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping with a 'sources' key")
    unknown_top = key_names(set(data) - {"defaults", "sources"})
    if unknown_top:
        keys = "key" if len(unknown_top) == 1 else "keys"
        raise ConfigError(f"{origin}: unknown top-level {keys} {unknown_top}", key=unknown_top[0])
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{origin}: 'defaults' must be a mapping", key="defaults")
    unknown_defaults = key_names(set(defaults) - _SOURCE_KEYS - _RUN_KEYS)
    if unknown_defaults:
        known = ", ".join(sorted(_SOURCE_KEYS | _RUN_KEYS))
        raise ConfigError(f"{origin}: unknown setting in 'defaults' (known: {known})",
                          key=f"defaults.{unknown_defaults[0]}")
    run_budget = defaults.get("run_budget")
    if run_budget is not None and budget_problem(run_budget) is not None:
        raise ConfigError(f"{origin}: {budget_problem(run_budget)}, got {run_budget!r}", key="defaults.run_budget")
    defaults = {k: v for k, v in defaults.items() if k not in _RUN_KEYS}
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise ConfigError(f"{origin}: 'sources' must be a non-empty mapping of source key -> settings", key="sources")
    sources = [_parse_source(key, block, defaults) for key, block in raw_sources.items()]
    seen: dict[str, str] = {}
    for source in sources:
        for host in source.hosts:
            if host in seen:
                raise ConfigError(f"host {host!r} is already claimed by source {seen[host]!r}",
                                  source=source.key, key="hosts")
            seen[host] = source.key
    return Sources(tuple(sources), run_budget=None if run_budget is None else float(run_budget))


def _parse_source(key_raw: object, block: object, defaults: Mapping[str, Any]) -> SourceConfig:
    key = str(key_raw)
    if not isinstance(key_raw, str) or not _KEY_RE.fullmatch(key):
        raise ConfigError("a source key is lower-case letters, digits, '-' or '_' (at most 40)", source=key)
    if not isinstance(block, dict):
        raise ConfigError("must be a mapping of settings", source=key)
    unknown = key_names(set(block) - _SOURCE_KEYS)
    if unknown:
        raise ConfigError(f"unknown setting (known: {', '.join(sorted(_SOURCE_KEYS))})", source=key, key=unknown[0])
    merged: dict[str, Any] = {k: v for k, v in defaults.items() if k != "politeness"}
    merged.update(block)

    def need(name: str, kind: type | tuple[type, ...]) -> Any:
        if name not in merged:
            raise ConfigError("is required", source=key, key=name)
        value = merged[name]
        if not isinstance(value, kind):
            kinds = kind if isinstance(kind, tuple) else (kind,)
            raise ConfigError(f"must be {' or '.join(k.__name__ for k in kinds)}, got {type(value).__name__}",
                              source=key, key=name)
        return value

    adapter = need("adapter", str)
    if adapter not in KNOWN_ADAPTERS:
        raise ConfigError(f"unknown adapter {adapter!r} (known: {', '.join(KNOWN_ADAPTERS)})",
                          source=key, key="adapter")
    hosts_raw = need("hosts", list)
    if not hosts_raw or not all(isinstance(h, str) for h in hosts_raw):
        raise ConfigError("must be a non-empty list of host names", source=key, key="hosts")
    for host in hosts_raw:
        problem = host_problem(host)
        if problem is not None:
            raise ConfigError(f"{host!r}: {problem}", source=key, key="hosts")
    hosts = tuple(host_key(h) for h in hosts_raw)
    if "" in hosts:  # host_problem refuses what has no key; this keeps "no empty host key" true regardless
        raise ConfigError(f"{hosts_raw[hosts.index('')]!r}: not a host the crawler can identify", source=key,
                          key="hosts")
    base_url = need("base_url", str)
    problem = http_url_problem(base_url)
    if problem is not None:
        raise ConfigError(f"must be an absolute http(s) URL, got {base_url!r} ({problem})", source=key,
                          key="base_url")
    if host_key(base_url) not in hosts:
        raise ConfigError(f"host of {base_url!r} is not in 'hosts'", source=key, key="base_url")

    def url_list(name: str) -> tuple[str, ...]:
        value = merged.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError("must be a list of URLs or paths", source=key, key=name)
        try:
            urls = tuple(urljoin(base_url, v) for v in value)
        except ValueError as err:
            raise ConfigError(f"invalid URL: {err}", source=key, key=name) from None
        for url in urls:
            problem = http_url_problem(url)
            if problem is not None:
                raise ConfigError(f"{url!r} is not an http(s) URL ({problem})", source=key, key=name)
            if host_key(url) not in hosts:
                raise ConfigError(f"{url!r} is not on one of the source's hosts", source=key, key=name)
        # The canonical form links get (non-ASCII and '|' percent-encoded...): one URL, one form.
        return tuple(absolute(url, url) or url for url in urls)

    patterns, shapes = parse_url_patterns(key, need("article_url_pattern", (str, list)))
    pagination = merged.get("pagination", "query:p")
    if not isinstance(pagination, str) or not re.fullmatch(r"(query|path):[a-z]+|none", pagination):
        raise ConfigError("must be 'query:<name>' (?p=N), 'path:<name>' (/p/N) or 'none' (not known: the first "
                          "page of each listing only)", source=key, key="pagination")
    depth = merged.get("listing_depth", 5)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 1 <= depth <= MAX_LISTING_DEPTH:
        raise ConfigError(f"must be an integer 1..{MAX_LISTING_DEPTH}, got {depth!r}", source=key,
                          key="listing_depth")
    options = merged.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError("must be a mapping", source=key, key="options")
    check_options(key, adapter, options)
    images = merged.get("images", False)
    if not isinstance(images, bool):
        raise ConfigError(f"must be true or false, got {images!r}", source=key, key="images")
    requisites = merged.get("requisites", False)
    if not isinstance(requisites, bool):
        raise ConfigError(f"must be true or false, got {requisites!r}", source=key, key="requisites")
    archive = merged.get("archive", False)
    if not isinstance(archive, bool):
        raise ConfigError(f"must be true or false, got {archive!r}", source=key, key="archive")
    expect_articles = merged.get("expect_articles", not archive)
    if not isinstance(expect_articles, bool):
        raise ConfigError(f"must be true or false, got {expect_articles!r}", source=key, key="expect_articles")
    feed_pattern = merged.get("feed_link_pattern", DEFAULT_FEED_LINK_PATTERN)
    if not isinstance(feed_pattern, str) or not feed_pattern or len(feed_pattern) > 500:
        raise ConfigError("must be a regular expression (a non-empty string)", source=key, key="feed_link_pattern")
    try:
        re.compile(feed_pattern)
    except re.error as err:
        raise ConfigError(f"not a valid regular expression: {err}", source=key, key="feed_link_pattern") from None
    if isinstance(merged.get("feed_index"), str):  # one page: "feed_index: /so-do-website"
        merged = {**merged, "feed_index": [merged["feed_index"]]}
    name = merged.get("name", key)
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or not name.isprintable():
        # It goes into every WARC file's warcinfo record: one printable line.
        raise ConfigError(f"must be one line of printable text (at most 200 characters), got {name!r}", source=key,
                          key="name")
    return SourceConfig(
        key=key,
        name=name,
        adapter=adapter,
        hosts=hosts,
        base_url=base_url,
        start_pages=url_list("start_pages") or (base_url,),
        feeds=url_list("feeds"),
        sitemaps=url_list("sitemaps"),
        article_url_patterns=patterns,
        article_id_shapes=shapes,
        pagination=pagination,
        listing_depth=depth,
        politeness=_parse_politeness(key, defaults.get("politeness"), block.get("politeness")),
        options=MappingProxyType(dict(options)),
        images=images,
        requisites=requisites,
        archive=archive,
        expect_articles=expect_articles,
        feed_index=url_list("feed_index"),
        feed_link_pattern=feed_pattern,
    )


def _parse_politeness(key: str, *layers: object) -> Politeness:
    politeness = Politeness()
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise ConfigError("must be a mapping", source=key, key="politeness")
        unknown = key_names(set(layer) - _POLITENESS_KEYS)
        if unknown:
            raise ConfigError(f"unknown setting (known: {', '.join(sorted(_POLITENESS_KEYS))})",
                              source=key, key=f"politeness.{unknown[0]}")
        for name, value in layer.items():
            problem = politeness_problem(name, value)
            if problem is not None:
                raise ConfigError(f"{problem}, got {value!r}", source=key, key=f"politeness.{name}")
            expected = type(getattr(politeness, name))
            politeness = replace(politeness, **{name: expected(value)})
    return politeness
