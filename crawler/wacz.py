"""``crawler wacz``: package an archive (or a slice of it) as one WACZ 1.1.1 file, streaming.

In the flow ``warc + cdxj + catalog ─▶ wacz``, the package is written in one pass over a ZIP
file (docs/decisions/0009-wacz-writer.md: our own writer over :mod:`zipfile`, not py-wacz):

- ``archive/<name>.warc.gz``: the WARC files of the slice, stored (not compressed again:
  replay tools read records by offset);
- ``indexes/index.cdxj``: the per-file CDXJ indexes of those files (:mod:`crawler.cdxj`)
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
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import crawler
from crawler.cdxj import INDEX_DIR, INDEX_SUFFIX, index_warc, write_index
from crawler.errors import ArchiveError
from crawler.indexing import warc_files
from crawler.lock import ArchiveLock
from crawler.outputs import pid_alive, read_inside, replacing, sweep_temporaries
from crawler.store import CATALOG, Store
from crawler.warc import read_warcinfo

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
    :class:`~crawler.lock.ArchiveBusy`.
    """
    if not (archive / CATALOG).is_file():
        raise ArchiveError(f"{archive}: no {CATALOG} (not an archive?)")
    report = WaczReport(output)
    low = _timestamp(since) if since is not None else None
    high = _timestamp(until) if until is not None else None
    with ArchiveLock(archive, shared=True), tempfile.TemporaryDirectory(prefix=f"crawler-wacz-{os.getpid()}-") \
            as scratch:
        sweep_scratch()
        chosen: list[tuple[Path, Path]] = []
        for warc in warc_files(archive):
            if sources and _source_of(warc) not in sources:
                continue
            check_entry_name(warc.name)
            index = _index_file(archive, warc, Path(scratch), report)
            if _in_range(index, low, high):
                chosen.append((warc, index))
        if not chosen:
            raise ArchiveError(f"{archive}: no WARC file in the slice (sources {sources or 'all'}, "
                               f"since {since or '-'}, until {until or '-'})")
        big = sum(w.stat().st_size for w, _ in chosen) > ZIP64_AFTER
        sweep_temporaries(output.parent)
        with replacing(output) as handle:
            with zipfile.ZipFile(handle, "w", allowZip64=True) as package:
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
            handle.flush()
            check_package(Path(handle.name), output)
    return report


# What a WACZ validator accepts as a resource (Frictionless: a name of [-a-z0-9._/], lowercased here),
# and what a replay tool finds under archive/.
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.warc(?:\.gz)?$")
REQUIRED = ("datapackage.json", "datapackage-digest.json", "indexes/index.cdxj", "pages/pages.jsonl")


def check_entry_name(name: str) -> None:
    """Refuse a WARC file whose name a WACZ cannot hold (a validator rejects it, a replay tool may not find it)."""
    if not ENTRY_NAME.match(name) or len(name) > 200:
        raise ArchiveError(f"warc/{name!r}: a file name a WACZ package cannot hold (letters, digits, '.', '_', "
                           f"'-', ending .warc or .warc.gz): rename the file, then `crawler index`")


def check_package(path: Path, output: Path) -> None:
    """Check the package just written, before it replaces ``output``: every entry listed in
    datapackage.json with its size and a name a validator accepts, nothing missing or extra."""
    try:
        with zipfile.ZipFile(path) as package:
            entries = {info.filename: info for info in package.infolist()}
            listed = json.loads(package.read("datapackage.json"))["resources"]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise ArchiveError(f"{output}: the package written is not valid ({err}); nothing was replaced") from err
    problems = [f"{name} missing" for name in REQUIRED if name not in entries]
    paths = set()
    for item in listed:
        where = str(item.get("path", ""))
        paths.add(where)
        info = entries.get(where)
        if info is None:
            problems.append(f"{where!r} listed but not in the package")
        elif info.file_size != item.get("bytes"):
            problems.append(f"{where!r}: {info.file_size} bytes, listed as {item.get('bytes')}")
        if not re.fullmatch(r"[-a-z0-9._/]+", str(item.get("name", ""))):
            problems.append(f"resource name {item.get('name')!r} is not valid")
        if where.startswith("archive/") and not ENTRY_NAME.match(where.removeprefix("archive/")):
            problems.append(f"entry name {where!r} is not valid")
    extra = set(entries) - paths - {"datapackage.json", "datapackage-digest.json"}
    problems += [f"{name!r} in the package but not listed" for name in sorted(extra)]
    if problems:
        raise ArchiveError(f"{output}: the package would not be valid ({'; '.join(problems[:5])}); nothing was "
                           f"replaced")


def sweep_scratch() -> int:
    """Remove the scratch directories of ``crawler wacz`` runs that were killed (their pid is gone)."""
    removed = 0
    root = Path(tempfile.gettempdir())
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        match = re.match(r"^crawler-wacz-(\d+)-", name)
        if match and not pid_alive(int(match.group(1))):
            shutil.rmtree(root / name, ignore_errors=True)
            removed += 1
    return removed


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
        writer.write((json.dumps(header, ensure_ascii=False) + "\n").encode("utf-8"))
        for row in store.latest_rows():
            if row.warc_file not in warcs:
                continue
            fetched = datetime.fromisoformat(row.fetched_at)
            stamp = _timestamp(fetched)
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            try:
                text = read_inside(archive, row.text_path, "snapshot file").decode("utf-8")
            except (OSError, ValueError) as err:
                raise ArchiveError(f"cannot read the snapshot {row.text_path}: {getattr(err, 'strerror', None) or err}"
                                   ) from err
            page = {"id": f"{row.source}-{row.article_id}", "url": row.url, "ts": _iso(fetched),
                    "title": row.title, "text": text}
            writer.write((json.dumps(page, ensure_ascii=False) + "\n").encode("utf-8"))
            report.pages += 1
    return _resource(name, writer)
