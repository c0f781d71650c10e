"""Crawl throughput and memory on the offline mirror, all clients side by side in one run.

The mirror (``--articles`` in all, split over its three sources) is exported as static
files (:mod:`crawler.mirror.export`) and served by nginx on 127.0.0.1, so that the
server is not what is measured (``wrk`` checks both servers first).  Then, against the
same pages:

* ``crawler crawl`` (the CLI, a child process; WARC + snapshots + catalog, politeness
  off, robots ignored) at a few ``--host-concurrency`` x ``--concurrency`` settings;
* the raw ceiling: ``bench/raw_fetch.py`` (httpx2 under trio, one client per host, the
  same concurrency) fetching exactly the URLs that crawl requested, bodies discarded;
* Scrapy (``bench/scrapy_spider.py``, ``CONCURRENT_REQUESTS`` tuned), storing nothing;
* ``wget --recursive --warc-file`` (one connection at a time), writing WARC and files;
* peak RSS of ``crawler crawl`` on a small mirror (``--small`` articles) and the big one.

Pages are the HTTP requests nginx logged for the run; pages/s divides them by the span
from the first to the last request in nginx's log (``span``) and, for reference, by the
child's wall time (``wall``, interpreter start-up included).  The crawl uses a copy of
``sources.yaml`` with ``listing_depth`` raised so that the listings reach every article.

    .venv/bin/python bench/crawl.py [--articles 10000] [--quick] [--rounds 2] [--profile FILE] [--probe-fsync]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from benchlib import (
    CRAWLER,
    REPO,
    VENV_BIN,
    ChildRun,
    LogEntry,
    Nginx,
    free_ports,
    header,
    median,
    read_log,
    run_child,
    span,
)

from crawler.config import load_sources
from crawler.mirror import Mirror
from crawler.mirror.export import export_site, nginx_config
from crawler.mirror.sources import HOSTS
from crawler.net.urls import host_key

BENCH = Path(__file__).resolve().parent
CHILD_TIMEOUT = 600.0  # seconds for any one client run
TARGET_SCRAPY = 1.5  # crawler pages/s >= 1.5x Scrapy (storing nothing), same run
TARGET_WGET = 2.0  # crawler pages/s >= 2x wget --warc-file, same run
TARGET_RSS_GROWTH = 1.5
SCRAPY_SETTINGS = {
    "ROBOTSTXT_OBEY": "False", "LOG_LEVEL": "WARNING", "AUTOTHROTTLE_ENABLED": "False", "DOWNLOAD_DELAY": "0",
    "COOKIES_ENABLED": "False", "TELNETCONSOLE_ENABLED": "False", "CLOSESPIDER_TIMEOUT": str(int(CHILD_TIMEOUT - 30)),
}
# wget: the listing and article pages only (as the other clients), nothing under the plain sections.
WGET_ACCEPT = (r"^http://127\.0\.0\.1:[0-9]+/(([a-z0-9-]+/){0,2}(\?p=[0-9]+|p/[0-9]+)?"
               r"|([a-z0-9-]+/){0,2}[a-z0-9-]+-a?[0-9]+\.html)$")
WGET_REJECT = r"/(print|static|image|video|xem-bao|su-kien|news|khmer|topic|tim-kiem|rss)/"
EATMYDATA = "/usr/lib/x86_64-linux-gnu/libeatmydata.so"


@dataclass(slots=True)
class Result:
    """One client run against nginx."""

    client: str
    setting: str
    pages: int
    seconds_span: float
    child: ChildRun
    articles: int | None = None
    statuses: dict[int, int] = field(default_factory=dict)
    note: str = ""
    file_create_us: list[float] = field(default_factory=list)  # probe files created during the run (wall µs)
    idle: float = float("nan")  # % of the machine's CPU time idle while the client ran (/proc/stat)
    # CPU seconds within the span (first to last request), from /proc samples every 0.1 s (CpuSampler):
    span_cpu: float = float("nan")  # the client's processes (the crawler: its crawl process and workers)
    nginx_cpu: float = float("nan")  # nginx's processes
    loop_cpu: float = float("nan")  # the crawl process's main thread (its event loop)
    threads_cpu: float = float("nan")  # the crawl process's other threads (the search indexer, trio's threads)
    span_idle: float = float("nan")  # % of the machine idle within the span

    @property
    def pps_span(self) -> float:
        return self.pages / self.seconds_span if self.seconds_span > 0 else float("nan")

    @property
    def pps_wall(self) -> float:
        return self.pages / self.child.wall if self.child.wall > 0 else float("nan")

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * (self.child.user + self.child.system) / self.pages if self.pages else float("nan")


def machine_times() -> tuple[int, int]:
    """(idle + iowait, all) CPU ticks of the whole machine so far, from /proc/stat ((0, 0) where there is none).

    Idle time while a client runs says whether it was bound by the machine's CPU (~0 % idle) or by waiting
    (its pipeline, the server, the network)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return ticks[3] + ticks[4], sum(ticks[:8])  # user nice system idle iowait irq softirq steal


