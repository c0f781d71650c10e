"""The cost of indexing every snapshot's body (read from its file), against a baseline checkout, same run.

    .venv/bin/python bench/search_body.py --baseline /tmp/base [--articles 3000] [--rounds 3]
                                          [--dir bench/out/search-body]

Since the catalog's metadata lost the article body, the search index reads it from the snapshot file when the
catalog's writer commits a row.  This measures, for this checkout and the ``--baseline`` checkout (its code run
with ``PYTHONPATH``), alternating round after round, in child processes:

1. commit: ``Store.commit`` of the rows of an archive of ``--articles`` mirror articles (bench/make_archive.py:
   real snapshot files and rows) into a new catalog beside a copy of the snapshot files, in batches of 200 as the
   crawl commits them: wall and CPU (user+sys) microseconds per row, medians;
2. search: median latency of ``crawler.use.search.search`` over bench/export_search.py's queries (each run 3
   times after one warm-up) on the archive as each version indexes it;
3. the size of the index (the catalog vacuumed, with and without the two FTS tables) against the snapshot text.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from benchlib import header
from make_archive import make

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, shutil, sqlite3, statistics, sys, tempfile, time
from pathlib import Path
from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.archive.reading import Selection, read_archive
from crawler.use.search import search

source, work, queries = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
with Store(source, readonly=True) as store:
    rows = [SnapshotRow(*values) for values in store.db.execute(
        "SELECT source, article_id, version, url, published, title, text_path, sha256, warc_file, warc_offset, "
        "fetched_at, extractor_version, meta FROM snapshots ORDER BY rowid")]
shutil.rmtree(work, ignore_errors=True)
shutil.copytree(source / "text", work / "text")
with Store(work) as store:
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(rows), 200):
        store.commit(rows[start:start + 200])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
latencies = []
with read_archive(work) as store:
    for kind, query in queries:
        selection = Selection(sources=("baocantho",)) if kind == "with --source" else Selection()
        search(store, query, selection)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            search(store, query, selection)
            timings.append((time.perf_counter() - started) * 1000)
        latencies.append(statistics.median(timings))
    body_hits = store.db.execute("SELECT count(*) FROM search WHERE search MATCH 'body:thanh'").fetchone()[0]
text = sum(p.stat().st_size for p in (work / "text").rglob("*.txt"))
copy = work / "copy.sqlite"
shutil.copy(work / "catalog.sqlite", copy)
db = sqlite3.connect(copy)
db.execute("VACUUM")
with_index = copy.stat().st_size
db.executescript("DROP TRIGGER IF EXISTS snapshots_search; DROP TRIGGER IF EXISTS snapshots_search_exact; "
                 "DROP TABLE search; DROP TABLE search_exact; VACUUM;")
without = copy.stat().st_size
db.close()
print(json.dumps({"rows": len(rows), "commit_wall_us": wall / len(rows) * 1e6, "commit_cpu_us": cpu / len(rows) * 1e6,
                  "search_ms": statistics.median(latencies), "body_thanh": body_hits,
                  "index_pct": 100 * (with_index - without) / text, "catalog_mb": with_index / 1e6}))
"""


def run(checkout: Path, archive: Path, work: Path) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "bench"))
    from export_search import QUERIES

    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", CHILD, str(archive), str(work), json.dumps(QUERIES)], env=env,
                          capture_output=True, text=True, check=False, cwd=checkout)
    if done.returncode != 0:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the version to compare with")
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / "out" / "search-body")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(header("search index with bodies (bench/search_body.py)"))
    print("# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    archive = args.dir / f"archive-{args.articles}"
    print(f"# {archive.name}: {json.dumps(make(archive, args.articles, 1))}", flush=True)
    results: dict[str, list[dict[str, float]]] = {"baseline": [], "this": []}
    for number in range(args.rounds):
        for name, checkout in (("baseline", args.baseline), ("this", REPO)):
            results[name].append(run(checkout.resolve(), archive, args.dir / f"work-{name}"))
            print(f"round {number + 1} {name}: {json.dumps(results[name][-1])}", file=sys.stderr, flush=True)
    print(f"\n{args.articles:,} articles, {args.rounds} rounds alternating; medians\n")
    print("| version | commit µs/row (wall) | commit µs/row (CPU) | search median ms | docs with body:thanh | "
          "index % of text | catalog MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, rounds in results.items():
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(f"| {name} | {med['commit_wall_us']:.0f} | {med['commit_cpu_us']:.0f} | {med['search_ms']:.1f} | "
              f"{med['body_thanh']:.0f} | {med['index_pct']:.0f} | {med['catalog_mb']:.1f} |")
    base = {key: statistics.median(r[key] for r in results["baseline"]) for key in results["baseline"][0]}
    this = {key: statistics.median(r[key] for r in results["this"]) for key in results["this"][0]}
    print(f"\nratio this/baseline: commit wall {this['commit_wall_us'] / base['commit_wall_us']:.2f}x, "
          f"CPU {this['commit_cpu_us'] / base['commit_cpu_us']:.2f}x; "
          f"search {this['search_ms'] / base['search_ms']:.2f}x")
    print("# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    for name in results:
        shutil.rmtree(args.dir / f"work-{name}", ignore_errors=True)


if __name__ == "__main__":
    main()
