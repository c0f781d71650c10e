"""Generate an archive of N mirror articles for the export and search benchmarks, without a crawl.

    .venv/bin/python bench/make_archive.py DIR [--articles 10000] [--seed 1]

Crawling 100,000 articles from the Python mirror takes most of an hour on the 2-core machine, so
this writes what a crawl would, through the same code: each article page of the offline mirror
(:class:`crawler.mirror.site.Site`, rendered without sockets under its real ``https://<host>/`` URL)
becomes a :class:`~crawler.models.FetchResult` handed to an in-process
:class:`~crawler.crawl.archive_worker.ArchiveWorker` (WARC request/response records, parse, snapshot file,
journal), and the rows go to the catalog through :meth:`crawler.archive.catalog.Store.commit` in batches of
200, as the crawl commits them (the search index is filled by the same commit, bodies read from the files).  The sources
take turns; ``fetched_at`` is the time of writing.  ``DIR/bench-archive.json`` describes the
archive; an existing one with the same description is reused.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from crawler.archive.catalog import Store
from crawler.config import load_sources
from crawler.crawl.archive_jobs import ArchiveJob
from crawler.crawl.archive_worker import ArchiveWorker
from crawler.mirror.site import Site
from crawler.models import FetchResult

REPO = Path(__file__).resolve().parent.parent
SOURCES = ("baocantho", "baoangiang", "hue")
BATCH = 200


def fetch_result(url: str, body: bytes, content_type: str) -> FetchResult:
    host, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench\r\n\r\n".encode()
    headers = (("Content-Type", content_type), ("Content-Length", str(len(body))))
    head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return FetchResult(url=url, status=200, reason="OK", http_version="HTTP/1.1", request_head=request,
                       response_head=head.encode(), headers=headers, body=body, peer_ip="127.0.0.1",
                       fetched_at=datetime.now(UTC))


def make(directory: Path, articles: int, seed: int) -> dict[str, object]:
    description = {"articles": articles, "seed": seed, "version": 1}
    index = directory / "bench-archive.json"
    if index.exists() and json.loads(index.read_text()).get("description") == description:
        return dict(json.loads(index.read_text()))
    if directory.exists() and any(directory.iterdir()):
        raise SystemExit(f"{directory} exists and is not this benchmark archive: remove it first")
    per_source = -(-articles // 3)
    site = Site(per_source, seed, cache_pages=1)
    sources = load_sources(REPO / "sources.yaml")
    worker = ArchiveWorker(directory, sources, name="bench")
    started = time.monotonic()
    done = failed = 0
    with Store(directory) as store:
        rows = []
        for number in range(articles):
            source = SOURCES[number % 3]
            spec = site.generator.article(source, number // 3)
            host, path = spec.url.split("/", 3)[2], "/" + spec.url.split("/", 3)[3]
            page = site.page(host, path, rewrite=False)
            reply = worker.handle(ArchiveJob("article", source, (fetch_result(spec.url, page.body,
                                                                              page.content_type),),
                                             expected_id=spec.article_id))
            if reply.fatal:
                raise SystemExit(reply.fatal)
            if reply.written is None or reply.written.row is None:
                failed += 1
                continue
            rows.append(reply.written.row)
            done += 1
            if len(rows) >= BATCH:
                store.commit(rows, settled=[(r.source, r.article_id) for r in rows])
                rows = []
            if number and number % 10000 == 0:
                print(f"  {number:,} articles, {time.monotonic() - started:.0f} s", file=sys.stderr)
        store.commit(rows, settled=[(r.source, r.article_id) for r in rows])
    problems = worker.close()
    worker.snapshots.journal_path.unlink(missing_ok=True)
    if problems:
        raise SystemExit("; ".join(problems))
    result = {"description": description, "archived": done, "failed": failed,
              "seconds": round(time.monotonic() - started, 1)}
    index.write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(make(args.directory, args.articles, args.seed)))


if __name__ == "__main__":
    main()
