"""A replay job over many WARC files: map :func:`~crawler.replay.engine.replay_file`, reduce per article, write.

In the flow ``crawler replay ─▶ replay_job ─▶ (replay_engine per file) ─▶ outputs``:

1. **Map.**  Each input (a :class:`~crawler.replay.engine.FileTask`) is replayed by
   :func:`map_task` in this process (``processes=1``), in a process pool, or on a Dask
   cluster.  The task writes the input's articles to a spill file in the state directory,
   bucketed by article, and returns a small summary, which the client records in the
   manifest (:mod:`crawler.replay.manifest`).  Inputs already recorded are skipped.
2. **Reduce.**  Bucket by bucket, every spill's rows of one article are put in WARC order
   — (WARC-Date, file, offset, sequence) — and a text equal to the article's previous
   version is dropped; the rest are versions 1, 2, …  This depends on the rows only, not
   on which process made them or when, so every way of running gives the same versions.
3. **Write.**  Snapshots go to ``OUT/text/<source>/<YYYY>/<MM>/<id>[.vN].txt`` (one atomic
   file each); JSONL and Parquet are partitioned by source and month
   (``source=<key>/month=<YYYY-MM>/part-0.{jsonl,parquet}``), each partition written
   whole to a temporary file and renamed; a single JSONL stream (``-`` or ``FILE.jsonl``)
   is a merge of the sorted partitions.  Memory holds one bucket or one partition at a
   time, never the collection.

Killing the client or a worker (even ``kill -9``) loses at most the inputs in flight; the
next run redoes them and rewrites the outputs, which are functions of the spills alone.
"""

from __future__ import annotations

import heapq
import importlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from crawler.archive.catalog import atomic_write
from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import replacing, sweep_temporaries
from crawler.archive.snapshots import snapshot_relpath
from crawler.errors import ArchiveError, CrawlerError
from crawler.replay.engine import ArticleRow, FileTask, ReplayConfig, replay_file
from crawler.replay.manifest import SPILL, Manifest, check_directory, spill_name, stat_input
from crawler.replay.spill import (
    SpillDamaged,
    file_digest,
    iter_items,
    read_spill_bucket,
    write_items,
    write_spill,
)

__all__ = ["BUCKETS", "JobOptions", "JobSummary", "Outputs", "ScaleExtraMissing", "cleanup_temporaries", "run_job"]

BUCKETS = 64  # reduce memory ~ articles / BUCKETS
MAX_POOL_RESTARTS = 3
TEST_DELAY_ENV = "CRAWLER_REPLAY_TEST_DELAY"  # seconds a map task sleeps first: lets tests kill mid-job


class ScaleExtraMissing(CrawlerError):
    """An option needs a package of the optional ``scale`` extra."""


@dataclass(frozen=True, slots=True)
class Outputs:
    out: Path | None = None  # snapshot tree
    jsonl: str | None = None  # "-" (stdout), a file, or a directory ("DIR/" or existing: partitioned)
    parquet: Path | None = None  # partitioned Parquet directory

    @property
    def jsonl_dir(self) -> Path | None:
        """``--jsonl`` names a directory (partitioned output) when it ends with ``/`` or is one."""
        if self.jsonl is None or self.jsonl == "-":
            return None
        if self.jsonl.endswith(("/", os.sep)) or Path(self.jsonl).is_dir():
            return Path(self.jsonl)
        return None

    @property
    def jsonl_stream(self) -> str | None:
        return self.jsonl if self.jsonl is not None and self.jsonl_dir is None else None

    def default_state(self) -> Path | None:
        for directory in (self.out, self.parquet, self.jsonl_dir):
            if directory is not None:
                return directory / ".replay"
        if self.jsonl is not None and self.jsonl != "-":
            return Path(self.jsonl + ".replay")
        return None


@dataclass(slots=True)
class JobOptions:
    tasks: list[FileTask]
    outputs: Outputs
    state: Path | None = None  # default: Outputs.default_state(), else a temporary directory
    processes: int = 1
    dask: str | None = None  # "local" or a scheduler address
    progress: bool = False
    stdout: IO[str] | None = None  # where "--jsonl -" goes (default sys.stdout)


