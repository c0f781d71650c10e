"""Checking one value of sources.yaml: part of :mod:`crawler.config`.

Owns the checks of single settings, each naming what is wrong: hosts and URLs (also the command
line's, :mod:`crawler.cli.argtypes`), CSS selectors and the adapters' ``options:``, politeness values
and time budgets (with the bounds the command line's flags share), and ``article_url_pattern``
entries with the shape of their ids.  The records and the loading are :mod:`crawler.config`'s.
"""

from __future__ import annotations

import ipaddress
import math
import re
import warnings
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.errors import ConfigError
from crawler.net.politeness import MAX_DELAY
from crawler.net.urls import ID_PREFIX, ID_SHAPES, host_key

if TYPE_CHECKING:
    from selectolax.lexbor import LexborHTMLParser

# Bounds shared by sources.yaml and the command line's flags.
MAX_HOST_CONCURRENCY = 64  # requests in flight per host (each one is a task per host of the source)
MAX_TIMEOUT = 3600.0  # seconds per request
MAX_BUDGET = 86400.0  # seconds: the longest time budget of a run or of one host in it (crawler.crawl.fetching)


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
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST_RE = re.compile(rf"(?P<host>{_LABEL}(?:\.{_LABEL})*\.?|\[(?P<ip6>[0-9a-f:.]+)\])(?::(?P<port>[0-9]{{1,5}}))?")


def key_names(keys: Iterable[object]) -> list[str]:
    """Sorted display names of mapping keys of any type (YAML keys can be numbers, null, ...)."""
    return sorted(str(k) for k in keys)


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
@cache
def _probe() -> LexborHTMLParser:
    """A page to try selectors on (lexbor imported only for a sources file that sets selectors)."""
    from selectolax.lexbor import LexborHTMLParser

    return LexborHTMLParser("<p></p>")


def _check_selectors(key: str, option: str, value: object) -> None:
    """A list of CSS selectors that lexbor can parse (``h1[`` would fail on the first page, not here)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"must be a list of CSS selectors, got {value!r}", source=key, key=option)
    for selector in [*value, ", ".join(value)] if value else []:
        try:
            _probe().css(selector)
        except Exception:  # selectolax raises its own SelectolaxError (a ValueError subclass in some versions)
            raise ConfigError(f"invalid CSS selector {selector!r}", source=key, key=option) from None


# The article fields whose CSS selectors a source may set (``options.selectors.<field>``); the
# adapters' built-in selectors (e.g. ``crawler.parse.adapters.vdoc.DEFAULT_SELECTORS``) use the same names.
SELECTOR_FIELDS = ("breadcrumb", "date", "title", "kicker", "sapo", "body", "byline")


def check_options(key: str, adapter: str, options: dict[Any, Any]) -> None:
    """Each option the adapter reads, with the type it reads it as; unknown options are typos."""
    known = _ADAPTER_OPTIONS[adapter]
    unknown = key_names(set(options) - known)
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
        fields_unknown = key_names(set(selectors) - set(SELECTOR_FIELDS))
        if fields_unknown:
            raise ConfigError(f"unknown field (known: {', '.join(SELECTOR_FIELDS)})", source=key,
                              key=f"options.selectors.{fields_unknown[0]}")
        for name, value in selectors.items():
            _check_selectors(key, f"options.selectors.{name}", value)


def politeness_problem(name: str, value: object) -> str | None:
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
        return budget_problem(value)
    return None if 0 < value <= MAX_TIMEOUT else f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds"


def budget_problem(value: object) -> str | None:
    """Why ``value`` is no time budget (seconds, more than 0, at most :data:`MAX_BUDGET`), or None."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return "must be a number of seconds"
    return None if 0 < value <= MAX_BUDGET else f"must be more than 0 and at most {MAX_BUDGET:g} seconds"


def parse_url_patterns(key: str, value: str | list[Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
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
            unknown = key_names(set(entry) - {"pattern", "id", "prefix"})
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
