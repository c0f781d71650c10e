"""Value types for the command line's options: each checks its range, so that a bad value is a usage
error (the subcommand's usage and one line, exit 2) before any work starts, never a traceback or a
hang later.  Used by :mod:`crawler.cli` as argparse ``type=`` functions.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crawler.config.checks import MAX_BUDGET, MAX_HOST_CONCURRENCY, MAX_TIMEOUT, http_url_problem
from crawler.net.politeness import MAX_DELAY
from crawler.parse.snapshot_format import VN_TZ

_DAY = timedelta(days=1)

__all__ = ["MAX_ARTICLES", "MAX_BUDGET", "MAX_CONCURRENCY", "MAX_DELAY", "MAX_HOST_CONCURRENCY", "MAX_MIRROR_ARTICLES",
           "MAX_TIMEOUT", "MAX_WARC_SIZE", "MIN_WARC_SIZE", "archive_dir", "budget", "byte_size", "concurrency",
           "date", "delay", "host_concurrency", "http_url", "integer", "max_articles", "mirror_articles", "port",
           "seconds", "timeout", "until", "workers"]

MIN_WARC_SIZE = 1 << 20  # 1 MiB: smaller files would hold a record or two each
MAX_WARC_SIZE = 1 << 40
MAX_CONCURRENCY = 1000  # requests in flight in all
MAX_ARTICLES = 10_000_000  # --max-articles
MAX_MIRROR_ARTICLES = 100_000  # generated articles per source (the mirror builds them in memory)

_SIZE = re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>|[kmgt]i?b?|b)", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12,
          "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30, "ti": 1 << 40}


def _fail(message: str) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(message)


def integer(low: int, high: int) -> Callable[[str], int]:
    """An integer in ``low..high``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise _fail(f"expected an integer {low}..{high}, got {text!r}") from None
        if not low <= value <= high:
            raise _fail(f"must be {low}..{high}, got {text}")
        return value

    return parse


def seconds(*, zero: bool, high: float) -> Callable[[str], float]:
    """A finite number of seconds, at most ``high``; 0 only when ``zero``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise _fail(f"expected a number of seconds, got {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero) or value > high:
            allowed = f"0..{high:g}" if zero else f"more than 0 and at most {high:g}"
            raise _fail(f"must be {allowed} seconds, got {text}")
        return value

    return parse


def fraction(text: str) -> float:
    """A number above 0 and at most 1 (a similarity threshold)."""
    try:
        value = float(text)
    except ValueError:
        raise _fail(f"not a number: {text!r}") from None
    if not 0.0 < value <= 1.0:  # NaN fails this too
        raise _fail(f"must be above 0 and at most 1: {text!r}")
    return value


def byte_size(text: str) -> int:
    """Bytes, with an optional unit: ``50000000``, ``500M``/``500MB`` (10^6), ``512MiB`` (2^20), ``1G``."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise _fail(f"expected a size in bytes such as 1000000000, 500M or 512MiB, got {text!r}")
    unit = match.group("unit").lower().removesuffix("b")
    value = int(float(match.group("n")) * _UNITS[unit])
    if not MIN_WARC_SIZE <= value <= MAX_WARC_SIZE:
        raise _fail(f"must be at least 1 MiB ({MIN_WARC_SIZE} bytes) and at most 1 TiB, got {text}")
    return value


def http_url(text: str) -> str:
    """An absolute http(s) URL with a valid host."""
    problem = http_url_problem(text)
    if problem is not None:
        raise _fail(f"not an http(s) URL: {text!r} ({problem})")
    return text


def date(text: str) -> datetime:
    """``YYYY-MM-DD`` or ISO 8601; without a zone, Vietnamese time."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"not a date (YYYY-MM-DD or ISO 8601): {text!r}") from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)
    try:  # compared in Vietnamese time and in UTC; --until adds up to a day
        for moment in (parsed - _DAY, parsed + _DAY):
            moment.astimezone(VN_TZ).astimezone(UTC)
    except OverflowError:
        raise _fail(f"date out of range (years 0002..9998): {text!r}") from None
    return parsed


def workers(text: str) -> int | None:
    """``auto`` (None) or a number of extraction processes."""
    from crawler.crawl.worker_pool import MAX_WORKERS

    if text == "auto":
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_WORKERS:
        raise _fail(f"expected auto or a number of processes 0..{MAX_WORKERS}, got {text!r}")
    return int(text)


def archive_dir(text: str) -> Path:
    """A directory, or a path where one can be made (not an existing file)."""
    if not text.strip():
        raise _fail("an empty path (it would mean the current directory)")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise _fail(f"{text} exists and is not a directory")
    return path


def port(text: str) -> int:
    return integer(1, 65535)(text)


timeout = seconds(zero=False, high=MAX_TIMEOUT)
budget = seconds(zero=False, high=MAX_BUDGET)
delay = seconds(zero=True, high=MAX_DELAY)
host_concurrency = integer(1, MAX_HOST_CONCURRENCY)
concurrency = integer(1, MAX_CONCURRENCY)
max_articles = integer(1, MAX_ARTICLES)
mirror_articles = integer(1, MAX_MIRROR_ARTICLES)


def until(text: str) -> datetime:
    """``--until``: the end of a day (``YYYY-MM-DD``: up to and including that day) or an ISO 8601 time
    (up to and including that second); returned as the first moment excluded."""
    parsed = date(text)
    return parsed + (_DAY if len(text.strip()) == 10 else timedelta(seconds=1))
