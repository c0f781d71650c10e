"""A replay job over many WARC files: map :func:`~crawler.replay.engine.replay_file`, reduce per article, write.

In the flow ``crawler replay ─▶ replay_job ─▶ (replay_engine per file) ─▶ outputs``:

1. **Map.**  Each input (a :class:`~crawler.replay.engine.FileTask`) is replayed by
   :func:`~crawler.replay.job_map.map_task` in this process (``processes=1``), in a process pool, or on a Dask
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

This module runs the job (its state directory, lock, resume and progress); its parts are the
options and summary (:mod:`.job_options`), the map (:mod:`.job_map`), the reduce
(:mod:`.job_reduce`) and the files it writes rows to (:mod:`.sinks`).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import sweep_temporaries
from crawler.errors import ArchiveError
from crawler.replay.engine import FileTask, ReplayConfig
from crawler.replay.job_map import run_map
from crawler.replay.job_options import BUCKETS, JobOptions, JobSummary, ScaleExtraMissing
from crawler.replay.job_reduce import reduce_spills
from crawler.replay.manifest import SPILL, Manifest, check_directory
from crawler.replay.sinks import pyarrow_modules
from crawler.replay.spill import SpillDamaged

__all__ = ["cleanup_temporaries", "run_job"]


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
        pyarrow_modules()
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
            for entry in run_map(pending, config, state, options, summary):
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
            reduce_spills(ordered, state, outputs, summary, options.stdout or sys.stdout)
        except SpillDamaged as exc:
            if exc.path.parent == state / SPILL and exc.path.name.endswith(".jsonl"):
                manifest.forget(exc.path.name.removesuffix(".jsonl"))
                raise ArchiveError(f"{exc}; removed it: rerun the same command to replay its input again") from None
            raise ArchiveError(f"{exc}; rerun the same command") from None
    summary.seconds = time.monotonic() - started
    return summary


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
