"""The CPU half of archiving an article: adapter -> snapshot text -> snapshot files.

Given a response body that is already recorded in a WARC file, :class:`Extraction`
parses it with the source's adapter, renders the snapshot (FORMAT.md), hashes it and
writes the ``.txt`` / ``.json`` files; the catalog row is left to the caller
(:meth:`crawler.store.Store.commit`), which owns the database.  No network, database or
trio here, so the crawl can run it in worker processes (:mod:`crawler.workers`) and use
another core while its own process fetches and writes WARC records.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from crawler.adapters import Adapter, get_adapter
from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, WarcLocation
from crawler.normalize import choose_charset, decode_html, render_snapshot
from crawler.store import WrittenSnapshot, write_snapshot

WORKER_DIED = "worker"  # ExtractionFailure.field when the process parsing the page died


def parse_response(adapter: Adapter, content: bytes, content_type: str | None, url: str) -> Article | ExtractionFailure:
    """Run the adapter on a response body, decoded per its header charset, meta tag or detection.

    UTF-8 bodies are handed over as bytes (the HTML parser reads them natively); others as text.
    """
    if choose_charset(content, content_type) == "utf-8":
        return adapter.parse_article(content, url)
    return adapter.parse_article(decode_html(content, content_type), url)


@dataclass(frozen=True, slots=True)
class ExtractJob:
    """One recorded 200 response of an article URL, and what the catalog knows of the article."""

    source: str  # source key
    url: str  # the final URL (after redirects)
    content: bytes  # decoded body
    content_type: str | None
    location: WarcLocation  # its response record
    fetched_at: datetime
    expected_id: str  # the article id the caller looked ``latest`` up for (from the URL)
    latest: tuple[int, str, str] | None  # Store.latest(source, expected_id)
    extra_host: str | None = None  # a host outside the source the URL redirected to


@dataclass(frozen=True, slots=True)
class Extracted:
    """What became of an :class:`ExtractJob`: exactly one of the three fields is set.

    ``pending`` is set when the page names another article id than ``expected_id``: the
    files were not written, since ``latest`` was looked up for the wrong article; the
    caller stores ``(article, text)`` itself.
    """

    failure: ExtractionFailure | None = None
    written: WrittenSnapshot | None = None
    pending: tuple[Article, str] | None = None
    published: datetime | None = None


class Extraction:
    """Adapters for a set of sources, and the archive directory snapshot files go to."""

    def __init__(self, root: Path, sources: Iterable[SourceConfig]) -> None:
        self.root = root
        self.sources = {source.key: source for source in sources}
        self._adapters: dict[tuple[str, str | None], Adapter] = {}

    def adapter(self, key: str, extra_host: str | None = None) -> Adapter:
        adapter = self._adapters.get((key, extra_host))
        if adapter is None:
            source = self.sources[key]
            if extra_host is not None:
                source = replace(source, hosts=(*source.hosts, extra_host))
            adapter = self._adapters[(key, extra_host)] = get_adapter(source)
        return adapter

    def run(self, job: ExtractJob) -> Extracted:
        parsed = parse_response(self.adapter(job.source, job.extra_host), job.content, job.content_type, job.url)
        if isinstance(parsed, ExtractionFailure):
            return Extracted(failure=parsed)
        text = render_snapshot(parsed)
        if parsed.article_id != job.expected_id:
            return Extracted(pending=(parsed, text), published=parsed.published)
        written = write_snapshot(self.root, parsed, text, job.location, job.fetched_at, job.latest)
        return Extracted(written=written, published=parsed.published)


# -- in a worker process ---------------------------------------------------------------------------

_WORKER: Extraction | None = None


def init_worker(root: Path, sources: tuple[SourceConfig, ...], parent: int) -> None:
    """Process-pool initializer: the worker's adapters and archive directory, and a parent watch.

    A pool's workers outlive a crawl process killed with ``kill -9`` (they wait on a queue
    they hold both ends of), so each one exits as soon as its parent ``parent`` is gone.
    """
    global _WORKER
    _WORKER = Extraction(root, sources)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int, interval: float = 0.2) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(0)  # orphaned: files already renamed stay (start-up recovery adopts them), nothing else to do


def run_in_worker(job: ExtractJob) -> Extracted:
    if _WORKER is None:
        raise RuntimeError("extraction worker not initialised")
    return _WORKER.run(job)