@dataclass(slots=True)
class JobSummary:
    files: int = 0
    files_resumed: int = 0  # finished by an earlier run of the same job
    records: int = 0  # HTTP response records
    articles: int = 0
    not_article: int = 0
    filtered: int = 0
    skipped_hosts: Counter[str] = field(default_factory=Counter)
    host_hits: Counter[str] = field(default_factory=Counter)  # response records per --host given
    notes: list[str] = field(default_factory=list)  # damaged state files, each redone
    failures: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # bad records: file, offset, reason
    templates: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    versions: int = 0  # article versions kept (rows written)
    snapshots_written: int = 0
    partitions: int = 0
    temporaries_removed: int = 0
    restarted: bool = False  # a state of another configuration was dropped
    pool_restarts: int = 0
    seconds: float = 0.0
    state: str = ""
    per_file: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, entry: dict[str, Any], *, resumed: bool) -> None:
        self.files += 1
        self.files_resumed += int(resumed)
        counts = entry.get("counts", {})
        for name in ("records", "articles", "not_article", "filtered"):
            setattr(self, name, getattr(self, name) + int(counts.get(name, 0)))
        self.skipped_hosts.update(entry.get("skipped_hosts", {}))
        self.host_hits.update(entry.get("host_hits", {}))
        self.templates.update(entry.get("templates", {}))
        self.rules.update(entry.get("rules", {}))
        self.failures.extend(entry.get("failures", []))
        self.problems.extend(entry.get("problems", []))
        self.per_file[str(entry["path"])] = {
            "records": int(counts.get("records", 0)), "articles": int(counts.get("articles", 0)),
            "failures": len(entry.get("failures", [])), "problems": entry.get("problems", []),
            "resumed": resumed,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "files": self.files, "files_resumed": self.files_resumed, "records": self.records,
            "articles": self.articles, "not_article": self.not_article,
            "filtered": self.filtered, "skipped_hosts": dict(self.skipped_hosts.most_common()),
            "host_hits": dict(self.host_hits.most_common()), "state_notes": self.notes,
            "skipped_records": sum(self.skipped_hosts.values()),
            "extraction_failures": self.failures, "bad_records": self.problems,
            "templates": dict(self.templates.most_common()), "rules": dict(self.rules.most_common()),
            "versions": self.versions, "snapshots_written": self.snapshots_written,
            "partitions": self.partitions, "temporaries_removed": self.temporaries_removed,
            "pool_restarts": self.pool_restarts, "seconds": round(self.seconds, 3), "state": self.state,
            "per_file": self.per_file,
        }


# -- map ------------------------------------------------------------------------------------------


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


# -- reduce and write ------------------------------------------------------------------------------------


def _versions(rows: list[ArticleRow]) -> Iterator[tuple[ArticleRow, int]]:
    """An article's rows in WARC order, each text equal to the previous version dropped."""
    version, last = 0, ""
    for row in sorted(rows, key=lambda r: r.order):
        if row.sha256 == last:
            continue
        version += 1
        last = row.sha256
        yield row, version


Item = tuple[tuple[str, str, int, int], str]  # (order, JSON line of the row with its version)
PARQUET_BATCH = 2_000  # rows per Parquet row group, at most
PARQUET_GROUP_BYTES = 32 << 20  # characters of rows per Parquet row group, about (long articles: fewer rows)


