"""sources.yaml -> frozen :class:`SourceConfig` records (the only YAML reader).

Precedence, lowest first: built-in defaults < the file's ``defaults:`` block <
a source's own block < command-line flags (applied by the CLI with
:func:`dataclasses.replace`).  Every validation error names the source and key.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import stat
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urljoin, urlsplit

import yaml
from selectolax.lexbor import LexborHTMLParser

from crawler.errors import ConfigError, UnknownSourceError
from crawler.net.origins import NO_ORIGINS, Origins
from crawler.net.politeness import MAX_DELAY
from crawler.net.urls import ID_PREFIX, ID_SHAPES, absolute, host_key, valid_article_id

# The built-in configuration, shipped inside the package (the repository's top-level
# sources.yaml is a symbolic link to it).
MAX_YAML_NODES = 50_000  # values in sources.yaml once aliases are expanded (the shipped one: ~300)
PACKAGED_SOURCES_FILE = Path(__file__).resolve().parent / "data" / "sources.yaml"
MAX_SOURCES_FILE = 1 << 20  # bytes; a sources file is a few KiB

# Bounds shared by sources.yaml and the command line's flags.
MAX_HOST_CONCURRENCY = 64  # requests in flight per host (each one is a task per host of the source)
MAX_TIMEOUT = 3600.0  # seconds per request
MAX_BUDGET = 86400.0  # seconds: the longest time budget of a run or of one host in it (crawler.crawl.fetching)
RUN_BUDGET = 720.0  # a run's time budget by default: 12 minutes, under a 15-minute cron period
HOST_BUDGET = 540.0  # one host's share of it by default (the others go on meanwhile)
MAX_LISTING_DEPTH = 1000


def default_sources_path() -> Path:
    """``./sources.yaml`` when there is one, else the built-in configuration shipped in the package."""
    local = Path("sources.yaml")
    return local if local.is_file() else PACKAGED_SOURCES_FILE


KNOWN_ADAPTERS = ("vdoc", "hue", "mediatech", "onecms", "javaplatform", "bbg", "generic")
# Per-adapter ``options:`` and the type each must have (README "Adding a VDOC-family source").
_ADAPTER_OPTIONS: dict[str, frozenset[str]] = {
    "vdoc": frozenset({"selectors", "drop", "sapo_prefixes"}),
    "hue": frozenset({"sapo_prefixes"}),
    "javaplatform": frozenset(),
    "bbg": frozenset(),
    "generic": frozenset(),
    "mediatech": frozenset({"selectors", "drop", "listing_skip"}),
    "onecms": frozenset({"selectors", "drop", "listing_skip", "header_author_hidden"}),
}

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
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_RE = re.compile(rf"(?P<host>{_LABEL}(?:\.{_LABEL})*\.?|\[(?P<ip6>[0-9a-f:.]+)\])(?::(?P<port>[0-9]{{1,5}}))?")


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
        key = host_key(url)  # "" for a URL whose host cannot be told apart from another's
        return bool(key) and (key in self.hosts or (bool(self.aliases) and key in self.aliases))

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
        if not self.covers(url):
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        path, query = parts.path, parts.query
        shapes = self.article_id_shapes
        for n, (pattern, wants_query) in enumerate(_compiled(self.article_url_patterns)):
            match = pattern.search(f"{path}?{query}" if wants_query else path)
            if match is not None:
                shape, prefix = shapes[n] if n < len(shapes) else ("decimal", "")
                return valid_article_id(match.group("id"), shape, prefix)
        return None

    def with_origins(self, origins: Origins) -> SourceConfig:
        """The same source, with those of its hosts that ``origins`` remaps fetched from there."""
        aliases = tuple(alias for alias, real in origins.back.items() if host_key(real) in self.hosts)
        return replace(self, origins=origins, aliases=aliases)


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


class _DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, line: int, first_line: int) -> None:
        super().__init__(f"duplicate key {key!r} (first at line {first_line})")
        self.line = line


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in one mapping is an error.

    (Plain YAML keeps the last value silently: a source pasted twice would lose its first block.)
    Keys brought in by a ``<<`` merge may be overridden, as YAML intends.
    """

    def compose_document(self) -> yaml.Node | None:
        node: yaml.Node | None = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[object, int] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise _DuplicateKey(key, line, seen[key])
                seen[key] = line
            except TypeError:  # unhashable: the base class reports it
                continue
        return super().construct_mapping(node, deep)


