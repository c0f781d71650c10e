"""One error tree for the whole package.

::

    CrawlerError
     ├── ConfigError            sources.yaml is wrong (names the source and the key)
     ├── UnknownSourceError     no configured source covers a URL or host
     ├── FetchError
     │    ├── TransientFetchError   worth retrying: connect errors, timeouts, 5xx, 429
     │    └── PermanentFetchError   not worth retrying: 4xx, too large, bad redirect
     ├── ArchiveError           the archive (WARC, snapshot files, catalog) cannot be written or read
     │    └── StorageError      the storage under it failed (disk full, read-only, permissions): ends a run
     └── MirrorError            the offline mirror cannot start or serve

Expected outcomes ("not an article", "already archived") are values, not exceptions:
see :class:`crawler.models.ExtractionFailure`.
"""

from __future__ import annotations


class CrawlerError(Exception):
    """Base of every error this package raises on purpose."""


MAX_MESSAGE = 600  # characters of a configuration error's message


class ConfigError(CrawlerError):
    """A configuration file is invalid; the message names the source and the key."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        where = ""
        if source is not None:
            where = f"source {source!r}"
            if key is not None:
                where += f", key {key!r}"
        elif key is not None:
            where = f"key {key!r}"
        if len(message) > MAX_MESSAGE:  # a value quoted from the file can be huge: never print all of it
            message = f"{message[:MAX_MESSAGE // 2]} … ({len(message):,} characters) … {message[-MAX_MESSAGE // 4:]}"
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.key = key


class UnknownSourceError(CrawlerError):
    """No source in sources.yaml covers this URL."""


class FetchError(CrawlerError):
    """A fetch did not produce a usable response."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        self.reason = without_url(message, url)  # what went wrong, the URL not repeated in it
        super().__init__(f"{url}: {self.reason}")
        self.url = url
        self.status = status


class TransientFetchError(FetchError):
    """Worth retrying later: connection errors, timeouts, HTTP 5xx and 429."""

    def __init__(
        self, message: str, *, url: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_after = retry_after


class PermanentFetchError(FetchError):
    """Retrying will not help: HTTP 4xx (except 429), oversized bodies, bad redirects."""


class ArchiveError(CrawlerError):
    """The archive cannot be written or read."""


class StorageError(ArchiveError):
    """The file system or database under the archive failed: disk full, read-only, permission denied.

    Unlike a problem with one page, this ends a crawl (nothing more could be stored); the message
    names the path and the cause.
    """

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path

    @classmethod
    def from_os(cls, err: OSError, action: str, path: object) -> StorageError:
        where = getattr(err, "filename", None) or path
        return cls(f"cannot {action} {where}: {err.strerror or err}", path=str(where))


class MirrorError(CrawlerError):
    """The offline mirror cannot start or serve."""


def without_url(reason: str, url: str) -> str:
    """``reason`` without the ``URL: `` labels it carries for ``url``: the one rule for a failure's reason.

    A fetch error's text starts with its URL, and every layer that wraps it (a retry, a feed or
    sitemap label, an extraction failure) may add the URL again; where the reason is shown or stored
    beside its URL (the crawl's failure lines, the run's stats file, the catalog's ``last_error``
    that ``crawler failed`` prints) it says the URL once, and the reason once.
    """
    label = f"{url}: "
    while label in reason:
        reason = reason.replace(label, "")
    return reason.strip() or reason


class Failures(dict[str, str]):
    """URL -> why it failed, each reason stored :func:`without_url` (the URL is the key)."""

    def __setitem__(self, url: str, why: str) -> None:
        super().__setitem__(url, without_url(why, url))


def describe_exception(exc: BaseException) -> str:
    """A reason that always names something: ``exc``'s message, or its class when the message is empty.

    An empty wrapper (``httpx2.ConnectError("")`` around the real ``OSError``) is described by
    the first exception in its cause chain that has a message, after the wrapper's class name.
    """
    if isinstance(exc, OSError) and exc.errno is not None and not str(exc.strerror or "").strip():
        return f"{type(exc).__name__} (errno {exc.errno})"  # str() would be "[Errno 111] "
    message = str(exc).strip()
    if message:
        return message
    seen: set[int] = {id(exc)}
    inner = exc.__cause__ or exc.__context__
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        text = str(inner).strip()
        if text:
            return f"{type(exc).__name__}: {type(inner).__name__}: {text}"
        inner = inner.__cause__ or inner.__context__
    return type(exc).__name__


def internal_error(exc: BaseException) -> str:
    """``internal error: TypeError: message``, or ``internal error: TypeError`` for an empty message (never a
    dangling colon): the reason recorded for a bug met while archiving one page."""
    message = describe_exception(exc)
    name = type(exc).__name__
    return f"internal error: {name}" if message == name else f"internal error: {name}: {message}"