def _reduce(entries: list[dict[str, Any]], state: Path, outputs: Outputs, summary: JobSummary,
            stdout: IO[str]) -> None:
    """Versions per article, bucket by bucket; snapshot files at once, partition rows as sorted runs."""
    parts_dir = _fresh_dir(state / "parts")
    partitioned = outputs.jsonl is not None or outputs.parquet is not None
    spills = [state / SPILL / spill_name(e["key"]) for e in entries]
    for bucket in range(BUCKETS):
        groups: dict[tuple[str, str], list[ArticleRow]] = defaultdict(list)
        for spill in spills:
            for row in read_spill_bucket(spill, bucket, BUCKETS):
                groups[(row.source, row.article_id)].append(row)
        per_part: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for key in sorted(groups):
            for row, version in _versions(groups[key]):
                summary.versions += 1
                if outputs.out is not None:
                    _write(outputs.out / snapshot_relpath(row.source, row.article_id, row.published, version),
                           row.text.encode("utf-8"))
                    summary.snapshots_written += 1
                if partitioned:
                    per_part[(row.source, row.month)].append((row.order, row.json_line(version)))
        del groups
        for (source, month), items in per_part.items():
            items.sort(key=_order)
            run = parts_dir / f"{source}={month}" / f"{bucket:03d}.jsonl"
            try:
                run.parent.mkdir(parents=True, exist_ok=True)
                with open(run, "xb") as handle:
                    write_items(handle, items)
            except OSError as exc:
                raise ArchiveError(f"cannot write {run}: {exc.strerror or exc}") from exc
    if partitioned:
        _write_partitions(parts_dir, state, outputs, summary, stdout)
    shutil.rmtree(parts_dir, ignore_errors=True)


def _fresh_dir(path: Path) -> Path:
    """An empty directory at ``path`` (a symbolic link there is removed, never followed)."""
    if path.is_symlink():
        path.unlink()
    shutil.rmtree(path, ignore_errors=True)
    return path


def _order(item: Item) -> tuple[str, str, int, int]:
    return item[0]


def _write_partitions(parts_dir: Path, state: Path, outputs: Outputs, summary: JobSummary, stdout: IO[str]) -> None:
    """Each partition: a heap merge of its sorted runs, streamed to its files (memory: one row per run)."""
    sorted_dir = _fresh_dir(state / "sorted")
    stream = outputs.jsonl_stream
    if stream is not None:
        try:
            sorted_dir.mkdir(parents=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create {sorted_dir}: {exc.strerror or exc}") from exc
    partitions = sorted(p for p in parts_dir.iterdir() if p.is_dir()) if parts_dir.is_dir() else []
    for part in partitions:
        source, month = part.name.split("=", 1)
        summary.partitions += 1
        where = Path(f"source={source}", f"month={month}")
        sinks: list[_Sink] = []
        try:
            if outputs.jsonl_dir is not None:
                sinks.append(_JsonlSink(outputs.jsonl_dir / where / "part-0.jsonl"))
            if outputs.parquet is not None:
                sinks.append(_ParquetSink(outputs.parquet / where / "part-0.parquet"))
            if stream is not None:
                sinks.append(_RunSink(sorted_dir / f"{part.name}.jsonl"))
            runs = [iter_items(run) for run in sorted(part.glob("*.jsonl"))]
            for item in heapq.merge(*runs, key=_order):
                for sink in sinks:
                    sink.add(item)
            for sink in sinks:
                sink.close()
        finally:
            for sink in sinks:
                sink.discard()
    if stream is not None:
        merged = heapq.merge(*(iter_items(p) for p in sorted(sorted_dir.glob("*.jsonl"))), key=_order)
        if stream == "-":
            try:
                for _, line in merged:
                    stdout.write(line)
                stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise ArchiveError(f"cannot write the standard output: {exc.strerror or exc}") from exc
        else:
            sink = _JsonlSink(Path(stream))
            try:
                for item in merged:
                    sink.add(item)
                sink.close()
            finally:
                sink.discard()
        shutil.rmtree(sorted_dir, ignore_errors=True)


class _Sink:
    """A file written under a new, unpredictable temporary name (:func:`crawler.archive.outputs.replacing`)
    and renamed over ``path`` when complete; a sink discarded (an error, an interruption) leaves ``path`` as
    it was.  A write that fails (disk full) raises :class:`ArchiveError` naming the file and the cause.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = False
        with self._failing():
            self._replacing = replacing(path, mkdir=True, wrap=False)
            self.handle = self._replacing.__enter__()
            self.open()

    def _failing(self) -> Any:
        return _naming(self.path)

    def open(self) -> None:
        pass

    def write(self, item: Item) -> None:
        raise NotImplementedError

    def add(self, item: Item) -> None:
        with self._failing():
            self.write(item)

    def finish(self) -> None:
        pass

    def close(self) -> None:
        with self._failing():
            self.finish()
            self.done = True
            self._replacing.__exit__(None, None, None)

    def discard(self) -> None:
        if not self.done:
            self.done = True
            try:
                self.finish()
            except Exception:
                pass
            try:
                self._replacing.__exit__(ArchiveError, ArchiveError("discarded"), None)
            except ArchiveError:
                pass


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """OSError (disk full, no permission) -> ArchiveError naming ``path`` and the cause."""
    try:
        yield
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}") from exc


class _JsonlSink(_Sink):
    def write(self, item: Item) -> None:
        self.handle.write(item[1].encode("utf-8"))


class _RunSink(_Sink):
    """A partition's items in order, for the merge into one stream (read back by ``iter_items``)."""

    def write(self, item: Item) -> None:
        write_items(self.handle, (item,))


class _ParquetSink(_Sink):
    """Parquet in row groups of at most :data:`PARQUET_BATCH` rows and about :data:`PARQUET_GROUP_BYTES` of
    JSON (zstd): memory stays bounded however long the articles; the columns are the JSONL fields."""

    def open(self) -> None:
        pa, pq = _pyarrow()
        self.pa = pa
        self.schema = parquet_schema()
        self.writer = pq.ParquetWriter(self.handle, self.schema, compression="zstd")
        self.batch: list[dict[str, Any]] = []
        self.bytes = 0

    def write(self, item: Item) -> None:
        self.batch.append(json.loads(item[1]))
        self.bytes += len(item[1])
        if len(self.batch) >= PARQUET_BATCH or self.bytes >= PARQUET_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self.batch:
            columns = {name: [r[name] for r in self.batch] for name in self.schema.names}
            columns["rules"] = [sorted(r["rules"].items()) for r in self.batch]
            self.writer.write_table(self.pa.Table.from_pydict(columns, schema=self.schema))
            self.batch = []
            self.bytes = 0

    def finish(self) -> None:
        if self.writer is not None:
            self._flush()
            self.writer.close()
            self.writer = None


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data, durable=False)
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _pyarrow() -> tuple[Any, Any]:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ScaleExtraMissing("--parquet needs the 'scale' extra: pip install 'crawler[scale]'") from None
    return pa, pq


