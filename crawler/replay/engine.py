"""The unit of work of replay and export: one WARC file (or a byte range of one) -> its extraction results.

In the flow ``WARC files ─▶ replay_engine.replay_file ─▶ replay_job (map, then reduce)
─▶ outputs``, :func:`replay_file` is a pure function of a :class:`FileTask` and a
:class:`ReplayConfig`: no global state, no output files, nothing shared between calls
(each call builds its own adapters), so it runs the same in the calling process, in a
process pool or on a Dask worker.  It returns a :class:`FileResult`: one
:class:`ArticleRow` per article response (WARC order), counts (response records,
records skipped per unrelated host, templates, rules), extraction failures and bad
records.  Versions (``<id>.v2.txt``) are decided later, across files, by the reduce
step of :mod:`crawler.replay.job`.

``crawler export`` (reading the catalog) can call it with the byte range of a record
(``FileTask(path, start=offset, end=offset + 1)``) or of a whole file.

Which source a record belongs to: its URL's host; for URLs on no configured host (the
offline mirror's ``127.0.0.1:PORT`` in older WARCs) the file's warcinfo
``x-crawler-source``, then the file name prefix ``<source>-…``, then the one
``--source`` given.  Records of hosts no source covers are skipped on their WARC header
alone: their payload is never decompressed beyond the WARC member, never parsed.

With the file's CDXJ index (``<archive>/indexes/<file>.cdxj`` beside ``<archive>/warc/``, or an
``indexes/`` directory beside the file: :func:`index_of`), a whole-file task jumps over stretches
of such records (and of those ``--host``/``--source`` leave out) without reading them at all: the
index line names the record's URL, and a line with an HTTP status that is no revisit is a response
record.  A stretch shorter than :data:`~crawler.replay.index_spans.READ_THROUGH_BYTES` is read
through (cheaper than starting to read again after it).  Every other record is read where it is,
as without an index; the part of the file past the last indexed record (appended after indexing)
is read record by record.  An index that names bytes the file does not hold is not used.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from crawler.archive import jsonlines
from crawler.archive.snapshots import SAFE_ID
from crawler.config import SourceConfig, Sources
from crawler.errors import UnknownSourceError
from crawler.models import Article, ExtractionFailure
from crawler.net.urls import host_key
from crawler.parse.adapters import Adapter, get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import render_snapshot
from crawler.replay.collection import (
    MAX_BLOCK_BYTES,
    MAX_DECODED_BYTES,
    BadRecord,
    Engine,
    Record,
    RecordHead,
    ResponseTooLarge,
    read_records,
    to_response,
    warcinfo_fields,
)
from crawler.replay.index_spans import index_entries, index_of, spans_to_read

__all__ = ["ArticleRow", "FileResult", "FileTask", "ReplayConfig", "replay_file", "source_for"]


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """What every task of one replay job shares (picklable: sent to pool and Dask workers)."""

    sources: Sources
    source_key: str | None = None  # source of records on no configured host (``--source`` given once)
    only_sources: frozenset[str] = frozenset()  # keep only these sources (``--source``)
    only_hosts: frozenset[str] = frozenset()  # keep only these host keys (``--host``)
    engine: Engine = "auto"
    max_block: int = MAX_BLOCK_BYTES
    max_decoded: int = MAX_DECODED_BYTES

    def fingerprint(self) -> str:
        """Identifies what the results depend on (a resumed job must not mix two configurations)."""
        from crawler import EXTRACTOR_VERSION, __version__

        text = repr((self.sources, self.source_key, sorted(self.only_sources), sorted(self.only_hosts),
                     self.max_block, self.max_decoded, EXTRACTOR_VERSION, __version__))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class FileTask:
    """One WARC file, or the records starting in ``[start, end)`` of it."""

    path: str
    start: int = 0
    end: int | None = None

    @property
    def key(self) -> str:
        """A stable name for this task's intermediate files."""
        text = f"{Path(self.path).resolve()}|{self.start}|{self.end}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class ArticleRow:
    """One article extracted from one response record.

    ``order`` places it among all records of the job: (normalised WARC-Date, file path,
    offset, sequence number in the file); versions of an article follow that order.
    ``json_head`` is its JSONL/Parquet row serialised without the closing brace, so that the
    reduce only appends ``"version"`` (:meth:`json_line`): serialising runs in the map, in parallel.
    """

    source: str
    article_id: str
    published: datetime
    text: str
    sha256: str
    order: tuple[str, str, int, int]
    json_head: str

    @property
    def month(self) -> str:
        return f"{self.published.year:04d}-{self.published.month:02d}"

    def json_line(self, version: int) -> str:
        """The row as one JSON line (with its newline), ``version`` last."""
        return f'{self.json_head}, "version": {version}}}\n'

    def __reduce__(self) -> tuple[type[ArticleRow], tuple[Any, ...]]:
        # A plain tuple pickles several times faster than a slotted dataclass's state.
        return ArticleRow, (self.source, self.article_id, self.published, self.text, self.sha256, self.order,
                            self.json_head)


