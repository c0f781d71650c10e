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

import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from crawler.archive.snapshots import SAFE_ID
from crawler.errors import ArchiveError
from crawler.replay.engine import ArticleRow

MANIFEST = "manifest.jsonl"
SPILL = "spill"
FORMAT = "crawler-replay-state"
SCHEMA = 2  # 1 (no "schema" in the header): pickled spill files, never read
SPILL_FORMAT = "crawler-replay-spill"
SPILL_SUFFIX = ".jsonl"
ROW_FIELDS = ("source", "article_id", "published", "text", "sha256", "order", "json_head")

_KEY = re.compile(r"[0-9a-f]{24}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_LINE_BREAKS = re.compile("[\n\r\x85\u2028\u2029]")
_TRAILER = 17  # the spill's last line: the offset of its index, 16 hex digits and a newline
MAX_INDEX_LINE = 1 << 20


class StateRefused(ArchiveError):
    """The state directory holds something this crawler does not read (and will not guess about)."""


class SpillDamaged(ArchiveError):
    """A spill file is not what its writer wrote; ``path`` names it."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"replay state file {path} is damaged: {reason}")
        self.path = path
        self.reason = reason


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


def remove_spill(spill: Path) -> None:
    try:
        if spill.is_dir() and not spill.is_symlink():
            shutil.rmtree(spill)
        else:
            spill.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ArchiveError(f"cannot remove the damaged {spill}: {exc.strerror or exc}") from exc


# -- validation of what is read back --------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _counts(value: object) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) and _is_int(v) for k, v in value.items())


def entry_problem(entry: object) -> str | None:
    """Why a manifest line is not a finished input's entry, or None."""
    if not isinstance(entry, dict):
        return "not an object"
    checks: tuple[tuple[str, bool], ...] = (
        ("key", isinstance(entry.get("key"), str) and bool(_KEY.fullmatch(entry["key"]))),
        ("path", isinstance(entry.get("path"), str)),
        ("start", _is_int(entry.get("start")) and entry["start"] >= 0),
        ("end", entry.get("end") is None or _is_int(entry.get("end"))),
        ("size", _is_int(entry.get("size"))),
        ("mtime_ns", _is_int(entry.get("mtime_ns"))),
        ("sha256", isinstance(entry.get("sha256"), str) and bool(_HEX64.fullmatch(entry["sha256"]))),
        ("spill", isinstance(entry.get("spill"), str)),
        ("spill_sha256", isinstance(entry.get("spill_sha256"), str) and bool(_HEX64.fullmatch(entry["spill_sha256"]))),
        ("counts", _counts(entry.get("counts"))),
        ("skipped_hosts", _counts(entry.get("skipped_hosts"))),
        ("host_hits", _counts(entry.get("host_hits", {}))),
        ("templates", _counts(entry.get("templates"))),
        ("rules", _counts(entry.get("rules"))),
        ("failures", isinstance(entry.get("failures"), list) and all(isinstance(x, str) for x in entry["failures"])),
        ("problems", isinstance(entry.get("problems"), list) and all(
            isinstance(p, dict) and isinstance(p.get("file"), str) and _is_int(p.get("offset"))
            and isinstance(p.get("reason"), str) for p in entry["problems"])),
    )
    bad = [name for name, ok in checks if not ok]
    return f"invalid {', '.join(bad)}" if bad else None


def spill_problem(spill: Path, digest: str, buckets: int) -> str | None:
    """Why a spill file cannot be used (missing, damaged), or None; raises :class:`StateRefused` for a link."""
    try:
        st = os.lstat(spill)
    except FileNotFoundError:
        return "is missing"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISLNK(st.st_mode):
        raise StateRefused(f"replay state file {spill} is a symbolic link: the state must be inside its "
                           f"directory; remove {spill.parent.parent} and rerun")
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    try:
        if file_digest(spill) != digest:
            return "is damaged (its sha256 is not the one recorded)"
        _index(spill, buckets)
    except SpillDamaged as exc:
        return f"is damaged ({exc.reason})"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def encode_row(row: ArticleRow | list[Any]) -> list[Any]:
    if isinstance(row, ArticleRow):
        return [row.source, row.article_id, row.published.isoformat(), row.text, row.sha256, list(row.order),
                row.json_head]
    return row


def decode_row(value: object) -> ArticleRow:
    """An :class:`ArticleRow` from its spilled form; raises ValueError naming what is wrong."""
    if not isinstance(value, list) or len(value) != len(ROW_FIELDS):
        raise ValueError("a row is not a list of its 7 fields")
    source, article_id, published, text, sha256, order, json_head = value
    for name, item in (("source", source), ("article_id", article_id)):
        if not isinstance(item, str) or not SAFE_ID.fullmatch(item):
            raise ValueError(f"a row's {name} {str(item)[:80]!r} is not an id")
    if not isinstance(published, str):
        raise ValueError("a row's published date is not text")
    when = datetime.fromisoformat(published)  # ValueError
    if not isinstance(text, str) or not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
        raise ValueError("a row's text or sha256 is not text")
    if not (isinstance(order, list) and len(order) == 4 and isinstance(order[0], str) and isinstance(order[1], str)
            and _is_int(order[2]) and _is_int(order[3])):
        raise ValueError("a row's order is not (date, file, offset, sequence)")
    if not isinstance(json_head, str) or not json_head.startswith("{") or _LINE_BREAKS.search(json_head):
        raise ValueError("a row's JSON is not one JSON object on one line")
    return ArticleRow(source, article_id, when, text, sha256, (order[0], order[1], order[2], order[3]), json_head)


def dumps(value: Any) -> bytes:
    """JSON for the state files (orjson; the standard library's escapes for what orjson refuses)."""
    try:
        data: bytes = orjson.dumps(value)
    except TypeError:  # a lone surrogate
        return json.dumps(value, ensure_ascii=True).encode("ascii")
    return data


def loads(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data.decode("utf-8"))  # a lone surrogate's escape; raises ValueError otherwise


# -- spill files: one per input, its rows in buckets by article ----------------------------------


def write_spill(path: Path, buckets: Iterable[list[Any]]) -> str:
    """Write each bucket as one JSON line, then their index; atomically.  Returns the file's sha256.

    The file: a header line, one line per bucket (a JSON list of rows, see :func:`encode_row`),
    an index line (where each bucket's line starts), and the index's offset (16 hex digits).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"cannot create {path.parent}: {exc.strerror or exc}") from exc
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with open(fd, "wb") as handle:
            def put(data: bytes) -> None:
                handle.write(data)
                digest.update(data)

            rows_of = list(buckets)
            put(dumps({"format": SPILL_FORMAT, "schema": SCHEMA, "buckets": len(rows_of)}) + b"\n")
            index = []
            for rows in rows_of:
                index.append(handle.tell())
                put(dumps([encode_row(r) for r in rows]) + b"\n")
            where = handle.tell()
            put(dumps({"index": index}) + b"\n")
            put(f"{where:016x}\n".encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"cannot write {tmp if exc.filename is None else exc.filename}: "
                           f"{exc.strerror or exc}") from exc
    return digest.hexdigest()


def _index(path: Path, buckets: int) -> list[int]:
    """Where each bucket's line starts; raises :class:`SpillDamaged`."""
    with open(path, "rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size < _TRAILER:
            raise SpillDamaged(path, "too short")
        handle.seek(size - _TRAILER)
        trailer = handle.read(_TRAILER)
        try:
            where = int(trailer[:16].decode("ascii"), 16)
        except (UnicodeDecodeError, ValueError):
            raise SpillDamaged(path, "no index at its end") from None
        if trailer[16:] != b"\n" or not 0 < where < size - _TRAILER:
            raise SpillDamaged(path, "no index at its end")
        handle.seek(where)
        line = handle.read(min(size - _TRAILER - where, MAX_INDEX_LINE))
        try:
            index = loads(line)["index"]
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            raise SpillDamaged(path, "its index is not readable") from None
    if (not isinstance(index, list) or len(index) != buckets or not all(_is_int(i) for i in index)
            or index != sorted(index) or (index and (index[0] <= 0 or index[-1] >= where))):
        raise SpillDamaged(path, f"its index is not {buckets} offsets in the file")
    return list(index)


def read_spill_bucket(path: Path, bucket: int, buckets: int) -> list[ArticleRow]:
    """The rows of one bucket, validated; raises :class:`SpillDamaged` naming the file."""
    try:
        index = _index(path, buckets)
        with open(path, "rb") as handle:
            handle.seek(index[bucket])
            line = handle.readline()
    except OSError as exc:
        raise SpillDamaged(path, f"cannot be read ({exc.strerror or exc})") from exc
    try:
        rows = loads(line)
        if not isinstance(rows, list):
            raise ValueError("a bucket is not a list")
        return [decode_row(row) for row in rows]
    except (ValueError, UnicodeDecodeError) as exc:
        raise SpillDamaged(path, f"bucket {bucket}: {exc}") from None


# -- sorted runs of the reduce: (order, JSON line) items, one per line ----------------------------


def write_items(handle: Any, items: Iterable[tuple[tuple[str, str, int, int], str]]) -> None:
    for order, line in items:
        handle.write(dumps([order, line]) + b"\n")


def iter_items(path: Path) -> Iterator[tuple[tuple[str, str, int, int], str]]:
    """The items of a sorted run written by :func:`write_items`, validated; raises :class:`SpillDamaged`."""
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                try:
                    value = loads(raw)
                    order, line = value
                    if not (isinstance(order, list) and len(order) == 4 and isinstance(order[0], str)
                            and isinstance(order[1], str) and _is_int(order[2]) and _is_int(order[3])
                            and isinstance(line, str) and line.endswith("\n")
                            and not _LINE_BREAKS.search(line, 0, len(line) - 1)):
                        raise ValueError
                except (ValueError, TypeError, UnicodeDecodeError):
                    raise SpillDamaged(path, "not a sorted run of this job") from None
                yield (order[0], order[1], order[2], order[3]), line
    except OSError as exc:
        raise SpillDamaged(path, f"cannot be read ({exc.strerror or exc})") from exc
