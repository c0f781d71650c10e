"""The ``generic`` adapter against trafilatura on every real article page we hold (same run).

For each page in ``tests/fixtures/real/`` that has a hand-written ``.expected.txt`` (read from the
page, not made by any extractor), both extractors' outputs are reduced to FORMAT.md's canonical
block list and compared with the expected one as multisets of blocks: precision (blocks out that
are expected), recall (expected blocks out), F1. Also: whether the snapshot is byte-identical, and
the time per page (median of ``--rounds``, one process), also for the family adapter the shipped
``sources.yaml`` gives the page's host (parse + render, bytes in). trafilatura gets the decoded page and its
URL (``trafilatura.extract(html, url=url)``: its default text output, one block per line).
trafilatura's text has no breadcrumb, date line or share label, so a second F1 ("content") compares
both with the expected blocks less those three (every page here has a breadcrumb).

    .venv/bin/pip install -e ".[bench]"
    .venv/bin/python bench/generic_vs_trafilatura.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchlib import median

from crawler.config import load_sources
from crawler.models import Article
from crawler.parse.adapters import get_adapter
from crawler.parse.adapters.generic import GenericAdapter
from crawler.parse.normalize import canonical_blocks, decode_html, render_snapshot

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "tests" / "fixtures" / "real"
# The two seed-era pages carry their URL in SITES.md, not in a .url file.
URLS = {
    "baocantho-a80443": "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
    "baoangiang-a367201": "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
}
# One source of the generic adapter covering every page's host, with each family's URL shape.
SOURCES = """
sources:
  any:
    name: Any paper
    adapter: generic
    hosts: [baocantho.com.vn, baoangiang.com.vn, baotayninh.vn, baophuyen.vn, baonghean.vn, baodanang.vn]
    base_url: https://baocantho.com.vn/
    start_pages: [/]
    article_url_pattern:
      - '^/[^/]+-a(?P<id>[0-9]+)\\.html$'
      - '^/[^/]+-(?P<id>[0-9]{5,})\\.html$'
      - '^/[0-9]+/(?P<id>[0-9]+)/[^/]+/$'
"""


def pages() -> list[tuple[str, str, bytes, str]]:
    """(name, url, html bytes, expected snapshot) of every real article page with an expected snapshot."""
    found = []
    for expected in sorted(REAL.glob("*.expected.txt")):
        name = expected.name.removesuffix(".expected.txt")
        url_file = REAL / f"{name}.url"
        url = url_file.read_text(encoding="utf-8").strip() if url_file.is_file() else URLS[name]
        found.append((name, url, (REAL / f"{name}.html").read_bytes(), expected.read_text(encoding="utf-8")))
    return found


def scores(got: list[str], expected: list[str]) -> tuple[float, float, float]:
    """Block precision, recall and F1 (blocks as a multiset)."""
    common = sum((Counter(got) & Counter(expected)).values())
    precision = common / len(got) if got else 0.0
    recall = common / len(expected) if expected else 0.0
    return precision, recall, (2 * precision * recall / (precision + recall) if precision + recall else 0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        import trafilatura
    except ImportError:
        print("trafilatura is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sources.yaml"
        config.write_text(SOURCES, encoding="utf-8")
        adapter = GenericAdapter(load_sources(config).get("any"))
    shipped = load_sources(ROOT / "sources.yaml")
    rows = []
    family_rows = []
    totals = {"generic": [0.0, 0.0, 0.0], "trafilatura": [0.0, 0.0, 0.0]}
    for name, url, html, expected in pages():
        want = canonical_blocks(expected)
        text = decode_html(html)
        ours_times, theirs_times, family_times = [], [], []
        family = get_adapter(shipped.for_url(url))
        snapshot, extracted = "", ""
        for _ in range(args.rounds):
            start = time.perf_counter()
            result = adapter.parse_article(html, url)
            snapshot = render_snapshot(result) if isinstance(result, Article) else ""
            ours_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            extracted = trafilatura.extract(text, url=url) or ""
            theirs_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            read = family.parse_article(html, url)
            family_snapshot = render_snapshot(read) if isinstance(read, Article) else ""
            family_times.append(time.perf_counter() - start)
        ours = scores(canonical_blocks(snapshot), want)
        theirs = scores(canonical_blocks(extracted), want)
        content = want[2:-1]  # less breadcrumb, date line and "Chia sẻ bài viết"
        ours_content = scores(canonical_blocks(snapshot)[2:-1], content)[2]
        theirs_content = scores(canonical_blocks(extracted), content)[2]
        totals["content"] = [a + b for a, b in zip(totals.get("content", [0.0, 0.0, 0.0]),
                                                   (ours_content, theirs_content, 0.0), strict=True)]
        for key, figures in (("generic", ours), ("trafilatura", theirs)):
            totals[key] = [a + b for a, b in zip(totals[key], figures, strict=True)]
        rows.append((name, ours, snapshot == expected, median(ours_times), theirs, median(theirs_times),
                     ours_content, theirs_content))
        template = read.rules.get("template", "?") if isinstance(read, Article) else "failed"
        family_rows.append((name, shipped.for_url(url).adapter, template, family_snapshot == expected,
                            median(family_times), median(theirs_times)))
    print("| page | generic P / R / F1 | exact | content F1 | ms | trafilatura P / R / F1 | content F1 | ms |")
    print("|---|---|---|---|---|---|---|---|")
    for name, ours, exact, ours_s, theirs, theirs_s, ours_c, theirs_c in rows:
        print(f"| {name} | {ours[0]:.2f} / {ours[1]:.2f} / {ours[2]:.2f} | {'yes' if exact else 'no'} | {ours_c:.2f} | "
              f"{ours_s * 1000:.2f} | {theirs[0]:.2f} / {theirs[1]:.2f} / {theirs[2]:.2f} | {theirs_c:.2f} | "
              f"{theirs_s * 1000:.2f} |")
    n = len(rows)
    mean = {key: [v / n for v in figures] for key, figures in totals.items()}
    print(f"| **mean of {n}** | {mean['generic'][0]:.2f} / {mean['generic'][1]:.2f} / {mean['generic'][2]:.2f} | "
          f"{sum(r[2] for r in rows)}/{n} | {mean['content'][0]:.2f} | | {mean['trafilatura'][0]:.2f} / "
          f"{mean['trafilatura'][1]:.2f} / {mean['trafilatura'][2]:.2f} | {mean['content'][1]:.2f} | |")
    print()
    print("| page | family adapter | template | exact | ms | trafilatura ms | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, family_name, template, exact, family_s, theirs_s in family_rows:
        print(f"| {name} | {family_name} | {template} | {'yes' if exact else 'no'} | {family_s * 1000:.2f} | "
              f"{theirs_s * 1000:.2f} | {theirs_s / family_s:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
