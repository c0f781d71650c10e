"""``crawler demo``: start the offline mirror, crawl all of it, replay the archive, compare, stop.

It is the README's main command: it needs no internet and shows every stage of the
flow — discovery, politeness (robots.txt is fetched and obeyed; the per-host delay is
lowered to 0 because the mirror is local), WARC + snapshots, and replay — and checks
the result against the mirror's own oracle of what each article's text should be.
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from crawler.archive.catalog import Store
from crawler.config import Sources, load_sources
from crawler.crawl import CrawlOptions
from crawler.crawl.archiver import Archive
from crawler.crawl.run import EXIT_OK, RunSettings, report, run_crawl
from crawler.crawl.worker_pool import auto_workers
from crawler.mirror import Mirror
from crawler.replay.simple import ReplayStats, replay, warc_files, write_outputs


def run_demo(*, archive: Path, sources_path: Path | None, articles: int, seed: int) -> int:
    started = time.monotonic()
    with Mirror(articles=articles, seed=seed, families=True) as mirror:  # every CMS family
        # Walk listings deep enough to reach every article the mirror has (20 per listing page).
        depth = max(5, articles // 20 + 2)
        sources = load_sources(sources_path).with_origins(mirror.origins).reachable()  # the mirror's sources
        sources = Sources(tuple(replace(s, listing_depth=max(s.listing_depth, depth)) for s in sources))
        print(f"mirror: {len(sources)} papers, {articles} generated articles each (+ seeds), on local ports "
              f"for this run")
        # Page requisites too (stylesheets, fonts, images): the demo's WACZ replays styled.
        options = CrawlOptions(delay=0.0, host_concurrency=4, global_concurrency=16, workers=auto_workers([0.0]),
                               requisites=True)

        settings = RunSettings(archive=archive, timeout=10, progress=False)
        with Archive(archive, sources) as arch:  # the run's stats file goes to runs/, as for `crawler crawl`
            result = run_crawl(arch, sources, options, settings)
        report(result, settings)
        if result.code != EXIT_OK:
            return result.code
        stats = result.stats
        crawl_seconds = time.monotonic() - started

        # Oracle: every article the mirror serves is archived with exactly the expected text.
        wrong: list[str] = []
        missing_articles: list[str] = []
        with Store(archive) as store:
            for source in sources:
                for article_id in mirror.article_ids(source.key):
                    latest = store.latest(source.key, article_id)
                    if latest is None:
                        missing_articles.append(f"{source.key}/{article_id}")
                    elif (archive / latest[2]).read_text(encoding="utf-8") != mirror.expected_snapshot(
                        source.key, article_id
                    ):
                        wrong.append(latest[2])
            total = store.count()

    # Replay: re-extract every snapshot from the WARCs and compare with the archive's files.
    replay_stats = ReplayStats()
    with tempfile.TemporaryDirectory(prefix="crawler-replay-") as tmp:
        out = Path(tmp)
        write_outputs(replay(warc_files(archive), sources, stats=replay_stats), out=out, jsonl=None,
                      stats=replay_stats)
        replayed = sorted(p.relative_to(out) for p in (out / "text").rglob("*.txt"))
        stored = sorted(p.relative_to(archive) for p in (archive / "text").rglob("*.txt") if ".v" not in p.name)
        differing = [p for p in replayed if (archive / p).read_bytes() != (out / p).read_bytes()]
        not_replayed = sorted(set(stored) - set(replayed))
    failures = sum(len(s.failures) for s in stats.values())
    print(f"archive: {archive}: {sum(s.new for s in stats.values())} new snapshots this run, {total} in all, "
          f"{len(warc_files(archive))} WARC files, {failures} failures, {crawl_seconds:.1f} s")
    print(f"check: {total - len(wrong) - len(missing_articles)} snapshots equal the mirror's expected text, "
          f"{len(wrong)} differ, {len(missing_articles)} articles missing")
    print("templates: " + "; ".join(
        f"{key}: " + ", ".join(f"{count} {name}" for name, count in sorted(s.templates.items()))
        for key, s in stats.items() if s.templates))
    print(f"replay: {replay_stats.articles} articles re-extracted from the WARCs offline, "
          f"{len(replayed) - len(differing)} byte-identical, {len(differing)} differing, "
          f"{len(not_replayed)} not replayed")
    for item in [*map(str, differing + not_replayed), *wrong, *missing_articles][:10]:
        print(f"    mismatch: {item}", file=sys.stderr)
    ok = not (differing or not_replayed or wrong or missing_articles or failures or replay_stats.failures)
    return 0 if ok else 1
