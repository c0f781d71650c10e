"""``crawler wacz``: package an archive (or a slice of it) as one WACZ 1.1.1 file, streaming.

In the flow ``warc + cdxj + catalog ─▶ wacz``, the package is written in one pass over a ZIP
file (docs/decisions/0009-wacz-writer.md: our own writer over :mod:`zipfile`, not py-wacz):

- ``archive/<name>.warc.gz``: the WARC files of the slice, stored (not compressed again:
  replay tools read records by offset);
- ``indexes/index.cdx``: the index of those files (the lines :mod:`crawler.archive.cdxj` writes, read
  again from the WARC files with their ``server-not-modified`` revisits, merged in key order),
  named as pywb's importer and py-wacz expect; past :data:`BLOCK_INDEX_AFTER` bytes it is
  ``indexes/index.cdx.gz`` (gzip members of :data:`BLOCK_LINES` lines) with ``indexes/index.idx``
  (one line per member), the compressed, block-indexed form ReplayWeb.page reads by ranges;
- ``indexes/aliases.cdx.gz``: for each 304 revisit, its original's line at the revisit's time (for
  pywb; ReplayWeb.page resolves the revisit line itself): docs/decisions/0014-not-modified-in-replay.md;
- ``pages/pages.jsonl``: one entry per article (its latest version): URL, capture time, title
  and the snapshot's text, which ReplayWeb.page searches; ``pages/extraPages.jsonl``: the other
  HTML pages (home pages, sections, their pagination) at their latest capture, with their title;
- ``datapackage.json`` (every file's sha256 and size) and ``datapackage-digest.json`` (the
  sha256 of ``datapackage.json``).

Nothing is held whole in memory: WARC files are copied in chunks, the indexes merged line by
line, the catalog read row by row, and digests computed as the bytes go into the ZIP.  A slice
(``--source``; ``--since``/``--until``: publication date; ``--captured-since``/``--captured-until``: capture
time): a WARC file is in when its source is selected and it holds an article published in the range; with a
capture range, each such file is cut by record (:mod:`.wacz_slice`: the captures made in the range with
their requests, and the originals their revisits refer to, copied by byte range,
docs/decisions/0017-capture-window-slices.md); pages are the articles whose version was captured in the
capture range and published in the publication range.

This module chooses the slice and writes the package (its WARC files, datapackage.json, the check of
the result, the sweep of killed runs' scratch); its parts are the index (:mod:`.wacz_index`), the pages
(:mod:`.wacz_pages`) and the entries' hashing and records (:mod:`.wacz_entries`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import crawler
from crawler.archive.catalog import CATALOG, NOT_AN_ARCHIVE, Store
from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX, index_warc, write_index
from crawler.archive.indexing import warc_files
from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import pid_alive, replacing, sweep_temporaries
from crawler.archive.wacz_entries import CHUNK, ZIP64_AFTER, HashingWriter, WaczReport, entry_info, resource, timestamp
from crawler.archive.wacz_index import add_index
from crawler.archive.wacz_pages import add_extra_pages, add_pages, published_in
from crawler.archive.wacz_slice import slice_warcs
from crawler.archive.warc_reading import read_warcinfo
from crawler.config import Sources, load_sources
from crawler.errors import ArchiveError

WACZ_VERSION = "1.1.1"


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


def _published_files(archive: Path, since: datetime | None, until: datetime | None) -> set[str]:
    """The WARC files holding the latest version of an article published in ``[since, until)``."""
    with Store(archive, readonly=True) as store:
        return {row.warc_file for row in store.latest_rows() if published_in(row.published, since, until)}


def write_wacz(archive: Path, output: Path, *, sources: list[str] | None = None, since: datetime | None = None,
               until: datetime | None = None, title: str | None = None, published_since: datetime | None = None,
               published_until: datetime | None = None, config: Sources | None = None) -> WaczReport:
    """Write ``output`` (a new file, replaced atomically) from ``archive``; see the module docstring.

    ``since``/``until``: capture time (both included, to the second; each WARC file cut by record:
    :mod:`.wacz_slice`); ``published_since``/``published_until`` (``until``: the first moment
    left out): publication date -- the WARC files holding an article published then, whose pages are listed.

    Holds the archive's lock in shared mode: a crawl writing the archive makes it raise
    :class:`~crawler.archive.lock.ArchiveBusy`.
    """
    if not (archive / CATALOG).is_file():
        raise ArchiveError(f"{archive}: no {CATALOG}: {NOT_AN_ARCHIVE}")
    report = WaczReport(output)
    low = timestamp(since) if since is not None else None
    high = timestamp(until) if until is not None else None
    with ArchiveLock(archive, shared=True), tempfile.TemporaryDirectory(prefix=f"crawler-wacz-{os.getpid()}-") \
            as scratch:
        sweep_scratch()
        chosen: list[Path] = []
        of_sources: list[Path] = []
        published = None if published_since is None and published_until is None else \
            _published_files(archive, published_since, published_until)
        for warc in warc_files(archive):
            if sources and _source_of(warc) not in sources:
                continue
            of_sources.append(warc)
            if published is not None and warc.name not in published:
                continue
            check_entry_name(warc.name)
            if low is None and high is None:
                _index_file(archive, warc, Path(scratch), report)
            chosen.append(warc)
        if chosen and (low is not None or high is not None):  # by record (module docstring)
            for warc in of_sources:
                check_entry_name(warc.name)
            chosen = slice_warcs(chosen, of_sources, low, high, Path(scratch) / "slice")
        if not chosen:
            raise ArchiveError(f"{archive}: no WARC file in the slice (sources {sources or 'all'}, "
                               f"captured since {since or '-'}, until {until or '-'}; published since "
                               f"{published_since or '-'}, before {published_until or '-'})")
        big = sum(w.stat().st_size for w in chosen) > ZIP64_AFTER
        sweep_temporaries(output.parent)
        with replacing(output) as handle:  # a new, unpredictable temporary, renamed over output
            with zipfile.ZipFile(handle, "w", allowZip64=True) as package:
                resources = [_add_warc(package, warc, report) for warc in chosen]
                index_resources, listings = add_index(package, chosen, Path(scratch), report, big,
                                                       config if config is not None else load_sources())
                resources += index_resources
                resources.append(add_pages(package, archive, {w.name for w in chosen}, report, big, low, high,
                                            title, listings, (published_since, published_until)))
                resources.append(add_extra_pages(package, archive, listings, report, big, low, high))
                datapackage = {
                    "profile": "data-package",
                    "resources": resources,
                    "title": title or f"crawler archive {archive.name}",
                    "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "wacz_version": WACZ_VERSION,
                    "software": f"crawler {crawler.__version__}",
                }
                data = json.dumps(datapackage, indent=2, ensure_ascii=False).encode("utf-8")
                package.writestr(entry_info("datapackage.json", zipfile.ZIP_DEFLATED), data)
                digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(data).hexdigest()}
                package.writestr(entry_info("datapackage-digest.json", zipfile.ZIP_DEFLATED),
                                 json.dumps(digest, indent=2).encode("utf-8"))
            handle.flush()
            check_package(Path(handle.name), output)
    return report


# What a WACZ validator accepts as a resource (Frictionless: a name of [-a-z0-9._/], lowercased here),
# and what a replay tool finds under archive/.
ENTRY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.warc(?:\.gz)?$")
REQUIRED = ("datapackage.json", "datapackage-digest.json", "pages/pages.jsonl")
INDEXES = (("indexes/index.cdx",), ("indexes/index.cdx.gz", "indexes/index.idx"))  # one of (decision 0014)


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
    if not any(all(name in entries for name in names) for names in INDEXES):
        problems.append("no index (indexes/index.cdx, or indexes/index.cdx.gz with indexes/index.idx)")
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


def _add_warc(package: zipfile.ZipFile, warc: Path, report: WaczReport) -> dict[str, object]:
    name = f"archive/{warc.name}"
    size = warc.stat().st_size
    with open(warc, "rb") as source, package.open(entry_info(name, zipfile.ZIP_STORED), "w",
                                                  force_zip64=size > ZIP64_AFTER) as entry:
        writer = HashingWriter(entry)
        while chunk := source.read(CHUNK):
            writer.write(chunk)
    report.warcs += 1
    report.warc_bytes += writer.size
    return resource(name, writer)