@dataclass(slots=True)
class FileResult:
    """What :func:`replay_file` found in one task."""

    task: FileTask
    rows: list[ArticleRow] = field(default_factory=list)
    records: int = 0  # HTTP response records read (other record types are skipped unread)
    articles: int = 0
    not_article: int = 0  # responses of a source that are not article pages (URL pattern, or not HTTP 200)
    skipped_hosts: Counter[str] = field(default_factory=Counter)  # responses of hosts no source covers
    filtered: int = 0  # responses left out by --source / --host
    host_hits: Counter[str] = field(default_factory=Counter)  # responses of each --host host (before --source)
    failures: list[str] = field(default_factory=list)  # extraction failures ("url: no field (reason)")
    problems: list[BadRecord] = field(default_factory=list)
    templates: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    bytes: int = 0  # size of the part of the file read


def source_for(sources: Sources, url: str, path: Path, fallback: str | None,
               info: dict[str, str]) -> SourceConfig | None:
    """The source of a URL: its host, else warcinfo ``x-crawler-source``, the file name prefix, ``fallback``."""
    try:
        return sources.for_url(url)
    except UnknownSourceError:
        pass
    for key in (info.get("x-crawler-source"), path.name.split("-", 1)[0], fallback):
        if key:
            try:
                return sources.get(key)
            except UnknownSourceError:
                continue
    return None


def bind_host(source: SourceConfig, url: str) -> SourceConfig:
    """A source whose hosts include the URL's host (records from a mirror run on another port)."""
    key = host_key(url)
    if not key or source.covers(url):  # "": a host that cannot be told apart from another's is never bound
        return source
    return replace(source, hosts=(*source.hosts, key))


_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$")


def order_date(value: str) -> str:
    """A WARC-Date that sorts right whatever its precision (1.0 has seconds, 1.1 up to nanoseconds)."""
    match = _DATE.match(value.strip())
    if match is None:
        return "~" + value  # unparsable: after every parsable date, in text order
    year, month, day, hour, minute, second, fraction = match.groups()
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}.{(fraction or '').ljust(9, '0')}Z"


