"""The archive worker: WARC records first, then decoding, parsing and the snapshot file.

In the flow ``fetcher ─▶ warc ─▶ adapters ─▶ snapshots``, everything after the fetch happens
here, so that the crawl process (fetching, politeness, the catalog) and the CPU-heavy part
(gzip, digests, HTML parsing) can use two cores.  :class:`ArchiveWorker` does one
:class:`~crawler.crawl.archive_jobs.ArchiveJob` at a time and knows nothing of trio or the catalog; the
crawl runs it in a worker process (:func:`main`, started by :mod:`crawler.crawl.worker_pool`) or, with
``--workers 0`` and for ``crawler fetch``, in its own process.

Order within a job, which crash recovery relies on: the exchanges are appended to the WARC
(and flushed) before the body is decoded or parsed; the snapshot's catalog row is journalled
before its file is created; the catalog row itself is committed by the crawl process after the
reply.  A page that cannot be parsed (a hostile page, a parser bug) fails alone: its records
are in the WARC, the reply says what went wrong.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from crawler.archive.cdxj import INDEX_DIR
from crawler.archive.snapshots import SnapshotWriter
from crawler.archive.warc import WARC_GZIP_LEVEL, WarcWriter, payload_digest
from crawler.archive.warc_reading import read_response_at
from crawler.codings import ContentDecodingError, TooLargeError, binary_kind
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import ArchiveJob, ArchiveReply
from crawler.discovery import XMLFormatError, parse_feed, parse_sitemap
from crawler.errors import ArchiveError, StorageError, internal_error
from crawler.models import ExtractionFailure, FetchResult, WarcLocation
from crawler.parse.extraction import Extraction, id_mismatch, parse_listing_response, parse_response
from crawler.parse.htmlguard import complexity_problem
from crawler.parse.normalize import render_snapshot

_FRAME = struct.Struct("!I")
MAX_FRAME = 1 << 30


class ArchiveWorker:
    """Writes the WARC records and snapshots of one archive directory; one job at a time."""

    def __init__(self, root: Path, sources: Iterable[SourceConfig], *, warc_size: int = 1_000_000_000,
                 gzip_level: int = WARC_GZIP_LEVEL, name: str | None = None) -> None:
        self.root = root
        self.extraction = Extraction(root, sources)
        self.warc_size = warc_size
        self.gzip_level = gzip_level
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self.snapshots = SnapshotWriter(root, name or f"{stamp}-{os.getpid()}")
        self._writers: dict[str, WarcWriter] = {}

    # -- resources ---------------------------------------------------------------------------

    def writer(self, key: str) -> WarcWriter:
        writer = self._writers.get(key)
        if writer is None:
            source = self.extraction.sources[key]
            info = {"x-crawler-source": source.key, "x-crawler-source-name": source.name}
            if source.origins:  # fetched from a mirror: the records name the real URLs, this says where from
                info["x-crawler-origins"] = source.origins.describe()
            writer = self._writers[key] = WarcWriter(self.root / "warc", key, max_size=self.warc_size,
                                                     gzip_level=self.gzip_level, info=info,
                                                     index_dir=self.root / INDEX_DIR)
        return writer

    def close(self) -> list[str]:
        """Finish every WARC file (fsync, rename) and the journal; returns problems (none normally)."""
        problems: list[str] = []
        for writer in self._writers.values():
            try:
                writer.close()
            except ArchiveError as err:  # e.g. disk full: the next run's recovery closes the .open file
                problems.append(str(err))
        self._writers.clear()
        self.snapshots.close()
        return problems

    # -- jobs ----------------------------------------------------------------------------------

    def handle(self, job: ArchiveJob) -> ArchiveReply:
        """Do one job; storage failures come back as ``fatal``, anything else as a problem of the page."""
        try:
            return self._handle(job)
        except StorageError as err:
            return ArchiveReply(fatal=str(err))
        except ArchiveError as err:  # e.g. a header value a WARC cannot hold: that page fails
            return ArchiveReply(problem=str(err))
        except Exception as err:  # a bug or a page no code path expected: that page fails, not the run
            where = job.hops[-1].url if job.hops else job.source
            print(f"crawler worker: internal error on {where}:\n{traceback.format_exc()}", file=sys.stderr)
            return ArchiveReply(problem=internal_error(err))

    def _handle(self, job: ArchiveJob) -> ArchiveReply:
        if job.kind == "snapshot":
            assert job.article is not None and job.location is not None and job.fetched_at is not None
            return ArchiveReply(written=self.snapshots.write(job.article, job.text, job.location, job.fetched_at,
                                                             job.latest))
        writer = self.writer(job.source)
        final = job.hops[-1]
        locations = [writer.write_exchange(hop) for hop in job.hops[:-1]]
        revisit = job.revisit
        digest = payload_digest(final.body) if final.status == 200 else None
        if revisit is not None and (revisit.profile == "server-not-modified" or digest == revisit.payload_digest):
            # A 304, or (--refresh) the same payload as the recorded capture: a revisit record.
            locations.append(writer.write_revisit(final, refers_to_uri=revisit.refers_to_uri,
                                                  refers_to_date=revisit.refers_to_date, profile=revisit.profile,
                                                  payload_digest=revisit.payload_digest))
            done = tuple(locations)
            if revisit.reread is None or job.kind not in ("listing", "feed", "sitemap"):
                return ArchiveReply(done, digest=revisit.payload_digest, revisit=True)
            try:  # a listing that did not change: its links are read from the recorded body
                content, content_type = self._reread(revisit.reread)
            except ArchiveError as err:
                return ArchiveReply(done, revisit=True, problem=f"cannot re-read the recorded page: {err}")
            return self._parse(job, final, content, content_type, done, revisit=True)
        locations.append(writer.write_exchange(final, digest=digest))
        done = tuple(locations)
        if final.status != 200 or job.kind == "record":
            return ArchiveReply(done, digest=digest)
        try:
            content = final.content
        except ContentDecodingError as err:
            # A damaged or truncated coded body is a transfer accident: tried again on the normal schedule
            # (a body that decodes to too much is not: it will do so again).
            return ArchiveReply(done, digest=digest, problem=str(err), transient=not isinstance(err, TooLargeError))
        return self._parse(job, final, content, final.header("content-type"), done, digest=digest)

    def _reread(self, where: WarcLocation) -> tuple[bytes, str | None]:
        path = self.root / "warc" / where.filename
        if not path.exists():
            path = path.with_name(path.name + ".open")  # still being written by this run
        if not path.exists():
            raise ArchiveError(f"{where.filename} is missing")
        response = read_response_at(path, where.offset)
        return response.content, response.header("content-type")

    def _parse(self, job: ArchiveJob, final: FetchResult, content: bytes, content_type: str | None,
               locations: tuple[WarcLocation, ...], *, digest: str | None = None,
               revisit: bool = False) -> ArchiveReply:
        url = final.url
        if job.kind in ("feed", "sitemap"):
            try:
                if job.kind == "feed":
                    return ArchiveReply(locations, digest=digest, revisit=revisit,
                                        entries=tuple(parse_feed(content, url)))
                sitemap = parse_sitemap(content, url)
            except XMLFormatError as err:
                return ArchiveReply(locations, digest=digest, revisit=revisit, problem=f"{job.kind}: {err}")
            return ArchiveReply(locations, digest=digest, revisit=revisit, entries=tuple(sitemap.urls),
                                children=tuple(sitemap.sitemaps))
        binary = binary_kind(content)
        if binary is not None:
            # Not HTML whatever the Content-Type says: a cache or CDN accident (gzip bytes without their
            # Content-Encoding, an image stored under a page's key) far more often than a page that became
            # a PDF.  Transient: the frontier tries it again a few runs, then on the slow schedule.
            served = (content_type or "no Content-Type").split(";", 1)[0].strip()
            return ArchiveReply(locations, digest=digest, revisit=revisit, transient=True,
                                problem=f"not HTML: {binary} bytes served as {served}")
        adapter = self.extraction.adapter(job.source, job.extra_host)
        if job.kind == "listing":
            problem = complexity_problem(content)
            if problem is not None:
                return ArchiveReply(locations, digest=digest, revisit=revisit, problem=problem)
            return ArchiveReply(locations, digest=digest, revisit=revisit,
                                listing=parse_listing_response(adapter, content, content_type, url))
        parsed = parse_response(adapter, content, content_type, url)
        if isinstance(parsed, ExtractionFailure):
            return ArchiveReply(locations, digest=digest, extraction=parsed)
        if parsed.article_id != job.expected_id and adapter.source.article_id(url) is None:
            # Redirected to a URL that names no id: the requested URL's id is the one (parse_response held
            # the page's id field to the final URL's when it names one).
            mismatch = id_mismatch(parsed, job.expected_id)
            assert mismatch is not None
            return ArchiveReply(locations, digest=digest, extraction=mismatch)
        text = render_snapshot(parsed)
        template = parsed.rules.get("template")
        if parsed.article_id != job.expected_id:
            # The URL redirected to another article's URL: stored under that id (the crawl settles both).
            return ArchiveReply(locations, digest=digest, pending=(parsed, text), published=parsed.published,
                                template=template)
        written = self.snapshots.write(parsed, text, locations[-1], final.fetched_at, job.latest)
        return ArchiveReply(locations, digest=digest, written=written, published=parsed.published, template=template)


# -- the worker process ------------------------------------------------------------------------


def send_message(sock: socket.socket, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_FRAME.pack(len(data)) + data)


def recv_message(sock: socket.socket) -> object | None:
    """The next message, or None when the other end is gone."""
    head = _recv_exactly(sock, _FRAME.size)
    if head is None:
        return None
    (size,) = _FRAME.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"message of {size} bytes")
    data = _recv_exactly(sock, size)
    return None if data is None else pickle.loads(data)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        try:
            n = sock.recv_into(view[got:])
        except (ConnectionError, OSError):
            return None
        if n == 0:
            return None
        got += n
    return bytes(buffer)


def _die_with_parent(parent: int) -> None:
    """A worker must not outlive the crawl process (a kill -9 of the crawl would orphan it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(0)
            return
    except (OSError, AttributeError):
        pass

    def watch() -> None:  # no prctl (not Linux): poll
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """A worker process (:data:`crawler.crawl.worker_pool.WORKER_MAIN`): serve jobs on socket FD until told to close."""
    args = sys.argv[1:] if argv is None else argv
    sock = socket.socket(fileno=int(args[0]))
    init = recv_message(sock)
    if not isinstance(init, dict):
        return 2
    _die_with_parent(int(init["parent"]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the crawl process decides
    worker = ArchiveWorker(Path(init["root"]), init["sources"], warc_size=int(init["warc_size"]),
                           gzip_level=int(init["gzip_level"]), name=str(init["name"]))
    send_message(sock, ("ready", os.getpid()))
    while True:
        message = recv_message(sock)
        if message is None:  # the crawl process is gone: leave the files to its next run's recovery
            os._exit(0)
        if message == "close":
            problems = worker.close()
            with contextlib.suppress(OSError):
                send_message(sock, ("closed", problems))
            return 0
        assert isinstance(message, tuple)
        job_id, job = message
        reply = worker.handle(job)
        try:
            send_message(sock, (job_id, reply))
        except OSError:
            os._exit(0)