def idle_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """% of the machine's CPU time idle between two :func:`machine_times` (NaN without ticks)."""
    idle, total = after[0] - before[0], after[1] - before[1]
    return 100 * idle / total if total > 0 else float("nan")


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _ticks(stat: str) -> int:
    """utime + stime of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line (after the command's ')')."""
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _proc_ticks(pid: int) -> int | None:
    try:
        return _ticks(Path(f"/proc/{pid}/stat").read_text())
    except (OSError, ValueError, IndexError):
        return None


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            tree[int(stat.read_text().rpartition(")")[2].split()[1])].append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return tree


class CpuSampler:
    """Samples every 0.1 s (with the time): the CPU time of the client's processes (this process's descendants
    that are not nginx: the crawler's crawl process and workers, Scrapy, wget), of nginx's processes, of the
    crawl process's main thread and other threads (the process whose command line names ``marker``), and the
    machine's idle ticks.  :meth:`within` gives each as used between two moments (linear between samples), so
    figures can be taken over the span of a run (first to last request), without its start-up and its end.
    A process that exits keeps its last sample (its ticks go to its parent's, which is not read)."""

    def __init__(self, marker: str | None) -> None:
        self.marker = marker.encode() if marker else None
        self.samples: list[tuple[float, float, float, float, float, float, float]] = []
        self._clients: list[int] = []
        self._nginx: list[int] = []
        self._crawl: int | None = None
        self._last: dict[int, int] = {}  # pid or tid -> its last ticks (a process gone keeps them)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> CpuSampler:
        self._sample()  # before the client starts: a client that fetches at once starts inside the samples
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()  # after it ended: its processes keep their last ticks

    def _find(self) -> None:
        tree, me = _children(), os.getpid()
        found, todo = [], list(tree.get(me, []))
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += tree.get(pid, [])
        nginx, clients = [], []
        for pid in found:
            try:
                comm = Path(f"/proc/{pid}/comm").read_text().strip()
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            (nginx if comm == "nginx" else clients).append(pid)
            if self.marker is not None and self.marker in args and b"crawl" in args and comm != "time":
                self._crawl = pid
        self._nginx, self._clients = nginx, clients

    def _sum(self, pids: list[int]) -> float:
        total = 0
        for pid in pids:
            ticks = _proc_ticks(pid)
            if ticks is not None:
                self._last[pid] = ticks
            total += self._last.get(pid, 0)
        return total / _TICK

    def _threads(self) -> tuple[float, float]:
        if self._crawl is None:
            return float("nan"), float("nan")
        main = other = 0
        for stat in Path(f"/proc/{self._crawl}/task").glob("*/stat"):
            try:
                tid, ticks = int(stat.parent.name), _ticks(stat.read_text())
            except (OSError, ValueError, IndexError):
                continue
            self._last[-tid] = ticks
        for key, ticks in self._last.items():
            if key < 0:
                if -key == self._crawl:
                    main += ticks
                else:
                    other += ticks
        return main / _TICK, other / _TICK

    def _sample(self) -> None:
        idle, total = machine_times()
        main, other = self._threads()
        self.samples.append((time.time(), self._sum(self._clients), self._sum(self._nginx), main, other,
                             idle / _TICK, total / _TICK))

    def _run(self) -> None:
        rounds = 0
        while not self._stop.wait(0.1):
            if rounds % 10 == 0:  # workers start after the crawl process: look again every second
                self._find()
            rounds += 1
            self._sample()

    def within(self, start: float, end: float) -> tuple[float, ...]:
        """(client CPU s, nginx CPU s, main thread CPU s, other threads CPU s, machine idle %) between two
        moments (Unix time); NaNs without samples around them."""
        def at(moment: float) -> tuple[float, ...] | None:
            for (t0, *a), (t1, *b) in itertools.pairwise(self.samples):
                if t0 <= moment <= t1:
                    w = (moment - t0) / (t1 - t0) if t1 > t0 else 0.0
                    return tuple(x + (y - x) * w for x, y in zip(a, b, strict=True))
            return None

        first, last = at(start), at(end)
        if first is None or last is None:
            return (float("nan"),) * 5
        used = [y - x for x, y in zip(first, last, strict=True)]
        return (*used[:4], 100 * used[4] / used[5] if used[5] > 0 else float("nan"))


