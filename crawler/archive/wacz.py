"""``crawler wacz``: package an archive (or a slice of it) as one WACZ 1.1.1 file, streaming.

In the flow ``warc + cdxj + catalog ─▶ wacz``, the package is written in one pass over a ZIP
file (docs/decisions/0009-wacz-writer.md: our own writer over :mod:`zipfile`, not py-wacz):

- ``archive/<name>.warc.gz``: the WARC files of the slice, stored (not compressed again:
  replay tools read records by offset);
- ``indexes/index.cdxj``: the per-file CDXJ indexes of those files (:mod:`crawler.archive.cdxj`)
  merged in key order;
- ``pages/pages.jsonl``: one entry per article (its latest version): URL, capture time, title
  and the snapshot's text, which ReplayWeb.page searches;
- ``datapackage.json`` (every file's sha256 and size) and ``datapackage-digest.json`` (the
  sha256 of ``datapackage.json``).

Nothing is held whole in memory: WARC files are copied in chunks, the indexes merged line by
line, the catalog read row by row, and digests computed as the bytes go into the ZIP.  A slice
(``--source``, ``--since``, ``--until``) is cut at WARC-file granularity: a file is in when its
source is selected and one of its captures falls in the date range (every capture of a file
then replays, its revisits' originals included when they are in the file); pages are the
articles captured in the range.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import crawler
from crawler.archive import jsonlines
from crawler.archive.catalog import CATALOG, Store
from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX, index_warc, write_index
from crawler.archive.indexing import warc_files
from crawler.archive.lock import ArchiveLock
from crawler.archive.warc import read_warcinfo
from crawler.errors import ArchiveError, StorageError

WACZ_VERSION = "1.1.1"
CHUNK = 1 << 20
ZIP64_AFTER = 1 << 30  # entries whose size is not known in advance get ZIP64 fields in packages past this


@dataclass(slots=True)
class WaczReport:
    path: Path
    warcs: int = 0
    warc_bytes: int = 0
    index_lines: int = 0
    pages: int = 0
    indexed_now: list[str] = field(default_factory=list)  # WARC files whose index was missing


class _HashingWriter:
    """A file-like writer that passes bytes on and keeps their sha256 and count."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self.sha.hexdigest()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _source_of(warc: Path) -> str:
    """The source a WARC file belongs to: its warcinfo's ``x-crawler-source``, else its name prefix."""
    try:
        source = read_warcinfo(warc).get("x-crawler-source")
    except ArchiveError:
        source = None
    return source or warc.name.split("-", 1)[0]


def _index_file(archive: Path, warc: Path, scratch: Path, report: WaczReport) -> Path:
    """The WARC file's CDXJ index; one missing (an archive older than indexes) is made in ``scratch``,
    not in the archive (which may be read-only, and is only read here)."""
    path = archive / INDEX_DIR / (warc.name + INDEX_SUFFIX)
    if not path.is_file():
        path = write_index(scratch, warc.name, index_warc(warc))
        report.indexed_now.append(warc.name)
    return path


def _in_range(index: Path, since: str | None, until: str | None) -> bool:
    if since is None and until is None:
        return True
    with open(index, encoding="utf-8") as handle:
        for line in handle:
            stamp = line.split(" ", 2)[1] if line.count(" ") >= 2 else ""
            if (since is None or stamp >= since) and (until is None or stamp <= until):
                return True
    return False


def _lines(path: Path, handle: IO[str]) -> Iterator[str]:
    for line in handle:
        if line.strip():
            yield line if line.endswith("\n") else line + "\n"


