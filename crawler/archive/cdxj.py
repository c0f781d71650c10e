"""CDXJ index lines (pywb's format): the lines of a WARC file, reading and writing index files.

In the flow ``warc ─▶ cdxj ─▶ indexes/``, the :class:`~crawler.archive.warc.WarcWriter` notes each
record it writes as a :class:`CdxEntry` (offset, length and the few header values it already
has: no re-reading), and on closing a file hands them to :func:`write_index`, which writes
``indexes/<WARC file name>.cdxj`` (sorted, atomically).  :func:`index_warc` derives the same
entries by reading a WARC file (recovery of a killed run's file, ``crawler index``,
``crawler verify``); :mod:`crawler.archive.indexing` runs the rebuild and :mod:`crawler.archive.wacz_index` merges
the per-file indexes into a package's one index.

A line is ``<SURT key> <14-digit timestamp> <JSON>``, the JSON holding ``url``, ``mime``,
``status``, ``digest``, ``length``, ``offset`` and ``filename`` in that order, as
``cdxj-indexer`` writes them, for the records it indexes by default (``response``,
``revisit``, ``resource``, ``metadata`` not of ``application/warc-fields``).  One exception, on
purpose (docs/decisions/0010-replaying-revisits.md): a ``server-not-modified`` revisit (a 304)
gets no line, so that replay tools show the capture it refers to instead of an empty page.

Each line's key is the URL's SURT form (:func:`crawler.archive.surt_keys.surt`, a port of the ``surt``
package's default canonicalisation, in a module of its own).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from crawler.archive.outputs import replacing
from crawler.archive.surt_keys import surt
from crawler.errors import ArchiveError, StorageError
from crawler.terminal import plural

INDEX_DIR = "indexes"
INDEX_SUFFIX = ".cdxj"
SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
_INDEXED_TYPES = frozenset({"response", "revisit", "resource", "metadata"})

# -- entries and lines --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CdxEntry:
    """One record as the index names it (``mime``, ``status``, ``digest``: None when the record has none)."""

    url: str
    timestamp: str  # 14 digits, UTC
    mime: str | None
    status: str | None
    digest: str | None
    offset: int
    length: int

    def line(self, filename: str) -> str:
        fields: dict[str, str] = {"url": self.url}
        if self.mime is not None:
            fields["mime"] = self.mime
        if self.status is not None:
            fields["status"] = self.status
        if self.digest is not None:
            fields["digest"] = self.digest
        fields["length"] = str(self.length)
        fields["offset"] = str(self.offset)
        fields["filename"] = filename
        return f"{surt(self.url)} {self.timestamp} {json.dumps(fields)}"


_MIME_SPLIT = re.compile(r"[;\s]")


def mime_of(content_type: str | None) -> str | None:
    """The index's ``mime`` of a Content-Type value (``text/html; charset=utf-8`` -> ``text/html``)."""
    if content_type is None:
        return None
    return _MIME_SPLIT.split(content_type, 1)[0].strip()


def timestamp_of(warc_date: str) -> str:
    """``2026-05-16T10:00:00.123456Z`` -> ``20260516100000``."""
    digits = re.sub(r"[^0-9]", "", warc_date)
    return (digits + "0" * 14)[:14]


def index_lines(entries: Iterable[CdxEntry], filename: str) -> list[str]:
    """The sorted lines of one WARC file's index."""
    return sorted(entry.line(filename) for entry in entries)


def write_index(directory: Path, warc_name: str, entries: Iterable[CdxEntry]) -> Path:
    """Write ``<directory>/<warc_name>.cdxj`` (sorted), through a temporary file and a rename."""
    return write_index_lines(directory, warc_name, (line.encode("utf-8") for line in index_lines(entries, warc_name)))


def write_index_lines(directory: Path, warc_name: str, lines: Iterable[bytes]) -> Path:
    """Write ``<directory>/<warc_name>.cdxj`` from its sorted lines (UTF-8, no line ends), one by one: joining
    them first held the index twice more in memory (an archive worker's peak, at the close of a WARC file)."""
    path = directory / (warc_name + INDEX_SUFFIX)
    try:
        with replacing(path, durable=False, mkdir=True, wrap=False) as handle:
            for line in lines:
                handle.write(line + b"\n")
    except OSError as exc:
        raise StorageError.from_os(exc, "write the index", path) from exc
    return path


