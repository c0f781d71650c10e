"""Issue 22: the parse-time guard (``complexity_problem``) of a baseline checkout against this one, same process.

The baseline's ``crawler/parse/htmlguard.py`` is loaded by path (it needs only the standard library), this
checkout's is imported; both run on every real page of ``tests/fixtures/real/`` (articles and home pages),
alternating which goes first each round.  Each figure is the median over the rounds of CPU µs per call
(``time.process_time``, user + system) and of wall µs; the ratio is old / new of the medians.  Both must give
the same verdict on every page (checked first).

    git -C /work/main worktree add --detach /tmp/base house
    .venv/bin/python bench/guard.py --baseline /tmp/base [--rounds 7] [--cpu 1] [--mirror 6]

The offline mirror's article pages (``--mirror`` per source, seed 3, as tests/parse_corpus.py takes them) are
timed as one set, per page.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType

from benchlib import header, pinned

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"
sys.path.insert(0, str(ROOT))

from crawler.parse import htmlguard as new_guard  # noqa: E402


def load_baseline(checkout: Path) -> ModuleType:
    path = checkout / "crawler" / "parse" / "htmlguard.py"
    spec = importlib.util.spec_from_file_location("baseline_htmlguard", path)
    if spec is None or spec.loader is None:
        sys.exit(f"{path}: cannot load")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def per_call(job: Callable[[], object], times: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call over ``times`` calls."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(times):
        job()
    return (time.process_time() - cpu) / times * 1e6, (time.perf_counter() - wall) / times * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the baseline (e.g. house)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.05, help="seconds of calls per page, side and round")
    parser.add_argument("--cpu", type=int, default=None, help="pin the process to this CPU")
    parser.add_argument("--mirror", type=int, default=6,
                        help="the offline mirror's article pages per source too, timed as one set (0: none)")
    args = parser.parse_args()
    old_guard = load_baseline(args.baseline.resolve())
    print(header("bench/guard.py: complexity_problem, baseline vs this checkout"))
    print(f"# baseline: {Path(old_guard.__file__ or '').resolve()}\n# new: {Path(new_guard.__file__).resolve()}")
    pages = [(p.stem, p.read_bytes()) for p in sorted(REAL.glob("*.html"))]
    if args.mirror:
        from tests.parse_corpus import mirror_pages

        mirror = [page.content for page in mirror_pages(args.mirror, (3,))]
        for data in mirror:
            if old_guard.complexity_problem(data) != new_guard.complexity_problem(data):
                sys.exit("a mirror page's verdicts differ")
    else:
        mirror = []
    for name, data in pages:
        old, new = old_guard.complexity_problem(data), new_guard.complexity_problem(data)
        if old != new:
            sys.exit(f"{name}: verdicts differ: {old!r} != {new!r}")
    cpus = {args.cpu} if args.cpu is not None else os.sched_getaffinity(0)
    rows = []
    with pinned(cpus):
        for name, data in pages:
            old_job: Callable[[], object] = partial(old_guard.complexity_problem, data)
            new_job: Callable[[], object] = partial(new_guard.complexity_problem, data)
            started = time.perf_counter()
            old_job()
            times = max(3, int(args.budget / max(time.perf_counter() - started, 1e-6)))
            old_times: list[tuple[float, float]] = []
            new_times: list[tuple[float, float]] = []
            for round_ in range(args.rounds):
                order = [(old_job, old_times), (new_job, new_times)]
                for job, out in order if round_ % 2 == 0 else order[::-1]:
                    out.append(per_call(job, times))
            rows.append((name, data, old_times, new_times))
        if mirror:
            def old_set() -> object:
                return [old_guard.complexity_problem(d) for d in mirror]

            def new_set() -> object:
                return [new_guard.complexity_problem(d) for d in mirror]

            mirror_old: list[tuple[float, float]] = []
            mirror_new: list[tuple[float, float]] = []
            for round_ in range(args.rounds):
                order = [(old_set, mirror_old), (new_set, mirror_new)]
                for job, out in order if round_ % 2 == 0 else order[::-1]:
                    cpu, wall = per_call(job, 3)
                    out.append((cpu / len(mirror), wall / len(mirror)))
    print("\n| page | KiB | '<' | old CPU µs | new CPU µs | old/new CPU | old wall µs | new wall µs | old/new wall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    groups: dict[str, list[tuple[float, float]]] = {"articles": [], "home pages": []}
    for name, data, old_times, new_times in rows:
        old_cpu = statistics.median(t[0] for t in old_times)
        new_cpu = statistics.median(t[0] for t in new_times)
        old_wall = statistics.median(t[1] for t in old_times)
        new_wall = statistics.median(t[1] for t in new_times)
        groups["home pages" if "-home-" in name else "articles"].append((old_cpu, new_cpu))
        print(f"| {name} | {len(data) / 1024:.0f} | {data.count(b'<'):,} | {old_cpu:,.1f} | {new_cpu:,.1f} | "
              f"{old_cpu / new_cpu:.2f}x | {old_wall:,.1f} | {new_wall:,.1f} | {old_wall / new_wall:.2f}x |")
    if mirror:
        old_cpu = statistics.median(t[0] for t in mirror_old)
        new_cpu = statistics.median(t[0] for t in mirror_new)
        old_wall = statistics.median(t[1] for t in mirror_old)
        new_wall = statistics.median(t[1] for t in mirror_new)
        size = sum(map(len, mirror)) / len(mirror) / 1024
        tags = sum(d.count(b"<") for d in mirror) / len(mirror)
        print(f"| mirror pages ({len(mirror)}, per page) | {size:.0f} | {tags:,.0f} | {old_cpu:,.1f} | "
              f"{new_cpu:,.1f} | {old_cpu / new_cpu:.2f}x | {old_wall:,.1f} | {new_wall:,.1f} | "
              f"{old_wall / new_wall:.2f}x |")
    print()
    for group, values in groups.items():
        old_sum, new_sum = sum(v[0] for v in values), sum(v[1] for v in values)
        print(f"{group}: {len(values)} pages, CPU µs per page (mean of medians) old {old_sum / len(values):,.1f}, "
              f"new {new_sum / len(values):,.1f}: {old_sum / new_sum:.2f}x")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"# load average at end: {load}")


if __name__ == "__main__":
    main()
