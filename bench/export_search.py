"""Export and search at scale, side by side with their baselines (issue 12).

    .venv/bin/python bench/export_search.py [--export-articles 10000] [--search-articles 100000]
                                            [--dir bench/out/export-search] [--rounds 3]
                                            [--export-only] [--long-articles 200] [--dedup] [--dedup-only]
                                            [--baseline OTHER_CHECKOUT]

1. Export: an archive of ``--export-articles`` mirror articles (bench/make_archive.py: real WARCs,
   snapshots and catalog rows).  ``crawler export`` to JSONL, CSV and Parquet, and ``crawler replay
   --jsonl`` (1 process, re-parsing every WARC) on the same archive, each a child process under
   /usr/bin/time (wall time, peak RSS); medians of ``--rounds``.  Also the JSON encoders alone on
   the exported rows (orjson and the json module).
2. Search: an archive of ``--search-articles``.  Median latency of ``crawler.use.search.search`` over a
   set of queries (common and rare words, phrases, prefixes, a source filter), each run
   ``--rounds`` times after one warm-up, in this process on the read-only catalog; and the size of
   the FTS5 index (the catalog with and without it, vacuumed) against the bytes of the snapshot
   texts.
3. The cost of indexing per committed row: Store.commit of the archive's rows in batches of 200,
   with and without indexing (title, sapo, and the body read from the snapshot file).

``--baseline DIR`` (another checkout of the project, e.g. ``git worktree add /tmp/base house``): its ``export
--format parquet`` takes turns with the others in part 1 (and runs on the long articles): before/after in one run,
and whether both Parquet files are the same bytes.  ``--export-only``: part 1 alone (no 100k archive).
``--long-articles N``: also Parquet's peak RSS on an archive of N articles of 3.8 MB each (issue 17).
``--dedup``: also ``crawler export --dedup`` (near-duplicates, MinHash) and ``crawler stats`` on the export
archive, cold (no signature cache) and warm, against ``crawler report`` (a stats without near-duplicates);
``--dedup-only``: that part alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import ChildRun, header, run_child
from make_archive import make

from crawler.archive.catalog import Store
from crawler.archive.reading import Selection, read_archive
from crawler.archive.snapshots import SnapshotRow
from crawler.use.query import prepare_query
from crawler.use.search import RANK_WINDOW, search

REPO = Path(__file__).resolve().parent.parent
CRAWLER = [sys.executable, "-m", "crawler"]
# The mirror's text bank has a small vocabulary (~1,300 distinct terms over 100,000 articles; most words
# are in more than 10,000 of them): the worst case for ranking, where a real archive's queries are rarer.
QUERIES = [
    ("common word", "tinh"), ("two words", "kinh te"), ("phrase", '"chuyen doi so"'),
    ("prefix", "nong*"), ("two words", "quyet liet"), ("with diacritics", "Cần Thơ"),
    ("AND/OR", "(lua OR gao) AND xuat"), ("title column", "title:phat"),
    ("with --source", "dau tu"), ("less common word", "bai"), ("less common phrase", '"vac xin"'),
    ("rare term", "514"), ("no match", "zzzyyyxxx"),
]


def _baseline(baseline: Path | None) -> tuple[Path, dict[str, str] | None]:
    """Where a child runs, and its environment: this checkout, or ``baseline``'s code (``python -m crawler`` takes
    the package from its working directory first)."""
    if baseline is None:
        return REPO, None
    return baseline, dict(os.environ, PYTHONPATH=str(baseline))


def export_bench(archive: Path, work: Path, rounds: int, articles: int, baseline: Path | None = None) -> list[str]:
    lines = [f"## export: {articles:,} articles ({archive})", "",
             "| command | wall s (median) | rows/s | peak RSS MB | output MB | CPU s (user+sys, median) |",
             "|---|---|---|---|---|---|"]
    results: dict[str, float] = {}
    commands = {
        "export jsonl": [*CRAWLER, "export", "--archive", str(archive), "-o", str(work / "a.jsonl")],
        "export csv": [*CRAWLER, "export", "--archive", str(archive), "-o", str(work / "a.csv")],
        "export parquet": [*CRAWLER, "export", "--archive", str(archive), "-o", str(work / "a.parquet")],
        "replay --jsonl (1 process)": [*CRAWLER, "replay", "--archive", str(archive), "--jsonl",
                                       str(work / "r.jsonl"), "--processes", "1", "--no-progress"],
    }
    if baseline is not None:
        commands["baseline export parquet"] = [*CRAWLER, "export", "--archive", str(archive), "-o",
                                               str(work / "base.parquet")]
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    rss: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):  # the commands take turns, so a change in the machine's load hits them alike
        for name, argv in commands.items():
            shutil.rmtree(work / "r.jsonl.replay", ignore_errors=True)
            for state in work.glob(".r.jsonl*"):
                shutil.rmtree(state, ignore_errors=True)
            cwd, env = _baseline(baseline if name.startswith("baseline") else None)
            run = run_child(argv, timeout=3600, cwd=cwd, env=env)
            if run.returncode != 0:
                raise SystemExit(f"{name} failed ({run.returncode}): {run.stderr[-2000:]}")
            walls[name].append(run.wall)
            cpus[name].append(run.user + run.system)
            rss[name].append(run.max_rss_mb)
    cpu: dict[str, float] = {}
    for name in commands:
        wall = statistics.median(walls[name])
        results[name], cpu[name] = wall, statistics.median(cpus[name])
        out = {"export jsonl": "a.jsonl", "export csv": "a.csv", "export parquet": "a.parquet",
               "baseline export parquet": "base.parquet"}.get(name, "r.jsonl")
        size = (work / out).stat().st_size / 1e6 if (work / out).is_file() else float("nan")
        lines.append(f"| `{name}` | {wall:.2f} | {articles / wall:,.0f} | {max(rss[name]):.0f} | {size:.1f} | "
                     f"{cpu[name]:.2f} |")
        print(lines[-1], file=sys.stderr)
    replay = results["replay --jsonl (1 process)"]
    lines.append("")
    lines.append("Speed-up over `replay --jsonl` (same run, medians): " + ", ".join(
        f"{name.split()[1]} {replay / wall:.1f}x" for name, wall in results.items() if name.startswith("export")))
    parquet = replay / results["export parquet"]
    verdict = "PASS" if parquet >= 10 else "FAIL"
    lines.append(f"Parquet export vs replay --jsonl: **{parquet:.1f}x** (goal >= 10x: {verdict}); by CPU time "
                 f"{cpu['replay --jsonl (1 process)'] / cpu['export parquet']:.1f}x")
    if baseline is not None:
        base = "baseline export parquet"
        same = (work / "a.parquet").read_bytes() == (work / "base.parquet").read_bytes()
        lines.append(f"The baseline ({baseline}) vs replay --jsonl: {replay / results[base]:.1f}x by wall, "
                     f"{cpu['replay --jsonl (1 process)'] / cpu[base]:.1f}x by CPU; this checkout's Parquet export "
                     f"takes {results['export parquet'] / results[base]:.2f}x the baseline's wall time, "
                     f"{cpu['export parquet'] / cpu[base]:.2f}x its CPU; the same bytes: {'yes' if same else 'NO'}")
    lines += ["", *encoder_bench(work / "a.jsonl")]
    return lines


def long_articles_bench(work: Path, count: int, size: int = 3_800_000, baseline: Path | None = None) -> list[str]:
    """Parquet's peak RSS on ``count`` articles whose snapshot texts are ``size`` bytes each (issue 17)."""
    archive = work / f"long-{count}-{size}"
    if not (archive / "catalog.sqlite").exists():
        rows = []
        for n in range(1, count + 1):
            text = (f"Bài {n} " + "chữ Việt " * (size // 10)).encode()[:size].decode("utf-8", "ignore")
            rel = f"text/hue/2024/05/{n}.txt"
            (archive / rel).parent.mkdir(parents=True, exist_ok=True)
            (archive / rel).write_text(text, encoding="utf-8")
            rows.append(SnapshotRow("hue", str(n), 1, f"https://huengaynay.vn/a-{n}.html",
                                    "2024-05-02T10:00:00+07:00", f"Bài {n}", rel, "0" * 64, "w.warc.gz", 0,
                                    "2024-05-02T03:00:00+00:00", "1", json.dumps({"sapo": f"Tóm tắt bài {n}"})))
        with Store(archive) as store:
            store.commit(rows)
    lines = []
    for label, where in (("", None), ("baseline: ", baseline))[:2 if baseline else 1]:
        cwd, env = _baseline(where)
        run = run_child([*CRAWLER, "export", "--archive", str(archive), "-o", str(work / "long.parquet")],
                        timeout=3600, cwd=cwd, env=env)
        if run.returncode != 0:
            raise SystemExit(f"long export failed: {run.stderr[-2000:]}")
        lines.append(f"{label}Parquet export of {count} articles of {size / 1e6:.1f} MB: {run.wall:.1f} s, "
                     f"{run.user + run.system:.1f} s CPU, peak RSS **{run.max_rss_mb:.0f} MB**")
    return lines


def _timed(run: ChildRun) -> str:
    return f"{run.wall:.2f} s wall, {run.user + run.system:.2f} s CPU, peak RSS {run.max_rss_mb:.0f} MB"


def dedup_bench(archive: Path, work: Path, articles: int, rounds: int) -> list[str]:
    """``export --dedup`` and ``stats`` with the signature cache removed first (cold), then again (warm); then
    ``stats`` alone: without a cache (pending), ``--dedup`` without one, warm (medians of ``rounds``), with the
    signatures cached but the answer not (as after one new article), against ``report`` (the same figures without
    near-duplicates: what a plain stats costs)."""
    lines = []
    cache = archive / "indexes" / "dedup.sqlite"
    for label in ("cold", "warm"):
        if label == "cold":
            cache.unlink(missing_ok=True)
        run = run_child([*CRAWLER, "export", "--archive", str(archive), "-o", str(work / "d.jsonl"), "--dedup"],
                        timeout=3600, cwd=REPO)
        if run.returncode != 0:
            raise SystemExit(f"export --dedup failed: {run.stderr[-2000:]}")
        marked = sum(1 for line in (work / "d.jsonl").read_bytes().splitlines() if b'"duplicate_of":null' not in line)
        lines.append(f"`crawler export --dedup` of {articles:,} articles, {label}: {_timed(run)}, "
                     f"{marked:,} marked as near-duplicates")

    def stats(*extra: str) -> ChildRun:
        run = run_child([*CRAWLER, "stats", "--archive", str(archive), "--json", *extra], timeout=3600, cwd=REPO)
        if run.returncode != 0:
            raise SystemExit(f"stats failed: {run.stderr[-2000:]}")
        return run

    def median_of(make: Callable[[], ChildRun]) -> ChildRun:
        runs = sorted((make() for _ in range(rounds)), key=lambda r: r.wall)
        return runs[len(runs) // 2]

    report = median_of(lambda: run_child([*CRAWLER, "report", "--archive", str(archive), "-o",
                                          str(work / "r.html")], timeout=3600, cwd=REPO))
    lines.append(f"`crawler report` (the figures without near-duplicates), median: {_timed(report)}")
    cache.unlink(missing_ok=True)
    run = stats()
    pending = json.loads(run.stdout).get("near_duplicates_pending")
    lines.append(f"`crawler stats`, no cache ({pending:,} pending, not counted): {_timed(run)}")
    lines.append(f"`crawler stats --dedup`, no cache: {_timed(stats('--dedup'))}")
    warm = median_of(stats)
    lines.append(f"`crawler stats`, warm (unchanged archive), median: {_timed(warm)}, "
                 f"{warm.wall / report.wall:.2f}x the report's wall time")
    forget_newest(archive, cache)
    lines.append(f"`crawler stats`, one article newer than the cached answer (extends it): {_timed(stats())}")
    with sqlite3.connect(cache) as db:
        db.execute("DELETE FROM answers")
    db.close()
    lines.append(f"`crawler stats`, signatures cached, answer counted again (as after an older article was added or "
                 f"changed): {_timed(stats())}")
    return lines


def forget_newest(archive: Path, cache: Path) -> None:
    """Make the cached answer one computed before the newest article was archived (the cache as a stats run
    would have left it just before the crawl that added it)."""
    from datetime import UTC

    from crawler.use import dedup

    with Store(archive, readonly=True) as store:
        rows = dedup._rows(store)
    dedup._inputs(rows, dedup.THRESHOLD)
    newest = max(rows, key=lambda r: (dedup._instant(r.published, dedup._VN) or dedup._NEVER,
                                      dedup._instant(r.fetched_at, UTC) or dedup._NEVER, r.source,
                                      len(r.article_id), r.article_id))
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE answers SET inputs = x'00', rows = ?",
                   (b"".join(sorted(r.digest for r in rows if r is not newest)),))
    db.close()


def encoder_bench(jsonl: Path) -> list[str]:
    import orjson

    rows = [orjson.loads(line) for line in jsonl.read_bytes().splitlines()[:2000]]
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
    timings = {}
    for name, dumps in (("json module", lambda r: encoder.encode(r).encode("utf-8")), ("orjson", orjson.dumps)):
        started = time.perf_counter()
        for _ in range(3):
            for row in rows:
                dumps(row)
        timings[name] = (time.perf_counter() - started) / (3 * len(rows)) * 1e6
    return [f"JSON encoding of an export row (mean of {len(rows)} rows x 3): " + ", ".join(
        f"{name} {us:.1f} µs" for name, us in timings.items())]


def search_bench(archive: Path, rounds: int, articles: int) -> list[str]:
    lines = [f"## search: {articles:,} articles ({archive})", "",
             "| query | kind | matches | hits | median ms (default) | median ms (`--rank-all`) |",
             "|---|---|---:|---:|---:|---:|"]
    medians: dict[bool, list[float]] = {False: [], True: []}
    with read_archive(archive) as store:
        for kind, query in QUERIES:
            selection = Selection(sources=("baocantho",)) if kind == "with --source" else Selection()
            figures = []
            for rank_all in (False, True):
                hits = search(store, query, selection, rank_all=rank_all)  # warm-up
                timings = []
                for _ in range(rounds):
                    started = time.perf_counter()
                    search(store, query, selection, rank_all=rank_all)
                    timings.append((time.perf_counter() - started) * 1000)
                medians[rank_all].append(statistics.median(timings))
                figures.append(medians[rank_all][-1])
            matches = store.db.execute("SELECT count(*) FROM search WHERE search MATCH ?",
                                       (prepare_query(query),)).fetchone()[0]
            lines.append(f"| `{query}` | {kind} | {matches:,} | {len(hits)} | {figures[0]:.1f} | {figures[1]:.1f} |")
            print(lines[-1], file=sys.stderr)
        texts = sum((archive / str(p)).stat().st_size for (p,) in store.db.execute("SELECT text_path FROM snapshots"))
        store.db.execute("CREATE VIRTUAL TABLE temp.vocabulary USING fts5vocab(main, 'search', 'row')")
        terms, common = store.db.execute(f"SELECT count(*), sum(doc > {articles // 10}) "
                                         f"FROM temp.vocabulary").fetchone()
    lines.append("")
    lines.append(f"The index has {terms:,} distinct terms; {common:,} of them are in more than 10 % of the articles.")
    lines.append(f"Median over the queries' medians: **{statistics.median(medians[False]):.1f} ms** (default: "
                 f"queries matching more than {RANK_WINDOW:,} articles rank the {RANK_WINDOW:,} most recently "
                 f"archived), {statistics.median(medians[True]):.1f} ms with `--rank-all`; slowest "
                 f"{max(medians[False]):.1f} / {max(medians[True]):.1f} ms.")
    with tempfile.TemporaryDirectory(prefix="bench-fts-") as tmp:
        copy = Path(tmp) / "catalog.sqlite"
        shutil.copy(archive / "catalog.sqlite", copy)
        db = sqlite3.connect(copy)
        db.execute("VACUUM")
        with_index = copy.stat().st_size
        db.executescript("DROP TABLE search; VACUUM;")
        without = copy.stat().st_size
        db.executescript("DROP TABLE search_exact; VACUUM;")
        without_both = copy.stat().st_size
        db.close()
    index = with_index - without
    lines.append(f"Index size: {index / 1e6:.1f} MB for {texts / 1e6:.1f} MB of snapshot text "
                 f"(**{100 * index / texts:.0f} %** of the text; with the exact index too "
                 f"{(with_index - without_both) / 1e6:.1f} MB, {100 * (with_index - without_both) / texts:.0f} %); "
                 f"catalog {with_index / 1e6:.1f} MB with them, {without_both / 1e6:.1f} MB without.")
    return lines


def commit_cost(archive: Path, rows_wanted: int = 4000) -> list[str]:
    with Store(archive, readonly=True) as store:
        rows = [SnapshotRow(*values) for values in store.db.execute(
            "SELECT source, article_id, version, url, published, title, text_path, sha256, warc_file, warc_offset, "
            "fetched_at, extractor_version, meta FROM snapshots LIMIT ?", (rows_wanted,))]
    results: dict[bool, list[float]] = {}
    for indexed in (False, True, False, True):
        with tempfile.TemporaryDirectory(prefix="bench-commit-") as tmp:
            for row in rows:  # the index reads each body from its snapshot file
                (Path(tmp) / row.text_path).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(archive / row.text_path, Path(tmp) / row.text_path)
            with Store(Path(tmp)) as store:
                if not indexed:
                    store._index_new = lambda db, after: None  # type: ignore[method-assign]
                started = time.perf_counter()
                for start in range(0, len(rows), 200):
                    store.commit(rows[start:start + 200])
                elapsed = time.perf_counter() - started
        results.setdefault(indexed, []).append(elapsed / len(rows) * 1e6)
    plain, indexed_us = min(results[False]), min(results[True])
    return [f"Store.commit of {len(rows):,} rows in batches of 200 (best of 2): {plain:.0f} µs per row without "
            f"the index, {indexed_us:.0f} µs with it: **{indexed_us - plain:.0f} µs per committed row** for indexing."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export-articles", type=int, default=10_000)
    parser.add_argument("--search-articles", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=REPO / "bench" / "out" / "export-search")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--export-only", action="store_true", help="part 1 only (no 100k search archive)")
    parser.add_argument("--long-articles", type=int, default=0, metavar="N",
                        help="also Parquet's peak RSS on N articles of 3.8 MB (issue 17)")
    parser.add_argument("--dedup", action="store_true", help="also export --dedup and stats, cold and warm")
    parser.add_argument("--dedup-only", action="store_true", help="--dedup alone (implies --export-only)")
    parser.add_argument("--baseline", type=Path, help="another checkout of the project: its Parquet export alongside")
    args = parser.parse_args()
    if args.dedup_only:
        args.dedup = args.export_only = True
    args.dir.mkdir(parents=True, exist_ok=True)
    print(header("export and search (bench/export_search.py)"))
    print("# uptime: " + subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    small, big = args.dir / f"archive-{args.export_articles}", args.dir / f"archive-{args.search_articles}"
    for archive, n in ((small, args.export_articles), (big, args.search_articles))[:1 if args.export_only else 2]:
        print(f"# {archive.name}: {json.dumps(make(archive, n, 1))}", flush=True)
    work = args.dir / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    baseline = args.baseline.resolve() if args.baseline else None
    lines = [] if args.dedup_only else export_bench(small, work, args.rounds, args.export_articles, baseline)
    if args.long_articles:
        lines += ["", *long_articles_bench(args.dir, args.long_articles, baseline=baseline)]
    if args.dedup:
        lines += ["", *dedup_bench(small, work, args.export_articles, args.rounds)]
    if not args.export_only:
        lines += ["", *search_bench(big, max(args.rounds, 5), args.search_articles), "", *commit_cost(small)]
    for line in lines:
        print(line, flush=True)
    print("# uptime at the end: " + subprocess.run(["uptime"], capture_output=True, text=True,
                                                   check=False).stdout.strip())


if __name__ == "__main__":
    main()
