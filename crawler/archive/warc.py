"""Writing WARC records: raw exchanges go in before any parsing (reading them back: :mod:`.warc_reading`).

In the flow ``fetcher ─▶ warc ─▶ adapters``, :class:`WarcWriter` stores each
:class:`~crawler.models.FetchResult` as a request/response record pair (WARC/1.1,
one gzip member per record, rotated files), with its record heads and digests, and notes
each record for the file's CDXJ index (:mod:`crawler.archive.cdxj`).  Records are deflated by
ISA-L (python-isal, the owner of that library) at levels 1–3 and by zlib otherwise;
:mod:`.warc_reading` reads them back (and imports warcio to do so).
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import re
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Literal

from isal import isal_zlib

import crawler
from crawler.archive.cdxj import CdxEntry, mime_of, write_index_lines
from crawler.errors import ArchiveError, StorageError
from crawler.models import FetchResult, WarcLocation

__all__ = ["WARC_GZIP_LEVEL", "WarcWriter", "payload_digest", "whole_seconds"]

WARC_VERSION = "WARC/1.1"
# Deflate level of the records (one gzip member each): 3 costs about what 1 does and writes ~2 % less
# than 1; 6 (zlib's default, Heritrix's and wget's) costs ~1.4x more CPU for ~2 % smaller files; a body
# that arrived compressed is stored at level 0 (bench/warc_gzip.py, docs/decisions/0011-crawl-pipeline.md).
# Levels 1-3 are ISA-L's (python-isal): level 3 writes what zlib's 3 does within ~1 %, with 2.5-5x less CPU.
WARC_GZIP_LEVEL = 3
_ISAL_LEVELS = range(1, 4)  # ISA-L's levels; 0 (stored) and 4-9 are zlib's
_CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
_REVISIT_PROFILES = {
    "server-not-modified": "http://netpreserve.org/warc/1.1/revisit/server-not-modified",
    "identical-payload-digest": "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
}


def _digest(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of a body (``sha1:`` + base32), as written in records."""
    return _digest(body)


def _block_digest(head: bytes, body: bytes) -> str:
    sha = hashlib.sha1(head)
    sha.update(body)  # no head + body copy just to hash it
    return "sha1:" + base64.b32encode(sha.digest()).decode("ascii")


# Content codings whose bodies are already compressed: a WARC record holding one is stored without
# compressing it again (deflate level 0), which costs almost no CPU and ~nothing in size.
_COMPRESSED_CODINGS = ("gzip", "x-gzip", "br", "deflate", "zstd", "compress")


def _compressor(level: int) -> zlib._Compress | isal_zlib.Compress:
    """A gzip-member compressor at deflate ``level``: ISA-L's for 1-3, zlib's for 0 (stored) and 4-9."""
    if level in _ISAL_LEVELS:
        return isal_zlib.compressobj(level, isal_zlib.DEFLATED, 16 + isal_zlib.MAX_WBITS)
    return zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)


def _warc_date(moment: datetime) -> str:
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_IDS = random.Random(int.from_bytes(os.urandom(16), "big"))


def _record_id() -> str:
    # A random (version 4) UUID; uuid.uuid4() reads os.urandom per call, which costs more than the
    # record's other fields.  Seeded from os.urandom once per process: unique across writers.
    value = f"{(_IDS.getrandbits(128) & ~(0xF000 << 64) & ~(0xC << 60)) | (0x4000 << 64) | (0x8 << 60):032x}"
    return f"<urn:uuid:{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}>"


