"""The entries of a WACZ package: each written into the ZIP with its sha256 and size, for datapackage.json.

Part of :mod:`crawler.archive.wacz`, shared by its index (:mod:`.wacz_index`) and pages
(:mod:`.wacz_pages`): the hashing writer every entry goes through, the entry's ZIP header and
resource record, a file copied in (stored, deflated or gzipped), the report of what went in, and
the two ways a capture time is written (CDXJ ``YYYYMMDDhhmmss``, ISO 8601).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

CHUNK = 1 << 20
ZIP64_AFTER = 1 << 30  # entries whose size is not known in advance get ZIP64 fields in packages past this


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


class HashingWriter:
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


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def entry_info(name: str, compress: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = compress
    info.external_attr = 0o644 << 16
    return info


def resource(path: str, writer: HashingWriter) -> dict[str, object]:
    return {"name": os.path.basename(path).lower(), "path": path, "hash": writer.digest, "bytes": writer.size}


def add_file(package: zipfile.ZipFile, name: str, path: Path, big: bool, compress: int) -> dict[str, object]:
    with open(path, "rb") as source, package.open(entry_info(name, compress), "w", force_zip64=big) as entry:
        writer = HashingWriter(entry)
        while chunk := source.read(CHUNK):
            writer.write(chunk)
    return resource(name, writer)


def add_gzipped(package: zipfile.ZipFile, name: str, path: Path, big: bool) -> dict[str, object]:
    with open(path, "rb") as source, package.open(entry_info(name, zipfile.ZIP_STORED), "w", force_zip64=big) as entry:
        writer = HashingWriter(entry)
        with gzip.GzipFile(None, "wb", fileobj=writer, mtime=0) as out:  # type: ignore[call-overload]
            while chunk := source.read(CHUNK):
                out.write(chunk)
    return resource(name, writer)
