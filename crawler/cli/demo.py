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

from crawler.archive.catalog import CATALOG, Store
from crawler.config import Sources, load_sources
from crawler.crawl import CrawlOptions
from crawler.crawl.archiver import Archive
from crawler.crawl.run import EXIT_OK, RunSettings, report, run_crawl
from crawler.crawl.worker_pool import auto_workers
from crawler.mirror import Mirror
from crawler.replay.simple import ReplayStats, replay, warc_files, write_outputs

SHOWN = 10  # mismatches listed one per line; the rest are counted


def first_difference(archived: str, expected: str, other: str = "expected") -> str:
    """Where two snapshot texts part, in one line: ``line 3: archived '…' vs expected '…'``."""
    old_lines, new_lines = archived.splitlines(), expected.splitlines()
    for number, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1):
        if a != b:
            return f"line {number}: archived {_clip(a)} vs {other} {_clip(b)}"
    if len(old_lines) != len(new_lines):
        return f"archived {len(old_lines)} lines vs {other} {len(new_lines)}"
    return "in line endings or trailing whitespace"


def _clip(line: str, width: int = 60) -> str:
    return repr(line if len(line) <= width else line[: width - 1] + "…")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _archived_before(archive: Path, sources: Sources) -> set[tuple[str, str]]:
    """(source, article id) of every article the archive held before this run (none for a new archive)."""
    if not (archive / CATALOG).is_file():
        return set()
    with Store(archive) as store:
        return {(s.key, article_id) for s in sources for article_id in store.archived_ids(s.key)}


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
        earlier = _archived_before(archive, sources)  # what an earlier demo (maybe another --articles) archived
        with Archive(archive, sources) as arch:  # the run's stats file goes to runs/, as for `crawler crawl`
            result = run_crawl(arch, sources, options, settings)
        report(result, settings)
        if result.code != EXIT_OK:
            return result.code
        stats = result.stats
        crawl_seconds = time.monotonic() - started

        # Oracle: every article the mirror serves is archived with exactly the expected text.
        wrong: list[str] = []
        stale = 0  # differing articles an earlier run archived
        missing_articles: list[str] = []
        with Store(archive) as store:
            for source in sources:
                for article_id in mirror.article_ids(source.key):
                    latest = store.latest(source.key, article_id)
                    if latest is None:
                        missing_articles.append(f"{source.key}/{article_id}: the mirror serves it, the archive "
                                                f"has no snapshot of it")
                        continue
                    archived = (archive / latest[2]).read_text(encoding="utf-8")
                    expected = mirror.expected_snapshot(source.key, article_id)
                    if archived != expected:
                        older = (source.key, article_id) in earlier
                        stale += older
                        wrong.append(f"{latest[2]}: {source.key}/{article_id}, archived by "
                                     f"{'an earlier run' if older else 'this run'}, differs from the mirror's "
                                     f"expected text at {first_difference(archived, expected)}")
            total = store.count()

    # Replay: re-extract every snapshot from the WARCs and compare with the archive's files.
    replay_stats = ReplayStats()
    with tempfile.TemporaryDirectory(prefix="crawler-replay-") as tmp:
        out = Path(tmp)
        write_outputs(replay(warc_files(archive), sources, stats=replay_stats), out=out, jsonl=None,
                      stats=replay_stats)
        replayed = sorted(p.relative_to(out) for p in (out / "text").rglob("*.txt"))
        stored = sorted(p.relative_to(archive) for p in (archive / "text").rglob("*.txt") if ".v" not in p.name)
        differing = [f"{p}: the text re-extracted from the WARCs differs from the stored file, "
                     + first_difference(_text(archive / p), _text(out / p), "replayed")
                     for p in replayed if (archive / p).read_bytes() != (out / p).read_bytes()]
        not_replayed = [f"{p}: stored, but no WARC record gives it back"
                        for p in sorted(set(stored) - set(replayed))]
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
    problems = [*wrong, *missing_articles, *differing, *not_replayed]
    for item in problems[:SHOWN]:
        print(f"    mismatch: {item}", file=sys.stderr)
    if len(problems) > SHOWN:
        print(f"    ... and {len(problems) - SHOWN} more mismatches", file=sys.stderr)
    if stale:
        print(f"demo: {stale} of the differing articles were archived by an earlier run: was it made with another "
              f"--seed or crawler version? Give this demo a new --archive", file=sys.stderr)
    ok = not (differing or not_replayed or wrong or missing_articles or failures or replay_stats.failures)
    return 0 if ok else 1