def read_index(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


# -- reading a WARC file ------------------------------------------------------------------------


def _fields(head: bytes) -> dict[str, str]:
    """WARC header fields of a record head, names lower-cased (the first of repeated fields)."""
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:
            out.setdefault(name.strip().lower().decode("latin-1"), value.strip().decode("utf-8", "replace"))
    return out


def _http_head(block: bytes) -> tuple[str | None, str | None]:
    """(status, content type) of an HTTP response head at the start of ``block``."""
    end = block.find(b"\r\n\r\n")
    head = block if end < 0 else block[:end]
    lines = head.split(b"\r\n")
    status_line = lines[0].decode("latin-1").split(None, 2)
    if not status_line or not status_line[0].upper().startswith("HTTP/"):
        return None, None
    status = status_line[1] if len(status_line) > 1 else None
    content_type = None
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"content-type":
            content_type = value.strip().decode("latin-1")
            break
    return status, content_type


def entry_of(record: bytes, offset: int, length: int, *, not_modified: bool = False) -> CdxEntry | None:
    """The index entry of one whole record (WARC head and block), or None when it gets no line.

    ``not_modified``: give a ``server-not-modified`` revisit its line too, as ``cdxj-indexer`` writes it
    (status ``304``); :mod:`crawler.archive.wacz_index` resolves those lines
    (docs/decisions/0014-not-modified-in-replay.md).
    """
    head_end = record.find(b"\r\n\r\n")
    if not record.startswith(b"WARC/") or head_end < 0:
        raise ArchiveError(f"no WARC record at offset {offset}")
    fields = _fields(record[:head_end])
    kind = fields.get("warc-type", "")
    if kind not in _INDEXED_TYPES:
        return None
    content_type = fields.get("content-type")
    if kind in ("resource", "metadata") and content_type == "application/warc-fields":
        return None
    if kind == "revisit" and fields.get("warc-profile") == SERVER_NOT_MODIFIED and not not_modified:
        return None  # replay tools would show the 304 as an empty page (module docstring)
    url = fields.get("warc-target-uri", "")
    if url.startswith("<") and url.endswith(">"):
        url = url[1:-1]
    status = mime = None
    block = record[head_end + 4:]
    if kind in ("response", "revisit") and url.startswith(("http:", "https:")):
        status, content_type = _http_head(block)
    mime = "warc/revisit" if kind == "revisit" else mime_of(content_type)
    return CdxEntry(url, timestamp_of(fields.get("warc-date", "")), mime, status,
                    fields.get("warc-payload-digest"), offset, length)


def _gzip_members(handle: Iterator[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, data) of each gzip member of a stream of chunks."""
    offset = 0
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out: list[bytes] = []
    consumed = 0
    for chunk in handle:
        data = chunk
        while data:
            out.append(decomp.decompress(data))
            rest = decomp.unused_data
            consumed += len(data) - len(rest)
            if not decomp.eof:
                break
            yield offset, consumed, b"".join(out)
            offset += consumed
            consumed = 0
            out = []
            decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = rest
    if consumed or out:
        raise ArchiveError(f"the gzip member at offset {offset} is cut short")


def _chunks(path: Path, size: int = 1 << 20) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


def _plain_records(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, data) of each record of an uncompressed WARC file."""
    with open(path, "rb") as handle:
        data = handle.read()
    offset = 0
    while offset < len(data):
        head_end = data.find(b"\r\n\r\n", offset)
        match = _CONTENT_LENGTH.search(data, offset, head_end + 2) if head_end >= 0 else None
        if match is None:
            raise ArchiveError(f"no complete WARC record at offset {offset}")
        end = head_end + 4 + int(match.group(1)) + 4
        yield offset, end - offset, data[offset:end]
        offset = end
        while data[offset:offset + 2] == b"\r\n":  # tolerate extra blank lines between records
            offset += 2


def warc_records(path: Path) -> Iterator[tuple[int, int, bytes]]:
    """(offset, length, whole record) of each record of a WARC file (``.warc.gz``: one per gzip member)."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    return _gzip_members(_chunks(path)) if gzipped else _plain_records(path)


@contextmanager
def reading_warc(path: Path, hint: str = "") -> Iterator[None]:
    """Errors met while reading the WARC file ``path`` to its end, as one :class:`ArchiveError` naming it
    (``hint``: what to add after a damaged gzip member, e.g. "; `crawler verify` tells more")."""
    try:
        yield
    except zlib.error as exc:
        raise ArchiveError(f"{path}: damaged gzip data: {exc}{hint}") from exc
    except OSError as exc:
        raise ArchiveError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ArchiveError as exc:
        raise ArchiveError(f"{path}: {exc}") from exc


def record_fields(record: bytes) -> dict[str, str]:
    """The WARC header fields of a whole record, names lower-cased."""
    return _fields(record[:max(record.find(b"\r\n\r\n"), 0)])


def index_warc(path: Path, *, not_modified: bool = False) -> list[CdxEntry]:
    """The index entries of a WARC file (``.warc.gz`` one record per gzip member, or ``.warc``), in file order.

    ``not_modified``: with the lines of ``server-not-modified`` revisits (:func:`entry_of`).

    Raises :class:`~crawler.errors.ArchiveError` for a file that cannot be read to its end.
    """
    with reading_warc(path):
        return [entry for offset, length, data in warc_records(path)
                if (entry := entry_of(data, offset, length, not_modified=not_modified)) is not None]


def check_index(warc: Path, index: Path) -> list[str]:
    """Disagreements between a WARC file and its index file (``crawler verify``); ``[]`` when they agree."""
    if not index.is_file():
        return [f"{warc.name}: no index file {index.parent.name}/{index.name} (`crawler index` writes it)"]
    try:
        expected = index_lines(index_warc(warc), warc.name)
    except ArchiveError as err:
        return [f"{warc.name}: cannot be indexed: {err}"]
    try:
        actual = read_index(index)
    except (OSError, UnicodeDecodeError) as err:
        return [f"{index.name}: unreadable: {err}"]
    if actual == expected:
        return []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    problems = [f"{index.name}: {plural(len(missing), 'line')} missing, {plural(len(extra), 'line')} not in {warc.name}"
                + ("" if missing or extra else ", lines out of order") + " (`crawler index` rebuilds it)"]
    problems += [f"{index.name}: missing: {line}" for line in missing[:3]]
    problems += [f"{index.name}: not in the WARC: {line}" for line in extra[:3]]
    return problems
