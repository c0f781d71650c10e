"""Replay at collection scale: records/s in one process, a process pool and a Dask LocalCluster vs parse-only.

    .venv/bin/python bench/replay_scale.py [--records 100000] [--small 10000] [--dir bench/out/replay-scale]

One run, side by side (the machine is shared: only ratios measured together mean much):

1. ``bench/make_collection.py`` collections of ``--small`` and ``--records`` response records
   (half mirror articles, half unrelated hosts; WARC/1.0 and 1.1, gzip and zstd), reused when
   they exist.
2. **parse-only** (the ceiling): ``parse_response`` + ``render_snapshot`` of article pages of
   the same collection, already decoded in memory, in this process.
3. **readers**: every response block of the first files read with FastWARC, our Python reader
   and warcio (records/s).
4. **skip**: ``replay_file`` with no source configured, so every record is of an unrelated host.
5. ``crawler replay DIR --jsonl OUT`` as a child process: ``--processes 1`` on both collections
   (peak RSS 10k vs 100k), ``--processes 2`` and ``--dask local --processes 2`` on the big one.

Goals (issue 13): 1 process ≥ 0.85x parse-only (articles/s); pool ≥ 1.7x 1 process; Dask ≥ 0.9x
the pool; unrelated records skipped ≥ 20x faster than articles are parsed; peak RSS flat.  On a
shared machine wall-time ratios move with other people's load, so the CPU time per article (which
does not) is given beside them, and "cores used" (CPU s / wall s) says how much of the machine a
run got.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from benchlib import CRAWLER, forget_article_ids, header, run_child
from make_collection import make

from crawler.config import Sources, load_sources
from crawler.models import ExtractionFailure
from crawler.parse.adapters import get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import render_snapshot
from crawler.replay.collection import Record, read_records, to_response
from crawler.replay.engine import FileTask, ReplayConfig, replay_file


def load_pages(files: list[Path], limit: int) -> list[tuple[str, bytes, str | None, str]]:
    """(source key, content, content type, url) of article responses, decoded, as replay parses them."""
    sources = load_sources(None)
    pages = []
    for path in files:
        for item in read_records(path, types=frozenset({"response"})):
            if not isinstance(item, Record):
                continue
            try:
                source = sources.for_url(item.head.url)
            except Exception:
                continue
            response = to_response(item, path.name)
            pages.append((source.key, response.content, response.header("content-type"), response.url))
            if len(pages) >= limit:
                return pages
    return pages


def parse_only(pages: list[tuple[str, bytes, str | None, str]]) -> tuple[float, float]:
    """(articles/s of wall time, CPU ms per article)."""
    sources = load_sources(None)
    adapters = {s.key: get_adapter(s) for s in sources}
    forget_article_ids()  # a round parses each page once, as replay does: no id remembered from the last round
    started, cpu = time.perf_counter(), time.process_time()
    for key, content, ctype, url in pages:
        article = parse_response(adapters[key], content, ctype, url)
        if not isinstance(article, ExtractionFailure):
            render_snapshot(article)
    return len(pages) / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / len(pages)


def reader_rates(files: list[Path]) -> dict[str, float]:
    from warcio.archiveiterator import ArchiveIterator

    rates = {}
    for engine in ("fastwarc", "python"):
        started, n = time.perf_counter(), 0
        for path in files:
            for item in read_records(path, engine=engine, types=frozenset({"response"})):  # type: ignore[arg-type]
                n += isinstance(item, Record)
        rates[engine] = n / (time.perf_counter() - started)
    started, n = time.perf_counter(), 0
    for path in files:
        if path.name.endswith(".zst"):
            continue  # warcio reads no zstd
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle, arc2warc=False):
                if record.rec_type == "response":
                    record.raw_stream.read()
                    n += 1
    rates["warcio (no .zst)"] = n / (time.perf_counter() - started)
    return rates


def skip_rate(files: list[Path]) -> tuple[float, float]:
    """(records/s skipped, CPU ms per record) when every record is of an unrelated host."""
    config = ReplayConfig(Sources(()))
    started, cpu, n = time.perf_counter(), time.process_time(), 0
    for path in files:
        n += replay_file(FileTask(str(path)), config).records
    return n / (time.perf_counter() - started), (time.process_time() - cpu) * 1000 / n


def replay_child(collection: Path, out: Path, *extra: str) -> dict[str, float]:
    shutil.rmtree(out, ignore_errors=True)
    summary = out.with_suffix(".summary.json")
    run = run_child([str(CRAWLER), "replay", str(collection), "--jsonl", f"{out}/", "--no-progress",
                     "--summary", str(summary), *extra], timeout=3600)
    if run.returncode not in (0, 5):
        raise SystemExit(f"replay failed ({run.returncode}): {run.stderr[-2000:]}")
    data = json.loads(summary.read_text())
    shutil.rmtree(out, ignore_errors=True)
    return {"wall": run.wall, "records": data["records"], "articles": data["articles"],
            "records/s": data["records"] / run.wall, "articles/s": data["articles"] / run.wall,
            "rss": run.max_rss_mb, "tree_rss": run.tree_rss_mb, "cpu": run.user + run.system}


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--per-file", type=int, default=2_000)
    parser.add_argument("--dir", type=Path, default=Path("bench/out/replay-scale"))
    parser.add_argument("--sample", type=int, default=3_000, help="article pages for parse-only")
    args = parser.parse_args()
    print(header("replay at collection scale (bench/replay_scale.py)"))
    big, small = args.dir / f"collection-{args.records}", args.dir / f"collection-{args.small}"
    for directory, records in ((small, args.small), (big, args.records)):
        started = time.monotonic()
        info = make(directory, records, args.per_file, 1)
        print(f"# collection {directory}: {info['articles']:,} article + {info['unrelated']:,} unrelated records, "
              f"{len(info['files'])} files, {int(info['bytes']) / 2**20:.0f} MiB ({time.monotonic() - started:.0f} s)")
    files = sorted(p for p in big.iterdir() if ".warc" in p.name)
    sample_files = files[: max(1, -(-args.sample * 2 // args.per_file))]

    print(f"# load before measuring: {load()}")
    pages = load_pages(sample_files, args.sample)
    ceiling, ceiling_ms = parse_only(pages)
    readers = reader_rates(files[:5])
    skipped, skipped_ms = skip_rate(files[:5])
    one_small = replay_child(small, args.dir / "out-small", "--processes", "1")
    one = replay_child(big, args.dir / "out-one", "--processes", "1")
    pool = replay_child(big, args.dir / "out-pool", "--processes", "2")
    dask = replay_child(big, args.dir / "out-dask", "--dask", "local", "--processes", "2")
    print(f"# load after measuring: {load()}")

    print("\n| what | records/s | articles/s | wall s | CPU s | CPU ms per article | cores used "
          "| peak RSS MB (process / tree) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| parse-only ceiling ({len(pages):,} pages, in memory) | | {ceiling:,.0f} | | | {ceiling_ms:.2f} | | |")
    for name, run in (("replay, 1 process, 10k", one_small), ("replay, 1 process", one),
                      ("replay, process pool (2)", pool), ("replay, Dask LocalCluster (2 workers)", dask)):
        print(f"| {name} | {run['records/s']:,.0f} | {run['articles/s']:,.0f} | {run['wall']:.1f} | {run['cpu']:.1f} "
              f"| {run['cpu'] * 1000 / run['articles']:.2f} | {run['cpu'] / run['wall']:.2f} "
              f"| {run['rss']:.0f} / {run['tree_rss']:.0f} |")
    print(f"| skip only (every host unrelated, {len(files[:5])} files) | {skipped:,.0f} | | | | "
          f"{skipped_ms:.3f} per record | | |")
    print("\n| reader (response blocks of 5 files) | records/s |\n|---|---:|")
    for name, rate in readers.items():
        print(f"| {name} | {rate:,.0f} |")

    goals = [
        ("1 process ≥ 0.85x parse-only (articles/s)", one["articles/s"] / ceiling, 0.85),
        ("the same in CPU time per article (load-independent)", ceiling_ms / (one["cpu"] * 1000 / one["articles"]),
         0.85),
        ("pool ≥ 1.7x 1 process", pool["records/s"] / one["records/s"], 1.7),
        ("Dask LocalCluster ≥ 0.9x pool", dask["records/s"] / pool["records/s"], 0.9),
        ("unrelated skipped ≥ 20x parsed", skipped / ceiling, 20.0),
        ("the same in CPU time", ceiling_ms / skipped_ms, 20.0),
        ("peak RSS 100k ≤ 1.2x 10k (1 process)", one_small["rss"] / one["rss"] if one["rss"] else 0.0, 1 / 1.2),
    ]
    print("\n| goal | measured | verdict |\n|---|---:|---|")
    for name, value, target in goals:
        shown = f"{one['rss']:.0f} vs {one_small['rss']:.0f} MB" if name.startswith("peak") else f"{value:.2f}x"
        print(f"| {name} | {shown} | {'PASS' if value >= target else 'FAIL'} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
