"""The reduce of a replay job: versions per article, bucket by bucket, then the snapshot tree and partitions.

Part of :mod:`crawler.replay.job` (steps 2 and 3, "Reduce" and "Write", of its docstring): every
spill's rows of one article in WARC order, a text equal to the previous version dropped; snapshot
files written at once, rows sorted into runs per (source, month) partition, then each partition
merged into its files (:mod:`crawler.replay.sinks`) and, for a single JSONL stream, the partitions
merged into one.
"""

from __future__ import annotations

import heapq
import shutil
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from crawler.archive.catalog import atomic_write
from crawler.archive.snapshots import snapshot_relpath
from crawler.errors import ArchiveError
from crawler.replay.engine import ArticleRow
from crawler.replay.job_options import BUCKETS, JobSummary, Outputs
from crawler.replay.manifest import SPILL, spill_name
from crawler.replay.sinks import Item, JsonlSink, ParquetSink, RunSink, Sink
from crawler.replay.spill import iter_items, read_spill_bucket, spill_index, write_items


def _versions(rows: list[ArticleRow]) -> Iterator[tuple[ArticleRow, int]]:
    """An article's rows in WARC order, each text equal to the previous version dropped."""
    version, last = 0, ""
    for row in sorted(rows, key=lambda r: r.order):
        if row.sha256 == last:
            continue
        version += 1
        last = row.sha256
        yield row, version


def reduce_spills(entries: list[dict[str, Any]], state: Path, outputs: Outputs, summary: JobSummary,
            stdout: IO[str]) -> None:
    """Versions per article, bucket by bucket; snapshot files at once, partition rows as sorted runs."""
    parts_dir = _fresh_dir(state / "parts")
    partitioned = outputs.jsonl is not None or outputs.parquet is not None
    spills = [state / SPILL / spill_name(e["key"]) for e in entries]
    indexes: dict[Path, list[int]] = {}  # each spill's bucket index, read once
    for bucket in range(BUCKETS):
        groups: dict[tuple[str, str], list[ArticleRow]] = defaultdict(list)
        for spill in spills:
            index = indexes.get(spill)
            if index is None:
                index = indexes[spill] = spill_index(spill, BUCKETS)
            for row in read_spill_bucket(spill, bucket, BUCKETS, index):
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
                    per_part[(row.source, row.month)].append((row.order, row.json_line(version).encode("utf-8")))
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
        sinks: list[Sink] = []
        try:
            if outputs.jsonl_dir is not None:
                sinks.append(JsonlSink(outputs.jsonl_dir / where / "part-0.jsonl"))
            if outputs.parquet is not None:
                sinks.append(ParquetSink(outputs.parquet / where / "part-0.parquet"))
            if stream is not None:
                sinks.append(RunSink(sorted_dir / f"{part.name}.jsonl"))
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
                    stdout.write(line.decode("utf-8"))
                stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise ArchiveError(f"cannot write the standard output: {exc.strerror or exc}") from exc
        else:
            sink = JsonlSink(Path(stream))
            try:
                for item in merged:
                    sink.add(item)
                sink.close()
            finally:
                sink.discard()
        shutil.rmtree(sorted_dir, ignore_errors=True)


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data, durable=False)
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}") from exc
