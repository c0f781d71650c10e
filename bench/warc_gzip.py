"""WARC record compression: CPU per record and size for each gzip level, on the mirror's pages.

Every record is one gzip member.  This writes the response records of the mirror's article
pages with :class:`crawler.archive.warc.WarcWriter` at each level, half of them with bodies that
arrived gzip-encoded (as from a server that compresses, nginx here), and prints CPU µs per
record (``time.process_time``, median of rounds, pinned to one CPU) and the bytes written.
Bodies that are already compressed are stored at level 0 whatever the level (crawler/archive/warc.py).
Levels 1-3 deflate with ISA-L (python-isal), 0 and 4-9 with zlib (crawler/archive/warc.py).

    .venv/bin/python bench/warc_gzip.py [--articles 300] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchlib import header, median, pinned

from crawler.archive.warc import WarcWriter
from crawler.mirror.site import Site
from crawler.models import FetchResult


def pages(articles: int) -> list[FetchResult]:
    site = Site(articles // 3, 1)
    out = []
    for source in ("baocantho", "hue", "baoangiang"):
        catalog = site.catalogs[source]
        for index in range(catalog.count):
            spec = site.article(source, catalog.article_id(index))
            body = site.page(spec.url.split("/")[2], "/" + spec.url.split("/", 3)[3]).body
            out.append(exchange(spec.url, body, gzipped=bool(len(out) % 2)))
    return out


def exchange(url: str, page: bytes, *, gzipped: bool) -> FetchResult:
    body = gzip.compress(page, mtime=0) if gzipped else page
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    if gzipped:
        headers.append(("Content-Encoding", "gzip"))
    head = ("HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()
    request = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n\r\n".encode()
    return FetchResult(url=url, status=200, reason="OK", http_version="HTTP/1.1", request_head=request,
                       response_head=head, headers=tuple(headers), body=body, peer_ip="127.0.0.1",
                       fetched_at=datetime(2026, 12, 1, tzinfo=UTC))


def run(results: list[FetchResult], level: int, rounds: int) -> tuple[float, int]:
    times = []
    size = 0
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="warc-gzip-") as tmp:
            writer = WarcWriter(Path(tmp), "bench", gzip_level=level)
            started = time.process_time()
            for result in results:
                writer.write_exchange(result)
            times.append((time.process_time() - started) / len(results) * 1e6)
            writer.close()
            size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    return median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with pinned({0}):
        results = pages(args.articles)
        identity = [r for r in results if not r.header("content-encoding")]
        print(header("WARC gzip level: CPU per exchange and size"))
        raw = sum(len(r.response_head) + len(r.body) + len(r.request_head) for r in results)
        raw_identity = sum(len(r.response_head) + len(gzip.decompress(r.body)) if r.header("content-encoding")
                           else len(r.response_head) + len(r.body) for r in results)
        print(f"# {len(results)} exchanges (request + response records), half the bodies gzip-encoded; "
              f"{raw / len(results) / 1024:.1f} KiB each as received, {raw_identity / len(results) / 1024:.1f} KiB "
              f"decoded\n")
        print("| level | all pages: µs/exchange | all pages: MiB | identity bodies only: µs/exchange | MiB |")
        print("|---:|---:|---:|---:|---:|")
        for level in (0, 1, 3, 6, 9):
            cpu, size = run(results, level, args.rounds)
            cpu_id, size_id = run(identity, level, args.rounds)
            print(f"| {level} | {cpu:.0f} | {size / 2**20:.2f} | {cpu_id:.0f} | {size_id / 2**20:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