def write_wacz(archive: Path, output: Path, *, sources: list[str] | None = None, since: datetime | None = None,
               until: datetime | None = None, title: str | None = None) -> WaczReport:
    """Write ``output`` (a new file, replaced atomically) from ``archive``; see the module docstring.

    Holds the archive's lock in shared mode: a crawl writing the archive makes it raise
    :class:`~crawler.archive.lock.ArchiveBusy`.
    """
    if not (archive / CATALOG).is_file():
        raise ArchiveError(f"{archive}: no {CATALOG} (not an archive?)")
    report = WaczReport(output)
    low = _timestamp(since) if since is not None else None
    high = _timestamp(until) if until is not None else None
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        with ArchiveLock(archive, shared=True), tempfile.TemporaryDirectory(prefix="crawler-wacz-") as scratch:
            chosen: list[tuple[Path, Path]] = []
            for warc in warc_files(archive):
                if sources and _source_of(warc) not in sources:
                    continue
                index = _index_file(archive, warc, Path(scratch), report)
                if _in_range(index, low, high):
                    chosen.append((warc, index))
            if not chosen:
                raise ArchiveError(f"{archive}: no WARC file in the slice (sources {sources or 'all'}, "
                                   f"since {since or '-'}, until {until or '-'})")
            big = sum(w.stat().st_size for w, _ in chosen) > ZIP64_AFTER
            with zipfile.ZipFile(tmp, "w", allowZip64=True) as package:
                resources = [_add_warc(package, warc, report) for warc, _ in chosen]
                resources.append(_add_index(package, [i for _, i in chosen], report, big))
                resources.append(_add_pages(package, archive, {w.name for w, _ in chosen}, report, big, low, high,
                                            title))
                datapackage = {
                    "profile": "data-package",
                    "resources": resources,
                    "title": title or f"crawler archive {archive.name}",
                    "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "wacz_version": WACZ_VERSION,
                    "software": f"crawler {crawler.__version__}",
                }
                data = json.dumps(datapackage, indent=2, ensure_ascii=False).encode("utf-8")
                package.writestr(_info("datapackage.json", zipfile.ZIP_DEFLATED), data)
                digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
                package.writestr(_info("datapackage-digest.json", zipfile.ZIP_DEFLATED),
                                 json.dumps(digest, indent=2).encode("utf-8"))
        os.replace(tmp, output)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError.from_os(exc, "write", output) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return report


def _info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def _resource(path: str, writer: _HashingWriter) -> dict[str, object]:
    return {"name": os.path.basename(path).lower(), "path": path, "hash": writer.digest, "bytes": writer.size}


def _add_warc(package: zipfile.ZipFile, warc: Path, report: WaczReport) -> dict[str, object]:
    name = f"archive/{warc.name}"
    size = warc.stat().st_size
    with open(warc, "rb") as source, package.open(_info(name, zipfile.ZIP_STORED), "w",
                                                  force_zip64=size > ZIP64_AFTER) as entry:
        writer = _HashingWriter(entry)
        while chunk := source.read(CHUNK):
            writer.write(chunk)
    report.warcs += 1
    report.warc_bytes += writer.size
    return _resource(name, writer)


def _add_index(package: zipfile.ZipFile, indexes: list[Path], report: WaczReport, big: bool) -> dict[str, object]:
    name = "indexes/index.cdxj"
    with ExitStack() as stack, package.open(_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        handles = [stack.enter_context(open(p, encoding="utf-8")) for p in indexes]
        writer = _HashingWriter(entry)
        buffer: list[str] = []
        for line in heapq.merge(*(_lines(p, h) for p, h in zip(indexes, handles, strict=True))):
            buffer.append(line)
            report.index_lines += 1
            if len(buffer) >= 1024:
                writer.write("".join(buffer).encode("utf-8"))
                buffer.clear()
        writer.write("".join(buffer).encode("utf-8"))
    return _resource(name, writer)


def _add_pages(package: zipfile.ZipFile, archive: Path, warcs: set[str], report: WaczReport, big: bool,
               low: str | None, high: str | None, title: str | None) -> dict[str, object]:
    name = "pages/pages.jsonl"
    header = {"format": "json-pages-1.0", "id": "pages", "title": title or "Articles", "hasText": True}
    with Store(archive, readonly=True) as store, \
            package.open(_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        writer.write((jsonlines.dumps(header) + "\n").encode("utf-8"))
        for row in store.latest_rows():
            if row.warc_file not in warcs:
                continue
            fetched = datetime.fromisoformat(row.fetched_at)
            stamp = _timestamp(fetched)
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            try:
                text = (archive / row.text_path).read_text(encoding="utf-8")
            except OSError as err:
                raise ArchiveError(f"cannot read the snapshot {row.text_path}: {err.strerror or err}") from err
            page = {"id": f"{row.source}-{row.article_id}", "url": row.url, "ts": _iso(fetched),
                    "title": row.title, "text": text}
            writer.write((jsonlines.dumps(page) + "\n").encode("utf-8"))
            report.pages += 1
    return _resource(name, writer)
