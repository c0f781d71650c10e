"""Which byte ranges of a WARC file a replay reads, from the file's CDXJ index.

Part of :mod:`crawler.replay.engine` (which decides, record by record, what a replay wants).  A response
line whose URL the replay turns down on its own (an unrelated host, ``--host``/``--source``, no article) is
a record nobody needs to read: a long enough stretch of such records is jumped over unread, and the records
around it are read in ranges, as without an index.  A short stretch is read through instead: each range
costs a new reader (opening the file, starting FastWARC, reading the next record's header to hand out the
last one), more than inflating a few tens of KiB (issue 22: an index made a replay of interleaved records
9 % slower when every single unrelated record was a range boundary).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX

# A stretch of unwanted records shorter than this (compressed bytes, from its first record to the next
# wanted one) is read through rather than jumped: ~64 KiB inflate in about the time a new range costs.
READ_THROUGH_BYTES = 64 * 1024

Span = tuple[int, int | None]


def index_of(path: Path) -> Path | None:
    """The CDXJ index of a WARC file: the archive's (``../indexes/<name>.cdxj``), else ``indexes/<name>.cdxj``
    beside it; None when there is none."""
    name = path.name + INDEX_SUFFIX
    for directory in (path.parent.parent / INDEX_DIR, path.parent / INDEX_DIR):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def index_entries(path: Path, index: Path) -> list[tuple[int, int, str, bool]] | None:
    """(offset, length, url, is a response) of every line of ``index``, sorted; None when the index cannot
    be read or names bytes ``path`` does not hold."""
    try:
        size = path.stat().st_size
        with open(index, "rb") as handle:
            entries = []
            for line in handle:
                _, _, data = line.partition(b"{")
                fields = json.loads(b"{" + data)
                entries.append((int(fields["offset"]), int(fields["length"]), str(fields["url"]),
                                fields.get("status") is not None and fields.get("mime") != "warc/revisit"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    entries.sort()
    if not entries or any(offset < 0 or length <= 0 or offset + length > size for offset, length, _, _ in entries):
        return None
    return entries


def spans_to_read(entries: list[tuple[int, int, str, bool]], size: int, unwanted: Callable[[str], bool],
                  read_through: int | None = None) -> tuple[list[Span], list[str]]:
    """(byte ranges to read, URLs of the response records jumped over unread) of an indexed file.

    ``unwanted(url)``: True for a response record the replay would turn down on its URL alone.  Every other
    record lies in a range; so does a stretch of unwanted ones shorter than ``read_through`` bytes (the
    replay reads and counts those as it would without an index).  The part of the file past the last
    indexed record is read too (records appended after indexing).  ``read_through``: default
    :data:`READ_THROUGH_BYTES`."""
    read_through = READ_THROUGH_BYTES if read_through is None else read_through
    spans: list[Span] = []
    jumped: list[str] = []
    gap: list[str] = []  # URLs of the unwanted records since the last range ended
    gap_start = 0
    run_start: int | None = None
    for offset, _, url, response in entries:
        if response and unwanted(url):
            if run_start is not None:
                spans.append((run_start, offset))
                run_start = None
            if not gap:
                gap_start = offset
            gap.append(url)
            continue
        if run_start is None:
            if gap and offset - gap_start < read_through:  # read through the short stretch
                run_start = spans.pop()[0] if spans else gap_start
            else:
                jumped += gap
                run_start = offset
            gap = []
    jumped += gap
    tail = max(offset + length for offset, length, _, _ in entries)
    if run_start is not None:
        spans.append((run_start, tail))
    if tail < size:
        if spans and spans[-1][1] == tail:
            spans[-1] = (spans[-1][0], None)
        else:
            spans.append((tail, None))
    return spans, jumped
