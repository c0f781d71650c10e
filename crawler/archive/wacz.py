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
time) is cut at WARC-file granularity: a file is in when its source is selected, it holds an article
published in the range, and one of its captures falls in the capture range (every capture of a file then
replays, its revisits' originals included when they are in the file); pages are the articles in both ranges.
Slicing by record (rewriting WARC files) is not done yet.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import html
import itertools
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
from crawler.archive import jsonlines
from crawler.archive.aliases import FILENAME as alias_warc_name
from crawler.archive.aliases import Captures, write_aliases
from crawler.archive.catalog import CATALOG, NOT_AN_ARCHIVE, Store
from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX, index_warc, write_index
from crawler.archive.indexing import warc_files
from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import pid_alive, read_inside, replacing, sweep_temporaries
from crawler.archive.warc_reading import read_response_at, read_warcinfo
from crawler.config import Sources, load_sources
from crawler.errors import ArchiveError

WACZ_VERSION = "1.1.1"
CHUNK = 1 << 20
ZIP64_AFTER = 1 << 30  # entries whose size is not known in advance get ZIP64 fields in packages past this
BLOCK_INDEX_AFTER = 50_000  # bytes of index lines above which the index is compressed and block-indexed
BLOCK_LINES = 3000  # index lines per gzip member of indexes/index.cdx.gz (as py-wacz)


@dataclass(slots=True)
class WaczReport:
    path: Path
    warcs: int = 0
    warc_bytes: int = 0
    index_lines: int = 0
    aliases: int = 0  # lines of indexes/aliases.cdx.gz (304 revisits, for pywb)
    url_aliases: int = 0  # other URLs of archived articles, in archive/aliases.warc.gz (decision 0015)
    pages: int = 0
    extra_pages: int = 0
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


def _published_in(published: str, since: datetime | None, until: datetime | None) -> bool:
    """Whether an ISO 8601 publication date (Vietnamese time, as the catalog has it) is in ``[since, until)``."""
    if since is None and until is None:
        return True
    try:
        moment = datetime.fromisoformat(published)
    except ValueError:
        return False
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (since is None or moment >= since) and (until is None or moment < until)


def _published_files(archive: Path, since: datetime | None, until: datetime | None) -> set[str]:
    """The WARC files holding the latest version of an article published in ``[since, until)``."""
    with Store(archive, readonly=True) as store:
        return {row.warc_file for row in store.latest_rows() if _published_in(row.published, since, until)}


def _lines(path: Path, handle: IO[str]) -> Iterator[str]:
    for line in handle:
        if line.strip():
            yield line if line.endswith("\n") else line + "\n"


def write_wacz(archive: Path, output: Path, *, sources: list[str] | None = None, since: datetime | None = None,
               until: datetime | None = None, title: str | None = None, published_since: datetime | None = None,
               published_until: datetime | None = None, config: Sources | None = None) -> WaczReport:
    """Write ``output`` (a new file, replaced atomically) from ``archive``; see the module docstring.

    ``since``/``until``: capture time; ``published_since``/``published_until`` (``until``: the first moment
    left out): publication date -- the WARC files holding an article published then, whose pages are listed.

    Holds the archive's lock in shared mode: a crawl writing the archive makes it raise
    :class:`~crawler.archive.lock.ArchiveBusy`.
    """
    if not (archive / CATALOG).is_file():
        raise ArchiveError(f"{archive}: no {CATALOG}: {NOT_AN_ARCHIVE}")
    report = WaczReport(output)
    low = _timestamp(since) if since is not None else None
    high = _timestamp(until) if until is not None else None
    with ArchiveLock(archive, shared=True), tempfile.TemporaryDirectory(prefix=f"crawler-wacz-{os.getpid()}-") \
            as scratch:
        sweep_scratch()
        chosen: list[tuple[Path, Path]] = []
        published = None if published_since is None and published_until is None else \
            _published_files(archive, published_since, published_until)
        for warc in warc_files(archive):
            if sources and _source_of(warc) not in sources:
                continue
            if published is not None and warc.name not in published:
                continue
            check_entry_name(warc.name)
            index = _index_file(archive, warc, Path(scratch), report)
            if _in_range(index, low, high):
                chosen.append((warc, index))
        if not chosen:
            raise ArchiveError(f"{archive}: no WARC file in the slice (sources {sources or 'all'}, "
                               f"captured since {since or '-'}, until {until or '-'}; published since "
                               f"{published_since or '-'}, before {published_until or '-'})")
        big = sum(w.stat().st_size for w, _ in chosen) > ZIP64_AFTER
        sweep_temporaries(output.parent)
        with replacing(output) as handle:  # a new, unpredictable temporary, renamed over output
            with zipfile.ZipFile(handle, "w", allowZip64=True) as package:
                resources = [_add_warc(package, warc, report) for warc, _ in chosen]
                index_resources, listings = _add_index(package, [w for w, _ in chosen], Path(scratch), report, big,
                                                       config if config is not None else load_sources())
                resources += index_resources
                resources.append(_add_pages(package, archive, {w.name for w, _ in chosen}, report, big, low, high,
                                            title, listings, (published_since, published_until)))
                resources.append(_add_extra_pages(package, archive, listings, report, big, low, high))
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


def _add_index(package: zipfile.ZipFile, warcs: list[Path], scratch: Path, report: WaczReport,
               big: bool, config: Sources) -> tuple[list[dict[str, object]], dict[str, tuple[str, str, str]]]:
    """The package's index files and ``archive/aliases.warc.gz`` (see the module docstring); returns their
    resources and the listing pages found on the way (URL -> (timestamp, WARC file, offset) of its latest
    HTML capture)."""
    full = scratch / "full"
    per_file = [write_index(full, warc.name, index_warc(warc, not_modified=True)) for warc in warcs]
    main_path, aliases_path = scratch / "main.cdxj", scratch / "aliases.cdxj"
    listings: dict[str, tuple[str, str, str]] = {}
    resources = []
    # URL aliases of archived articles (docs/decisions/0015-url-aliases-in-replay.md): a first pass.
    captures = Captures(config)
    for path in per_file:
        with open(path, encoding="utf-8") as handle:
            for line in _lines(path, handle):
                _key, stamp, data = line.split(" ", 2)
                captures.note(stamp, json.loads(data))
    warc_dir = warcs[0].parent if warcs else scratch
    url_aliases = captures.aliases(warc_dir)
    alias_lines: list[str] = []
    if url_aliases:
        alias_warc = scratch / alias_warc_name
        with open(alias_warc, "wb") as out:
            alias_lines = write_aliases(out, captures, url_aliases, datetime.now(UTC))
        report.url_aliases = len(url_aliases)
        resources.append(_add_file(package, f"archive/{alias_warc_name}", alias_warc, big, zipfile.ZIP_STORED))
    with ExitStack() as stack:
        handles = [stack.enter_context(open(p, encoding="utf-8")) for p in per_file]
        main = stack.enter_context(open(main_path, "w", encoding="utf-8", newline="\n"))
        aliases = stack.enter_context(open(aliases_path, "w", encoding="utf-8", newline="\n"))
        merged = heapq.merge(*(_lines(p, h) for p, h in zip(per_file, handles, strict=True)), iter(alias_lines))
        for group in _groups(merged):
            kept, group_aliases = resolve_not_modified(group)
            for line in kept:
                main.write(line)
                report.index_lines += 1
                _note_listing(line, listings)
            aliases.writelines(group_aliases)
            report.aliases += len(group_aliases)
    if main_path.stat().st_size > BLOCK_INDEX_AFTER:
        resources += _add_block_index(package, main_path, big)
    else:
        resources.append(_add_file(package, "indexes/index.cdx", main_path, big, zipfile.ZIP_DEFLATED))
    if report.aliases:
        resources.append(_add_gzipped(package, "indexes/aliases.cdx.gz", aliases_path, big))
    return resources, listings


def _groups(lines: Iterator[str]) -> Iterator[list[str]]:
    """Runs of lines with the same SURT key (every capture of one URL, in time order)."""
    group: list[str] = []
    key = None
    for line in lines:
        this = line.split(" ", 1)[0]
        if this != key and group:
            yield group
            group = []
        key = this
        group.append(line)
    if group:
        yield group


def resolve_not_modified(group: list[str]) -> tuple[list[str], list[str]]:
    """(index lines, alias lines) of one URL's captures, its ``server-not-modified`` lines resolved.

    A 304 line (``mime`` ``warc/revisit``, ``status`` ``304``) whose original is in the group (the
    latest earlier ``200`` capture of the same URL with the revisit's payload digest) becomes a
    revisit line with the original's status, which ReplayWeb.page resolves to the original payload,
    and gives an alias line: the original's line at the revisit's time, which pywb replays (it
    replays a 304 revisit as an empty page). A 304 line whose original is not in the package (a
    slice, an archive from before payload digests) is left out, as before.
    (docs/decisions/0014-not-modified-in-replay.md)
    """
    kept: list[str] = []
    aliases: list[str] = []
    originals: list[tuple[str, dict[str, str]]] = []  # (timestamp, fields) of 200 captures so far
    for line in group:
        key, stamp, data = line.split(" ", 2)
        fields = json.loads(data)
        if fields.get("mime") == "warc/revisit" and fields.get("status") == "304":
            digest = fields.get("digest")
            found = next((f for s, f in reversed(originals) if s <= stamp and f.get("url") == fields.get("url")
                          and (digest is None or f.get("digest") == digest)), None)
            if found is None:
                continue
            fields["status"] = found["status"]
            if digest is None and "digest" in found:  # an archive from before 304s kept the original's digest
                fields["digest"] = found["digest"]
                fields = {k: fields[k] for k in _FIELD_ORDER if k in fields} | fields
            kept.append(f"{key} {stamp} {json.dumps(fields)}\n")
            aliases.append(f"{key} {stamp} {json.dumps(found)}\n")
            continue
        if fields.get("mime") != "warc/revisit" and fields.get("status") == "200":
            originals.append((stamp, fields))
        kept.append(line)
    return sorted(kept), sorted(aliases)


_FIELD_ORDER = ("url", "mime", "status", "digest", "length", "offset", "filename")
_HTML = ("text/html", "application/xhtml+xml")


def _note_listing(line: str, listings: dict[str, tuple[str, str, str]]) -> None:
    _key, stamp, data = line.split(" ", 2)
    fields = json.loads(data)
    if fields.get("mime") in _HTML and fields.get("status") == "200":
        listings[fields["url"]] = (stamp, fields["filename"], fields["offset"])


def _add_file(package: zipfile.ZipFile, name: str, path: Path, big: bool, compress: int) -> dict[str, object]:
    with open(path, "rb") as source, package.open(_info(name, compress), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        while chunk := source.read(CHUNK):
            writer.write(chunk)
    return _resource(name, writer)


def _add_gzipped(package: zipfile.ZipFile, name: str, path: Path, big: bool) -> dict[str, object]:
    with open(path, "rb") as source, package.open(_info(name, zipfile.ZIP_STORED), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        with gzip.GzipFile(None, "wb", fileobj=writer, mtime=0) as out:  # type: ignore[call-overload]
            while chunk := source.read(CHUNK):
                out.write(chunk)
    return _resource(name, writer)


def _add_block_index(package: zipfile.ZipFile, path: Path, big: bool) -> list[dict[str, object]]:
    """``indexes/index.cdx.gz`` (the lines in gzip members of :data:`BLOCK_LINES` lines, stored so that a
    reader fetches one member by its range) and ``indexes/index.idx`` (the first line's key and time of
    each member, its offset and length): the compressed, block-indexed form Browsertrix and py-wacz write."""
    name = "indexes/index.cdx.gz"
    blocks: list[str] = []
    with open(path, encoding="utf-8") as source, \
            package.open(_info(name, zipfile.ZIP_STORED), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        while True:
            lines = list(itertools.islice(source, BLOCK_LINES))
            if not lines:
                break
            data = gzip.compress("".join(lines).encode("utf-8"), mtime=0)
            key, stamp, _ = lines[0].split(" ", 2)
            blocks.append(f"{key} {stamp} " + json.dumps({
                "offset": writer.size, "length": len(data),
                "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "filename": "index.cdx.gz"}) + "\n")
            writer.write(data)
    gz = _resource(name, writer)
    idx_name = "indexes/index.idx"
    meta = "!meta 0 " + json.dumps({"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}) + "\n"
    with package.open(_info(idx_name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        idx = _HashingWriter(entry)
        idx.write((meta + "".join(blocks)).encode("utf-8"))
    return [gz, _resource(idx_name, idx)]


def _add_pages(package: zipfile.ZipFile, archive: Path, warcs: set[str], report: WaczReport, big: bool,
               low: str | None, high: str | None, title: str | None,
               listings: dict[str, tuple[str, str, str]],
               published: tuple[datetime | None, datetime | None] = (None, None)) -> dict[str, object]:
    """``pages/pages.jsonl``: the articles, with their text; their URLs are taken out of ``listings``."""
    name = "pages/pages.jsonl"
    header = {"format": "json-pages-1.0", "id": "pages", "title": title or "Articles", "hasText": True}
    with Store(archive, readonly=True) as store, \
            package.open(_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        writer.write((jsonlines.dumps(header) + "\n").encode("utf-8"))
        for url in store.article_urls():
            listings.pop(url, None)
        for row in store.latest_rows():
            if row.warc_file not in warcs:
                continue
            fetched = datetime.fromisoformat(row.fetched_at)
            stamp = _timestamp(fetched)
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            if not _published_in(row.published, *published):
                continue
            try:
                text = read_inside(archive, row.text_path, "snapshot file").decode("utf-8")
            except (OSError, ValueError) as err:
                raise ArchiveError(f"cannot read the snapshot {row.text_path}: {getattr(err, 'strerror', None) or err}"
                                   ) from err
            page = {"id": f"{row.source}-{row.article_id}", "url": row.url, "ts": _iso(fetched),
                    "title": row.title, "text": text}
            writer.write((jsonlines.dumps(page) + "\n").encode("utf-8"))
            report.pages += 1
    return _resource(name, writer)


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)


def _title_at(path: Path, offset: int) -> str:
    """The ``<title>`` of the HTML response recorded at ``offset`` (empty when it has none)."""
    try:
        content = read_response_at(path, offset).content
    except (ArchiveError, ValueError):
        return ""
    found = _TITLE.search(content[:200_000])
    if found is None:
        return ""
    return " ".join(html.unescape(found.group(1).decode("utf-8", "replace")).split())


def _add_extra_pages(package: zipfile.ZipFile, archive: Path, listings: dict[str, tuple[str, str, str]],
                     report: WaczReport, big: bool, low: str | None, high: str | None) -> dict[str, object]:
    """``pages/extraPages.jsonl``: the HTML pages that are not articles (home pages, sections, their
    pagination), each at its latest capture in the package, with its title (no text)."""
    name = "pages/extraPages.jsonl"
    header = {"format": "json-pages-1.0", "id": "extra-pages", "title": "Listing pages", "hasText": False}
    with package.open(_info(name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        writer = _HashingWriter(entry)
        writer.write((jsonlines.dumps(header) + "\n").encode("utf-8"))
        for url, (stamp, filename, offset) in sorted(listings.items()):
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            moment = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            page = {"id": hashlib.sha256(f"{stamp} {url}".encode()).hexdigest()[:24], "url": url,
                    "ts": _iso(moment), "title": _title_at(archive / "warc" / filename, int(offset)) or url}
            writer.write((jsonlines.dumps(page) + "\n").encode("utf-8"))  # a title may hold U+2028
            report.extra_pages += 1
    return _resource(name, writer)