class FileProbe:
    """Creates, writes and closes a small file every ``interval`` seconds beside the archive while a client
    runs: what file creation costs on this VM at that moment (it is sometimes 10x slower for minutes)."""

    def __init__(self, directory: Path, interval: float = 0.2) -> None:
        self.directory = directory
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        n = 0
        while not self._stop.wait(self.interval):
            path = self.directory / f"probe-{n}.txt"
            started = time.perf_counter()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"x" * 4000)
            os.close(fd)
            self.samples.append(1e6 * (time.perf_counter() - started))
            n += 1

    def __enter__(self) -> FileProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass(slots=True)
class Site:
    """An exported mirror served by nginx."""

    name: str
    per_source: int
    origins: dict[str, str]
    root: Path
    sources_file: Path
    nginx: Nginx | None = None

    @property
    def articles(self) -> int:
        return 3 * self.per_source + 2  # Cần Thơ and Huế add a seed article each

    def origin_args(self) -> list[str]:
        return [arg for host, url in self.origins.items() for arg in ("--origin", f"{host}={url}")]

    def mirror_urls(self, urls: list[str]) -> list[str]:
        """Real URLs moved to the export's origins (for tools that have no ``--origin``: wget, Scrapy)."""
        origins = load_sources(self.sources_file).with_origins(self.origins).origins
        return [origins.connect_url(u) or u for u in urls]


