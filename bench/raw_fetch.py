"""The raw ceiling for ``bench/crawl.py``: fetch a list of URLs with httpx2 under trio, discard the bodies.

The same client library and shape as the crawler's fetcher (one small
``httpx2.AsyncClient`` per origin, the crawler's request headers, bodies read raw),
with the same per-host and global concurrency, and nothing else: no discovery, no
WARC, no parsing, no catalog.  Prints one JSON object (requests, statuses, seconds).

    .venv/bin/python bench/raw_fetch.py URLS_FILE --host-concurrency 4 --concurrency 16
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx2
import trio

import crawler
from crawler.net.fetch_policy import ACCEPT, ACCEPT_ENCODING, ACCEPT_LANGUAGE


async def fetch_all(urls: list[str], host_concurrency: int, concurrency: int, limit_seconds: float
                    ) -> dict[str, object]:
    by_origin: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        parts = httpx2.URL(url)
        by_origin[f"{parts.scheme}://{parts.host}:{parts.port}"].append(url)
    limiter = trio.CapacityLimiter(concurrency)
    statuses: Counter[int] = Counter()
    wire_bytes = 0
    headers = {"User-Agent": crawler.USER_AGENT, "Accept": ACCEPT, "Accept-Language": ACCEPT_LANGUAGE,
               "Accept-Encoding": ACCEPT_ENCODING}

    async def worker(client: httpx2.AsyncClient, queue: trio.MemoryReceiveChannel[str]) -> None:
        nonlocal wire_bytes
        async with queue:
            async for url in queue:
                async with limiter, client.stream("GET", url) as response:
                    async for chunk in response.aiter_raw():
                        wire_bytes += len(chunk)
                    statuses[response.status_code] += 1

    started = time.perf_counter()
    with trio.fail_after(limit_seconds):
        async with trio.open_nursery() as nursery:
            clients = []
            for origin_urls in by_origin.values():
                client = httpx2.AsyncClient(
                    headers=headers, timeout=httpx2.Timeout(30.0), follow_redirects=False, trust_env=False,
                    limits=httpx2.Limits(max_connections=host_concurrency,
                                         max_keepalive_connections=host_concurrency),
                )
                clients.append(client)
                send, receive = trio.open_memory_channel[str](len(origin_urls))
                for url in origin_urls:
                    send.send_nowait(url)
                send.close()
                for _ in range(host_concurrency):
                    nursery.start_soon(worker, client, receive.clone())
                receive.close()
    seconds = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return {"requests": sum(statuses.values()), "seconds": seconds, "wire_bytes": wire_bytes,
            "statuses": {str(k): v for k, v in sorted(statuses.items())}, "origins": len(by_origin)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", type=Path, help="file with one URL per line")
    parser.add_argument("--host-concurrency", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=600.0, help="bound on the whole run (seconds)")
    args = parser.parse_args()
    urls = [line.strip() for line in args.urls.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = trio.run(fetch_all, urls, args.host_concurrency, args.concurrency, args.timeout)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
