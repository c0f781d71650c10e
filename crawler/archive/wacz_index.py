"""The index of a WACZ package: CDXJ merged in key order, 304 revisits resolved, block-indexed gzip when large.

Part of :mod:`crawler.archive.wacz`: the lines :mod:`crawler.archive.cdxj` writes, read again from
the package's WARC files with their ``server-not-modified`` revisits (docs/decisions/0014-not-modified-in-replay.md),
the URL aliases of archived articles in ``archive/aliases.warc.gz`` (decision 0015), written as
``indexes/index.cdx`` or, past :data:`BLOCK_INDEX_AFTER` bytes, ``indexes/index.cdx.gz`` with
``indexes/index.idx``, and ``indexes/aliases.cdx.gz`` for pywb; the listing pages met on the way go
to ``extraPages.jsonl`` (:mod:`.wacz_pages`).
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import itertools
import json
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from crawler.archive.aliases import FILENAME as alias_warc_name
from crawler.archive.aliases import Captures, write_aliases
from crawler.archive.cdxj import index_warc, write_index
from crawler.archive.wacz_entries import HashingWriter, WaczReport, add_file, add_gzipped, entry_info, resource
from crawler.config import Sources

BLOCK_INDEX_AFTER = 50_000  # bytes of index lines above which the index is compressed and block-indexed
BLOCK_LINES = 3000  # index lines per gzip member of indexes/index.cdx.gz (as py-wacz)


def _lines(path: Path, handle: IO[str]) -> Iterator[str]:
    for line in handle:
        if line.strip():
            yield line if line.endswith("\n") else line + "\n"


def add_index(package: zipfile.ZipFile, warcs: list[Path], scratch: Path, report: WaczReport,
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
            alias_lines = write_aliases(out, captures, url_aliases, datetime.now(UTC), warc_dir)
        report.url_aliases = len(url_aliases)
        resources.append(add_file(package, f"archive/{alias_warc_name}", alias_warc, big, zipfile.ZIP_STORED))
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
        resources.append(add_file(package, "indexes/index.cdx", main_path, big, zipfile.ZIP_DEFLATED))
    if report.aliases:
        resources.append(add_gzipped(package, "indexes/aliases.cdx.gz", aliases_path, big))
    return resources, listings


def not_modified_aliases(per_file: list[Path]) -> Iterator[str]:
    """The alias lines (:func:`resolve_not_modified`) of every ``server-not-modified`` revisit in these index files
    (each sorted, 304 lines included), in index order: what ``crawler index`` writes to ``indexes/not-modified.cdx``
    for pywb pointed at the archive, the same lines as a package's ``indexes/aliases.cdx.gz``."""
    with ExitStack() as stack:
        handles = [stack.enter_context(open(p, encoding="utf-8")) for p in per_file]
        for group in _groups(heapq.merge(*(_lines(p, h) for p, h in zip(per_file, handles, strict=True)))):
            yield from resolve_not_modified(group)[1]


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


def _add_block_index(package: zipfile.ZipFile, path: Path, big: bool) -> list[dict[str, object]]:
    """``indexes/index.cdx.gz`` (the lines in gzip members of :data:`BLOCK_LINES` lines, stored so that a
    reader fetches one member by its range) and ``indexes/index.idx`` (the first line's key and time of
    each member, its offset and length): the compressed, block-indexed form Browsertrix and py-wacz write."""
    name = "indexes/index.cdx.gz"
    blocks: list[str] = []
    with open(path, encoding="utf-8") as source, \
            package.open(entry_info(name, zipfile.ZIP_STORED), "w", force_zip64=big) as entry:
        writer = HashingWriter(entry)
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
    gz = resource(name, writer)
    idx_name = "indexes/index.idx"
    meta = "!meta 0 " + json.dumps({"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}) + "\n"
    with package.open(entry_info(idx_name, zipfile.ZIP_DEFLATED), "w", force_zip64=big) as entry:
        idx = HashingWriter(entry)
        idx.write((meta + "".join(blocks)).encode("utf-8"))
    return [gz, resource(idx_name, idx)]
