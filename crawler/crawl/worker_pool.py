"""Where archive jobs run: in the crawl process, or in archive worker processes with a deadline.

:func:`open_archive_pool` gives the crawl an :class:`ArchivePool`.  With ``processes=0`` the
jobs run in the crawl process (no deadline: for debugging and tests).  Otherwise each worker
is a ``python -P -c WORKER_MAIN FD`` process (:func:`worker_command`: the crawl process's own ``crawler``
package, never one in the working directory; :func:`crawler.crawl.archive_worker.main`) talking to the
crawl process over a Unix socket pair: jobs and replies are length-prefixed pickles, read and written by
trio's own socket I/O, so the hand-off adds no thread to the crawl process (a
``ProcessPoolExecutor`` adds two, which fought trio's thread for the GIL).

A worker does its jobs in order.  When the job at the head of its queue runs longer than
``deadline`` seconds (a page crafted to make the HTML parser quadratic, a parser bug), the
worker is killed with SIGKILL: that job fails with a reason, the jobs queued behind it are
sent again to a new worker, and the run goes on.  A worker that dies for another reason is
handled the same way.  Workers die with the crawl process (``PR_SET_PDEATHSIG``), and a killed
worker's ``.open`` WARC file is closed by :func:`~crawler.archive.recovery.recover_warcs` when the pool
closes.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
from collections import deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import trio

import crawler
from crawler.archive.recovery import Recovered, recover_warcs
from crawler.archive.warc import WARC_GZIP_LEVEL
from crawler.config import SourceConfig
from crawler.crawl.archive_jobs import ArchiveJob, ArchiveReply
from crawler.net.politeness import acquire_without_switch

if TYPE_CHECKING:
    # Imported where a worker runs in this process (``processes=0``): the crawl process of a run with
    # worker processes never parses, and the parsers' modules are a tenth of its start-up.
    from crawler.crawl.archive_worker import ArchiveWorker

# The frame of a message either way: a length prefix; the same as archive_worker's (a test checks).
_FRAME = struct.Struct("!I")
MAX_FRAME = 1 << 30
_RECEIVE_SIZE = 1 << 16

# How a worker process starts: -c, not -m (the crawl package has imported the module already, and runpy
# would warn that it runs a module found in sys.modules).
WORKER_MAIN = "import sys; from crawler.crawl.archive_worker import main; sys.exit(main())"


def worker_command(fd: int) -> list[str]:
    """The worker's command line: the interpreter of this process, importing the ``crawler`` package this
    process runs.  ``-P``: not the working directory's (``-c`` would put it first on ``sys.path``, and a
    ``crawler`` directory there, another checkout or version, would run in the workers)."""
    root = str(Path(crawler.__file__).parent.parent)
    # One line (ps and profilers show it): sys.path gets the package's directory unless it is there already.
    code = f"import sys; {root!r} in sys.path or sys.path.insert(0, {root!r}); {WORKER_MAIN}"
    return [sys.executable, "-P", "-c", code, str(fd)]

log = logging.getLogger("crawler.crawl.worker_pool")

MAX_WORKERS = 8
JOB_DEADLINE = 10.0  # seconds a worker may spend on one job (a normal page takes a few milliseconds)
JOBS_PER_WORKER = 4  # in flight per worker: it never waits for the crawl process between two jobs


class ArchivePool(Protocol):
    """Runs archive jobs; ``parallelism`` says how many are worth keeping in flight."""

    parallelism: int

    @property
    def deaths(self) -> int: ...

    def stop(self) -> None: ...

    async def submit(self, job: ArchiveJob) -> ArchiveReply: ...


class InlinePool:
    """Jobs in the calling process, one at a time (no deadline)."""

    parallelism = 1

    def __init__(self, worker: ArchiveWorker) -> None:
        self.worker = worker

    @property
    def deaths(self) -> int:
        return 0

    def stop(self) -> None:
        pass

    async def submit(self, job: ArchiveJob) -> ArchiveReply:
        reply = self.worker.handle(job)
        await trio.lowlevel.checkpoint()
        return reply


@dataclass(slots=True)
class _Entry:
    job_id: int
    frame: bytes
    done: trio.Event = field(default_factory=trio.Event)
    reply: ArchiveReply | None = None


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    root: Path
    sources: tuple[SourceConfig, ...]
    warc_size: int
    gzip_level: int
    deadline: float


class _Worker:
    """One worker process and the queue of jobs sent to it; restarted when it dies."""

    def __init__(self, settings: WorkerSettings, index: int) -> None:
        self.settings = settings
        self.index = index
        self.queue: deque[_Entry] = deque()
        self.head_started = 0.0  # when the job at the head of the queue started (trio time)
        self.process: subprocess.Popen[bytes] | None = None
        self.stream: trio.SocketStream | None = None
        self.send_lock = trio.Lock()
        self.kill_reason: str | None = None
        self.closing = False
        self.stopping = False  # the run is stopping: jobs not started yet are not started any more
        self.closed = trio.Event()
        self.close_problems: list[str] = []
        self.deaths = 0
        self._buffer = bytearray()

    # -- process -----------------------------------------------------------------------------

    async def spawn(self) -> None:
        parent_end, child_end = socket.socketpair()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        try:
            # Started from this (trio's, the main) thread on purpose: PR_SET_PDEATHSIG fires when the
            # *thread* that started the child exits, and trio's worker threads come and go.
            self.process = subprocess.Popen(  # noqa: ASYNC220 -- fork+exec, a few milliseconds, rare
                worker_command(child_end.fileno()),
                pass_fds=[child_end.fileno()],
                stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            child_end.close()
        stream = trio.SocketStream(trio.socket.from_stdlib_socket(parent_end))
        s = self.settings
        init = {"parent": os.getpid(), "root": str(s.root), "sources": s.sources, "warc_size": s.warc_size,
                "gzip_level": s.gzip_level, "name": f"{stamp}-w{self.index}-{self.process.pid}"}
        await stream.send_all(_frame(init))
        with trio.fail_after(60):  # starting Python and importing the adapters takes well under a second
            message = await self._receive(stream)
        if not (isinstance(message, tuple) and message[0] == "ready"):
            raise RuntimeError(f"archive worker did not start: {message!r}")
        self.stream = stream  # only now may jobs be sent (after the init message)
        self.head_started = trio.current_time()

    async def _receive(self, stream: trio.SocketStream) -> object | None:
        while True:
            if len(self._buffer) >= _FRAME.size:
                (size,) = _FRAME.unpack_from(self._buffer)
                if size > MAX_FRAME:
                    raise ValueError(f"archive worker sent a message of {size} bytes")
                if len(self._buffer) >= _FRAME.size + size:
                    data = bytes(self._buffer[_FRAME.size:_FRAME.size + size])
                    del self._buffer[:_FRAME.size + size]
                    message: object = pickle.loads(data)
                    return message
            # 64 KiB, not more: recv() allocates what it is asked for (1 MiB cost ~10 µs per reply, in
            # malloc and page faults), and a reply is a few KiB (a longer one takes a few reads).
            chunk = await stream.receive_some(_RECEIVE_SIZE)
            if not chunk:
                return None
            self._buffer += chunk

    # -- jobs ----------------------------------------------------------------------------------

    async def call(self, entry: _Entry) -> ArchiveReply:
        if self.stopping:
            return ArchiveReply(problem="the run stopped before this page was archived", stopped=True)
        # Queued and sent under one lock: the queue's order is the order the worker does the jobs in.
        await acquire_without_switch(self.send_lock)
        try:
            if not self.queue:
                self.head_started = trio.current_time()
            self.queue.append(entry)
            await self._send(entry)
        finally:
            self.send_lock.release()
        await entry.done.wait()
        assert entry.reply is not None
        return entry.reply

    async def _send(self, entry: _Entry) -> None:
        """Send a job to the current process (the caller holds the send lock)."""
        if self.stream is None:
            return  # being restarted: the restart sends the queue
        try:
            await self.stream.send_all(entry.frame)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass  # the worker died: the serve loop fails this entry or sends it to the next worker

    async def serve(self) -> None:
        """Read replies for the pool's lifetime; on a worker's death, fail its job and start another."""
        while True:
            try:
                assert self.stream is not None
                while (message := await self._receive(self.stream)) is not None:
                    if isinstance(message, tuple) and message[0] == "closed":
                        self.close_problems = list(message[1])
                        self.closed.set()
                        return
                    assert isinstance(message, tuple)
                    job_id, reply = message
                    entry = self.queue.popleft()
                    if entry.job_id != job_id:
                        raise RuntimeError(f"archive worker answered job {job_id}, expected {entry.job_id}")
                    entry.reply = reply
                    entry.done.set()
                    self.head_started = trio.current_time()
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, EOFError, pickle.PickleError):
                pass
            if self.closing:
                self.closed.set()
                return
            await self._died()

    async def _died(self) -> None:
        self.deaths += 1
        process = self.process
        code = None
        if process is not None:
            with trio.move_on_after(2):
                while (code := process.poll()) is None:  # noqa: ASYNC110 -- rare; Popen has no async wait
                    await trio.sleep(0.01)
            if code is None:
                process.kill()
                code = process.wait()
        overran = self.kill_reason is not None
        reason = self.kill_reason or f"the archive worker process died (exit code {code})"
        self.kill_reason = None
        if self.queue:
            entry = self.queue.popleft()
            entry.reply = ArchiveReply(problem=reason, died=True, overran=overran)
            entry.done.set()
            log.error("archive worker %d: %s; starting another", self.index, reason)
        # Under the send lock until the queue is re-sent: new jobs go after it, and close() reaches
        # the new worker, not the dead one.
        async with self.send_lock:
            if self.stream is not None:
                await self.stream.aclose()
            self.stream = None
            self._buffer.clear()
            await self.spawn()
            for entry in list(self.queue):  # not started yet: the new worker does them (unless the run stops)
                if self.stopping:
                    self.queue.remove(entry)
                    entry.reply = ArchiveReply(problem="the run stopped before this page was archived", stopped=True)
                    entry.done.set()
                else:
                    await self._send(entry)

    async def watch(self) -> None:
        """Kill the worker when the job at the head of its queue passes the deadline."""
        deadline = self.settings.deadline
        while not self.closed.is_set():  # also while closing: a stuck job must not hold the close
            await trio.sleep(min(0.25, deadline / 4))
            if self.queue and self.kill_reason is None and self.stream is not None \
                    and trio.current_time() - self.head_started > deadline \
                    and self.process is not None and self.process.poll() is None:
                self.kill_reason = f"the page took longer than {deadline:g} s to archive and parse; worker killed"
                self.process.send_signal(signal.SIGKILL)

    async def close(self) -> None:
        self.closing = True
        try:
            async with self.send_lock:
                if self.stream is not None:
                    await self.stream.send_all(_frame("close"))
            with trio.move_on_after(60):  # fsync of the WARC files
                await self.closed.wait()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        if self.process is not None:
            with trio.move_on_after(5):
                while self.process.poll() is None:  # noqa: ASYNC110 -- rare; Popen has no async wait
                    await trio.sleep(0.01)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        if self.stream is not None:
            await self.stream.aclose()


class ProcessPool:
    """Archive jobs in worker processes (see the module docstring)."""

    def __init__(self, settings: WorkerSettings, processes: int) -> None:
        if not 1 <= processes <= MAX_WORKERS:
            raise ValueError(f"archive workers must be 1..{MAX_WORKERS}, not {processes}")
        self.workers = [_Worker(settings, i) for i in range(processes)]
        self.parallelism = JOBS_PER_WORKER * processes
        self._slots = trio.Semaphore(self.parallelism)
        self._next_id = 0

    @property
    def deaths(self) -> int:
        return sum(w.deaths for w in self.workers)

    def stop(self) -> None:
        """The run is stopping: jobs that a dead worker left unstarted are not started again."""
        for worker in self.workers:
            worker.stopping = True

    async def submit(self, job: ArchiveJob) -> ArchiveReply:
        """Run a job in the least busy worker.  Shielded: a job sent is a job whose reply is read
        (its files get their catalog row); a stuck one is bounded by the deadline."""
        await acquire_without_switch(self._slots)
        try:
            self._next_id += 1
            entry = _Entry(self._next_id, _frame((self._next_id, job)))
            worker = min(self.workers, key=lambda w: len(w.queue))
            with trio.CancelScope(shield=True):
                reply = await worker.call(entry)
        finally:
            self._slots.release()
        return reply


def _frame(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(data)) + data


@asynccontextmanager
async def open_archive_pool(root: Path, sources: Iterable[SourceConfig], *, processes: int,
                            warc_size: int = 1_000_000_000, gzip_level: int = WARC_GZIP_LEVEL,
                            deadline: float = JOB_DEADLINE) -> AsyncIterator[ArchivePool]:
    """An :class:`ArchivePool` for the archive at ``root``; on exit every WARC file is closed.

    WARC files left ``.open`` by workers that died are closed (cut to their last complete record)
    after the others are done; what that did is logged.
    """
    sources = tuple(sources)
    if processes == 0:
        from crawler.crawl.archive_worker import ArchiveWorker

        inline = ArchiveWorker(root, sources, warc_size=warc_size, gzip_level=gzip_level)
        try:
            yield InlinePool(inline)
        finally:
            for problem in inline.close():
                log.error("closing the archive: %s", problem)
        return
    settings = WorkerSettings(root, sources, warc_size, gzip_level, deadline)
    pool = ProcessPool(settings, processes)
    async with trio.open_nursery() as nursery:
        try:
            for worker in pool.workers:
                await worker.spawn()
                nursery.start_soon(worker.serve)
                nursery.start_soon(worker.watch)
            yield pool
        finally:
            with trio.CancelScope(shield=True):
                for worker in pool.workers:
                    await worker.close()
                    for problem in worker.close_problems:
                        log.error("closing the archive: %s", problem)
            nursery.cancel_scope.cancel()
    if pool.deaths:
        for item in close_leftovers(root):
            log.warning("recovery: %s: %s", item.path, item.what)


def close_leftovers(root: Path) -> list[Recovered]:
    """Close the ``.open`` WARC files of workers that died (all others are closed by now)."""
    return recover_warcs(root / "warc")


def auto_workers(delays: list[float]) -> int:
    """Archive worker processes for ``--workers auto``.

    One, always: parsing then runs under a deadline in another process, so no page can hold the
    crawl, and the crawl process keeps a core for fetching.  A second worker only pays when
    the crawl is CPU-bound (no politeness delay) on a machine with more than two cores.
    """
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cpus > 2 and delays and min(delays) < 0.1:
        return min(MAX_WORKERS, cpus - 1)
    return 1
