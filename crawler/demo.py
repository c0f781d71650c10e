"""``crawler demo``: start the offline mirror, archive all of it, replay the archive, compare, stop.

It is the README's main command: it needs no internet and shows every stage of the flow.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import trio

from crawler.archiver import Archive
from crawler.config import load_sources
from crawler.fetcher import Fetcher, FetchPolicy
from crawler.mirror import Mirror
from crawler.replay import ReplayStats, replay, warc_files, write_outputs
from crawler.walk import WalkStats, walk_source


def run_demo(*, archive: Path, sources_path: Path | None, articles: int, seed: int) -> int:
    started = time.monotonic()
    with Mirror(articles=articles, seed=seed) as mirror:
        sources = load_sources(sources_path).rebased(mirror.origins)
        print(f"mirror: {articles} generated articles per source (+ seeds) on "
              + ", ".join(f"{host} -> {url}" for host, url in mirror.origins.items()))

        async def crawl() -> list[WalkStats]:
            results: list[WalkStats] = []
            with Archive(archive, sources) as arch:
                async with Fetcher(FetchPolicy(timeout=10)) as fetcher:
                    for source in sources:
                        stats = await walk_source(fetcher, arch, source, max_pages=100)
                        results.append(stats)
                        print(f"{source.key:<12} listings {stats.listings:>4}  archived {stats.archived:>5}  "
                              f"already {stats.skipped:>5}  failed {len(stats.failures):>3}")
                        for failure in stats.failures[:5]:
                            print(f"    {failure}")
            return results

        walked = trio.run(crawl)
    crawl_seconds = time.monotonic() - started

    # Replay: re-extract every snapshot from the WARCs and compare with the archive's files.
    replay_stats = ReplayStats()
    with tempfile.TemporaryDirectory(prefix="crawler-replay-") as tmp:
        out = Path(tmp)
        write_outputs(replay(warc_files(archive), sources, stats=replay_stats), out=out, jsonl=None,
                      stats=replay_stats)
        replayed = sorted(p.relative_to(out) for p in (out / "text").rglob("*.txt"))
        stored = sorted(p.relative_to(archive) for p in (archive / "text").rglob("*.txt") if ".v" not in p.name)
        differing = [p for p in replayed if (archive / p).read_bytes() != (out / p).read_bytes()]
        missing = sorted(set(stored) - set(replayed))
    failures = sum(len(s.failures) for s in walked)
    print(f"archive: {archive} ({sum(s.archived for s in walked)} new snapshots, {len(stored)} in total, "
          f"{len(warc_files(archive))} WARC files) in {crawl_seconds:.1f} s")
    print(f"replay: {replay_stats.articles} articles re-extracted from the WARCs, "
          f"{len(replayed) - len(differing)} byte-identical, {len(differing)} differing, "
          f"{len(missing)} missing")
    for path in (differing + missing)[:10]:
        print(f"    mismatch: {path}", file=sys.stderr)
    return 0 if not (differing or missing or failures or replay_stats.failures) else 1
