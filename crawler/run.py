"""One ``crawler crawl`` run: lock, signals, progress or log lines, the stats file, the exit code.

Exit codes (also in README.md):

- 0: the run completed, even if some pages failed (they are listed in the stats file);
  also when another run holds the archive's lock (without ``--wait``);
- 1: the run itself failed (archive not writable, disk full, unexpected error);
- 2: bad usage or configuration;
- 3: a source's extraction collapsed: its listings showed articles but none gave a
  complete snapshot (the sign of a site redesign);
- 130: stopped by SIGINT/SIGTERM; state is saved and the next run continues.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import trio
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from crawler.archiver import Archive
from crawler.config import Sources
from crawler.crawl import Crawl, CrawlOptions, EventKind, SourceStats
from crawler.errors import CrawlerError
from crawler.fetcher import Fetcher, FetchPolicy
from crawler.lock import ArchiveBusy
from crawler.store import atomic_write

EXIT_OK, EXIT_FAILED, EXIT_COLLAPSED, EXIT_INTERRUPTED = 0, 1, 3, 130
log = logging.getLogger("crawler")


@dataclass(frozen=True, slots=True)
class RunSettings:
    archive: Path
    wait: bool = False
    quiet: bool = False
    log_json: bool = False
    progress: bool | None = None  # None: when stderr is a terminal
    timeout: float = 30.0
    warc_size: int = 1_000_000_000
    gzip_level: int = 6


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname.lower(),
                "message": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        return json.dumps(data, ensure_ascii=False)


def setup_logging(*, quiet: bool, log_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("crawler")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


class Reporter:
    """Turns crawl events into a rich progress display (terminal) or log lines (cron, pipes)."""

    def __init__(self, sources: Sources, *, progress: bool, quiet: bool) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}
        if progress and not quiet:

            self.progress = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[note]}"), TimeElapsedColumn(), transient=False)
            for source in sources:
                self.tasks[source.key] = self.progress.add_task(source.key, total=0, note="")
                self.totals[source.key] = 0

    def __call__(self, kind: EventKind, source: str, url: str) -> None:
        if self.progress is not None:
            task = self.tasks[source]
            if kind == "discovered":
                self.totals[source] += 1
                self.progress.update(task, total=self.totals[source])
            elif kind in ("archived", "failed", "revisit"):
                self.progress.advance(task)
            return
        if kind in ("archived", "revisit"):
            log.info("%s %s %s", kind, source, url, extra={"fields": {"event": kind, "source": source, "url": url}})
        elif kind == "failed":
            log.warning("failed %s %s", source, url, extra={"fields": {"event": kind, "source": source, "url": url}})

    @contextmanager
    def live(self) -> Iterator[None]:
        if self.progress is None:
            yield
            return
        with self.progress:
            yield


def crawl_command(sources: Sources, options: CrawlOptions, settings: RunSettings) -> int:
    setup_logging(quiet=settings.quiet, log_json=settings.log_json)
    try:
        archive = Archive(settings.archive, sources, warc_size=settings.warc_size, gzip_level=settings.gzip_level,
                          wait=settings.wait)
    except ArchiveBusy as err:
        print(f"crawler: {err}; not starting a second run (use --wait to queue)", file=sys.stderr)
        return EXIT_OK
    with archive:
        for item in archive.recovered:
            log.warning("recovery: %s: %s", item.path, item.what)
        return _locked_run(archive, sources, options, settings)


def _locked_run(archive: Archive, sources: Sources, options: CrawlOptions, settings: RunSettings) -> int:
    started = datetime.now(UTC)
    clock = time.monotonic()
    progress = sys.stderr.isatty() if settings.progress is None else settings.progress
    reporter = Reporter(sources, progress=progress, quiet=settings.quiet)
    stats: dict[str, SourceStats] = {}
    error: str | None = None
    interrupted = False

    async def main() -> None:
        nonlocal stats, interrupted
        async with Fetcher(FetchPolicy(timeout=settings.timeout), origins=sources.origins) as fetcher:
            crawl = Crawl(sources, archive, fetcher, options, listener=reporter)
            stats = crawl.stats
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_watch_signals, crawl, nursery.cancel_scope)
                await crawl.run()
                nursery.cancel_scope.cancel()
            interrupted = crawl.interrupted

    try:
        with reporter.live():
            trio.run(main)
    except BaseExceptionGroup as group:
        crawler_errors = group.subgroup(lambda e: isinstance(e, CrawlerError))
        if crawler_errors is None:
            raise
        error = "; ".join(str(e) for e in _leaves(crawler_errors))
    except CrawlerError as err:
        error = str(err)
    elapsed = time.monotonic() - clock
    collapsed = [s.source for s in stats.values() if s.collapsed]
    code = EXIT_FAILED if error else EXIT_INTERRUPTED if interrupted else EXIT_COLLAPSED if collapsed else EXIT_OK
    record = {
        "started": started.isoformat(), "finished": datetime.now(UTC).isoformat(), "seconds": round(elapsed, 3),
        "exit_code": code, "error": error, "interrupted": interrupted, "collapsed": collapsed,
        "options": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(options).items()},
        "sources": {key: s.as_dict() for key, s in stats.items()},
        "recovered": [f"{item.path}: {item.what}" for item in archive.recovered],
    }
    stats_path = settings.archive / "runs" / f"{started.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    try:
        atomic_write(stats_path, json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
    except OSError as err:
        print(f"crawler: cannot write the run's stats file {stats_path}: {err}", file=sys.stderr)
    if settings.log_json:
        # One JSON line per source and one per problem, on stderr with the other log lines.
        for source_stats in stats.values():
            _emit(logging.INFO, source_stats.summary(), {"event": "summary", **source_stats.as_dict(),
                                                           "failures": len(source_stats.failures)})
        if error:
            _emit(logging.ERROR, f"the run failed: {error}", {"event": "run-failed"})
        if interrupted:
            _emit(logging.WARNING, "stopped by a signal; state saved", {"event": "interrupted"})
        for key in collapsed:
            _emit(logging.ERROR, f"extraction collapsed for {key}", {"event": "collapsed", "source": key})
        return code
    if not settings.quiet or code != EXIT_OK:
        for source_stats in stats.values():
            print(source_stats.summary(), file=sys.stderr if settings.quiet else sys.stdout)
    if error:
        print(f"crawler: the run failed: {error}", file=sys.stderr)
    if interrupted:
        print("crawler: stopped by a signal; state saved, the next run continues", file=sys.stderr)
    for key in collapsed:
        print(f"crawler: extraction collapsed for {key}: its pages gave no complete snapshot "
              f"(has the site changed its templates?)", file=sys.stderr)
    return code


def _emit(level: int, message: str, fields: dict[str, object]) -> None:
    # Summaries and problems are logged at WARNING or above so that --quiet still shows problems.
    log.log(max(level, logging.WARNING) if fields.get("event") != "summary" else level, message,
            extra={"fields": fields})


async def _watch_signals(crawl: Crawl, scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.warning("received %s: finishing in-flight fetches", signal.Signals(signum).name)
            crawl.stop()


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