class _TooManyNodes(yaml.YAMLError):
    def __init__(self, line: int) -> None:
        super().__init__(f"more than {MAX_YAML_NODES:,} values, aliases expanded (a sources file has a few hundred)")
        self.line = line


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand to more than MAX_YAML_NODES nodes (billion laughs).

    An alias shares its anchor's node, so the composed document stays small, but everything that
    walks the values (validation, messages that quote one) sees every copy.  The count stops at the
    limit, so this costs at most MAX_YAML_NODES steps, cycles included.
    """
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_YAML_NODES:
            raise _TooManyNodes(node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _yaml_problem(err: yaml.YAMLError, text: str) -> str:
    """A YAML error on one line: ``line L, column C: problem (context)``."""
    if isinstance(err, (_DuplicateKey, _TooManyNodes)):
        return f"line {err.line}: {err}"
    if isinstance(err, yaml.reader.ReaderError):
        line = text.count("\n", 0, err.position) + 1
        return f"line {line}: character {err.character!r} is not allowed in YAML"
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        context = f" ({err.context})" if err.context else ""
        return f"{where}{err.problem or 'invalid'}{context}"
    return " ".join(str(err).split())


def load_sources(path: Path | None = None) -> Sources:
    """Read and validate a sources file (``./sources.yaml`` or the packaged one when ``path`` is None)."""
    path = path or default_sources_path()
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"sources file {path} is not a regular file")
        if info.st_size > MAX_SOURCES_FILE:
            raise ConfigError(f"sources file {path} is larger than {MAX_SOURCES_FILE} bytes")
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read sources file {path}: {err.strerror or err}") from err
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text (byte {raw[err.start]:#04x} at offset "
                          f"{err.start})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {_yaml_problem(err, text)}") from None
    except RecursionError:
        raise ConfigError(f"{path} is not valid YAML: nested too deeply") from None
    return parse_sources(data, origin=str(path))


def _names(keys: Iterable[object]) -> list[str]:
    """Sorted display names of mapping keys of any type (YAML keys can be numbers, null, ...)."""
    return sorted(str(k) for k in keys)


def parse_sources(data: object, *, origin: str = "sources.yaml") -> Sources:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the top level must be a mapping with a 'sources' key")
    unknown_top = _names(set(data) - {"defaults", "sources"})
    if unknown_top:
        raise ConfigError(f"{origin}: unknown top-level key(s) {unknown_top}", key=unknown_top[0])
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{origin}: 'defaults' must be a mapping", key="defaults")
    unknown_defaults = _names(set(defaults) - _SOURCE_KEYS - _RUN_KEYS)
    if unknown_defaults:
        known = ", ".join(sorted(_SOURCE_KEYS | _RUN_KEYS))
        raise ConfigError(f"{origin}: unknown setting in 'defaults' (known: {known})",
                          key=f"defaults.{unknown_defaults[0]}")
    run_budget = defaults.get("run_budget")
    if run_budget is not None and _budget_problem(run_budget) is not None:
        raise ConfigError(f"{origin}: {_budget_problem(run_budget)}, got {run_budget!r}", key="defaults.run_budget")
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


def host_problem(host: str) -> str | None:
    """Why ``host`` (``name[:port]``, ``a.b.c.d[:port]`` or ``[v6][:port]``) is not a host, or None."""
    if host != host.strip() or not host:
        return "empty or surrounded by spaces"
    match = _HOST_RE.fullmatch(host.lower())
    if match is None:
        if host.count(":") > 1 and "[" not in host:
            return "an IPv6 address needs brackets, e.g. [::1]:8080"
        return "not a host name (letters, digits, '-', '.'), an IPv4 address or a bracketed IPv6 address"
    if match.group("ip6") is not None:
        try:
            ipaddress.IPv6Address(match.group("ip6"))
        except ValueError:
            return "not a valid IPv6 address"
    elif len(match.group("host")) > 253:
        return "longer than 253 characters"
    port = match.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        return f"port {port} is not in 1..65535"
    return _identity_problem(host)


def _identity_problem(host: str) -> str | None:
    """Why a well-formed ``host`` still names no host the crawler can tell apart (an empty host key)."""
    name = host.lower()
    if name.startswith("["):
        address = ipaddress.IPv6Address(name[1:].partition("]")[0])
        if address.ipv4_mapped is not None:
            return f"an IPv4-mapped IPv6 address: write the IPv4 address {address.ipv4_mapped} instead"
        return None
    name = name.partition(":")[0]
    if host_key(host):
        return None
    labels = name.removesuffix(".").split(".")
    if all(re.fullmatch(r"[0-9]+|0x[0-9a-f]*", label) for label in labels):
        return "a numeric host that is no dotted-quad IPv4 address (resolvers read it as one): write it as a.b.c.d"
    if re.fullmatch(r"[0-9]+|0x[0-9a-f]*", labels[-1]):
        return "a name whose last label is a number (resolvers read it as an IPv4 address)"
    return "not a host the crawler can identify (see crawler.net.urls.host_key)"


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a valid host (and port), or None."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        return "it contains spaces or control characters"
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:  # bytes that were not UTF-8 on the command line
        return "it is not valid UTF-8 text"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a bad port
    except ValueError as err:
        return str(err)
    if parts.scheme.lower() not in ("http", "https"):
        return "no http:// or https:// scheme"
    if not parts.netloc or not parts.hostname:
        return "no host"
    netloc = parts.netloc.rpartition("@")[2]
    problem = host_problem(netloc)
    return f"host {netloc!r}: {problem}" if problem else None


def _parse_source(key_raw: object, block: object, defaults: Mapping[str, Any]) -> SourceConfig:
    key = str(key_raw)
    if not isinstance(key_raw, str) or not _KEY_RE.fullmatch(key):
        raise ConfigError("a source key is lower-case letters, digits, '-' or '_' (at most 40)", source=key)
    if not isinstance(block, dict):
        raise ConfigError("must be a mapping of settings", source=key)
    unknown = _names(set(block) - _SOURCE_KEYS)
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

    patterns, shapes = _url_patterns(key, need("article_url_pattern", (str, list)))
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
    _check_options(key, adapter, options)
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


_PROBE = LexborHTMLParser("<p></p>")


def _check_selectors(key: str, option: str, value: object) -> None:
    """A list of CSS selectors that lexbor can parse (``h1[`` would fail on the first page, not here)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"must be a list of CSS selectors, got {value!r}", source=key, key=option)
    for selector in [*value, ", ".join(value)] if value else []:
        try:
            _PROBE.css(selector)
        except Exception:  # selectolax raises its own SelectolaxError (a ValueError subclass in some versions)
            raise ConfigError(f"invalid CSS selector {selector!r}", source=key, key=option) from None