def parquet_schema() -> Any:
    pa, _ = _pyarrow()
    text = pa.string()
    return pa.schema([
        ("url", text), ("source", text), ("article_id", text), ("published", text), ("title", text),
        ("text", text), ("canonical_url", text), ("breadcrumb", pa.list_(text)),
        ("category_slugs", pa.list_(text)), ("kicker", text), ("sapo", text), ("byline", text),
        ("images", pa.list_(pa.struct([("url", text), ("caption", text)]))),
        ("rules", pa.map_(text, text)), ("warc_file", text), ("warc_offset", pa.int64()),
        ("warc_date", text), ("version", pa.int32()),
    ])


# -- the job ------------------------------------------------------------------------------------------


def cleanup_temporaries(root: Path) -> int:
    """Remove the temporary files under ``root`` whose process is gone (``outputs.sweep_temporaries``).

    Only this machine's processes can be checked: run it when no other machine writes ``root``.
    """
    return len(sweep_temporaries(root, recursive=True)) if root.is_dir() else 0


def run_job(options: JobOptions, config: ReplayConfig) -> JobSummary:
    """Run a replay job (resuming one with the same state directory); see the module docstring."""
    state = options.state or options.outputs.default_state()
    if state is None:
        with tempfile.TemporaryDirectory(prefix="crawler-replay-") as tmp:
            return _run(options, config, Path(tmp))
    return _run(options, config, state)


