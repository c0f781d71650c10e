"""A replay job's spill files and sorted runs: the format of the results that wait between map and reduce.

Part of :mod:`crawler.replay.job`; the list of finished inputs that names each spill file is
:mod:`crawler.replay.manifest`.  A spill file (``spill/<key>.jsonl``) holds one input's articles in
buckets by article: a header line, one line per bucket (a JSON list of rows, :func:`encode_row`),
then the index of the bucket lines and, last, the offset of that index (:data:`_TRAILER`).  A sorted
run of the reduce holds ``(order, JSON line)`` items, one per line.  Everything is read back as
untrusted data: JSON only, every row validated (:func:`decode_row`), a damaged file named
(:class:`SpillDamaged`).
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

from crawler.archive.outputs import replacing
from crawler.archive.snapshots import SAFE_ID
from crawler.errors import ArchiveError
from crawler.replay.engine import ArticleRow

SCHEMA = 2  # 1 (no "schema" in the header): pickled spill files, never read
SPILL_FORMAT = "crawler-replay-spill"
ROW_FIELDS = ("source", "article_id", "published", "text", "sha256", "order", "json_head")
HEX64 = re.compile(r"[0-9a-f]{64}")
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


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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


def _has_line_break(text: str) -> bool:
    # Every line break of some JSON Lines reader (see jsonlines.py), by substring search: a regex
    # scan of a 10 kB row costs ten times more.
    return "\n" in text or "\r" in text or "\x85" in text or "\u2028" in text or "\u2029" in text


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
    if not isinstance(text, str) or not isinstance(sha256, str) or not HEX64.fullmatch(sha256):
        raise ValueError("a row's text or sha256 is not text")
    if not (isinstance(order, list) and len(order) == 4 and isinstance(order[0], str) and isinstance(order[1], str)
            and is_int(order[2]) and is_int(order[3])):
        raise ValueError("a row's order is not (date, file, offset, sequence)")
    if not isinstance(json_head, str) or not json_head.startswith("{") or _has_line_break(json_head):
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


def write_spill(path: Path, buckets: Iterable[list[Any]]) -> str:
    """Write each bucket as one JSON line, then their index; atomically.  Returns the file's sha256.

    The file: a header line, one line per bucket (a JSON list of rows, see :func:`encode_row`),
    an index line (where each bucket's line starts), and the index's offset (16 hex digits).
    """
    digest = hashlib.sha256()
    try:
        # A new, unpredictable temporary beside the file, renamed over it (crawler.archive.outputs).
        with replacing(path, durable=True, mkdir=True, wrap=False) as handle:
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
    except OSError as exc:
        raise ArchiveError(f"cannot write {path}: {exc.strerror or exc}") from exc
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
    if (not isinstance(index, list) or len(index) != buckets or not all(is_int(i) for i in index)
            or index != sorted(index) or (index and (index[0] <= 0 or index[-1] >= where))):
        raise SpillDamaged(path, f"its index is not {buckets} offsets in the file")
    return list(index)


def spill_index(path: Path, buckets: int) -> list[int]:
    """Where each bucket's line of a spill file starts (read once per reduce); raises :class:`SpillDamaged`."""
    try:
        return _index(path, buckets)
    except OSError as exc:
        raise SpillDamaged(path, f"cannot be read ({exc.strerror or exc})") from exc


def read_spill_bucket(path: Path, bucket: int, buckets: int, index: list[int] | None = None) -> list[ArticleRow]:
    """The rows of one bucket, validated; raises :class:`SpillDamaged` naming the file.

    ``index``: the file's :func:`spill_index`, when already read."""
    try:
        if index is None:
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


def write_items(handle: Any, items: Iterable[tuple[tuple[str, str, int, int], str | bytes]]) -> None:
    """A sorted run: one item a line, its order as compact JSON, a tab, then the row's JSON line verbatim.

    The line is not re-encoded as a JSON string (escaping its every quote) nor decoded again when read
    back: the reduce moves it as UTF-8 bytes from the spill to the partition file.  JSON never holds a
    raw tab, so the first tab ends the order.
    """
    write = handle.write
    for order, line in items:
        write(dumps(order) + b"\t" + (line.encode("utf-8") if isinstance(line, str) else line))


def _run_line_problem(line: bytes) -> bool:
    """True when a sorted run's JSON line is not one JSON object on one line (a record break inside)."""
    return (not line.startswith(b"{") or not line.endswith(b"\n") or b"\r" in line
            or b"\n" in line[:-1] or b"\xc2\x85" in line or b"\xe2\x80\xa8" in line or b"\xe2\x80\xa9" in line)


def iter_items(path: Path) -> Iterator[tuple[tuple[str, str, int, int], bytes]]:
    """The items of a sorted run written by :func:`write_items` (order, JSON line as UTF-8 bytes), validated;
    raises :class:`SpillDamaged`."""
    try:
        with open(path, "rb") as handle:
            for raw in handle:
                head, tab, line = raw.partition(b"\t")
                try:
                    if not tab or _run_line_problem(line):
                        raise ValueError
                    order = loads(head)
                    if not (isinstance(order, list) and len(order) == 4 and isinstance(order[0], str)
                            and isinstance(order[1], str) and is_int(order[2]) and is_int(order[3])):
                        raise ValueError
                except (ValueError, TypeError, UnicodeDecodeError):
                    raise SpillDamaged(path, "not a sorted run of this job") from None
                yield (order[0], order[1], order[2], order[3]), line
    except OSError as exc:
        raise SpillDamaged(path, f"cannot be read ({exc.strerror or exc})") from exc