class _Sources:
    """Per-task source resolution and adapters (built per call: no state survives a task)."""

    def __init__(self, config: ReplayConfig, path: Path, info: dict[str, str]) -> None:
        self.config = config
        # The host -> source map, and the one fallback source of this file (warcinfo, file name,
        # --source), are known before the first record: no exception per unknown host.
        self._hosts: dict[str, SourceConfig] = {}
        for source in config.sources:
            for host in source.hosts:
                self._hosts.setdefault(host, source)  # the first source naming a host has it, as Sources.for_url
        self._fallback: SourceConfig | None = None
        for key in (info.get("x-crawler-source"), path.name.split("-", 1)[0], config.source_key):
            if key:
                try:
                    self._fallback = config.sources.get(key)
                    break
                except UnknownSourceError:
                    continue
        self._by_host: dict[str, SourceConfig | None] = {}
        self._adapters: dict[tuple[str, tuple[str, ...]], Adapter] = {}

    def for_url(self, url: str, host: str) -> SourceConfig | None:
        try:
            return self._by_host[host]
        except KeyError:
            pass
        source = self._hosts.get(host, self._fallback)
        bound = self._by_host[host] = bind_host(source, url) if source is not None else None
        return bound

    def adapter(self, source: SourceConfig) -> Adapter:
        key = (source.key, source.hosts)
        adapter = self._adapters.get(key)
        if adapter is None:
            adapter = self._adapters[key] = get_adapter(source)
        return adapter


def _warcinfo(path: Path, config: ReplayConfig) -> dict[str, str]:
    """Fields of the file's first record when it is a warcinfo record (read even for a byte range)."""
    for item in read_records(path, end=1, engine=config.engine,
                             want=lambda head: head.rec_type == "warcinfo", max_block=1 << 20):
        if isinstance(item, Record):
            return warcinfo_fields(item)
    return {}


_RESPONSES = frozenset({"response"})
_UNSEEN = object()  # a record want() has not decided on yet
MAX_PROBLEMS_PER_FILE = 10_000  # a file that is mostly garbage is summed up past this, not listed


def replay_file(task: FileTask, config: ReplayConfig) -> FileResult:
    """Extract every article response of one WARC file (or byte range) with today's adapters.

    Never raises for bad data: unreadable stretches, records too large, bodies that
    decode past the cap and article ids unfit for a file name become ``problems``; pages
    the adapter rejects become ``failures``.  An unreadable *file* (missing, no
    permission) raises :class:`OSError`.
    """
    path = Path(task.path)
    result = FileResult(task)
    resolver = _Sources(config, path, _warcinfo(path, config))
    # want() may see a record twice (the Python reader re-reads what FastWARC had read before
    # handing over), so decisions are kept per record and counted once.
    decided: dict[tuple[int, str, str], object] = {}

    def want(head: RecordHead) -> bool:
        # Called on the WARC header alone: everything decided here costs no decompression.
        key = (head.offset, head.record_id or "", head.url)
        decision = decided.get(key, _UNSEEN)
        if decision is _UNSEEN:
            decided[key] = decision = _decide(head, config, resolver, result)
        return decision is not None

    sequence = unlisted = 0
    spans = _indexed_spans(path, config, resolver, result) if task.start == 0 and task.end is None else None
    if spans is None:
        spans = [(task.start, task.end)]
    items = (item for start, end in spans
             for item in read_records(path, want=want, start=start, end=end, max_block=config.max_block,
                                      engine=config.engine, types=_RESPONSES))
    for item in items:
        sequence += 1
        if isinstance(item, BadRecord):
            if len(result.problems) < MAX_PROBLEMS_PER_FILE:
                result.problems.append(item)
            else:
                unlisted += 1
            continue
        decision = decided.get((item.head.offset, item.head.record_id or "", item.head.url))
        if isinstance(decision, tuple):
            _extract(item, decision[0], path, sequence, resolver, result)
    if unlisted:
        result.problems.append(BadRecord(str(path), result.problems[-1].offset,
                                         f"{unlisted} more bad records after this one, not listed"))
    result.bytes = (task.end if task.end is not None else path.stat().st_size) - task.start
    return result


def _indexed_spans(path: Path, config: ReplayConfig, resolver: _Sources,
                   result: FileResult) -> list[tuple[int, int | None]] | None:
    """Byte ranges of ``path`` to read (:func:`~crawler.replay.index_spans.spans_to_read`), the records jumped
    over unread counted in ``result`` as reading them would count them; None (read the whole file) without a
    usable index."""
    index = index_of(path)
    entries = None if index is None else index_entries(path, index)
    if entries is None:
        return None
    scratch = FileResult(result.task)
    spans, jumped = spans_to_read(entries, path.stat().st_size,
                                  lambda url: _decide(_index_head(0, url), config, resolver, scratch) is None)
    for url in jumped:
        _decide(_index_head(0, url), config, resolver, result)
    return spans


