"""One ``crawler crawl`` run: lock, signals, progress or log lines, the stats file, the exit code.

Exit codes (also in README.md):

- 0: the run completed, even if some pages failed (they are listed in the stats file);
  also when another run holds the archive's lock (without ``--wait``);
- 1: the run itself failed (archive not writable, disk full, unexpected error);
- 2: bad usage or configuration;
- 3: a source's extraction collapsed: its listings showed articles but none gave a
  complete snapshot (the sign of a site redesign);
- 4: a source fetched nothing: none of its start pages, feeds or sitemaps, or none of the
  articles it tried (the site is down, moved, or blocks us; DNS; no network); the message
  names the source and the reason; never for a frozen archive (``archive: true``).  When no
  host at all can be resolved or connected to, the run ends so within seconds, one line per
  host as soon as it is known (:mod:`crawler.crawl.fetching`);
- 130: stopped by SIGINT/SIGTERM; state is saved and the next run continues.

When several apply, the first in this order wins: 1, 130, 3, 4.

A host whose time budget ran out (or the run's) does not change the exit code: its work waits
for the next run; one line on stderr says so, even with ``--quiet`` (a site slower than the cron
period is something to know), and the stats file lists it under ``out_of_time``.
"""

from __future__ import annotations

import json
import logging
import resource
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from crawler.archive import jsonlines
from crawler.archive.catalog import atomic_write
from crawler.archive.lock import ArchiveBusy
from crawler.archive.warc import WARC_GZIP_LEVEL
from crawler.config import Sources
from crawler.crawl import Crawl, CrawlOptions, EventKind, Listener, SourceStats
from crawler.crawl.archiver import Archive
from crawler.errors import CrawlerError
from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import Fetcher
from crawler.terminal import printable, raw

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

EXIT_OK, EXIT_FAILED, EXIT_COLLAPSED, EXIT_UNREACHABLE, EXIT_INTERRUPTED = 0, 1, 3, 4, 130
EXCHANGE_TIMEOUT = 300.0  # seconds one exchange may take in all (--exchange-timeout)
NOTHING_REACHABLE_LINE = ("no host could be reached (every one failed to resolve or connect at the first "
                          "attempt): is the network up? The run ended without waiting for retries")
SHOWN_FAILURES = 5  # failed URLs printed per source at the end (all are in the stats file)
log = logging.getLogger("crawler")


@dataclass(frozen=True, slots=True)
class RunSettings:
    archive: Path
    wait: bool = False
    quiet: bool = False
    log_json: bool = False
    progress: bool | None = None  # None: when stderr is a terminal
    timeout: float = 30.0
    exchange_timeout: float = EXCHANGE_TIMEOUT
    warc_size: int = 1_000_000_000
    gzip_level: int = WARC_GZIP_LEVEL


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname.lower(),
                "message": record.getMessage()}
        data.update(getattr(record, "fields", {}))
        return jsonlines.dumps(data)  # one log record per line


def setup_logging(*, quiet: bool, log_json: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_json else logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("crawler")
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING if quiet else logging.INFO)
    root.propagate = False


class Reporter:
    """Turns crawl events into a rich progress display (terminal) or log lines (cron, pipes).

    One bar per source counts its *articles*: done (archived, unchanged or failed) of those
    discovered so far, with the failures, pages per second and the time left shown beside it.
    """

    def __init__(self, sources: Sources, *, progress: bool, quiet: bool) -> None:
        self.quiet = quiet
        self.progress: Progress | None = None
        self.tasks: dict[str, TaskID] = {}
        self.totals: dict[str, int] = {}
        self.failed: dict[str, int] = {}
        if progress and not quiet:
            # rich only for the bars: a crawl without them (cron, --no-progress, --quiet) does not import it
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description:<12} articles"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed[/red]"), TextColumn("{task.fields[listings]} pages"),
                TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(), TimeElapsedColumn(), transient=False,
                console=Console(file=raw(sys.stdout)))  # rich's own escape sequences: not through printable()
            for source in sources:
                self.tasks[source.key] = self.progress.add_task(source.key, total=0, failed=0, listings=0, rate="")
                self.totals[source.key] = 0
                self.failed[source.key] = 0

    def __call__(self, kind: EventKind, source: str, url: str) -> None:
        if kind == "unreachable":  # a host given up at once (no such name, or no host reachable): said now
            message = f"{source}: {url}" if source else url
            if self.progress is not None:  # rich prints it above the bars
                print(f"crawler: {printable(message)}", file=sys.stderr)
            else:
                log.warning("%s", message, extra={"fields": {"event": "unreachable-host", "source": source}})
            return
        if self.progress is not None:
            task = self.tasks[source]
            if kind == "discovered":
                self.totals[source] += 1
                self.progress.update(task, total=self.totals[source])
            elif kind == "listing":
                listings = self.progress.tasks[task].fields["listings"] + 1
                self.progress.update(task, listings=listings)
            elif kind in ("archived", "failed", "revisit"):
                if kind == "failed":
                    self.failed[source] += 1
                speed = self.progress.tasks[task].speed
                self.progress.update(task, advance=1, failed=self.failed[source],
                                     rate=f"{speed:.0f} pages/s" if speed else "")
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


