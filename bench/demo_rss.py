"""Peak RSS of the whole ``crawler demo`` command (mirror, crawl, check, replay, extraction worker).

Runs ``crawler demo`` as a child process into a fresh archive, once with its default
60 articles per source and once with ``--articles 1000`` (or the sizes given), and
reports the peak of the RSS summed over the child and its worker processes (sampled
every 50 ms; shared pages counted once per process), with wall and CPU
time.  ``--rounds`` repeats each size; the figures are medians.

    .venv/bin/python bench/demo_rss.py [--articles 60 1000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from benchlib import CRAWLER, ChildRun, header, median, run_child

TIMEOUT = 900.0  # seconds per demo run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, nargs="+", default=[60, 1000],
                        help="articles per source, one demo run each (default: 60 1000)")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(header("peak RSS of `crawler demo`"))
    rows = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        for articles in args.articles:
            runs: list[ChildRun] = []
            for round_no in range(max(1, args.rounds)):
                archive = Path(tmp) / f"demo-{articles}-{round_no}"
                argv = [str(CRAWLER), "demo", "--archive", str(archive)]
                if articles != 60:
                    argv += ["--articles", str(articles)]
                run = run_child(argv, timeout=TIMEOUT)
                runs.append(run)
                print(f"{' '.join(argv[1:])}: exit {run.returncode}, {run.tree_rss_mb:.1f} MB peak RSS (process tree), "
                      f"{run.wall:.1f} s wall, {run.user + run.system:.1f} s CPU", flush=True)
                if run.returncode != 0:
                    failed = True
                    print(run.stdout[-2000:], run.stderr[-2000:], sep="\n", file=sys.stderr)
            rows.append((articles, runs))
    print()
    print("| articles per source | articles in all | peak RSS MB, process tree (median) | wall s | CPU s | exit |")
    print("|---:|---:|---:|---:|---:|---|")
    for articles, runs in rows:
        total = 3 * articles + 2  # three sources; Cần Thơ and Huế add a seed article each
        print(f"| {articles} | {total} | {median([r.tree_rss_mb for r in runs]):.1f} | "
              f"{median([r.wall for r in runs]):.1f} | {median([r.user + r.system for r in runs]):.1f} | "
              f"{','.join(str(r.returncode) for r in runs)} |")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = median([r.tree_rss_mb for r in last[1]]) / median([r.tree_rss_mb for r in first[1]])
        print(f"\nRSS growth {first[0]} -> {last[0]} articles per source: {growth:.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