def code_state() -> str:
    """HEAD and a digest of the crawler's source files as they are now (to notice edits during a run)."""
    digest = hashlib.sha1()
    for path in sorted((REPO / "crawler").rglob("*.py")):
        digest.update(path.read_bytes())
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          timeout=10).stdout.strip()
    return f"{head or '?'} sources {digest.hexdigest()[:10]}"


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.started = time.monotonic()
        self.results: list[Result] = []
        self.diagnostics: list[Result] = []  # py-spy and fsync-off crawls: not throughput figures
        self.code_at_start = code_state()
        self.log = work / "access.log"
        self.serial = 0

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def say(self, text: str) -> None:
        print(f"[{self.elapsed():6.1f} s] {text}", flush=True)

    # -- sites -----------------------------------------------------------------------------

    def make_site(self, name: str, articles_total: int) -> Site:
        per_source = max(1, math.ceil((articles_total - 2) / 3))
        ports = free_ports(len(HOSTS))
        origins = {host: f"http://127.0.0.1:{port}" for host, port in zip(HOSTS, ports, strict=True)}
        root = self.work / f"site-{name}"
        started = time.monotonic()
        stats = export_site(root, articles=per_source, seed=1, origins=origins)
        self.say(f"exported {name} mirror ({per_source} articles per source): {stats.pages} pages, "
                 f"{stats.bytes / 2**20:.0f} MiB, {stats.gzipped} with .gz, in {time.monotonic() - started:.1f} s")
        data = yaml.safe_load((REPO / "sources.yaml").read_text(encoding="utf-8"))
        data.setdefault("defaults", {})["listing_depth"] = 1000  # the maximum: reach every article through the listings
        sources_file = self.work / f"sources-{name}.yaml"
        sources_file.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return Site(name, per_source, origins, root, sources_file)

    def start(self, site: Site) -> Nginx:
        ports = [int(url.rsplit(":", 1)[1]) for url in site.origins.values()]
        config = nginx_config(site.root, site.origins, workdir=self.work / f"nginx-{site.name}", access_log=self.log)
        site.nginx = Nginx(config, self.work / f"nginx-{site.name}", ports, self.log)
        return site.nginx  # started and stopped by ``with``

    def best(self) -> str:
        """The crawler setting with the highest median pages/s (span) on the big mirror."""
        runs = [r for r in self.results if r.client == "crawler crawl [big]"]
        return max({r.setting for r in runs},
                   key=lambda s: median([r.pps_span for r in runs if r.setting == s]))

    # -- the server check --------------------------------------------------------------------

    def wrk_check(self, site: Site) -> list[tuple[str, str, int, float, int]]:
        """req/s of the Python mirror and of nginx on a few URLs, at the highest concurrency used."""
        wrk = shutil.which("wrk")
        if wrk is None:
            self.say("wrk not installed: server check skipped (apt-get install wrk)")
            return []
        connections = max(m for _, m in self.settings())
        duration = "2s" if self.args.quick else "4s"
        rows = []
        with Mirror(articles=site.per_source, seed=1) as mirror:
            paths_file = self.work / "wrk-paths.txt"
            ids = mirror.article_ids("baocantho")
            paths = [mirror.article_url("baocantho", i).split("/", 3)[3] for i in ids]
            paths_file.write_text("".join(f"/{p}\n" for p in paths), encoding="utf-8")
            listing = "/thoi-su/?p=2"
            article = "/" + paths[len(paths) // 2]
            servers = [("python mirror", mirror.origins["baocantho.com.vn"]),
                       ("nginx export", site.origins["baocantho.com.vn"])]
            cases = [("home /", "/", None), ("listing " + listing, listing, None), ("one article", article, None),
                     (f"all {len(paths)} articles in turn", "/", str(BENCH / "wrk_paths.lua"))]
            for server, origin in servers:
                for label, path, script in cases:
                    argv = [wrk, "-t1", f"-c{connections}", f"-d{duration}", "--timeout", "10s",
                            "-H", "Accept-Encoding: gzip, deflate"]
                    if script:
                        argv += ["-s", script]
                    env = dict(os.environ, WRK_PATHS=str(paths_file))
                    out = subprocess.run([*argv, origin + path], capture_output=True, text=True, env=env,
                                         timeout=60).stdout
                    match = re.search(r"Requests/sec:\s*([\d.]+)", out)
                    bad = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
                    rate = float(match.group(1)) if match else float("nan")
                    rows.append((server, label, connections, rate, int(bad.group(1)) if bad else 0))
                    self.say(f"wrk {server:13} {label:28} -c{connections}: {rate:9.0f} req/s")
        return rows

    # -- clients ---------------------------------------------------------------------------

    def settings(self) -> list[tuple[int, int]]:
        out = []
        for item in self.args.settings.split(","):
            host, _, total = item.partition("x")
            out.append((int(host), int(total)))
        return out

    def _measure(self, client: str, setting: str, argv: list[str], *, cwd: Path | None = None,
                 env: dict[str, str] | None = None, threads_of: str | None = None) -> tuple[Result, list[LogEntry]]:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with FileProbe(self.work / "file-probe") as probe, CpuSampler(threads_of) as sampler:
            before = machine_times()
            child = run_child(argv, timeout=CHILD_TIMEOUT, cwd=cwd, env=env)
            idle = idle_share(before, machine_times())
        time.sleep(0.2)  # nginx writes its log line after the response
        entries = read_log(self.log, offset)
        statuses = Counter(e.status for e in entries)
        result = Result(client, setting, len(entries), span(entries), child, statuses=dict(statuses),
                        file_create_us=probe.samples, idle=idle)
        if entries:
            (result.span_cpu, result.nginx_cpu, result.loop_cpu, result.threads_cpu,
             result.span_idle) = sampler.within(min(e.msec for e in entries), max(e.msec for e in entries))
        if child.returncode not in (0, 8):  # wget: 8 = some 404s (the page past a listing's end)
            result.note = f"exit {child.returncode}: {child.stderr.strip()[-300:]}"
        return result, entries

    def crawl(self, site: Site, host_conc: int, conc: int, *, profile: Path | None = None,
              no_fsync: bool = False) -> tuple[Result, list[LogEntry]]:
        self.serial += 1
        archive = self.work / f"archive-{site.name}-{self.serial}"
        argv = [str(CRAWLER), "crawl", "--sources", str(site.sources_file), "--archive", str(archive),
                *site.origin_args(), "--delay", "0", "--host-concurrency", str(host_conc),
                "--concurrency", str(conc), "--ignore-robots", "--quiet", "--no-progress"]
        if profile is not None:
            argv = [str(VENV_BIN / "py-spy"), "record", "--rate", "200", "--format", "raw", "--output",
                    str(profile), "--", *argv]
        env = None
        if no_fsync:  # libeatmydata turns fsync/fdatasync/sync into no-ops (diagnostic only)
            env = dict(os.environ, LD_PRELOAD=EATMYDATA)
        result, entries = self._measure("crawler crawl", f"{host_conc}x{conc}", argv, env=env,
                                        threads_of=str(archive) if profile is None else None)
        kind = " (py-spy)" if profile else " (eatmydata: fsync off)" if no_fsync else ""
        result.client = f"crawler crawl{kind} [{site.name}]"
        stats_files = sorted((archive / "runs").glob("*.json"))
        if stats_files:
            record = json.loads(stats_files[-1].read_text(encoding="utf-8"))
            result.articles = sum(s["new"] for s in record["sources"].values())
            cpu = record.get("cpu")
            if cpu and result.pages:
                per = {k: 1000 * v / result.pages for k, v in cpu.items()}
                result.note += (f" crawl process {per['crawl_user']:.2f}+{per['crawl_system']:.2f}, archive workers "
                                f"{per['workers_user']:.2f}+{per['workers_system']:.2f} ms/page;")
            failures = [f"{url}: {why}" for s in record["sources"].values() for url, why in s["failures"].items()]
            deferred = [f"{host}: {why}" for s in record["sources"].values()
                        for host, why in (s.get("deferred") or {}).items()]
            if deferred:  # hosts the run left for the next one (5 failed requests in a row, a Retry-After...)
                result.note += f" {len(deferred)} hosts deferred [{deferred[0][:200]}]"
            if failures or result.articles != site.articles:
                result.note += f" {result.articles}/{site.articles} articles archived, {len(failures)} failures"
                result.note += "".join(f" [{line[:160]}]" for line in failures[:2])
            if result.articles != site.articles or result.child.returncode != 0:
                kept = self.work / f"incomplete-{archive.name}.json"  # the run's own record, kept for a look
                shutil.copy(stats_files[-1], kept)
                result.note += f" (run record kept: {kept}; exit {result.child.returncode})"
        else:
            result.note += " no stats file"
        shutil.rmtree(archive, ignore_errors=True)
        self.results.append(result)
        self.say(f"{result.client} {result.setting}: {result.pages} pages, {result.articles} articles, "
                 f"{result.pps_span:.0f} pages/s (span), {result.pps_wall:.0f} (wall), {result.idle:.0f} % idle, "
                 f"{tree_rss(result):.0f} MB peak RSS (process tree); within the span: CPU ms/page "
                 f"{per_page(result.span_cpu, result)} (event loop {per_page(result.loop_cpu, result)}, other "
                 f"threads {per_page(result.threads_cpu, result)}), nginx {per_page(result.nginx_cpu, result)}, "
                 f"{result.span_idle:.0f} % idle {result.note}")
        return result, entries

    def raw(self, entries: list[LogEntry], host_conc: int, conc: int) -> Result:
        urls = self.work / "raw-urls.txt"
        urls.write_text("".join(f"http://127.0.0.1:{e.port}{e.target}\n" for e in entries), encoding="utf-8")
        argv = [sys.executable, str(BENCH / "raw_fetch.py"), str(urls), "--host-concurrency", str(host_conc),
                "--concurrency", str(conc), "--timeout", str(CHILD_TIMEOUT - 30)]
        result, _ = self._measure("raw httpx2+trio", f"{host_conc}x{conc}", argv)
        self.results.append(result)
        self.say(f"raw httpx2 {result.setting}: {result.pages} pages, {result.pps_span:.0f} pages/s (span), "
                 f"{result.pps_wall:.0f} (wall) {result.note}")
        return result

    def scrapy(self, site: Site, concurrency: int) -> Result:
        sources = load_sources(site.sources_file)
        spec = {  # Scrapy crawls the export's own links: mirror origins, not the real hosts
            "start_urls": site.mirror_urls([url for s in sources for url in s.start_pages]),
            "sources": [{"hosts": [host_key(site.origins[h]) for h in s.hosts if h in site.origins],
                         "article_url_patterns": list(s.article_url_patterns)} for s in sources],
        }
        config = self.work / "spider.json"
        config.write_text(json.dumps(spec), encoding="utf-8")
        stats = self.work / "scrapy-stats.json"
        argv = [str(VENV_BIN / "scrapy"), "runspider", str(BENCH / "scrapy_spider.py"), "-a", f"config={config}",
                "-a", f"stats={stats}", "-s", f"CONCURRENT_REQUESTS={concurrency}",
                "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}"]
        for key, value in SCRAPY_SETTINGS.items():
            argv += ["-s", f"{key}={value}"]
        result, _ = self._measure("scrapy", f"CONCURRENT_REQUESTS={concurrency}", argv, cwd=self.work)
        if stats.exists():
            data = json.loads(stats.read_text(encoding="utf-8"))
            result.note += f" finish_reason={data.get('finish_reason')}"
        self.results.append(result)
        self.say(f"scrapy {concurrency}: {result.pages} pages, {result.pps_span:.0f} pages/s (span), "
                 f"{result.pps_wall:.0f} (wall) {result.note}")
        return result

    def wget(self, site: Site) -> Result | None:
        wget = shutil.which("wget")
        if wget is None:
            self.say("wget not installed: skipped (apt-get install wget)")
            return None
        self.serial += 1
        out = self.work / f"wget-{self.serial}"
        out.mkdir()
        sources = load_sources(site.sources_file)
        starts = site.mirror_urls([url for s in sources for url in s.start_pages])
        argv = [wget, "--recursive", "--level=inf", "--no-verbose", "--quiet", "-e", "robots=off",
                "--warc-file", str(out / "wget"), "--directory-prefix", str(out / "files"),
                "--accept-regex", WGET_ACCEPT, "--reject-regex", WGET_REJECT, "--timeout=30", "--tries=1", *starts]
        result, _ = self._measure("wget", "1 connection", argv)
        warc = out / "wget.warc.gz"
        result.note += f" WARC {warc.stat().st_size / 2**20:.0f} MiB" if warc.exists() else " no WARC"
        shutil.rmtree(out, ignore_errors=True)
        self.results.append(result)
        self.say(f"wget: {result.pages} pages, {result.pps_span:.0f} pages/s (span), {result.pps_wall:.0f} (wall)"
                 f" {result.note}")
        return result


def summarize_profile(path: Path, top: int = 20) -> str:
    """Where a crawl's CPU time goes, from py-spy's raw output (collapsed stacks, idle samples left out).

    Three tables: the hottest lines (self time), functions by self time, and the crawler's
    own functions by inclusive time (time spent in them and everything they call).
    """
    own_line: Counter[str] = Counter()
    own_func: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit() or not stack:
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        own_line[frames[-1]] += count
        own_func[re.sub(r":\d+\)$", ")", frames[-1])] += count
        for func in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            if "(crawler/" in func:
                inclusive[func] += count
    if not total:
        return "py-spy recorded no samples"

    def table(title: str, counter: Counter[str]) -> list[str]:
        rows = [f"| {title} | % of samples |", "|---|---:|"]
        rows += [f"| `{name}` | {100 * n / total:.1f} |" for name, n in counter.most_common(top)]
        return [*rows, ""]

    return "\n".join([f"py-spy samples: {total} (200 Hz, busy time only)", "",
                      *table("hottest lines (self)", own_line), *table("functions by self time", own_func),
                      *table("crawler functions by inclusive time", inclusive)])


def tree_rss(result: Result) -> float:
    """Peak RSS summed over the client's processes (crawler + extraction workers), else the child's own."""
    tree = result.child.tree_rss_mb
    return tree if tree == tree else result.child.max_rss_mb  # NaN when not sampled


def print_table(groups: dict[tuple[str, str], list[Result]]) -> None:
    print("| client | setting | runs | pages | articles | pages/s (span) | pages/s (wall) | articles/s (span) "
          "| CPU ms/page user+sys | machine idle % | peak RSS MB (process tree) | file creation µs median/max "
          "| notes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for (client, setting), runs in groups.items():
        articles = [r.articles for r in runs if r.articles is not None]
        aps = median([r.articles / r.seconds_span for r in runs if r.articles]) if articles else None
        notes = "; ".join(sorted({r.note.strip() for r in runs if r.note.strip()}))
        user = median([1000 * r.child.user / r.pages for r in runs if r.pages])
        system = median([1000 * r.child.system / r.pages for r in runs if r.pages])
        print(f"| {client} | {setting} | {len(runs)} | {median([r.pages for r in runs]):.0f} | "
              f"{f'{median(articles):.0f}' if articles else ''} | {median([r.pps_span for r in runs]):.0f} | "
              f"{median([r.pps_wall for r in runs]):.0f} | {f'{aps:.0f}' if aps else ''} | "
              f"{user:.2f}+{system:.2f} | {median([r.idle for r in runs]):.0f} | "
              f"{median([tree_rss(r) for r in runs]):.0f} | {file_creation(runs)} | "
              f"{notes} |")


def per_page(seconds: float, result: Result) -> str:
    return f"{1000 * seconds / result.pages:.2f}" if result.pages else "nan"


def print_ceilings(groups: dict[tuple[str, str], list[Result]]) -> None:
    """How fast each client could go on this machine, from its CPU per page within the span (first to last
    request: no start-up, no end of run), medians over rounds: with every core busy (its own CPU and nginx's per
    page, over the cores), and with one core for its main process (for the crawler its event loop, the serial
    part: the workers and the indexer run beside it; Scrapy and wget are one process each, which can use one
    core).  Measured pages/s against these says what bound a client."""
    cores = os.cpu_count() or 1
    print(f"\n## Ceilings ({cores} cores; CPU ms per page within the span, medians over rounds)\n")
    print("| client | setting | pages/s (span) | machine idle % | own CPU | nginx | crawler's event loop "
          "| crawler's other threads | all cores busy: pages/s | one core for its main process: pages/s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (client, setting), runs in groups.items():
        runs = [r for r in runs if r.pages]
        if not runs or "crawl [small]" in client or client.startswith("raw"):
            continue
        own = median([1000 * r.span_cpu / r.pages for r in runs])
        nginx = median([1000 * r.nginx_cpu / r.pages for r in runs])
        loop = median([1000 * r.loop_cpu / r.pages for r in runs])
        threads = median([1000 * r.threads_cpu / r.pages for r in runs])
        crawler = client.startswith("crawler")
        main = loop if crawler else own
        one_core = 1000 / main if main > 0 else float("nan")
        all_cores = 1000 * cores / (own + nginx) if own + nginx > 0 else float("nan")
        print(f"| {client} | {setting} | {median([r.pps_span for r in runs]):.0f} | "
              f"{median([r.span_idle for r in runs]):.0f} | {own:.2f} | {nginx:.2f} | "
              f"{f'{loop:.2f}' if crawler else ''} | {f'{threads:.2f}' if crawler else ''} | "
              f"{all_cores if crawler else min(all_cores, one_core):.0f} | {one_core:.0f} |")
    print("(Scrapy and wget run in one process each: one core is the most they can use.)")


def file_creation(runs: list[Result]) -> str:
    samples = [s for r in runs for s in r.file_create_us]
    return f"{median(samples):.0f}/{max(samples):.0f}" if samples else ""


def report(bench: Bench, wrk_rows: list[tuple[str, str, int, float, int]], small: Site, large: Site) -> int:
    results = bench.results
    print()
    print(header("crawl throughput and memory against nginx serving the exported mirror"))
    print(f"# sizes: big mirror {large.articles} articles ({large.per_source} per source), "
          f"small mirror {small.articles} articles ({small.per_source} per source); "
          f"rounds: {bench.args.rounds}; total bench time {bench.elapsed():.0f} s")
    if bench.code_at_start != code_state():
        print(f"# WARNING: the crawler's code changed during the run ({bench.code_at_start} -> {code_state()})")
    if wrk_rows:
        print("\n## Server check (wrk -t1, Accept-Encoding gzip; pages of baocantho.com.vn)\n")
        print("| server | URL | connections | req/s | non-2xx |")
        print("|---|---|---:|---:|---:|")
        for server, label, conns, rate, bad in wrk_rows:
            print(f"| {server} | {label} | {conns} | {rate:.0f} | {bad} |")

    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        groups[(r.client, r.setting)].append(r)

    def med(client: str, setting: str, attr: str = "pps_span") -> float:
        return median([getattr(r, attr) for r in groups.get((client, setting), [])])

    print("\n## Throughput (medians over rounds; pages = requests in nginx's log)\n")
    print_table(groups)
    print_ceilings(groups)
    if bench.diagnostics:
        print("\n## Diagnostic crawls (one run each, not throughput figures)\n")
        diag: dict[tuple[str, str], list[Result]] = defaultdict(list)
        for r in bench.diagnostics:
            diag[(r.client, r.setting)].append(r)
        print_table(diag)

    big = f"crawler crawl [{large.name}]"
    crawl_settings = [s for (c, s) in groups if c == big]
    if not crawl_settings:
        return 1
    best = max(crawl_settings, key=lambda s: med(big, s))
    ours = med(big, best)
    verdicts = []
    runs = groups[(big, best)]
    cpu = median([1000 * (r.child.user + r.child.system) / r.pages for r in runs if r.pages])
    raw = med("raw httpx2+trio", best)
    # Issue 10's absolute CPU target (1.6 ms per page) was withdrawn by issue 22: the machine's speed drifts
    # 1.65x between days, so the crawl keeps same-run ratios only.
    print(f"\n(reference, not targets: the crawler at {best} runs at {ours / raw:.0%} of the raw httpx2 ceiling, "
          f"with {cpu:.2f} ms of CPU per page in its process tree)")
    scrapy_settings = [s for (c, s) in groups if c == "scrapy"]
    if scrapy_settings:
        best_scrapy = max(scrapy_settings, key=lambda s: med("scrapy", s))
        scrapy = med("scrapy", best_scrapy)
        verdicts.append((f"crawler {best} >= {TARGET_SCRAPY}x Scrapy (best: {best_scrapy})", ours / scrapy,
                         TARGET_SCRAPY, f"{ours:.0f} / {scrapy:.0f} pages/s"))
    if ("wget", "1 connection") in groups:
        wget = med("wget", "1 connection")
        verdicts.append((f"crawler {best} >= {TARGET_WGET:.0f}x wget --warc-file", ours / wget, TARGET_WGET,
                         f"{ours:.0f} / {wget:.0f} pages/s"))
    small_name = f"crawler crawl [{small.name}]"
    for setting in crawl_settings:
        if (small_name, setting) in groups:
            small_rss = median([tree_rss(r) for r in groups[(small_name, setting)]])
            big_rss = median([tree_rss(r) for r in groups[(big, setting)]])
            verdicts.append((f"peak RSS growth {small.articles} -> {large.articles} articles at {setting} "
                             f"<= {TARGET_RSS_GROWTH}x", TARGET_RSS_GROWTH * small_rss / big_rss, 1.0,
                             f"{small_rss:.0f} MB -> {big_rss:.0f} MB = {big_rss / small_rss:.2f}x"))
    print(f"\n## Targets (crawler at its best setting, {best})\n")
    print("| target | figures | ratio | verdict |")
    print("|---|---|---:|---|")
    for label, ratio, target, figures in verdicts:
        shown = figures.rsplit("= ", 1)[1] if "RSS" in label else f"{ratio:.2f}"
        print(f"| {label} | {figures} | {shown} | {'PASS' if ratio >= target else 'FAIL'} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=10_000, help="articles on the big mirror, in all "
                        "(split over the three sources; default 10000)")
    parser.add_argument("--small", type=int, default=1_000, help="articles on the small mirror (RSS; default 1000)")
    parser.add_argument("--settings", default="2x16,4x16,8x32",
                        help="crawler/raw settings, HOSTxTOTAL concurrency, comma-separated (default 2x16,4x16,8x32)")
    parser.add_argument("--scrapy", default="16,32,64", help="Scrapy CONCURRENT_REQUESTS values (default 16,32,64)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds over every client (medians; default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="1000 articles, 300 on the small mirror, one setting (4x16), Scrapy at 32, one round,"
                        " short wrk")
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--no-scrapy", action="store_true")
    parser.add_argument("--no-wget", action="store_true")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="also run one crawl of the big mirror (best setting) under py-spy; raw stacks to FILE")
    parser.add_argument("--probe-fsync", action="store_true",
                        help="also run one crawl of the big mirror (best setting) with fsync disabled by eatmydata")
    parser.add_argument("--budget", type=float, default=840.0, help="seconds; no new round starts after it")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the exports and logs here")
    args = parser.parse_args()
    if args.quick:
        args.articles, args.small, args.settings, args.scrapy, args.rounds = 1000, 300, "4x16", "32", 1
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-crawl-")
        work = Path(tmp.name)
        work.chmod(0o755)  # nginx's workers (user nobody when started by root) must reach the export
    else:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    bench = Bench(args, work)
    print(header("crawl throughput"), flush=True)
    wrk_rows: list[tuple[str, str, int, float, int]] = []
    try:
        small = bench.make_site("small", args.small)
        with bench.start(small):
            for host_conc, conc in bench.settings():
                bench.crawl(small, host_conc, conc)
        shutil.rmtree(small.root, ignore_errors=True)

        large = bench.make_site("big", args.articles)
        with bench.start(large):
            if not args.no_wrk:
                wrk_rows = bench.wrk_check(large)
            for round_no in range(args.rounds):
                if round_no and bench.elapsed() > args.budget:
                    bench.say(f"time budget of {args.budget:.0f} s reached: no more rounds")
                    break
                bench.say(f"round {round_no + 1} of {args.rounds}")
                for host_conc, conc in bench.settings():
                    _, entries = bench.crawl(large, host_conc, conc)
                    bench.raw(entries, host_conc, conc)
                if not args.no_scrapy:
                    for concurrency in (int(c) for c in args.scrapy.split(",")):
                        bench.scrapy(large, concurrency)
                if not args.no_wget:
                    bench.wget(large)
            if args.profile is not None:
                best = bench.best()
                host_conc, conc = (int(x) for x in best.split("x"))
                profiled, _ = bench.crawl(large, host_conc, conc, profile=args.profile.resolve())
                bench.results.remove(profiled)  # sampling slows it: not a throughput figure
                bench.diagnostics.append(profiled)
                bench.say(f"profile of a crawl at {best} written to {args.profile}")
            if args.probe_fsync:
                if Path(EATMYDATA).exists():
                    host_conc, conc = (int(x) for x in bench.best().split("x"))
                    probe, _ = bench.crawl(large, host_conc, conc, no_fsync=True)
                    bench.results.remove(probe)
                    bench.diagnostics.append(probe)
                else:
                    bench.say(f"{EATMYDATA} missing (apt-get install eatmydata): fsync probe skipped")
        code = report(bench, wrk_rows, small, large)
        if args.profile is not None and args.profile.exists():
            print(f"\n## Profile (py-spy, crawl of the big mirror at {best})\n")
            print(summarize_profile(args.profile))
        return code
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
