"""The state of a resumable replay job: which inputs are finished, and where their results wait.

Part of :mod:`crawler.replay_job`.  A job's state directory holds::

    manifest.jsonl      a header line (configuration fingerprint, bucket count), then one line
                        per finished input: task key, path, byte range, size, mtime, sha256,
                        spill file, counts, failures and bad records
    spill/<key>.pkl     that input's articles, in buckets by article (written by the worker)
    .crawler.lock       one job at a time per state directory

A line is appended (and fsynced) only after its spill file is in place, so a job killed at
any moment (client or worker, even ``kill -9``) resumes with every input either finished
and recorded or redone from scratch; a torn last line is ignored.  Rerunning a job skips an
input whose size and mtime match its line, or, when only the mtime changed, whose digest does.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from crawler.errors import ArchiveError
from crawler.outputs import replacing

MANIFEST = "manifest.jsonl"
SPILL = "spill"


def file_digest(path: Path, start: int = 0, end: int | None = None) -> str:
    """sha256 of the bytes ``[start, end)`` of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        handle.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            block = handle.read(1 << 20 if left is None else min(1 << 20, left))
            if not block:
                break
            digest.update(block)
            if left is not None:
                left -= len(block)
    return digest.hexdigest()


def stat_input(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


class Manifest:
    """``manifest.jsonl`` of one state directory (the client is its only writer)."""

    def __init__(self, state: Path, fingerprint: str, buckets: int) -> None:
        self.state = state
        self.path = state / MANIFEST
        self.fingerprint = fingerprint
        self.buckets = buckets
        self.entries: dict[str, dict[str, Any]] = {}
        self.restarted = False  # True when an existing state of another configuration was dropped

    def load(self) -> None:
        """Read the finished inputs; a state of another configuration is dropped (and said so)."""
        lines = self._lines()
        header = lines[0] if lines else None
        if header is not None and (header.get("fingerprint") != self.fingerprint
                                   or header.get("buckets") != self.buckets):
            self.restarted = True
            self._clear()
            lines = []
        if not lines:
            self.state.mkdir(parents=True, exist_ok=True)
            self._append({"fingerprint": self.fingerprint, "buckets": self.buckets}, truncate=True)
            return
        for entry in lines[1:]:
            if "key" in entry and (self.state / SPILL / str(entry.get("spill", ""))).is_file():
                self.entries[str(entry["key"])] = entry

    def _lines(self) -> list[dict[str, Any]]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.path}: {exc}") from exc
        out = []
        for line in text.splitlines():
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a line torn by a kill
            if isinstance(value, dict):
                out.append(value)
        return out

    def _clear(self) -> None:
        shutil.rmtree(self.state / SPILL, ignore_errors=True)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _append(self, entry: dict[str, Any], *, truncate: bool = False) -> None:
        try:
            with open(self.path, "w" if truncate else "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ArchiveError(f"cannot write {self.path}: {exc}") from exc

    def done(self, key: str, path: Path, start: int, end: int | None) -> bool:
        """Whether the input was finished by an earlier run, unchanged since."""
        entry = self.entries.get(key)
        if entry is None:
            return False
        try:
            size, mtime = stat_input(path)
        except OSError:
            return False
        if size != entry.get("size"):
            return False
        if mtime == entry.get("mtime_ns"):
            return True
        return bool(file_digest(path, start, end) == entry.get("sha256"))

    def record(self, entry: dict[str, Any]) -> None:
        self._append(entry)
        self.entries[str(entry["key"])] = entry


# -- spill files: one per input, its rows in buckets by article ----------------------------------


def write_spill(path: Path, buckets: Iterable[list[Any]]) -> None:
    """Pickle each bucket in turn, then an index of where each starts; written atomically."""
    with replacing(path, durable=True, mkdir=True, wrap=False) as handle:
        index = []
        for rows in buckets:
            index.append(handle.tell())
            pickle.dump(rows, handle, protocol=pickle.HIGHEST_PROTOCOL)
        where = handle.tell()
        pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
        handle.write(where.to_bytes(8, "little"))


def read_spill_bucket(path: Path, bucket: int) -> list[Any]:
    with open(path, "rb") as handle:
        handle.seek(-8, os.SEEK_END)
        where = int.from_bytes(handle.read(8), "little")
        handle.seek(where)
        index = pickle.load(handle)
        handle.seek(index[bucket])
        rows: list[Any] = pickle.load(handle)
        return rows


def iter_pickled(path: Path) -> Iterator[Any]:
    """Objects pickled one after another into ``path``."""
    with open(path, "rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return
