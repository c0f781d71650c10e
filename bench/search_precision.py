"""Precision at 10 of `crawler search` on a real-vocabulary corpus (BENCHMARKS.md, "Search precision").

Corpus: every real article page we hold (tests/fixtures/real/*.expected.txt: the snapshots of real pages of
Báo Cần Thơ, An Giang, Đà Nẵng, Nghệ An, Tây Ninh, Phú Yên) plus the offline mirror's articles (--articles per
source, real text-bank sentences), each as a catalog row.

The queries and what each means were written down here BEFORE any result was looked at (commit history of
this file).  A hit is relevant when its text holds the intended writing (diacritics exact, case ignored, either
tone placement of oa/oe/uy).  P@10 = relevant hits among the first 10 / min(10, relevant articles in the
corpus).  Compared: the folded-only search of before (bm25 on the folded index, what `search` did until
issue 21) and the search of now.

    .venv/bin/python bench/search_precision.py [--articles 60]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import unicodedata
from pathlib import Path

from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.mirror import Mirror
from crawler.use.folding import tone_placements
from crawler.use.query import prepare_query
from crawler.use.search import WEIGHTS, search

# (typed query, the writing the user means) -- fixed before the first run.
QUERIES: list[tuple[str, str]] = [
    ("da nang", "Đà Nẵng"),
    ("can tho", "Cần Thơ"),
    ("Cần Thơ", "Cần Thơ"),
    ('"Cần Thơ"', "Cần Thơ"),
    ("ha noi", "Hà Nội"),
    ("an giang", "An Giang"),
    ("tay ninh", "Tây Ninh"),
    ("nghe an", "Nghệ An"),
    ("phu yen", "Phú Yên"),
    ("thanh pho", "thành phố"),
    ("nong dan", "nông dân"),
    ("giao thong", "giao thông"),
    ("hue", "Huế"),
    ("Huế", "Huế"),
    ("kinh te", "kinh tế"),
    ("dau tu", "đầu tư"),
    ("lua gao", "lúa gạo"),
    ("du lich", "du lịch"),
    ("tinh uy", "Tỉnh ủy"),
    ("bien", "biển"),
    ("mua", "mưa"),
    ("title:cần", "cần"),
]
ROOT = Path(__file__).resolve().parent.parent


def rows(articles: int) -> list[SnapshotRow]:
    out: list[SnapshotRow] = []

    def add(source: str, article_id: str, title: str, sapo: str | None, body: list[str], published: str) -> None:
        meta = {"source": source, "article_id": article_id, "version": 1, "title": title, "sapo": sapo,
                "body": body, "published": published}
        out.append(SnapshotRow(source, article_id, 1, f"https://example.vn/{source}/{article_id}", published, title,
                               f"text/{source}/{article_id}.txt", "0" * 64, "x.warc.gz", 0,
                               "2026-01-01T00:00:00+00:00", "1", json.dumps(meta, ensure_ascii=False)))

    # Each paragraph of a real page is an article of its own (six pages alone would leave most queries without a
    # relevant article; changed after the first run, the queries were not): title its first eight words.
    for path in sorted((ROOT / "tests/fixtures/real").glob("*.expected.txt")):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if len(line.split()) >= 8]
        for n, line in enumerate(lines):
            add("real-" + path.name.split("-")[0], f"{path.name.split('.')[0]}-{n}", " ".join(line.split()[:8]),
                None, [line], "2026-01-01T00:00:00+07:00")
    with Mirror(articles=articles, seed=1) as mirror:
        for source in mirror.sources:
            for article_id in mirror.article_ids(source):
                a = mirror.article(source, article_id)
                body = [block for block in a.body if isinstance(block, str)]
                add(source, article_id, a.title, a.sapo, body, str(a.published))
    return out


def text_of(row: SnapshotRow) -> str:
    meta = json.loads(row.meta)
    return unicodedata.normalize("NFC", " ".join([meta["title"], meta.get("sapo") or "", *meta["body"]])).lower()


def relevant(text: str, meant: str, column_text: str | None = None) -> bool:
    haystack = column_text if column_text is not None else text
    return any(re.search(rf"(?<!\w){re.escape(form.lower())}(?!\w)", haystack) for form in tone_placements(meant))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=60)
    args = parser.parse_args()
    corpus = rows(args.articles)
    texts = {(r.source, r.article_id): text_of(r) for r in corpus}
    titles = {(r.source, r.article_id): unicodedata.normalize("NFC", r.title).lower() for r in corpus}
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        store.commit(corpus)
        store.db.execute("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, 'search_exact', 'row')")
        terms = int(store.db.execute("SELECT count(*) FROM temp.v").fetchone()[0])
        print(f"corpus: {len(corpus)} articles, "
              f"{terms:,} distinct words with diacritics")
        print(f"real pages as {sum(1 for r in corpus if r.source.startswith('real-'))} paragraph articles")
        print("| query | meant | relevant in corpus | P@10 before (folded bm25) | P@10 now |")
        print("|---|---|---:|---:|---:|")
        sums = [0.0, 0.0]
        n = 0
        for query, meant in QUERIES:
            title_only = query.startswith("title:")
            keys = list(texts)
            judge = {k: relevant(texts[k], meant, titles[k] if title_only else None) for k in keys}
            total = sum(judge.values())
            cap = max(1, min(10, total))
            rank = f"bm25(search, {', '.join(map(str, WEIGHTS))})"
            before_ids = [int(r[0]) for r in store.db.execute(
                f"SELECT rowid FROM search WHERE search MATCH ? ORDER BY {rank} LIMIT 10", (prepare_query(query),))]
            by_rowid = {int(r[0]): (str(r[1]), str(r[2])) for r in store.db.execute(
                "SELECT rowid, source, article_id FROM snapshots")}
            before = sum(judge[by_rowid[i]] for i in before_ids) / cap
            now_hits = search(store, query, limit=10)
            now = sum(judge[(h.source, h.article_id)] for h in now_hits) / cap
            if not total:  # nothing to find: P@10 is not defined, and not counted in the mean
                print(f"| `{query}` | {meant} | 0 | n/a | n/a |")
                continue
            n += 1
            sums[0] += before
            sums[1] += now
            print(f"| `{query}` | {meant} | {total} | {before:.2f} | {now:.2f} |")
        print(f"| **mean** | | | **{sums[0] / n:.2f}** | **{sums[1] / n:.2f}** |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
