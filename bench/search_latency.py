"""``crawler search`` latency on a big archive, this checkout against a baseline checkout, same run (issue 12's
< 50 ms; BENCHMARKS §6 and §11).

    .venv/bin/python bench/search_latency.py --baseline /tmp/base [--archive bench/out/export-search/archive-100000]
                                             [--articles 100000] [--rounds 5] [--repeats 3] [--check]

The archive is bench/make_archive.py's (built when missing: minutes for 100,000 articles; give the one
bench/export_search.py keeps).  Each round runs one child process per checkout, taking turns (the baseline's code
imported through bench/run_with_checkout.py); a child opens the archive as ``crawler search`` does and runs
bench/export_search.py's queries, each once cold (the first search of its kind in the process, as the command
line runs it) and ``--repeats`` times more, recording wall and CPU (user+sys) milliseconds.  Printed: per query the
medians over the rounds of the warm medians and of the cold runs, the ratio, and the median of the query medians
(the figure of §6).  ``--check``: also compare what both checkouts return (hits, scores, snippets, total, window,
readings) for every query, default and ``--rank-all``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import header
from export_search import QUERIES
from make_archive import make

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from pathlib import Path
from crawler.archive.reading import Selection, read_archive
from crawler.use.search import search

archive, queries, repeats, check = Path(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
out = {}
with read_archive(archive) as store:
    for kind, query in queries:
        selection = Selection(sources=("baocantho",)) if kind == "with --source" else Selection()
        runs = []
        for _ in range(1 + repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            hits = search(store, query, selection)
            runs.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000))
        seen = None
        if check:
            seen = [[hits.total, hits.window, hits.readings, [h.as_dict() for h in hits]]]
            every = search(store, query, selection, rank_all=True)
            seen.append([every.total, every.window, every.readings, [h.as_dict() for h in every]])
        out[query] = {"cold": runs[0], "warm": runs[1:], "hits": len(hits), "total": hits.total, "seen": seen}
print(json.dumps(out))
"""


def child(archive: Path, baseline: Path | None, repeats: int, check: bool) -> dict[str, dict[str, object]]:
    code = Path(tempfile.gettempdir()) / f"search_latency_child_{os.getpid()}.py"
    code.write_text(CHILD)
    argv = [sys.executable, *([str(REPO / "bench" / "run_with_checkout.py"), str(baseline)] if baseline else []),
            str(code), str(archive), json.dumps(QUERIES), str(repeats), "1" if check else "0"]
    run = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
    if run.returncode != 0:
        raise SystemExit(f"child failed ({run.returncode}): {run.stderr[-2000:]}")
    return dict(json.loads(run.stdout.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--archive", type=Path, default=REPO / "bench" / "out" / "export-search" / "archive-100000")
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="also compare the results of both checkouts")
    args = parser.parse_args()
    print(header("search latency, this checkout vs a baseline (bench/search_latency.py)"))
    print("# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    print(f"# {args.archive}: {json.dumps(make(args.archive, args.articles, 1))}", flush=True)
    sides = {"baseline": args.baseline.resolve(), "this": None}
    results: dict[str, list[dict[str, dict[str, object]]]] = {name: [] for name in sides}
    for round_ in range(args.rounds):  # the checkouts take turns: a change in the machine's load hits both alike
        for name, checkout in (sides.items() if round_ % 2 == 0 else reversed(sides.items())):
            results[name].append(child(args.archive, checkout, args.repeats, args.check and round_ == 0))
    if args.check:
        for _, query in QUERIES:
            if results["this"][0][query]["seen"] != results["baseline"][0][query]["seen"]:
                raise SystemExit(f"the results differ for {query!r}")
        print("# --check: the same hits, scores, snippets, totals, windows and readings for every query")

    def figure(name: str, query: str, which: str, column: int) -> float:
        per_round = []
        for result in results[name]:
            runs = result[query][which]
            per_round.append(runs[column] if which == "cold" else  # type: ignore[index]
                             statistics.median(run[column] for run in runs))  # type: ignore[attr-defined]
        return statistics.median(per_round)

    print("| query | matches | before ms | after ms | ratio | before CPU ms | after CPU ms | before cold ms | "
          "after cold ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    medians: dict[str, list[float]] = {"baseline": [], "this": [], "baseline cold": [], "this cold": []}
    for _, query in QUERIES:
        before, after = figure("baseline", query, "warm", 0), figure("this", query, "warm", 0)
        cold_before, cold_after = figure("baseline", query, "cold", 0), figure("this", query, "cold", 0)
        medians["baseline"].append(before)
        medians["this"].append(after)
        medians["baseline cold"].append(cold_before)
        medians["this cold"].append(cold_after)
        print(f"| `{query}` | {results['this'][0][query]['total']:,} | {before:.1f} | {after:.1f} | "
              f"{before / after:.1f}x | {figure('baseline', query, 'warm', 1):.1f} | "
              f"{figure('this', query, 'warm', 1):.1f} | {cold_before:.1f} | {cold_after:.1f} |")
    before, after = statistics.median(medians["baseline"]), statistics.median(medians["this"])
    print(f"\nMedian of the query medians: before **{before:.1f} ms**, after **{after:.1f} ms** "
          f"({before / after:.1f}x; goal < 50 ms: {'PASS' if after < 50 else 'FAIL'}); "
          f"cold (first search in the process): "
          f"{statistics.median(medians['baseline cold']):.1f} -> {statistics.median(medians['this cold']):.1f} ms; "
          f"slowest {max(medians['baseline']):.1f} -> {max(medians['this']):.1f} ms.")
    print("# uptime at the end: " + subprocess.run(["uptime"], capture_output=True, text=True,
                                                   check=False).stdout.strip())


if __name__ == "__main__":
    main()
