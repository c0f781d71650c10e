"""Issue 22: parse + render against trafilatura on every real article page we hold, and on the mirror's.

Two page sets, measured in the same run, in one process pinned to one CPU:

  real    every article page of ``tests/fixtures/real/`` (those with an ``.expected.txt``), each
          through its family's adapter (the sources.yaml source whose hosts hold its URL: VDOC,
          the Java platform; the ``generic`` adapter for a host no source names)
  mirror  the offline mirror's article pages (``--articles`` per source, seeds included), as
          ``bench/parse_throughput.py`` takes them

  ours         parse_response(adapter, bytes, content type, url) + render_snapshot(article)
  trafilatura  trafilatura.extract(html, url=url) on the decoded text

A table of CPU time per stage (guard, lexbor's parse, the adapter's own work, render) follows, then the
same per family and template (which adapter read the page, and with which of its templates).
Rounds alternate which extractor goes first; each figure is the median over the rounds, and
each ratio is taken between medians of the same run.  CPU per page (user and system, from
``os.times``) is given beside pages/s: the machine is shared, and CPU time moves less with
other people's load than wall time does.

    .venv/bin/python bench/parse_real.py [--rounds 9] [--repeat 20] [--articles 100] [--profile] [--whole]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from benchlib import forget_article_ids, header, median, pinned
from parse_throughput import fetch_pages

from crawler.config import Sources, load_sources
from crawler.models import ExtractionFailure
from crawler.net.urls import host_key
from crawler.parse.adapters import Adapter, get_adapter
from crawler.parse.extraction import parse_response
from crawler.parse.normalize import decode_html, render_snapshot

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"
TARGETS = {"real": 20.0, "mirror": 25.0}
TRAFILATURA_CPU_US: dict[str, float] = {}  # trafilatura's CPU µs per page in this run (median), per page set
# The two seed-era pages carry their URL in SITES.md, not in a .url file.
URLS = {
    "baocantho-a80443": "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
    "baoangiang-a367201": "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
}
# Hosts no source of sources.yaml names: the generic adapter (as in tests/test_generic.py).
ANY_SOURCE = """
sources:
  any:
    name: Any paper
    adapter: generic
    hosts: [baotayninh.vn, baonghean.vn, baodanang.vn]
    base_url: https://baodanang.vn/
    start_pages: [/]
    article_url_pattern:
      - '^/[^/]+-(?P<id>[0-9]{5,})\\.html$'
