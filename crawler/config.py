"""sources.yaml -> frozen :class:`SourceConfig` records (the only YAML reader).

Precedence, lowest first: built-in defaults < the file's ``defaults:`` block <
a source's own block < command-line flags (applied by the CLI with
:func:`dataclasses.replace`).  Every validation error names the source and key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml

from crawler.errors import ConfigError, UnknownSourceError
from crawler.urls import host_key, valid_article_id

# The repository's sources.yaml (a checkout or an editable install).
REPO_SOURCES_FILE = Path(__file__).resolve().parent.parent / "sources.yaml"


def default_sources_path() -> Path:
    """``./sources.yaml`` when there is one, else the repository's."""
    local = Path("sources.yaml")
    return local if local.is_file() else REPO_SOURCES_FILE

KNOWN_ADAPTERS = ("vdoc", "hue")

_SOURCE_KEYS = {
    "name", "adapter", "hosts", "base_url", "start_pages", "feeds", "sitemaps", "article_url_pattern",
    "pagination", "listing_depth", "politeness", "options",
}  # fmt: skip
_POLITENESS_KEYS = {"concurrency", "delay", "respect_robots", "timeout"}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True, slots=True)
class Politeness:
    concurrency: int = 2  # requests in flight per host
    delay: float = 1.0  # minimum seconds between two requests to one host
    respect_robots: bool = True
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class SourceConfig:
    key: str
    name: str
    adapter: str
    hosts: tuple[str, ...]  # host keys (see crawler.urls.host_key); the first is the primary host
    base_url: str
    start_pages: tuple[str, ...]  # absolute URLs
    feeds: tuple[str, ...]
    sitemaps: tuple[str, ...]
    # Regexes with a group "id", tried in order; the first that matches decides (see article_id).
    article_url_patterns: tuple[str, ...]
    pagination: str  # "query:p" (?p=N) or "path:p" (/p/N)
    listing_depth: int
    politeness: Politeness
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def covers(self, url: str) -> bool:
        return host_key(url) in self.hosts

    def __reduce__(self) -> tuple[object, tuple[dict[str, Any]]]:
        # Picklable for extraction worker processes (a mappingproxy is not).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["options"] = dict(self.options)
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
        article id (:func:`~crawler.urls.valid_article_id`: ASCII digits, no leading zero,
        at most 18 of them) makes the URL no article URL at all.
        """
        if not self.covers(url):
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        path, query = parts.path, parts.query
        for pattern, wants_query in _compiled(self.article_url_patterns):
            match = pattern.search(f"{path}?{query}" if wants_query else path)
            if match is not None:
                return valid_article_id(match.group("id"))
        return None

    def rebased(self, origins: Mapping[str, str]) -> SourceConfig:
        """The same source served from other origins (real host -> ``http://127.0.0.1:PORT``).

        Used for the offline mirror: URLs on a remapped host move to its new origin.
        """

        def move(url: str) -> str:
            new = origins.get(host_key(url))
            if new is None:
                return url
            parts = urlsplit(url)
            return new.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

        hosts = tuple(host_key(origins[h]) if h in origins else h for h in self.hosts)
        return replace(
            self,
            hosts=hosts,
            base_url=move(self.base_url),
            start_pages=tuple(move(u) for u in self.start_pages),
            feeds=tuple(move(u) for u in self.feeds),
            sitemaps=tuple(move(u) for u in self.sitemaps),
        )


@cache
def _compiled(patterns: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], bool], ...]:
    """Compiled article URL patterns, each with whether it is matched against ``path?query``."""
    return tuple((re.compile(p), _names_query(p)) for p in patterns)


def _names_query(pattern: str) -> bool:
    """Whether a pattern matches a literal ``?`` (``\\?`` or ``[?]``): then it sees the query too."""
    return "\\?" in pattern or "[?]" in pattern


def _source_from_fields(values: dict[str, Any]) -> SourceConfig:
    return SourceConfig(**{**values, "options": MappingProxyType(dict(values["options"]))})


@dataclass(frozen=True, slots=True)
class Sources:
    """All configured sources, in file order."""

    sources: tuple[SourceConfig, ...]

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
            if host in source.hosts:
                return source
        known = ", ".join(h for s in self.sources for h in s.hosts)
        raise UnknownSourceError(f"no configured source covers host {host!r} of {url} (known hosts: {known})")

    def rebased(self, origins: Mapping[str, str]) -> Sources:
        return Sources(tuple(s.rebased(origins) for s in self.sources))


def load_sources(path: Path | None = None) -> Sources:
    """Read and validate a sources file (the packaged default when ``path`` is None)."""
    path = path or default_sources_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read sources file {path}: {err.strerror or err}") from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from err
    return parse_sources(data, origin=str(path))


def parse_sources(data: object, *, origin: str = "sources.yaml") -> Sources:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping with a 'sources' key")
    unknown_top = set(data) - {"defaults", "sources"}
    if unknown_top:
        raise ConfigError(f"{origin}: unknown top-level key(s) {sorted(unknown_top)}", key=sorted(unknown_top)[0])
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{origin}: 'defaults' must be a mapping", key="defaults")
    raw_sources = data.get("sources")
    if not isinstance(raw_sources, dict) or not raw_sources:
        raise ConfigError(f"{origin}: 'sources' must be a non-empty mapping of source key -> settings", key="sources")
    sources = [_parse_source(str(key), block, defaults) for key, block in raw_sources.items()]
    seen: dict[str, str] = {}
    for source in sources:
        for host in source.hosts:
            if host in seen:
                raise ConfigError(f"host {host!r} is already claimed by source {seen[host]!r}",
                                  source=source.key, key="hosts")
            seen[host] = source.key
    return Sources(tuple(sources))


def _parse_source(key: str, block: object, defaults: Mapping[str, Any]) -> SourceConfig:
    if not _KEY_RE.match(key):
        raise ConfigError("a source key is lower-case letters, digits, '-' or '_' (at most 40)", source=key)
    if not isinstance(block, dict):
        raise ConfigError("must be a mapping of settings", source=key)
    unknown = set(block) - _SOURCE_KEYS
    if unknown:
        raise ConfigError(f"unknown setting (known: {', '.join(sorted(_SOURCE_KEYS))})", source=key,
                          key=sorted(unknown)[0])
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
    if not hosts_raw or not all(isinstance(h, str) and h.strip() for h in hosts_raw):
        raise ConfigError("must be a non-empty list of host names", source=key, key="hosts")
    hosts = tuple(host_key(h) for h in hosts_raw)
    base_url = need("base_url", str)
    if urlsplit(base_url).scheme not in ("http", "https") or not urlsplit(base_url).netloc:
        raise ConfigError(f"must be an absolute http(s) URL, got {base_url!r}", source=key, key="base_url")
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
            if host_key(url) not in hosts:
                raise ConfigError(f"{url!r} is not on one of the source's hosts", source=key, key=name)
        return urls

    patterns = _url_patterns(key, need("article_url_pattern", (str, list)))
    pagination = merged.get("pagination", "query:p")
    if not isinstance(pagination, str) or not re.fullmatch(r"(query|path):[a-z]+", pagination):
        raise ConfigError("must be 'query:<name>' (?p=N) or 'path:<name>' (/p/N)", source=key, key="pagination")
    depth = merged.get("listing_depth", 5)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
        raise ConfigError("must be a positive integer", source=key, key="listing_depth")
    options = merged.get("options") or {}
    if not isinstance(options, dict):
        raise ConfigError("must be a mapping", source=key, key="options")
    name = merged.get("name", key)
    if not isinstance(name, str):
        raise ConfigError("must be a string", source=key, key="name")
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
        pagination=pagination,
        listing_depth=depth,
        politeness=_parse_politeness(key, defaults.get("politeness"), block.get("politeness")),
        options=MappingProxyType(dict(options)),
    )


def _url_patterns(key: str, value: str | list[Any]) -> tuple[str, ...]:
    """``article_url_pattern``: one regex or a non-empty list of them, each with a group ``id``."""
    patterns = [value] if isinstance(value, str) else value
    if not patterns or not all(isinstance(p, str) and p for p in patterns):
        raise ConfigError("must be a regular expression or a non-empty list of them", source=key,
                          key="article_url_pattern")
    for n, pattern in enumerate(patterns):
        where = "article_url_pattern" if isinstance(value, str) else f"article_url_pattern[{n}]"
        try:
            compiled = re.compile(pattern)
        except re.error as err:
            raise ConfigError(f"invalid regular expression: {err}", source=key, key=where) from err
        if "id" not in compiled.groupindex:
            raise ConfigError("needs a named group (?P<id>...) for the article id", source=key, key=where)
    return tuple(patterns)


def _parse_politeness(key: str, *layers: object) -> Politeness:
    politeness = Politeness()
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise ConfigError("must be a mapping", source=key, key="politeness")
        unknown = set(layer) - _POLITENESS_KEYS
        if unknown:
            raise ConfigError(f"unknown setting (known: {', '.join(sorted(_POLITENESS_KEYS))})",
                              source=key, key=f"politeness.{sorted(unknown)[0]}")
        for name, value in layer.items():
            expected = type(getattr(politeness, name))
            ok = isinstance(value, bool) if expected is bool else (
                isinstance(value, int | float) and not isinstance(value, bool))
            if not ok or (expected is not bool and value < (1 if name == "concurrency" else 0)):
                raise ConfigError(f"invalid value {value!r}", source=key, key=f"politeness.{name}")
            politeness = replace(politeness, **{name: expected(value)})
    return politeness
