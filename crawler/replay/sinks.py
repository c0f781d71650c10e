"""The files a replay job writes rows to: a JSONL file, a Parquet file, a sorted run (its sinks).

Part of :mod:`crawler.replay.job`, used by its reduce (:mod:`crawler.replay.job_reduce`): each sink
writes under a temporary name and is renamed over its path when complete, a discarded one leaves the
path as it was; the Parquet schema and the optional ``pyarrow`` it needs live here too.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crawler.archive.outputs import replacing
from crawler.errors import ArchiveError
from crawler.replay.job_options import ScaleExtraMissing
from crawler.replay.spill import write_items

# (order, JSON line of the row with its version): UTF-8 bytes as the reduce moves it, or text
Item = tuple[tuple[str, str, int, int], bytes | str]
PARQUET_BATCH = 2_000  # rows per Parquet row group, at most
PARQUET_GROUP_BYTES = 32 << 20  # characters of rows per Parquet row group, about (long articles: fewer rows)


class Sink:
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


class JsonlSink(Sink):
    def write(self, item: Item) -> None:
        line = item[1]
        self.handle.write(line.encode("utf-8") if isinstance(line, str) else line)


class RunSink(Sink):
    """A partition's items in order, for the merge into one stream (read back by ``iter_items``)."""

    def write(self, item: Item) -> None:
        write_items(self.handle, (item,))


class ParquetSink(Sink):
    """Parquet in row groups of at most :data:`PARQUET_BATCH` rows and about :data:`PARQUET_GROUP_BYTES` of
    JSON (zstd): memory stays bounded however long the articles; the columns are the JSONL fields."""

    def open(self) -> None:
        pa, pq = pyarrow_modules()
        self.pa = pa
        self.schema = parquet_schema()
        self.writer = pq.ParquetWriter(self.handle, self.schema, compression="zstd")
        self.batch: list[dict[str, Any]] = []
        self.bytes = 0

    def write(self, item: Item) -> None:
        line = item[1] if isinstance(item[1], str) else item[1].decode("utf-8")
        self.batch.append(json.loads(line))
        self.bytes += len(line)
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


def pyarrow_modules() -> tuple[Any, Any]:
    try:
        pa = importlib.import_module("pyarrow")
        pq = importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ScaleExtraMissing("--parquet needs pyarrow, a dependency of crawler that is missing here: "
                                "pip install pyarrow (or reinstall crawler)") from None
    return pa, pq


def parquet_schema() -> Any:
    pa, _ = pyarrow_modules()
    text = pa.string()
    return pa.schema([
        ("url", text), ("source", text), ("article_id", text), ("published", text), ("title", text),
        ("text", text), ("canonical_url", text), ("breadcrumb", pa.list_(text)),
        ("category_slugs", pa.list_(text)), ("kicker", text), ("sapo", text), ("byline", text),
        ("images", pa.list_(pa.struct([("url", text), ("caption", text)]))),
        ("rules", pa.map_(text, text)), ("warc_file", text), ("warc_offset", pa.int64()),
        ("warc_date", text), ("version", pa.int32()),
    ])