"""


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    url: str
    content: bytes
    content_type: str | None
    text: str
    adapter: Adapter


def real_pages() -> list[Page]:
    sources = load_sources(None)
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sources.yaml"
        config.write_text(ANY_SOURCE, encoding="utf-8")
        generic = get_adapter(load_sources(config).get("any"))
    pages = []
    for expected in sorted(REAL.glob("*.expected.txt")):
        name = expected.name.removesuffix(".expected.txt")
        url_file = REAL / f"{name}.url"
        url = url_file.read_text(encoding="utf-8").strip() if url_file.is_file() else URLS[name]
        content = (REAL / f"{name}.html").read_bytes()
        adapter = _family_adapter(sources, url) or generic
        pages.append(Page(f"{name} ({adapter.source.adapter})", url, content, "text/html; charset=utf-8",
                          decode_html(content), adapter))
    return pages


def _family_adapter(sources: Sources, url: str) -> Adapter | None:
    host = host_key(url)
    for source in sources:
        if host in source.hosts and source.article_id(url) is not None:
            return get_adapter(source)
    return None


def mirror_pages(articles: int) -> list[Page]:
    fetched, adapters = fetch_pages(articles)
    return [Page(p.url, p.url, p.content, p.content_type, p.text, adapters[p.source]) for p in fetched]


def time_ours(pages: Sequence[Page], repeat: int) -> tuple[float, float, float]:
    """(wall, user, system) seconds for ``repeat`` passes of our path over ``pages``."""
    times, started = os.times(), time.perf_counter()
    for _ in range(repeat):
        forget_article_ids()  # each pass as a crawl's worker parses a page: its URL's id not yet known
        for page in pages:
            article = parse_response(page.adapter, page.content, page.content_type, page.url)
            assert not isinstance(article, ExtractionFailure), article
            render_snapshot(article)
    wall, after = time.perf_counter() - started, os.times()
    return wall, after.user - times.user, after.system - times.system


def time_trafilatura(pages: Sequence[Page], repeat: int) -> tuple[float, float, float]:
    import trafilatura

    times, started = os.times(), time.perf_counter()
    for _ in range(repeat):
        for page in pages:
            trafilatura.extract(page.text, url=page.url)
    wall, after = time.perf_counter() - started, os.times()
    return wall, after.user - times.user, after.system - times.system


def measure(label: str, pages: Sequence[Page], rounds: int, repeat: int) -> float:
    """Alternating rounds of both extractors on ``pages``; prints a table, returns the ratio of medians."""
    runs: dict[str, list[tuple[float, float, float]]] = {"ours": [], "trafilatura": []}
    timers: dict[str, Callable[[], tuple[float, float, float]]] = {
        "ours": lambda: time_ours(pages, repeat),
        "trafilatura": lambda: time_trafilatura(pages, max(1, repeat // 10)),
    }
    per_pass = {"ours": repeat * len(pages), "trafilatura": max(1, repeat // 10) * len(pages)}
    time_ours(pages, 1)  # warm-up: imports, caches, first-call costs
    time_trafilatura(pages[:3], 1)
    for round_no in range(rounds):
        order = ["ours", "trafilatura"] if round_no % 2 == 0 else ["trafilatura", "ours"]
        line = []
        for name in order:
            gc.collect()
            result = timers[name]()
            runs[name].append(result)
            line.append(f"{name} {per_pass[name] / result[0]:8.1f} pages/s")
        print(f"  {label} round {round_no + 1}: " + ", ".join(line), flush=True)
    size = sum(len(p.content) for p in pages) / len(pages) / 1024
    print(f"\n{label}: {len(pages)} pages, {size:.1f} KiB average; ours {repeat} passes per round, "
          f"trafilatura {max(1, repeat // 10)}; median of {rounds} rounds")
    print("| extractor | pages/s | ms/page (wall) | CPU ms/page (user + system) | min..max pages/s |")
    print("|---|---:|---:|---:|---|")
    rates = {}
    for name in ("ours", "trafilatura"):
        n = per_pass[name]
        rate = [n / r[0] for r in runs[name]]
        rates[name] = median(rate)
        user, system = median([r[1] for r in runs[name]]) / n, median([r[2] for r in runs[name]]) / n
        print(f"| {name} | {median(rate):,.1f} | {1000 / median(rate):.3f} | "
              f"{1000 * (user + system):.3f} ({1000 * user:.3f} + {1000 * system:.3f}) | "
              f"{min(rate):,.1f}..{max(rate):,.1f} |")
    ratio = rates["ours"] / rates["trafilatura"]
    cpu = {name: median([(r[1] + r[2]) / per_pass[name] for r in runs[name]]) for name in runs}
    cpu_ratio = cpu["trafilatura"] / cpu["ours"] if cpu["ours"] else float("inf")
    TRAFILATURA_CPU_US[label] = cpu["trafilatura"] * 1e6
    target = TARGETS[label]
    verdict = "PASS" if ratio >= target else "FAIL"
    print(f"ratio ours/trafilatura ({label}): {ratio:.1f}x pages/s, {cpu_ratio:.1f}x CPU per page "
          f"(target >= {target:.0f}x): {verdict}\n")
    return ratio


def per_page(pages: Sequence[Page], repeat: int) -> None:
    """Each real page alone: ours and trafilatura, ms per page (median of 5), and the template that read it."""
    print("| page | bytes | template | ours ms | trafilatura ms | ratio |")
    print("|---|---:|---|---:|---:|---:|")
    for page in pages:
        article = parse_response(page.adapter, page.content, page.content_type, page.url)
        template = article.rules.get("template", "?") if not isinstance(article, ExtractionFailure) else "failure"
        ours = median([time_ours([page], repeat)[0] / repeat for _ in range(5)])
        few = max(1, repeat // 10)
        theirs = median([time_trafilatura([page], few)[0] / few for _ in range(5)])
        print(f"| {page.name} | {len(page.content):,} | {template} | {ours * 1000:.3f} | {theirs * 1000:.3f} | "
              f"{theirs / ours:.1f}x |")
    print()


def stages(label: str, pages: Sequence[Page], repeat: int) -> None:
    """CPU µs per page of each stage of ours (best of 5 interleaved rounds): where the time goes.

    guard: complexity_problem; lexbor: the HTML parse alone; adapter: parse_response minus the
    guard (it parses again: the adapter's own work is this minus lexbor); render: render_snapshot.
    """
    from selectolax.lexbor import LexborHTMLParser

    from crawler.parse.htmlguard import complexity_problem

    articles = [parse_response(p.adapter, p.content, p.content_type, p.url) for p in pages]
    work: dict[str, Callable[[], object]] = {
        "guard": lambda: [complexity_problem(p.content) for p in pages],
        "lexbor": lambda: [LexborHTMLParser(p.content) for p in pages],
        "parse_response": lambda: (forget_article_ids(),
                                   [parse_response(p.adapter, p.content, p.content_type, p.url) for p in pages]),
        "render": lambda: [render_snapshot(a) for a in articles if not isinstance(a, ExtractionFailure)],
    }
    best = dict.fromkeys(work, float("inf"))
    for _ in range(5):
        for name, job in work.items():
            started = time.process_time()
            for _ in range(repeat):
                job()
            best[name] = min(best[name], (time.process_time() - started) / repeat / len(pages) * 1e6)
    adapter = best["parse_response"] - best["guard"] - best["lexbor"]
    print(f"{label}: CPU µs per page by stage (best of 5): guard {best['guard']:.0f}, lexbor parse "
          f"{best['lexbor']:.0f}, adapter's own work {adapter:.0f}, render {best['render']:.0f}; "
          f"total {best['parse_response'] + best['render']:.0f}")
    fixed = best["guard"] + best["lexbor"] + best["render"]
    if label in TRAFILATURA_CPU_US:  # what the ratio could reach if the adapters' own work cost nothing
        ceiling = TRAFILATURA_CPU_US[label] / fixed
        budget = TRAFILATURA_CPU_US[label] / TARGETS[label] - fixed
        print(f"{label}: the ceiling with the adapter's own work at zero: trafilatura "
              f"{TRAFILATURA_CPU_US[label]:.0f} µs / (guard + lexbor parse + render) {fixed:.0f} µs = {ceiling:.1f}x; "
              f"the target ({TARGETS[label]:.0f}x) leaves the adapter's own work "
              f"{f'{budget:.0f} µs per page (now {adapter:.0f})' if budget > 0 else 'nothing: out of reach'}")
    print()


def families(label: str, pages: Sequence[Page], repeat: int) -> None:
    """The stage table per family and template (the adapter and the template that read each page)."""
    groups: dict[str, list[Page]] = {}
    for page in pages:
        article = parse_response(page.adapter, page.content, page.content_type, page.url)
        template = article.rules.get("template", "?") if not isinstance(article, ExtractionFailure) else "failure"
        groups.setdefault(f"{page.adapter.source.adapter} / {template}", []).append(page)
    print(f"{label}: CPU µs per page by stage and family (best of 5)")
    print("| family / template | pages | KiB | guard | lexbor parse | adapter's own work |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, group in sorted(groups.items()):
        times = max(1, repeat * 20 // len(group))
        work = _stage_jobs(group)
        best = dict.fromkeys(work, float("inf"))
        for _ in range(5):
            for stage, job in work.items():
                started = time.process_time()
                for _ in range(times):
                    job()
                best[stage] = min(best[stage], (time.process_time() - started) / times / len(group) * 1e6)
        size = sum(len(p.content) for p in group) / len(group) / 1024
        print(f"| {name} | {len(group)} | {size:.1f} | {best['guard']:.0f} | {best['lexbor']:.0f} | "
              f"{best['parse_response'] - best['guard'] - best['lexbor']:.0f} |")
    print()


def _stage_jobs(group: Sequence[Page]) -> dict[str, Callable[[], object]]:
    from selectolax.lexbor import LexborHTMLParser

    from crawler.parse.htmlguard import complexity_problem

    return {
        "guard": lambda: [complexity_problem(p.content) for p in group],
        "lexbor": lambda: [LexborHTMLParser(p.content) for p in group],
        "parse_response": lambda: [parse_response(p.adapter, p.content, p.content_type, p.url) for p in group],
    }


def whole_pages(repeat: int = 3) -> None:
    """The guard and lexbor's parse on whole real pages (the home pages of tests/fixtures/real/, 117-441 KB):
    the article fixtures are excerpts, and a whole page of 2,000+ start tags takes the guard's pass over
    every tag.  CPU µs per page, best of 5; trafilatura.extract on the same page (ms, best of 3) for scale."""
    import trafilatura
    from selectolax.lexbor import LexborHTMLParser

    from crawler.parse.htmlguard import complexity_problem

    def best(job: Callable[[], object], times: int, rounds: int) -> float:
        fastest = float("inf")
        for _ in range(rounds):
            started = time.process_time()
            for _ in range(times):
                job()
            fastest = min(fastest, (time.process_time() - started) / times)
        return fastest

    print("whole pages: CPU per page (best of 5): the guard, lexbor's parse; trafilatura.extract for scale")
    print("| page | KiB | '<' | guard µs | lexbor µs | guard + lexbor µs | trafilatura ms | trafilatura / both |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for path in sorted(REAL.glob("*-home-*.html")):
        data = path.read_bytes()
        text = decode_html(data)
        guard = best(partial(complexity_problem, data), repeat, 5)
        lexbor = best(partial(LexborHTMLParser, data), repeat, 5)
        theirs = best(partial(trafilatura.extract, text, url=None), 1, 3)
        print(f"| {path.stem} | {len(data) / 1024:.0f} | {data.count(b'<'):,} | {guard * 1e6:,.0f} | "
              f"{lexbor * 1e6:,.0f} | {(guard + lexbor) * 1e6:,.0f} | {theirs * 1e3:.1f} | "
              f"{theirs / (guard + lexbor):.1f}x |")
    print()


def profile(pages: Sequence[Page], repeat: int, top: int = 25) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    time_ours(pages, repeat)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(f"cProfile of {repeat} passes of ours over {len(pages)} pages, top {top} by own time:")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[:7000])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--repeat", type=int, default=20, help="passes of ours over the real pages per round")
    parser.add_argument("--articles", type=int, default=100, help="mirror articles per source (0: real pages only)")
    parser.add_argument("--cpu", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="then a cProfile of ours on each set")
    parser.add_argument("--whole", action="store_true",
                        help="then the guard and lexbor on whole real pages (the home pages), trafilatura for scale")
    args = parser.parse_args()
    if args.rounds < 1 or args.repeat < 1 or args.articles < 0:
        parser.error("--rounds and --repeat must be at least 1, --articles at least 0")
    print(header("issue 22: parse + render vs trafilatura, real pages and mirror pages, one core"))
    sets = {"real": real_pages()}
    if args.articles:
        sets["mirror"] = mirror_pages(args.articles)
    with pinned({args.cpu}):
        ratios = {}
        for label, pages in sets.items():
            repeat = args.repeat if label == "real" else max(1, args.repeat // 10)
            ratios[label] = measure(label, pages, args.rounds, repeat)
        per_page(sets["real"], args.repeat)
        for label, pages in sets.items():
            stages(label, pages, args.repeat if label == "real" else 1)
        for label, pages in sets.items():
            families(label, pages, 1)
        if args.whole:
            whole_pages()
        if args.profile:
            for label, pages in sets.items():
                profile(pages, args.repeat if label == "real" else 1)
    print("summary: " + ", ".join(f"{label} {ratio:.1f}x (target {TARGETS[label]:.0f}x)"
                                  for label, ratio in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
