"""The state of a resumable replay job: which inputs are finished, and where their results wait.

Part of :mod:`crawler.replay.job`.  A job's state directory holds::

    manifest.jsonl      a header line (format, schema, configuration fingerprint, bucket count),
                        then one line per finished input: task key, path, byte range, size, mtime,
                        sha256, spill file and its sha256, counts, failures and bad records
    spill/<key>.jsonl   that input's articles, in buckets by article (written by the worker)
    .crawler.lock       one job at a time per state directory

A line is appended (and fsynced) only after its spill file is in place, so a job killed at
any moment (client or worker, even ``kill -9``) resumes with every input either finished
and recorded or redone from scratch; a torn last line is ignored.  Rerunning a job skips an
input whose size and mtime match its line, or, when only the mtime changed, whose digest does.

Everything here is read back as untrusted data (the state directory may be on a shared file
system others can write): JSON only, never pickle; every line and row is validated; a spill
file is only ever ``spill/<key>.jsonl`` of its entry's key, a regular file (no symbolic link)
in a real directory of the state directory.  A damaged entry or spill file is named and its
input replayed again; a spill name that points anywhere else, a symbolic link, or the pickled
state of an older crawler is refused (:class:`StateRefused`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from crawler.errors import ArchiveError
from crawler.replay.spill import HEX64, SCHEMA, StateRefused, file_digest, is_int, remove_spill, spill_problem

MANIFEST = "manifest.jsonl"
SPILL = "spill"
FORMAT = "crawler-replay-state"
SPILL_SUFFIX = ".jsonl"

_KEY = re.compile(r"[0-9a-f]{24}")


def stat_input(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def spill_name(key: str) -> str:
    return f"{key}{SPILL_SUFFIX}"


def check_directory(path: Path) -> None:
    """Refuse a directory of the state that is a symbolic link (its files would be elsewhere)."""
    if path.is_symlink():
        raise StateRefused(f"{path} is a symbolic link: the replay state must be inside its directory; "
                           f"remove it and rerun")


class Manifest:
    """``manifest.jsonl`` of one state directory (the client is its only writer)."""

    def __init__(self, state: Path, fingerprint: str, buckets: int) -> None:
        self.state = state
        self.path = state / MANIFEST
        self.spill_dir = state / SPILL
        self.fingerprint = fingerprint
        self.buckets = buckets
        self.entries: dict[str, dict[str, Any]] = {}
        self.restarted = False  # True when an existing state of another configuration was dropped
        self.notes: list[str] = []  # damaged entries and spill files, each redone

    def header(self) -> dict[str, Any]:
        return {"format": FORMAT, "schema": SCHEMA, "fingerprint": self.fingerprint, "buckets": self.buckets}

    def load(self) -> None:
        """Read the finished inputs; a state of another configuration is dropped (and said so).

        Raises :class:`StateRefused` for the pickled state of an older crawler, or a spill
        name that is not its entry's own file in ``spill/``.
        """
        check_directory(self.spill_dir)
        lines = self._lines()
        header = lines[0][1] if lines else None
        if header is not None and "key" not in header and header.get("schema") != SCHEMA:
            self._refuse_old(header.get("schema"))
        if header is None and self.spill_dir.is_dir() and any(self.spill_dir.glob("*.pkl")):
            self._refuse_old(None)
        if header is not None and (header.get("format") != FORMAT or header.get("fingerprint") != self.fingerprint
                                   or header.get("buckets") != self.buckets):
            if "key" in header:
                self.notes.append(f"{self.path}: its first line is damaged; started over")
            self.restarted = True
            self._clear()
            lines = []
        if not lines:
            self.state.mkdir(parents=True, exist_ok=True)
            self._append(self.header(), truncate=True)
            return
        for number, entry in lines[1:]:
            problem = entry_problem(entry)
            if problem is None and entry["spill"] != spill_name(entry["key"]):
                raise StateRefused(
                    f"{self.path} line {number}: the spill file {str(entry['spill'])[:200]!r} is not a spill file "
                    f"of this crawler ({spill_name(entry['key'])} in {self.spill_dir}); the state was not "
                    f"written by crawler: remove {self.state} and rerun")
            if problem is not None:
                where = f" (input {entry['path']})" if isinstance(entry, dict) and isinstance(
                    entry.get("path"), str) else ""
                self.notes.append(f"{self.path} line {number}{where}: {problem}; its input is replayed again")
                continue
            self.entries[entry["key"]] = entry

    def _refuse_old(self, schema: object) -> None:
        age = "a newer" if isinstance(schema, int) and schema > SCHEMA else "an older"
        raise StateRefused(f"{self.state} holds the replay state of {age} crawler (pickled intermediate files are "
                           f"not read: they could run code): remove the directory {self.state} and rerun; the "
                           f"job starts over")

    def _lines(self) -> list[tuple[int, Any]]:
        """(line number, value) of every line that is JSON (a line torn by a kill is not)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ArchiveError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
        out = []
        for number, line in enumerate(data.split(b"\n"), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line.decode("utf-8"))
            except ValueError:
                continue  # a line torn by a kill
            out.append((number, value))
        return out

    def _clear(self) -> None:
        shutil.rmtree(self.spill_dir, ignore_errors=True)
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _append(self, entry: dict[str, Any], *, truncate: bool = False) -> None:
        try:
            with open(self.path, "w" if truncate else "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=True) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise ArchiveError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def spill_path(self, key: str) -> Path:
        return self.spill_dir / spill_name(key)

    def done(self, key: str, path: Path, start: int, end: int | None) -> bool:
        """Whether the input was finished by an earlier run, unchanged since, and its spill file is whole.

        A spill file that is missing or damaged is removed and noted: the input is replayed again.
        A spill file that is a symbolic link raises :class:`StateRefused`.
        """
        entry = self.entries.get(key)
        if entry is None:
            return False
        try:
            size, mtime = stat_input(path)
        except OSError:
            return False
        if size != entry["size"]:
            return False
        if mtime != entry["mtime_ns"] and file_digest(path, start, end) != entry["sha256"]:
            return False
        spill = self.spill_path(key)
        problem = spill_problem(spill, entry["spill_sha256"], self.buckets)
        if problem is None:
            return True
        self.notes.append(f"replay state file {spill} {problem}; its input {entry['path']} is replayed again")
        self.forget(key)
        return False

    def forget(self, key: str) -> None:
        """Drop a finished input (its spill file is damaged): the next run replays it again."""
        self.entries.pop(key, None)
        remove_spill(self.spill_path(key))

    def record(self, entry: dict[str, Any]) -> None:
        self._append(entry)
        self.entries[str(entry["key"])] = entry


# -- validation of what is read back --------------------------------------------------------------


def _counts(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and is_int(v) for k, v in value.items())


def entry_problem(entry: object) -> str | None:
    """Why a manifest line is not a finished input's entry, or None."""
    if not isinstance(entry, dict):
        return "not an object"
    checks: tuple[tuple[str, bool], ...] = (
        ("key", isinstance(entry.get("key"), str) and bool(_KEY.fullmatch(entry["key"]))),
        ("path", isinstance(entry.get("path"), str)),
        ("start", is_int(entry.get("start")) and entry["start"] >= 0),
        ("end", entry.get("end") is None or is_int(entry.get("end"))),
        ("size", is_int(entry.get("size"))),
        ("mtime_ns", is_int(entry.get("mtime_ns"))),
        ("sha256", isinstance(entry.get("sha256"), str) and bool(HEX64.fullmatch(entry["sha256"]))),
        ("spill", isinstance(entry.get("spill"), str)),
        ("spill_sha256", isinstance(entry.get("spill_sha256"), str) and bool(HEX64.fullmatch(entry["spill_sha256"]))),
        ("counts", _counts(entry.get("counts"))),
        ("skipped_hosts", _counts(entry.get("skipped_hosts"))),
        ("host_hits", _counts(entry.get("host_hits", {}))),
        ("templates", _counts(entry.get("templates"))),
        ("rules", _counts(entry.get("rules"))),
        ("failures", isinstance(entry.get("failures"), list) and all(isinstance(x, str) for x in entry["failures"])),
        ("problems", isinstance(entry.get("problems"), list) and all(
            isinstance(p, dict) and isinstance(p.get("file"), str) and is_int(p.get("offset"))
            and isinstance(p.get("reason"), str) for p in entry["problems"])),
    )
    bad = [name for name, ok in checks if not ok]
    return f"invalid {', '.join(bad)}" if bad else None


# -- spill files: one per input, its rows in buckets by article ----------------------------------


# -- sorted runs of the reduce: (order, JSON line) items, one per line ----------------------------