# The article fields whose CSS selectors a source may set (``options.selectors.<field>``); the
# adapters' built-in selectors (e.g. ``crawler.parse.adapters.vdoc.DEFAULT_SELECTORS``) use the same names.
SELECTOR_FIELDS = ("breadcrumb", "date", "title", "kicker", "sapo", "body", "byline")


def _check_options(key: str, adapter: str, options: dict[Any, Any]) -> None:
    """Each option the adapter reads, with the type it reads it as; unknown options are typos."""
    known = _ADAPTER_OPTIONS[adapter]
    unknown = _names(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option for adapter {adapter!r} (known: {', '.join(sorted(known))})",
                          source=key, key=f"options.{unknown[0]}")
    prefixes = options.get("sapo_prefixes", [])
    if not isinstance(prefixes, list) or not all(isinstance(p, str) and p.strip() for p in prefixes):
        raise ConfigError(f"must be a list of non-empty strings, got {prefixes!r}", source=key,
                          key="options.sapo_prefixes")
    for name in ("drop", "listing_skip"):
        if name in options:
            _check_selectors(key, f"options.{name}", options[name])
    if not isinstance(options.get("header_author_hidden", False), bool):
        raise ConfigError(f"must be true or false, got {options['header_author_hidden']!r}", source=key,
                          key="options.header_author_hidden")
    if "selectors" in options:
        selectors = options["selectors"]
        if not isinstance(selectors, dict):
            raise ConfigError(f"must be a mapping of field -> list of CSS selectors, got {selectors!r}",
                              source=key, key="options.selectors")
        fields_unknown = _names(set(selectors) - set(SELECTOR_FIELDS))
        if fields_unknown:
            raise ConfigError(f"unknown field (known: {', '.join(SELECTOR_FIELDS)})", source=key,
                              key=f"options.selectors.{fields_unknown[0]}")
        for name, value in selectors.items():
            _check_selectors(key, f"options.selectors.{name}", value)