def _run(options: JobOptions, config: ReplayConfig, state: Path) -> JobSummary:
    started = time.monotonic()
    summary = JobSummary(state=str(state))
    if options.dask is not None:
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise ScaleExtraMissing("--dask needs the 'scale' extra: pip install 'crawler[scale]'") from None
    if options.outputs.parquet is not None:
        _pyarrow()
    try:
        state.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create the replay state directory {state}: {exc}") from exc
    with ArchiveLock(state):
        outputs = options.outputs
        for directory in (state / SPILL, state / "parts", state / "sorted"):
            check_directory(directory)
        for root in (outputs.out / "text" if outputs.out else None, outputs.jsonl_dir, outputs.parquet,
                     state / SPILL):
            if root is not None:
                summary.temporaries_removed += cleanup_temporaries(root)
        manifest = Manifest(state, config.fingerprint(), BUCKETS)
        manifest.load()
        summary.restarted = manifest.restarted
        tasks = _unique(options.tasks)
        finished: dict[str, dict[str, Any]] = {}
        pending: list[FileTask] = []
        for task in tasks:
            if manifest.done(task.key, Path(task.path), task.start, task.end):
                finished[task.key] = manifest.entries[task.key]
                summary.add(manifest.entries[task.key], resumed=True)
            else:
                pending.append(task)
        progress = _Progress(options.progress, tasks, finished)
        with progress:
            for entry in _map(pending, config, state, options, summary):
                if "error" in entry:
                    summary.files += 1
                    summary.problems.append({"file": entry["path"], "offset": 0, "reason": entry["error"]})
                    progress.advance(entry)
                    continue
                manifest.record(entry)
                finished[str(entry["key"])] = entry
                summary.add(entry, resumed=False)
                progress.advance(entry)
        summary.notes.extend(manifest.notes)
        ordered = [finished[t.key] for t in tasks if t.key in finished]
        try:
            _reduce(ordered, state, outputs, summary, options.stdout or sys.stdout)
        except SpillDamaged as exc:
            if exc.path.parent == state / SPILL and exc.path.name.endswith(".jsonl"):
                manifest.forget(exc.path.name.removesuffix(".jsonl"))
                raise ArchiveError(f"{exc}; removed it: rerun the same command to replay its input again") from None
            raise ArchiveError(f"{exc}; rerun the same command") from None
    summary.seconds = time.monotonic() - started
    return summary


def _map(pending: list[FileTask], config: ReplayConfig, state: Path, options: JobOptions,
         summary: JobSummary) -> Iterator[dict[str, Any]]:
    spill_dir = str((state / SPILL).resolve())
    (state / SPILL).mkdir(parents=True, exist_ok=True)
    if not pending:
        return iter(())
    if options.dask is not None:
        return _run_dask(pending, config, spill_dir, options.dask, options.processes)
    return _run_local(pending, config, spill_dir, summary, options.processes)


def _unique(tasks: list[FileTask]) -> list[FileTask]:
    seen: set[str] = set()
    out = []
    for task in tasks:
        if task.key not in seen:
            seen.add(task.key)
            out.append(task)
    return out


class _Progress:
    """Files, records, records/s and ETA (by bytes) on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool, tasks: list[FileTask], finished: dict[str, dict[str, Any]]) -> None:
        self.enabled = enabled
        self.total_files = len(tasks)
        self.files = len(finished)
        self.records = 0
        self.started = time.monotonic()
        self.total_bytes = 0
        self.done_bytes = 0
        for task in tasks:
            try:
                size = (task.end if task.end is not None else Path(task.path).stat().st_size) - task.start
            except OSError:
                size = 0
            self.total_bytes += size
            if task.key in finished:
                self.done_bytes += size
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        from crawler.terminal import raw

        self._progress = Progress(
            TextColumn("replay"), BarColumn(),
            TextColumn("{task.fields[files]} files · {task.fields[records]} records · {task.fields[rate]} records/s"),
            TextColumn("ETA"), TimeRemainingColumn(),
            console=Console(file=raw(sys.stderr)), transient=False,  # its escape sequences: not through printable()
        )
        self._progress.__enter__()
        self._task = self._progress.add_task("replay", total=max(self.total_bytes, 1), completed=self.done_bytes,
                                             files=self._files(), records=0, rate="0")
        return self

    def _files(self) -> str:
        return f"{self.files}/{self.total_files}"

    def advance(self, entry: dict[str, Any]) -> None:
        self.files += 1
        counts = entry.get("counts", {})
        self.records += int(counts.get("records", 0))
        if self._progress is None:
            return
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self._progress.update(self._task, advance=int(counts.get("bytes", 0)), files=self._files(),
                              records=f"{self.records:,}", rate=f"{self.records / elapsed:,.0f}")

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(None, None, None)
