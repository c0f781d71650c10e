"""Parse + normalize throughput on mirror article pages, one core: our adapters vs trafilatura.

Takes every article page of an offline mirror (``--articles`` per source, seed articles
included), fetched once over HTTP, then times in this process, pinned to one CPU:

  ours         crawler.parse.extraction.parse_response(adapter, bytes, content type, url)
               + crawler.parse.normalize.render_snapshot(article)   (bytes in, snapshot text out)
  trafilatura  trafilatura.extract(html, url=url)              (decoded text in, plain text out)

Each round times both on all pages (order alternating between rounds); the figures are
medians over the rounds, and the ratio is taken between medians of the same run.

    .venv/bin/python bench/parse_throughput.py [--articles 100] [--rounds 5] [--cpu 0]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from benchlib import forget_article_ids, header, median, pinned

from crawler.config import load_sources
from crawler.mirror import Mirror
from crawler.models import ExtractionFailure
from crawler.parse.adapters import Adapter, get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import render_snapshot

TARGET_RATIO = 10.0
MAX_ROUND_SECONDS = 300.0  # a round that takes longer ends the run after it (bounded time)


@dataclass(frozen=True, slots=True)
class Page:
    source: str
    url: str
    content: bytes
    content_type: str | None
    text: str


def fetch_pages(articles: int) -> tuple[list[Page], dict[str, Adapter]]:
    pages = []
    with Mirror(articles=articles) as mirror:
        for source in mirror.sources:
            for article_id in mirror.article_ids(source):
                url = mirror.article_url(source, article_id)
                request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    body = response.read()
                    content_type = response.headers.get("Content-Type")
                pages.append(Page(source, url, body, content_type, body.decode("utf-8")))
        origins = dict(mirror.origins)
    sources = load_sources(None).with_origins(origins)
    adapters = {key: get_adapter(sources.get(key)) for key in {p.source for p in pages}}
    _check(pages, adapters)
    return pages, adapters


def _check(pages: list[Page], adapters: dict[str, Adapter]) -> None:
    import trafilatura

    for page in pages:
        result = parse_response(adapters[page.source], page.content, page.content_type, page.url)
        if isinstance(result, ExtractionFailure):
            raise SystemExit(f"our adapter failed on {page.url}: {result}")
        if trafilatura.extract(page.text, url=page.url) is None:
            print(f"note: trafilatura extracted nothing from {page.url}", file=sys.stderr)


def time_ours(pages: list[Page], adapters: dict[str, Adapter]) -> float:
    forget_article_ids()  # each page parsed as a crawl's worker parses it: its URL's id not yet known
    started = time.perf_counter()
    for page in pages:
        article = parse_response(adapters[page.source], page.content, page.content_type, page.url)
        assert not isinstance(article, ExtractionFailure)
        render_snapshot(article)
    return time.perf_counter() - started


def time_trafilatura(pages: list[Page]) -> float:
    import trafilatura

    started = time.perf_counter()
    for page in pages:
        trafilatura.extract(page.text, url=page.url)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=100, help="generated articles per source (default 100)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cpu", type=int, default=0, help="CPU to pin the timing loops to (default 0)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, one more pass of ours under cProfile: the top functions by own time")
    args = parser.parse_args()
    if args.rounds < 1 or args.articles < 1:
        parser.error("--rounds and --articles must be at least 1")

    print(header("parse + normalize throughput, one core"))
    pages, adapters = fetch_pages(args.articles)
    size = sum(len(p.content) for p in pages)
    print(f"pages: {len(pages)} article pages ({size / len(pages) / 1024:.1f} KiB average) from "
          f"{len(adapters)} sources; pinned to CPU {args.cpu}; {args.rounds} rounds")

    runs: dict[str, list[float]] = {"ours": [], "trafilatura": []}
    timers: dict[str, Callable[[], float]] = {
        "ours": lambda: time_ours(pages, adapters),
        "trafilatura": lambda: time_trafilatura(pages),
    }
    with pinned({args.cpu}):
        time_ours(pages[:5], adapters)  # warm-up: imports, caches, first-call costs
        time_trafilatura(pages[:5])
        run_started = time.monotonic()
        for round_no in range(args.rounds):
            order = ["ours", "trafilatura"] if round_no % 2 == 0 else ["trafilatura", "ours"]
            line = []
            for name in order:
                gc.collect()
                seconds = timers[name]()
                runs[name].append(len(pages) / seconds)
                line.append(f"{name} {len(pages) / seconds:8.1f} pages/s")
            print(f"round {round_no + 1}: " + ", ".join(line), flush=True)
            if time.monotonic() - run_started > MAX_ROUND_SECONDS * args.rounds:
                print("stopping early: the time bound was reached", file=sys.stderr)
                break

    ours, theirs = median(runs["ours"]), median(runs["trafilatura"])
    ratio = ours / theirs
    print()
    print("| extractor | pages/s (median) | ms/page | min..max pages/s |")
    print("|---|---:|---:|---|")
    for name in ("ours", "trafilatura"):
        values = runs[name]
        print(f"| {name} | {median(values):.1f} | {1000 / median(values):.2f} | "
              f"{min(values):.1f}..{max(values):.1f} |")
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"\nratio ours/trafilatura: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x): {verdict}")
    if args.profile:
        profile_ours(pages, adapters)
    return 0


def profile_ours(pages: list[Page], adapters: dict[str, Adapter], top: int = 20) -> None:
    """One pass of our path under cProfile (deterministic, so it inflates calls; shares are what count)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    time_ours(pages, adapters)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    print(f"\ncProfile of one pass of ours over {len(pages)} pages, top {top} by own time:")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:6000])


if __name__ == "__main__":
    sys.exit(main())