def _field(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ArchiveError(f"line break in a WARC header value: {value!r}")
    return value


def _archived_head(head: bytes) -> bytes:
    """The response head as archived: ``Transfer-Encoding`` renamed, since the body is stored de-chunked."""
    if b"transfer-encoding" not in head.lower():
        return head if head.endswith(b"\r\n\r\n") and head.count(b"\n") == head.count(b"\r\n") \
            else _normalised_head(head)
    return _normalised_head(head, rename=True)


def _normalised_head(head: bytes, *, rename: bool = False) -> bytes:
    lines = re.split(rb"\r?\n", head.rstrip(b"\r\n"))
    out = [lines[0]]
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if rename and sep and name.strip().lower() == b"transfer-encoding":
            line = b"X-Crawler-Transfer-Encoding:" + value
        out.append(line)
    return b"\r\n".join(out) + b"\r\n\r\n"


class WarcWriter:
    """Writes exchanges to ``<prefix>-<UTC YYYYMMDDHHMMSSffffff>-<serial>.warc.gz`` files in ``directory``.

    A file is written as ``<name>.open``, opened lazily on the first write, and renamed to
    ``<name>`` (after an fsync) when it is closed: on :meth:`close`, or on rotation, which
    happens before an exchange once the current file has reached ``max_size`` bytes.  Every
    file starts with a ``warcinfo`` record carrying ``info`` as extra fields.  Each record is
    its own gzip member, so the offsets returned can be seeked to directly.  Not thread-safe:
    use one writer per task (or per thread).
    """

    def __init__(
        self,
        directory: Path,
        prefix: str,
        *,
        max_size: int = 1_000_000_000,
        info: Mapping[str, str] | None = None,
        gzip_level: int = WARC_GZIP_LEVEL,
        index_dir: Path | None = None,
    ) -> None:
        if not prefix or "/" in prefix or os.sep in prefix:
            raise ValueError(f"bad WARC file prefix {prefix!r}")
        if not 0 <= gzip_level <= 9:
            raise ValueError(f"gzip_level must be 0..9, not {gzip_level}")
        self.directory = Path(directory)
        self.prefix = prefix
        self.max_size = max_size
        for key, value in (info or {}).items():
            if not key or any(c in key + value for c in "\r\n") or ":" in key:
                raise ValueError(f"bad warcinfo field {key!r}: {value!r}")
        self.info = dict(info or {})
        self.gzip_level = gzip_level
        self.current_path: Path | None = None  # the ``.open`` file being written, if any
        self.closed_paths: list[Path] = []  # finished files, in order
        self._serial = 0
        self._file: IO[bytes] | None = None
        self._final_path: Path | None = None
        self._warcinfo_id = ""
        # The CDXJ index of the current file (crawler.archive.cdxj), written to ``index_dir`` when it is
        # closed: what each record is, noted as it is written (no re-reading of the file).
        self.index_dir = index_dir
        self._index: list[bytes] = []  # the file's index lines, UTF-8 (~330 bytes a record; a tuple took ~520)

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- records ------------------------------------------------------------

    def _member(self, fields: list[tuple[str, str]], *parts: bytes, level: int | None = None) -> bytes:
        """One gzip member holding one record whose block is ``parts`` concatenated."""
        head = [WARC_VERSION] + [f"{name}: {value}" for name, value in fields]
        head.append(f"Content-Length: {sum(map(len, parts))}")
        compressor = _compressor(self.gzip_level if level is None else level)
        out = [compressor.compress(("\r\n".join(head) + "\r\n\r\n").encode("utf-8"))]
        out += [compressor.compress(part) for part in parts]
        out.append(compressor.compress(b"\r\n\r\n"))
        out.append(compressor.flush())
        return b"".join(out)

    def _common(self, rec_type: str, rec_id: str, result: FetchResult) -> list[tuple[str, str]]:
        fields = [
            ("WARC-Type", rec_type),
            ("WARC-Record-ID", rec_id),
            ("WARC-Date", _warc_date(result.fetched_at)),
            ("WARC-Target-URI", _field(result.url)),
        ]
        if result.peer_ip:
            fields.append(("WARC-IP-Address", _field(result.peer_ip)))
        return fields

    def _request_member(self, result: FetchResult, rec_id: str, concurrent_to: str) -> bytes:
        if not result.request_head:
            raise ArchiveError(f"{result.url}: no request head to archive")
        fields = self._common("request", rec_id, result)
        fields += [
            ("WARC-Concurrent-To", concurrent_to),
            ("WARC-Warcinfo-ID", self._warcinfo_id),
            ("Content-Type", "application/http;msgtype=request"),
            ("WARC-Block-Digest", _digest(result.request_head)),
        ]
        return self._member(fields, result.request_head)

    def _body_level(self, result: FetchResult) -> int | None:
        """Deflate level for a response: 0 when the body is already compressed (Content-Encoding)."""
        coding = (result.header("content-encoding") or "").lower()
        return 0 if coding and any(c in coding for c in _COMPRESSED_CODINGS) and result.body else None

    def _response_head(self, result: FetchResult) -> bytes:
        if not result.response_head.startswith(b"HTTP/"):
            raise ArchiveError(f"{result.url}: response head does not start with a status line")
        return _archived_head(result.response_head)

    # -- files ----------------------------------------------------------------

    def _open(self) -> IO[bytes]:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError.from_os(exc, "create", self.directory) from exc
        while True:
            stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")
            name = f"{self.prefix}-{stamp}-{self._serial:05d}.warc.gz"
            self._serial += 1
            final = self.directory / name
            if final.exists():
                continue
            try:
                fd = os.open(final.with_name(name + ".open"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            except OSError as exc:
                raise StorageError.from_os(exc, "create a WARC file in", self.directory) from exc
            break
        handle = os.fdopen(fd, "wb")
        self._index = []
        self._file = handle
        self._final_path = final
        self.current_path = final.with_name(name + ".open")
        self._warcinfo_id = _record_id()
        fields = {
            "software": f"crawler/{crawler.__version__}",
            "format": "WARC File Format 1.1",
            "conformsTo": _CONFORMS_TO,
            **self.info,
        }
        block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode("utf-8")
        member = self._member(
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Record-ID", self._warcinfo_id),
                ("WARC-Date", _warc_date(datetime.now(UTC))),
                ("WARC-Filename", name),
                ("Content-Type", "application/warc-fields"),
                ("WARC-Block-Digest", _digest(block)),
            ],
            block,
        )
        self._append(handle, [member])
        return handle

    def _append(self, handle: IO[bytes], members: list[bytes]) -> int:
        """Write whole members and flush; on failure cut the file back so it stays readable."""
        start = handle.tell()
        try:
            for member in members:
                handle.write(member)
            handle.flush()
        except OSError as exc:
            try:
                handle.truncate(start)
                handle.seek(start)
            except OSError:
                pass
            raise StorageError.from_os(exc, "write", self.current_path) from exc
        return start

    def _file_for_write(self) -> IO[bytes]:
        if self._file is not None and self._file.tell() >= self.max_size:
            self.close()
        if self._file is None:
            return self._open()
        return self._file

    def _location(self, start: int, before: list[bytes]) -> WarcLocation:
        assert self._final_path is not None
        return WarcLocation(self._final_path.name, start + sum(len(m) for m in before))

    def write_exchange(self, result: FetchResult, *, digest: str | None = None) -> WarcLocation:
        """Append a request and a response record; returns where the response record starts.

        ``digest`` is the body's :func:`payload_digest` when the caller has it already.
        """
        head = self._response_head(result)
        handle = self._file_for_write()
        req_id, resp_id = _record_id(), _record_id()
        request = self._request_member(result, req_id, resp_id)
        fields = self._common("response", resp_id, result)
        fields += [
            ("WARC-Concurrent-To", req_id),
            ("WARC-Warcinfo-ID", self._warcinfo_id),
            ("Content-Type", "application/http;msgtype=response"),
            ("WARC-Block-Digest", _block_digest(head, result.body)),
            ("WARC-Payload-Digest", digest or _digest(result.body)),
        ]
        response = self._member(fields, head, result.body, level=self._body_level(result))
        start = self._append(handle, [request, response])
        self._note(fields[2][1], result, mime_of(result.header("content-type")), fields[-1][1],
                   start + len(request), len(response))
        return self._location(start, [request])

    def write_revisit(
        self,
        result: FetchResult,
        *,
        refers_to_uri: str,
        refers_to_date: str,
        profile: Literal["server-not-modified", "identical-payload-digest"],
        refers_to_record_id: str | None = None,
        payload_digest: str | None = None,
    ) -> WarcLocation:
        """Append a request and a ``revisit`` record (HTTP head only; no body); returns the revisit's place.

        ``identical-payload-digest``: the body equals an earlier capture's; ``payload_digest``
        defaults to the digest of ``result.body``.  ``server-not-modified``: a 304 (or an
        equivalent) answered a conditional request; the digest is written only when given.
        """
        head = self._response_head(result)
        if payload_digest is None and profile == "identical-payload-digest":
            payload_digest = _digest(result.body)
        handle = self._file_for_write()
        req_id, rev_id = _record_id(), _record_id()
        request = self._request_member(result, req_id, rev_id)
        fields = self._common("revisit", rev_id, result)
        fields += [
            ("WARC-Concurrent-To", req_id),
            ("WARC-Warcinfo-ID", self._warcinfo_id),
            ("WARC-Profile", _REVISIT_PROFILES[profile]),
            ("WARC-Refers-To-Target-URI", _field(refers_to_uri)),
            ("WARC-Refers-To-Date", _field(whole_seconds(refers_to_date))),
        ]
        if refers_to_record_id:
            fields.append(("WARC-Refers-To", _field(refers_to_record_id)))
        if payload_digest:
            fields.append(("WARC-Payload-Digest", _field(payload_digest)))
        fields += [
            ("Content-Type", "application/http;msgtype=response"),
            ("WARC-Block-Digest", _digest(head)),
        ]
        revisit = self._member(fields, head)
        start = self._append(handle, [request, revisit])
        if profile != "server-not-modified":  # a 304 gets no index line (crawler.archive.cdxj)
            self._note(fields[2][1], result, "warc/revisit", payload_digest, start + len(request), len(revisit))
        return self._location(start, [request])

    def _note(self, date: str, result: FetchResult, mime: str | None, digest: str | None, offset: int,
              length: int) -> None:
        """Remember a record's line of the file's index (UTF-8 bytes sort as the text does)."""
        assert self._final_path is not None
        stamp = date[0:4] + date[5:7] + date[8:10] + date[11:13] + date[14:16] + date[17:19]
        entry = CdxEntry(result.url, stamp, mime, str(result.status), digest, offset, length)
        self._index.append(entry.line(self._final_path.name).encode("utf-8"))

    def close(self) -> None:
        """Finish the current file (fsync, rename ``.open`` away); the next write opens a new one."""
        handle, final, current = self._file, self._final_path, self.current_path
        self._file = self._final_path = self.current_path = None
        if handle is None or final is None or current is None:
            return
        try:
            with handle:
                handle.flush()
                os.fsync(handle.fileno())
            _rename_exclusive(current, final)
            _fsync_dir(final.parent)
        except OSError as exc:
            raise StorageError.from_os(exc, "finish", current) from exc
        self.closed_paths.append(final)
        noted, self._index = self._index, []
        if self.index_dir is not None:
            noted.sort()
            write_index_lines(self.index_dir, final.name, noted)


def whole_seconds(warc_date: str) -> str:
    """``2026-05-16T10:00:00.123456Z`` -> ``2026-05-16T10:00:00Z``: a revisit's ``WARC-Refers-To-Date``.

    Index lines have whole seconds; ReplayWeb.page finds a revisit's original as the first capture
    at or after that date, so a fraction would skip the original and pick the next version
    (docs/decisions/0014-not-modified-in-replay.md).
    """
    head, dot, rest = warc_date.partition(".")
    return head + "Z" if dot and rest.endswith("Z") and rest[:-1].isdigit() else warc_date


def _rename_exclusive(source: Path, target: Path) -> None:
    """Rename without ever replacing an existing file (a hard link fails if the target exists)."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this file system
        if target.exists():
            raise FileExistsError(f"{target} already exists") from None
        os.rename(source, target)
        return
    os.unlink(source)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
