"""Where the crawl runs :class:`~crawler.extraction.Extraction`: in its own process, or in worker processes.

On loopback or a fast link the crawl is CPU-bound in one process: fetching, WARC
compression, parsing and writing snapshot files all share one core.  With
:class:`ProcessExtractor` the parsing and the snapshot files move to worker processes
(a ``spawn`` process pool: no fork of a process that runs threads), so a second core
works while the crawl process fetches and writes WARC records.  The crawl process still
writes every WARC record before the job is sent and the catalog row after the files are
written, so the order recovery relies on (WARC, files, row) holds.

A worker that dies (a crash in the HTML parser on a hostile page, the OOM killer) fails
only the article it was parsing: the pool is started again for the next one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Protocol

import trio

from crawler.config import SourceConfig
from crawler.extraction import WORKER_DIED, Extracted, Extraction, ExtractJob, init_worker, run_in_worker
from crawler.models import ExtractionFailure

log = logging.getLogger("crawler.workers")

MAX_WORKERS = 8


class Extractor(Protocol):
    """Runs extraction jobs; ``parallelism`` says how many are worth keeping in flight."""

    parallelism: int

    async def extract(self, job: ExtractJob) -> Extracted: ...

    def close(self) -> None: ...


class InlineExtractor:
    """Extraction in the calling process, one job at a time."""

    parallelism = 1

    def __init__(self, root: Path, sources: tuple[SourceConfig, ...]) -> None:
        self._extraction = Extraction(root, sources)

    async def extract(self, job: ExtractJob) -> Extracted:
        return self._extraction.run(job)

    def close(self) -> None:
        pass


class ProcessExtractor:
    """Extraction in ``processes`` worker processes (started on first use)."""

    def __init__(self, root: Path, sources: tuple[SourceConfig, ...], processes: int, *,
                 target: Callable[[ExtractJob], Extracted] = run_in_worker) -> None:
        """``target`` runs a job in a worker (a module-level function; tests inject failures)."""
        if not 1 <= processes <= MAX_WORKERS:
            raise ValueError(f"worker processes must be 1..{MAX_WORKERS}, not {processes}")
        self.root = root
        self.sources = sources
        self.processes = processes
        self.target = target
        # Two jobs per worker keep it busy while the crawl process handles the other's result.
        self.parallelism = 2 * processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker, initargs=(self.root, self.sources, os.getpid()),
            )
        return self._pool

    async def extract(self, job: ExtractJob) -> Extracted:
        token = trio.lowlevel.current_trio_token()
        done = trio.Event()

        def wake(_future: Future[Extracted]) -> None:
            token.run_sync_soon(done.set)  # called from the pool's thread (or at once, if already done)

        future = self._executor().submit(self.target, job)
        future.add_done_callback(wake)
        # Shielded: the job finishes within milliseconds, and its files must get their catalog row
        # (the caller commits it) rather than be left for start-up recovery.
        with trio.CancelScope(shield=True):
            await done.wait()
        try:
            return future.result()
        except BrokenProcessPool as err:
            log.error("an extraction worker died while parsing %s (%s); starting new workers", job.url, err)
            self._restart()
            return Extracted(failure=ExtractionFailure(job.source, job.url, WORKER_DIED,
                                                       f"the extraction worker process died ({err})"))

    def _restart(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)


def auto_workers(delays: list[float]) -> int:
    """Worker processes for ``--workers auto``: one when politeness lets the crawl be CPU-bound.

    With a delay of a second per host the crawl process idles: a worker would only cost memory.
    With (almost) no delay, parsing on a second core roughly doubles throughput.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus < 2 or not delays or min(delays) >= 0.1:
        return 0
    return 1


def make_extractor(root: Path, sources: tuple[SourceConfig, ...], processes: int) -> Extractor:
    if processes == 0:
        return InlineExtractor(root, sources)
    return ProcessExtractor(root, sources, processes)