def _index_head(offset: int, url: str) -> RecordHead:
    return RecordHead(offset, "", (("WARC-Type", "response"), ("WARC-Target-URI", url)), 0, "response", url)


def _decide(head: RecordHead, config: ReplayConfig, resolver: _Sources,
            result: FileResult) -> tuple[SourceConfig, str] | None:
    """(source, article id) of a record worth reading, or None (counted under the reason)."""
    url = head.url
    if head.rec_type != "response" or not url.startswith(("http:", "https:")):  # is_http_response, inline
        return None
    result.records += 1
    host = host_key(url)
    if host in config.only_hosts:
        result.host_hits[host] += 1
    source = resolver.for_url(url, host)
    if source is None:
        result.skipped_hosts[host or "(no host)"] += 1
        return None
    if (config.only_sources and source.key not in config.only_sources) or (
        config.only_hosts and host not in config.only_hosts
    ):
        result.filtered += 1
        return None
    article_id = source.article_id(head.url)
    if article_id is None:
        result.not_article += 1
        return None
    return source, article_id


def _extract(record: Record, source: SourceConfig, path: Path, sequence: int, resolver: _Sources,
             result: FileResult) -> None:
    name = str(path)
    try:
        response = to_response(record, path.name, limit=resolver.config.max_decoded)
    except ResponseTooLarge as exc:
        result.problems.append(BadRecord(name, record.head.offset, f"response body too large: {exc}"))
        return
    if response.status != 200:
        result.not_article += 1
        return
    try:
        parsed = parse_response(resolver.adapter(source), response.content, response.header("content-type"),
                                response.url)
        text = render_snapshot(parsed) if isinstance(parsed, Article) else ""
    except Exception as exc:  # a page an adapter cannot take costs its record, not the file
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        result.problems.append(BadRecord(name, record.head.offset,
                                         f"extracting {response.url} raised {reason[:300]}"))
        return
    if isinstance(parsed, ExtractionFailure):
        result.failures.append(str(parsed))
        return
    if not SAFE_ID.fullmatch(parsed.article_id) or not SAFE_ID.fullmatch(parsed.source):
        result.problems.append(BadRecord(name, record.head.offset,
                                         f"article id {parsed.article_id[:80]!r} of {response.url} "
                                         "cannot be a file name"))
        return
    result.articles += 1
    result.templates[str(parsed.rules.get("template", "unknown"))] += 1
    for field_name, rule in parsed.rules.items():
        if field_name != "template":
            result.rules[f"{field_name}={rule}"] += 1
    order = (order_date(response.date), str(path), record.head.offset, sequence)
    result.rows.append(ArticleRow(
        source=parsed.source,
        article_id=parsed.article_id,
        published=parsed.published,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        order=order,
        json_head=jsonlines.dumps(_json_record(parsed, text, response.filename, response.offset,
                                               response.date))[:-1],
    ))


def _json_record(article: Article, text: str, filename: str, offset: int, date: str) -> dict[str, Any]:
    return {
        "url": article.url,
        "source": article.source,
        "article_id": article.article_id,
        "published": article.published.isoformat(),
        "title": article.title,
        "text": text,
        "canonical_url": article.canonical_url,
        "breadcrumb": list(article.breadcrumb),
        "category_slugs": list(article.category_slugs),
        "kicker": article.kicker,
        "sapo": article.sapo,
        "byline": article.byline,
        "images": [{"url": i.url, "caption": i.caption} for i in article.images],
        "rules": dict(article.rules),
        "warc_file": filename,
        "warc_offset": offset,
        "warc_date": date,
    }