def _politeness_value(name: str, value: object) -> str | None:
    """Why ``value`` is not valid for politeness setting ``name``, or None."""
    if name == "respect_robots":
        return None if isinstance(value, bool) else "must be true or false"
    if name == "concurrency":
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_HOST_CONCURRENCY
        return None if ok else f"must be an integer 1..{MAX_HOST_CONCURRENCY}"
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "must be a number of seconds"
    if name == "delay":
        return None if 0 <= value <= MAX_DELAY else f"must be 0..{MAX_DELAY:g} seconds"
    if name == "host_budget":
        return _budget_problem(value)
    return None if 0 < value <= MAX_TIMEOUT else f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds"


def _budget_problem(value: object) -> str | None:
    """Why ``value`` is no time budget (seconds, more than 0, at most :data:`MAX_BUDGET`), or None."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "must be a number of seconds"
    return None if 0 < value <= MAX_BUDGET else f"must be more than 0 and at most {MAX_BUDGET:g} seconds"


def _url_patterns(key: str, value: str | list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``article_url_pattern``: one regex or a non-empty list of them, each with a group ``id``.

    An entry may be a mapping ``{pattern: REGEX, id: decimal|hex, prefix: LETTERS}`` (the shape of
    its ids, :data:`crawler.net.urls.ID_SHAPES`).  Two patterns whose ids have different shapes must
    have different prefixes: they are two numberings, and an all-digit hex id would otherwise be
    read as the decimal id of another article.
    """
    entries = [value] if isinstance(value, str) else value
    if not entries:
        raise ConfigError("must be a regular expression or a non-empty list of them", source=key,
                          key="article_url_pattern")
    patterns: list[str] = []
    shapes: list[tuple[str, str]] = []
    for n, entry in enumerate(entries):
        where = "article_url_pattern" if isinstance(value, str) else f"article_url_pattern[{n}]"
        shape, prefix = "decimal", ""
        if isinstance(entry, dict):
            unknown = _names(set(entry) - {"pattern", "id", "prefix"})
            if unknown:
                raise ConfigError("unknown setting (known: id, pattern, prefix)", source=key,
                                  key=f"{where}.{unknown[0]}")
            shape, prefix, entry = entry.get("id", "decimal"), entry.get("prefix", ""), entry.get("pattern")
            if shape not in ID_SHAPES:
                raise ConfigError(f"must be one of {', '.join(ID_SHAPES)}, got {shape!r}", source=key,
                                  key=f"{where}.id")
            if prefix != "" and not (isinstance(prefix, str) and ID_PREFIX.fullmatch(prefix)):
                raise ConfigError(f"must be 1 to 12 lower-case ASCII letters, got {prefix!r}", source=key,
                                  key=f"{where}.prefix")
        if not isinstance(entry, str) or not entry:
            raise ConfigError("must be a regular expression or a non-empty list of them", source=key,
                              key="article_url_pattern")
        try:
            with warnings.catch_warnings():  # "possible nested set" and the like: not for the operator's terminal
                warnings.simplefilter("ignore")
                compiled = re.compile(entry)
        except (re.error, OverflowError, RecursionError) as err:  # OverflowError: a repeat count {99999999999}
            raise ConfigError(f"invalid regular expression: {err}", source=key, key=where) from None
        if "id" not in compiled.groupindex:
            raise ConfigError("needs a named group (?P<id>...) for the article id", source=key, key=where)
        patterns.append(entry)
        shapes.append((shape, prefix))
    by_prefix: dict[str, str] = {}
    for n, (shape, prefix) in enumerate(shapes):
        other = by_prefix.setdefault(prefix, shape)
        if other != shape:
            raise ConfigError(f"{shape} and {other} ids with the same prefix {prefix!r} could collide: give one of "
                              f"the two numberings its own 'prefix'", source=key, key=f"article_url_pattern[{n}]")
    plain = all(shape == ("decimal", "") for shape in shapes)
    return tuple(patterns), () if plain else tuple(shapes)


def _parse_politeness(key: str, *layers: object) -> Politeness:
    politeness = Politeness()
    for layer in layers:
        if layer is None:
            continue
        if not isinstance(layer, dict):
            raise ConfigError("must be a mapping", source=key, key="politeness")
        unknown = _names(set(layer) - _POLITENESS_KEYS)
        if unknown:
            raise ConfigError(f"unknown setting (known: {', '.join(sorted(_POLITENESS_KEYS))})",
                              source=key, key=f"politeness.{unknown[0]}")
        for name, value in layer.items():
            problem = _politeness_value(name, value)
            if problem is not None:
                raise ConfigError(f"{problem}, got {value!r}", source=key, key=f"politeness.{name}")
            expected = type(getattr(politeness, name))
            politeness = replace(politeness, **{name: expected(value)})
    return politeness
