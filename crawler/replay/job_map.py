"""The map of a replay job: each input replayed and spilled, in this process, a process pool or on Dask.

Part of :mod:`crawler.replay.job` (step 1, "Map", of its docstring): :func:`map_task` replays one
input (:func:`~crawler.replay.engine.replay_file`) and writes its rows to a spill file, bucketed by
article; :func:`run_map` runs the pending tasks where the options say, restarting a broken pool
(workers watch their parent, so that killing the client ends them) or reporting a failed Dask task
with its input.
"""

from __future__ import annotations

import importlib
import os
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from crawler.errors import ArchiveError
from crawler.replay.engine import ArticleRow, FileTask, ReplayConfig, replay_file
from crawler.replay.job_options import BUCKETS, JobOptions, JobSummary, ScaleExtraMissing
from crawler.replay.manifest import SPILL, spill_name, stat_input
from crawler.replay.spill import file_digest, write_spill

MAX_POOL_RESTARTS = 3
TEST_DELAY_ENV = "CRAWLER_REPLAY_TEST_DELAY"  # seconds a map task sleeps first: lets tests kill mid-job


def bucket_of(source: str, article_id: str, buckets: int) -> int:
    return zlib.crc32(f"{source}/{article_id}".encode()) % buckets


def map_task(task: FileTask, config: ReplayConfig, spill_dir: str, buckets: int) -> dict[str, Any]:
    """Replay one input and spill its rows; returns its manifest entry.  Runs wherever the engine puts it."""
    delay = os.environ.get(TEST_DELAY_ENV)
    if delay:
        time.sleep(float(delay))
    path = Path(task.path)
    try:
        size, mtime = stat_input(path)
        digest = file_digest(path, task.start, task.end)
        result = replay_file(task, config)
    except OSError as exc:
        return {"key": task.key, "path": task.path, "error": f"cannot read {task.path}: {exc.strerror or exc}"}
    except Exception as exc:  # a bug met on one input: reported with it; the input is tried again next run
        return {"key": task.key, "path": task.path, "error": f"replay of {task.path} failed: {exc!r}"}
    split: list[list[ArticleRow]] = [[] for _ in range(buckets)]
    for row in result.rows:
        split[bucket_of(row.source, row.article_id, buckets)].append(row)
    spill = spill_name(task.key)
    spill_digest = write_spill(Path(spill_dir) / spill, split)  # ArchiveError (disk full) ends the job
    return {
        "key": task.key, "path": task.path, "start": task.start, "end": task.end,
        "size": size, "mtime_ns": mtime, "sha256": digest, "spill": spill, "spill_sha256": spill_digest,
        "host_hits": dict(result.host_hits),
        "counts": {"records": result.records, "articles": result.articles,
                   "not_article": result.not_article, "filtered": result.filtered, "bytes": result.bytes},
        "skipped_hosts": dict(result.skipped_hosts), "templates": dict(result.templates),
        "rules": dict(result.rules), "failures": result.failures,
        "problems": [{"file": p.file, "offset": p.offset, "reason": p.reason} for p in result.problems],
    }


def _watch_parent() -> None:
    """Pool initializer: exit when the process that started the pool is gone (the client was killed)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run_local(tasks: list[FileTask], config: ReplayConfig, spill_dir: str, summary: JobSummary,
               processes: int) -> Iterator[dict[str, Any]]:
    if processes <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield map_task(task, config, spill_dir, BUCKETS)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # Spawned (not forked: the client may run a progress thread), as direct children of the client,
    # so that each can see it die (see _watch_parent).
    context = multiprocessing.get_context("spawn")
    left = list(tasks)
    while left:
        pool = ProcessPoolExecutor(max_workers=min(processes, len(left)), mp_context=context,
                                   initializer=_watch_parent)
        futures: dict[Future[dict[str, Any]], FileTask] = {
            pool.submit(map_task, task, config, spill_dir, BUCKETS): task for task in left
        }
        broken = False
        try:
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    task = futures.pop(future)
                    try:
                        entry = future.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    left.remove(task)
                    yield entry
                if broken:
                    break
        finally:
            pool.shutdown(wait=not broken, cancel_futures=True)
        if broken:
            summary.pool_restarts += 1
            if summary.pool_restarts > MAX_POOL_RESTARTS:
                raise ArchiveError(f"replay worker processes died {summary.pool_restarts} times; "
                                   "rerun the same command to resume")


def _run_dask(tasks: list[FileTask], config: ReplayConfig, spill_dir: str, address: str,
              processes: int) -> Iterator[dict[str, Any]]:
    try:
        # Typed as Any: the extra may be absent, and its stubs are partial.
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise ScaleExtraMissing("--dask needs the 'scale' extra: pip install 'crawler[scale]'") from None
    Client, as_completed = distributed.Client, distributed.as_completed
    cluster = None
    if address == "local":
        cluster = distributed.LocalCluster(n_workers=max(1, processes), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout=30)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ArchiveError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    try:
        futures = [client.submit(map_task, task, config, spill_dir, BUCKETS, pure=False) for task in tasks]
        by_future = dict(zip(futures, tasks, strict=True))
        for future in as_completed(futures):
            task = by_future[future]
            try:
                yield future.result()
            except Exception as exc:  # KilledWorker, or an error raised in the task
                yield {"key": task.key, "path": task.path, "error": f"task failed on the cluster: {exc!r}"}
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_map(pending: list[FileTask], config: ReplayConfig, state: Path, options: JobOptions,
         summary: JobSummary) -> Iterator[dict[str, Any]]:
    spill_dir = str((state / SPILL).resolve())
    (state / SPILL).mkdir(parents=True, exist_ok=True)
    if not pending:
        return iter(())
    if options.dask is not None:
        return _run_dask(pending, config, spill_dir, options.dask, options.processes)
    return _run_local(pending, config, spill_dir, summary, options.processes)
