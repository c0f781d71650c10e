"""Issue 22: skipping records of unrelated hosts in replay, with and without the files' CDXJ index, vs parsing.

    .venv/bin/python bench/replay_skip.py [--records 4000] [--rounds 5] [--dir bench/out/replay-skip]
                                          [--baseline OTHER_CHECKOUT]

One run, alternating rounds, medians:

- **parse rate**: ``parse_response`` + ``render_snapshot`` of the collection's article pages, in memory
  (``bench/replay_scale.py``'s parse-only ceiling);
- **skip, no index**: ``replay_file`` of every ``.warc.gz`` / ``.warc`` file of a
  ``bench/make_collection.py`` collection with no source configured (every record is of an unrelated
  host): each gzip member is inflated to find the next;
- **skip, with index**: the same files copied into ``<dir>/indexed/warc/`` with their CDXJ indexes in
  ``<dir>/indexed/indexes/`` (``crawler.archive.cdxj.index_warc``): records are skipped on their index
  line, unread.

- **FastWARC alone**: FastWARC's own iteration over the same files, every record (requests and warcinfo
  too), nothing read, checked or decided, per response record as the skip counts them: the floor of
  skipping without an index on this reader, and so the ceiling of its goal.

With ``--baseline DIR`` (another checkout of the project), "skip, no index" is also measured with that
checkout's code (in a child process with ``PYTHONPATH=DIR``, timed around the loop only), in the same
rounds: before/after figures of one run.

Targets: skipping >= 50x the parse rate with an index, >= 20x without (records/s against articles/s,
and the same in CPU time per record).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from benchlib import header, median
from make_collection import make
from replay_scale import load_pages, parse_only

from crawler.archive.cdxj import INDEX_DIR, index_warc, write_index
from crawler.config import Sources
from crawler.replay.engine import FileTask, ReplayConfig, replay_file

try:
    from crawler.replay.index_spans import index_of
except ImportError:  # an older checkout, measured as the baseline (--child)
    from crawler.replay.engine import index_of  # type: ignore[attr-defined,no-redef,unused-ignore]


def skip(files: list[Path]) -> tuple[float, float, int]:
    """(records/s, CPU ms per record, records) of replay_file with no source configured."""
    config = ReplayConfig(Sources(()))
    # process_time: user + system CPU like os.times(), without its 10 ms ticks (a pass takes ~0.15 s).
    cpu, started, n = time.process_time(), time.perf_counter(), 0
    for path in files:
        n += replay_file(FileTask(str(path)), config).records
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return n / wall, cpu * 1000 / n, n


def fastwarc_alone(files: list[Path], responses: int) -> tuple[float, float]:
    """(response records/s, CPU ms per response record) of FastWARC iterating the files by itself."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    cpu, started = time.process_time(), time.perf_counter()
    for path in files:
        with open(path, "rb") as handle:
            for _ in ArchiveIterator(handle, parse_http=False, record_types=WarcRecordType.any_type):
                pass
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return responses / wall, cpu * 1000 / responses


def skip_in_child(files: list[Path], pythonpath: Path) -> tuple[float, float]:
    """:func:`skip` run by another checkout's code (records/s, CPU ms per record)."""
    env = dict(os.environ, PYTHONPATH=str(pythonpath.resolve()))
    run = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", *(str(f.resolve()) for f in files)],
                         env=env, cwd=pythonpath, capture_output=True, text=True, timeout=600, check=False)
    if run.returncode != 0:
        raise SystemExit(f"baseline skip failed: {run.stderr[-2000:]}")
    rate, ms = json.loads(run.stdout.strip().splitlines()[-1])
    return float(rate), float(ms)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:  # the baseline's measurement (see skip_in_child)
        import crawler

        files = [Path(name).resolve() for name in sys.argv[2:]]
        assert Path(crawler.__file__).resolve().is_relative_to(Path.cwd().resolve()), crawler.__file__
        rate, ms, _ = skip(files)
        print(json.dumps([rate, ms]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--per-file", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path("bench/out/replay-skip"))
    parser.add_argument("--baseline", type=Path, help="another checkout of the project, measured alongside")
    args = parser.parse_args()
    print(header("replay: skipping unrelated records with and without the CDXJ index (bench/replay_skip.py)"))
    collection = args.dir / f"collection-{args.records}"
    make(collection, args.records, args.per_file, 1)
    files = sorted(p for p in collection.iterdir() if p.name.endswith((".warc.gz", ".warc")))
    indexed_dir = args.dir / "indexed" / "warc"
    indexed = []
    for path in files:
        target = indexed_dir / path.name
        if not target.exists() or index_of(target) is None:
            indexed_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            write_index(indexed_dir.parent / INDEX_DIR, target.name, index_warc(target))
        indexed.append(target)
    pages = load_pages(files, 1500)
    print(f"# {len(files)} files ({sum(p.stat().st_size for p in files) / 2**20:.0f} MiB, .warc.gz and .warc), "
          f"{len(pages)} article pages for the parse rate; {args.rounds} rounds")
    responses = skip(files)[2]
    runs: dict[str, list[tuple[float, float]]] = {"parse": [], "skip, no index": [], "skip, with index": [],
                                                  "FastWARC alone": []}
    if args.baseline:
        runs["skip, no index (baseline)"] = []
    for round_no in range(args.rounds):
        order = list(runs) if round_no % 2 == 0 else list(reversed(runs))
        for name in order:
            if name == "parse":
                runs[name].append(parse_only(pages))
            elif name == "FastWARC alone":
                runs[name].append(fastwarc_alone(files, responses))
            elif name.endswith("(baseline)"):
                runs[name].append(skip_in_child(files, args.baseline))
            else:
                rate, ms, _ = skip(files if name == "skip, no index" else indexed)
                runs[name].append((rate, ms))
        print(f"  round {round_no + 1}: " + ", ".join(f"{k} {v[-1][0]:,.0f}/s" for k, v in runs.items()), flush=True)
    rate = {k: median([r[0] for r in v]) for k, v in runs.items()}
    cpu = {k: median([r[1] for r in v]) for k, v in runs.items()}
    print("\n| what | per s (median) | CPU ms each |\n|---|---:|---:|")
    for name in runs:
        print(f"| {name} | {rate[name]:,.0f} | {cpu[name]:.4f} |")
    print("\n| goal | wall | CPU | verdict |\n|---|---:|---:|---|")
    goals = [("skip, with index", 50.0), ("skip, no index", 20.0), ("FastWARC alone", 20.0)]
    if args.baseline:
        goals.append(("skip, no index (baseline)", 20.0))
    for name, target in goals:
        wall, by_cpu = rate[name] / rate["parse"], cpu["parse"] / cpu[name]
        label = "the ceiling without an index: FastWARC alone" if name == "FastWARC alone" else name
        print(f"| {label} >= {target:.0f}x the parse rate | {wall:.1f}x | {by_cpu:.1f}x | "
              f"{'PASS' if wall >= target else 'FAIL'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
