"""Helpers shared by the benchmark scripts: child processes with their own rusage, nginx, logs, medians.

Not part of the package; imported by the scripts in this directory (run them from the
repository root as ``.venv/bin/python bench/<script>.py``).
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CRAWLER = VENV_BIN / "crawler"


@dataclass(frozen=True, slots=True)
class ChildRun:
    """One finished child process: exit code, wall seconds, CPU seconds, peak RSS (MB)."""

    returncode: int
    wall: float
    user: float
    system: float
    max_rss_mb: float  # the child's own peak (from /usr/bin/time)
    stdout: str
    stderr: str
    tree_rss_mb: float = float("nan")  # peak of the summed RSS of the child and its descendants (sampled)


def run_child(argv: Sequence[str], *, timeout: float, cwd: Path | None = None,
              env: dict[str, str] | None = None) -> ChildRun:
    """Run ``argv`` to completion under ``/usr/bin/time``; its peak RSS and CPU come from there.

    Why not ``wait4`` here: Linux starts a child's ``ru_maxrss`` at the RSS its parent had
    when it forked (the pre-exec copy counts), so a child of a large benchmark process
    would report at least the parent's size.  ``/usr/bin/time`` is a small process, and
    the figure it prints is its child's own.  Output goes to temporary files (no pipe can
    fill up); the child and its children are killed after ``timeout`` seconds.
    """
    base = Path(tempfile.gettempdir()) / f"bench-child-{os.getpid()}-{time.monotonic_ns()}"
    usage_path = Path(f"{base}.time")
    launcher = ["/usr/bin/time", "-o", str(usage_path), "-f", "%e %U %S %M"] if Path("/usr/bin/time").exists() else []
    with open(f"{base}.out", "w+b") as out, open(f"{base}.err", "w+b") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([*launcher, *argv], stdout=out, stderr=err, cwd=cwd, env=env,
                                start_new_session=True)
        tree_peak = 0
        try:
            deadline = started + timeout
            while proc.poll() is None:  # sample the session's summed RSS until the child exits
                tree_peak = max(tree_peak, session_rss(proc.pid))
                if time.perf_counter() > deadline:
                    raise subprocess.TimeoutExpired(argv, timeout)
                time.sleep(0.05)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    user = system = rss_mb = float("nan")
    if launcher and usage_path.exists():
        fields = usage_path.read_text().split()[-4:]  # "Command exited with non-zero status N" may come first
        with contextlib.suppress(ValueError, IndexError):
            user, system, rss_mb = float(fields[1]), float(fields[2]), int(fields[3]) / 1024
    for path in (usage_path, Path(f"{base}.out"), Path(f"{base}.err")):
        path.unlink(missing_ok=True)
    tree_mb = tree_peak / 2**20 if tree_peak else float("nan")
    return ChildRun(proc.returncode, wall, user, system, rss_mb, stdout, stderr, tree_mb)


def session_rss(session: int) -> int:
    """Bytes of RSS summed over the processes of a session (``start_new_session``), ``/usr/bin/time`` excluded.

    Pages shared between processes (the interpreter, libraries) count once per process, so this
    overstates what a crawl with worker processes uses; it never understates it.
    """
    page = os.sysconf("SC_PAGE_SIZE")
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = Path(f"/proc/{entry.name}/stat").read_text()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[3]) == session and name != "time":  # fields[3]: session id
                total += int(Path(f"/proc/{entry.name}/statm").read_text().split()[1]) * page
    return total


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports free on 127.0.0.1 right now."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Nginx:
    """nginx from Debian as our own foreground process, with a config written by ``nginx_config``."""

    def __init__(self, config_text: str, workdir: Path, ports: Sequence[int], access_log: Path) -> None:
        self.workdir = workdir
        self.ports = list(ports)
        self.access_log = access_log
        self.config = workdir / "nginx.conf"
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        workdir.mkdir(parents=True, exist_ok=True)
        self.config.write_text(config_text, encoding="utf-8")

    def __enter__(self) -> Nginx:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self._stderr = open(self.workdir / "stderr.log", "wb")
        self.proc = subprocess.Popen(
            [nginx, "-p", str(self.workdir), "-c", str(self.config), "-e", str(self.workdir / "error.log")],
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True,
        )
        try:
            for port in self.ports:
                wait_for_port(port)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0


@dataclass(frozen=True, slots=True)
class LogEntry:
    msec: float
    port: int
    status: int
    bytes: int
    target: str


def read_log(path: Path, offset: int) -> list[LogEntry]:
    """Access-log lines written after ``offset`` (format ``bench`` of ``nginx_config``)."""
    entries = []
    with open(path, "rb") as handle:
        handle.seek(offset)
        for raw in handle:
            parts = raw.decode("utf-8", "replace").rstrip("\n").split(" ", 4)
            if len(parts) == 5:
                entries.append(LogEntry(float(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), parts[4]))
    return entries


def span(entries: Sequence[LogEntry]) -> float:
    """Seconds from the first to the last request of a run, as the server logged them (ms resolution)."""
    if len(entries) < 2:
        return float("nan")
    return max(e.msec for e in entries) - min(e.msec for e in entries) + 0.001


def forget_article_ids() -> None:
    """Forget the article ids :mod:`crawler.config` remembers per URL (a crawl's archive worker parses each URL once:
    a bench that parses the same pages again must not time remembered answers).  Nothing for a version without."""
    from crawler import config

    remembered = getattr(config, "_article_id", None)
    if remembered is not None:
        remembered.cache_clear()


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def precompile(root: Path) -> str:
    """Compile ``root/crawler``'s bytecode, as an installed package has it, and say so (a header line).

    ``pip install`` compiles what it installs, and Python writes ``__pycache__`` on first import; an
    editable install under ``PYTHONDONTWRITEBYTECODE=1`` (this machine's environment) has neither, and then
    every ``crawler`` command compiles each module it imports at its start (~50-150 ms): a tax on short
    commands (an export) that users do not pay.  Reading ``.pyc`` files is not affected by the variable."""
    import compileall

    package = root / "crawler"
    ok = compileall.compile_dir(str(package), quiet=1)
    return f"# bytecode: {package} compiled ({'ok' if ok else 'with errors'}; PYTHONDONTWRITEBYTECODE="\
           f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r} here)"


def header(title: str) -> str:
    git = "unknown"
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--",
                                "crawler"], capture_output=True, text=True, timeout=10).stdout.strip()
        git = rev + (" + uncommitted changes to tracked files in crawler/" if dirty else " (crawler/ as committed)")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    return (f"# {title}\n# date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n# machine: {machine()}\n"
            f"# load average at start: {load}\n"
            f"# code: {git}\n# command: {' '.join([Path(sys.executable).name, *sys.argv])}\n{precompile(REPO)}")


def self_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextlib.contextmanager
def pinned(cpus: set[int]) -> Iterator[None]:
    """Run the block with this process pinned to ``cpus`` (restored afterwards)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)