@dataclass(slots=True)
class RunResult:
    """What a run came to: its figures, its exit code, and the stats file written."""

    stats: dict[str, SourceStats] = field(default_factory=dict)
    error: str | None = None
    interrupted: bool = False
    code: int = EXIT_OK
    stats_path: Path | None = None
    collapsed: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)
    out_of_time: dict[str, list[str]] = field(default_factory=dict)  # source -> hosts whose time budget ran out
    nothing_reachable: bool = False  # no host could be resolved or connected to: the run ended at once


def run_crawl(archive: Archive, sources: Sources, options: CrawlOptions, settings: RunSettings,
              listener: Listener | None = None, *, watch_signals: bool = True) -> RunResult:
    """One crawl run in a locked, recovered archive; writes ``runs/<UTC time>.json`` (also for the demo)."""
    started = datetime.now(UTC)
    clock = time.monotonic()
    result = RunResult()

    async def main() -> None:
        policy = FetchPolicy(timeout=settings.timeout, total_timeout=settings.exchange_timeout)
        async with Fetcher(policy, origins=sources.origins) as fetcher:
            crawl = Crawl(sources, archive, fetcher, options, listener=listener)
            result.stats = crawl.stats
            try:
                async with trio.open_nursery() as nursery:
                    if watch_signals:
                        nursery.start_soon(_watch_signals, crawl, nursery.cancel_scope)
                    await crawl.run()
                    nursery.cancel_scope.cancel()
            finally:
                result.interrupted = crawl.interrupted
                result.nothing_reachable = crawl.fetching is not None and crawl.fetching.nothing_reachable

    try:
        trio.run(main)
    except BaseExceptionGroup as group:
        crawler_errors = group.subgroup(lambda e: isinstance(e, CrawlerError))
        if crawler_errors is None:
            raise
        result.error = "; ".join(dict.fromkeys(str(e) for e in _leaves(crawler_errors)))
    except CrawlerError as err:
        result.error = str(err)
    elapsed = time.monotonic() - clock
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    result.collapsed = [s.source for s in result.stats.values() if s.collapsed]
    # A frozen archive (``archive: true``) is not expected to answer with anything new: no alarm for it.
    result.unreachable = {s.source: why for s in result.stats.values()
                          if not s.archive and (why := s.unreachable) is not None}
    result.out_of_time = {s.source: sorted(s.out_of_time) for s in result.stats.values() if s.out_of_time}
    result.code = (EXIT_FAILED if result.error else EXIT_INTERRUPTED if result.interrupted
                   else EXIT_COLLAPSED if result.collapsed else EXIT_UNREACHABLE if result.unreachable else EXIT_OK)
    record = {
        "started": started.isoformat(), "finished": datetime.now(UTC).isoformat(), "seconds": round(elapsed, 3),
        "exit_code": result.code, "error": result.error, "interrupted": result.interrupted,
        "collapsed": result.collapsed, "unreachable": result.unreachable, "out_of_time": result.out_of_time,
        "options": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(options).items()},
        "sources": {key: s.as_dict() for key, s in result.stats.items()},
        "recovered": [f"{item.path}: {item.what}" for item in archive.recovered],
        # CPU seconds since this process started (its own, and its archive workers' once they ended).
        "cpu": {"crawl_user": own.ru_utime, "crawl_system": own.ru_stime, "workers_user": workers.ru_utime,
                "workers_system": workers.ru_stime},
    }
    stats_path = settings.archive / "runs" / f"{started.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    try:
        atomic_write(stats_path, json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n")
        result.stats_path = stats_path
    except OSError as err:
        print(f"crawler: cannot write the run's stats file {stats_path}: {err.strerror or err}", file=sys.stderr)
    return result


def _locked_run(archive: Archive, sources: Sources, options: CrawlOptions, settings: RunSettings) -> int:
    progress = sys.stderr.isatty() if settings.progress is None else settings.progress
    reporter = Reporter(sources, progress=progress, quiet=settings.quiet)
    with reporter.live():
        result = run_crawl(archive, sources, options, settings, reporter)
    report(result, settings)
    return result.code


def report(result: RunResult, settings: RunSettings) -> None:
    """Summary lines, problems and failed URLs, on stdout/stderr (or as JSON log lines)."""
    stats, code = result.stats, result.code
    where = f" (all of them in {result.stats_path})" if result.stats_path else ""
    if settings.log_json:
        # One JSON line per source and one per problem, on stderr with the other log lines.
        for source_stats in stats.values():
            _emit(logging.INFO, source_stats.summary(), {"event": "summary", **source_stats.as_dict(),
                                                           "failures": len(source_stats.failures)})
        if result.error:
            _emit(logging.ERROR, f"the run failed: {result.error}", {"event": "run-failed"})
        if result.interrupted:
            _emit(logging.WARNING, "stopped by a signal; state saved", {"event": "interrupted"})
        for key in result.collapsed:
            _emit(logging.ERROR, f"extraction collapsed for {key}", {"event": "collapsed", "source": key})
        for key, why in result.unreachable.items():
            _emit(logging.ERROR, f"{key} fetched nothing: {why}", {"event": "unreachable", "source": key})
        if result.nothing_reachable:
            _emit(logging.ERROR, NOTHING_REACHABLE_LINE, {"event": "nothing-reachable"})
        for key, line in _out_of_time_lines(result):
            _emit(logging.WARNING, line, {"event": "out-of-time", "source": key, "hosts": result.out_of_time[key]})
        return
    if not settings.quiet or code != EXIT_OK:
        out = sys.stderr if settings.quiet else sys.stdout
        for source_stats in stats.values():
            print(source_stats.summary(), file=out)
            failures = list(source_stats.failures.items())
            for url, why in failures[:SHOWN_FAILURES]:
                print(f"  failed: {printable(url)}: {printable(why)}", file=out)
            if len(failures) > SHOWN_FAILURES:
                print(f"  … and {len(failures) - SHOWN_FAILURES} more failed URLs{where}", file=out)
    if result.error:
        print(f"crawler: the run failed: {result.error}", file=sys.stderr)
    if result.interrupted:
        print("crawler: stopped by a signal; state saved, the next run continues", file=sys.stderr)
    for key in result.collapsed:
        print(f"crawler: extraction collapsed for {key}: its pages gave no complete snapshot "
              f"(has the site changed its templates?)", file=sys.stderr)
    for key, why in result.unreachable.items():
        if not result.nothing_reachable:  # each host was named as it failed; the next line says the rest
            print(f"crawler: {key} fetched nothing: {why}", file=sys.stderr)
    if result.nothing_reachable:
        print(f"crawler: {NOTHING_REACHABLE_LINE}", file=sys.stderr)
    for key, line in _out_of_time_lines(result):
        if key not in result.unreachable:  # that line named the budget already
            print(f"crawler: {line}", file=sys.stderr)


def _out_of_time_lines(result: RunResult) -> list[tuple[str, str]]:
    """One line per source with hosts whose time budget ran out: which, why, and that the work waits."""
    lines = []
    for key, hosts in result.out_of_time.items():
        stats = result.stats[key]
        why = "; ".join(f"{host}: {stats.deferred.get(host, 'time budget ran out')}" for host in hosts)
        lines.append((key, f"{key}: deferred to the next run, its unfetched pages kept ({why})"))
    return lines


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
