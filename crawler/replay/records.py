"""WARC records as replay reads them: the header (checked), the record, a bad stretch, and their constants.

Part of the collection reader (:mod:`crawler.replay.collection`): both backends
(:mod:`crawler.replay.python_reader`, :mod:`crawler.replay.fastwarc_reader`) parse and check a record's
WARC header here, so they report the same problems for the same bytes.  Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

Engine = Literal["auto", "fastwarc", "python"]
MAX_HEAD = 64 * 1024  # a WARC header longer than this is not a WARC header
GZIP_MAGIC = b"\x1f\x8b\x08"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Spaces or tabs after the version are taken (warcio and FastWARC strip them).
WARC_VERSION = re.compile(rb"WARC/1\.\d+[ \t]*\r?\n")
READ_SIZE = 1 << 16


class RecordHead(NamedTuple):
    """A record's WARC header: what is known before its block is read (made by :func:`make_head`).

    A named tuple, not a frozen dataclass: one is made for every record of a type replay reads, most of
    them passed over on their header, and a tuple is made in a third of the time.
    """

    offset: int  # where the record starts: its gzip/zstd member, or its ``WARC/`` line
    version: str  # "WARC/1.0", "WARC/1.1"
    fields: tuple[tuple[str, str], ...]
    content_length: int
    rec_type: str  # WARC-Type, lower case
    url: str  # WARC-Target-URI ("" when absent)
    # The first WARC-Date and WARC-Record-ID fields, as get() gives them (None when absent), found by
    # make_head in its one pass over the fields: replay asks for them of every record it reads.
    date: str | None = None
    record_id: str | None = None

    def get(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.fields:
            if key.lower() == lname:
                return value
        return None


# The fields make_head looks for, by lower-case name, and each spelling met so far -> its slot (-1: none of
# them): a header's names repeat from record to record, so the scan costs one dict lookup per field.
_SLOTS = {"content-length": 0, "warc-type": 1, "warc-target-uri": 2, "warc-date": 3, "warc-record-id": 4}
_SLOT_OF: dict[str, int] = {}
_MAX_SPELLINGS = 4096


def header_values(fields: Iterable[tuple[str, str]]) -> list[str | None]:
    """[Content-Length, WARC-Type, WARC-Target-URI, WARC-Date, WARC-Record-ID] as :meth:`RecordHead.get`
    gives them: the first field of each name, whatever its case; None when absent."""
    found: list[str | None] = [None, None, None, None, None]
    slot_of = _SLOT_OF
    for key, value in fields:
        slot = slot_of.get(key)
        if slot is None:
            slot = _SLOTS.get(key.lower(), -1)
            if len(slot_of) < _MAX_SPELLINGS:
                slot_of[key] = slot
        if slot >= 0 and found[slot] is None:
            found[slot] = value
    return found


def content_length(value: str | None) -> int:
    """The Content-Length field's value as a number; raises :class:`BadBytes` when it is absent or unusable."""
    if value is None:
        raise BadBytes("WARC header has no Content-Length")
    length = value.strip()
    if not length.isascii() or not length.isdigit() or len(length) > 18:
        raise BadBytes(f"bad Content-Length {length[:30]!r}")
    return int(length)


def make_head(offset: int, version: str, fields: tuple[tuple[str, str], ...]) -> RecordHead:
    """Raises :class:`BadBytes` without a usable Content-Length."""
    length, rec_type, url, date, record_id = header_values(fields)
    return RecordHead(offset, version, fields, content_length(length), (rec_type or "").strip().lower(),
                      (url or "").strip().strip("<>"), date, record_id)


@dataclass(frozen=True, slots=True)
class Record:
    head: RecordHead
    block: bytes  # the whole block (for a response: HTTP head + body as stored)


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A stretch of a file that is not a readable record, and why; reading went on after it."""

    file: str
    offset: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} at offset {self.offset}: {self.reason}"
Want = Callable[[RecordHead], bool]


class BadBytes(Exception):
    """The data at a record start is not a readable record; the message says why."""


def parse_head(data: bytes, offset: int) -> tuple[RecordHead, int]:
    """The WARC header at the start of ``data``: (head, length of the header with its blank line)."""
    match = WARC_VERSION.match(data)
    if match is None:
        raise BadBytes(f"not a WARC record (starts with {data[:20]!r})")
    end = data.find(b"\r\n\r\n", match.end() - 2)
    sep = 4
    lf_end = data.find(b"\n\n", match.end() - 1)
    if lf_end >= 0 and (end < 0 or lf_end < end):
        end, sep = lf_end, 2
    if end < 0:
        raise BadBytes("WARC header has no end" if len(data) < MAX_HEAD
                       else f"WARC header longer than {MAX_HEAD} bytes")
    version = match.group(0).rstrip().decode("ascii")
    fields: list[tuple[str, str]] = []
    for raw in data[match.end() : end].split(b"\n"):
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and fields:  # a folded continuation line
            name, value = fields[-1]
            fields[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep_colon, value = line.partition(":")
        if sep_colon and name.strip():
            fields.append((name.strip(), value.strip()))
    return make_head(offset, version, tuple(fields)), end + sep


# W3C-DTF as WARC 1.1 allows it (1.0: seconds; 1.1: up to nanoseconds), and a UTC offset some writers use.
_WARC_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?)?)?(Z|[+-]\d{2}:?\d{2})?",
                        re.ASCII)


def check_head(head: RecordHead) -> None:
    """Problems both backends see the same way, in records of every type (FastWARC takes any header it can split).

    The fields WARC makes mandatory and replay relies on: WARC-Type, WARC-Date (it orders the
    versions), WARC-Target-URI of the record types about a URI.  A record of an unknown type
    is not a problem (WARC readers skip them).
    """
    check_fields(head.rec_type, head.url, head.date)


def check_fields(rec_type: str, url: str, date: str | None) -> None:
    """:func:`check_head` on a header's values (``rec_type`` and ``url`` as :func:`make_head` normalises them)."""
    if not rec_type:
        raise BadBytes("record has no WARC-Type")
    if not url and rec_type in ("response", "request", "revisit", "resource"):
        raise BadBytes(f"{rec_type} record has no WARC-Target-URI")
    date = (date or "").strip()
    if not date:
        raise BadBytes(f"{rec_type} record has no WARC-Date")
    if not _WARC_DATE.fullmatch(date):
        raise BadBytes(f"{rec_type} record has a bad WARC-Date {date[:40]!r}")
