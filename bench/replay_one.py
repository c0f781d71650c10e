"""Issue 22: ``crawler replay`` in one process against parse-only on the same records, alternating rounds.

    .venv/bin/python bench/replay_one.py [--records 10000] [--rounds 5] [--baseline OTHER_CHECKOUT]

One run, medians (the machine is shared: only ratios measured together mean much):

- **parse-only**: ``parse_response`` + ``render_snapshot`` of every article page of the collection,
  decoded in memory (``bench/replay_scale.py``'s ceiling);
- **replay**: ``crawler replay DIR --jsonl OUT/ --processes 1`` as a child process on the same
  ``bench/make_collection.py`` collection (reading, inflating, decoding, hashing, the JSON rows, the
  spill, the reduce, the partition files, the interpreter's start);
- with ``--baseline DIR`` (another checkout of the project), the same replay with ``PYTHONPATH=DIR``,
  in the same rounds: before/after figures of one run;
- **reading only**: every record of the collection read as replay reads it (the same reader, records
  of unrelated hosts passed over on their header) and each article's HTTP body decoded, nothing parsed,
  nothing written, in this process. Parse-only / (parse-only + reading only) is the ratio a replay
  would reach if everything else it does (JSON rows, hashes, the spill, the reduce, the output files,
  the interpreter's start) cost nothing: the ceiling of the goal on this reader.

Target: replay >= 0.85x parse-only, in articles/s (wall) and in CPU time per article.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from benchlib import forget_article_ids, header, median, precompile, run_child
from make_collection import make
from replay_scale import load_pages, parse_only

from crawler.config import load_sources
from crawler.net.urls import host_key
from crawler.replay.collection import Record, RecordHead, read_records, to_response


def replay(collection: Path, out: Path, pythonpath: str | None) -> tuple[float, float, int]:
    """(articles/s of wall time, CPU ms per article, articles) of one ``crawler replay`` child."""
    shutil.rmtree(out, ignore_errors=True)
    summary = out.with_suffix(".summary.json")
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    # Run from the checkout replayed: ``python -m`` puts the working directory first on sys.path.
    run = run_child([sys.executable, "-m", "crawler", "replay", str(collection.resolve()), "--jsonl",
                     f"{out.resolve()}/", "--no-progress", "--processes", "1", "--summary", str(summary.resolve())],
                    timeout=3600, env=env, cwd=Path(pythonpath) if pythonpath else None)
    if run.returncode not in (0, 5):
        raise SystemExit(f"replay failed ({run.returncode}): {run.stderr[-2000:]}")
    articles = int(json.loads(summary.read_text())["articles"])
    shutil.rmtree(out, ignore_errors=True)
    return articles / run.wall, (run.user + run.system) * 1000 / articles, articles


def read_only(files: list[Path]) -> tuple[float, float]:
    """(articles/s of wall time, CPU ms per article) of reading and decoding alone (see the module's text)."""
    by_host = {host: s for s in load_sources(None) for host in (*s.hosts, *s.aliases)}

    def want(head: RecordHead) -> bool:
        source = by_host.get(host_key(head.url))
        return source is not None and source.article_id(head.url) is not None

    forget_article_ids()
    started, cpu, articles = time.perf_counter(), time.process_time(), 0
    for path in files:
        for item in read_records(path, want=want, types=frozenset({"response"})):
            if isinstance(item, Record):
                to_response(item, path.name)
                articles += 1
    return articles / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / articles


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout of the project, replayed alongside")
    parser.add_argument("--dir", type=Path, default=Path("bench/out/replay-scale"))
    args = parser.parse_args()
    print(header("replay in one process vs parse-only (bench/replay_one.py)"))
    collection = args.dir / f"collection-{args.records}"
    make(collection, args.records, args.per_file, 1)
    files = sorted(p for p in collection.iterdir() if ".warc" in p.name)
    pages = load_pages(files, args.records)
    print(f"# {collection}: {len(files)} files, {len(pages):,} article pages; {args.rounds} rounds; "
          f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}", flush=True)
    if args.baseline:
        print(precompile(args.baseline.resolve()), flush=True)
    names = ["parse-only", "reading only", "replay"] + (["replay (baseline)"] if args.baseline else [])
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_no in range(args.rounds):
        for name in names if round_no % 2 == 0 else reversed(names):
            if name == "parse-only":
                runs[name].append(parse_only(pages))
            elif name == "reading only":
                runs[name].append(read_only(files))
            else:
                baseline = str(args.baseline.resolve()) if name.endswith("(baseline)") else None
                rate, ms, _ = replay(collection, args.dir / "out-one", baseline)
                runs[name].append((rate, ms))
        figures = ", ".join(f"{k} {v[-1][0]:,.0f}/s {v[-1][1]:.2f} ms" for k, v in runs.items())
        print(f"  round {round_no + 1}: {figures} (load {Path('/proc/loadavg').read_text().split()[0]})", flush=True)
    rate = {k: median([r[0] for r in v]) for k, v in runs.items()}
    cpu = {k: median([r[1] for r in v]) for k, v in runs.items()}
    print("\n| what | articles/s (median) | CPU ms per article |\n|---|---:|---:|")
    for name in names:
        print(f"| {name} | {rate[name]:,.0f} | {cpu[name]:.3f} |")
    print("\n| goal | wall | CPU | verdict |\n|---|---:|---:|---|")
    ceiling = cpu["parse-only"] / (cpu["parse-only"] + cpu["reading only"])
    print(f"| the ceiling: parse-only / (parse-only + reading only), CPU | | {ceiling:.2f}x | "
          f"{'within reach' if ceiling >= 0.85 else 'out of reach on this reader'} |")
    for name in names[2:]:
        wall, by_cpu = rate[name] / rate["parse-only"], cpu["parse-only"] / cpu[name]
        print(f"| {name} >= 0.85x parse-only | {wall:.2f}x | {by_cpu:.2f}x | {'PASS' if wall >= 0.85 else 'FAIL'} |")
    print(f"# load after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
