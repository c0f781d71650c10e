"""CPU cost of the address check (``crawler.net.connect``) per request, against the transport it replaced.

A tiny HTTP server in a child process (so its CPU is not counted) answers every GET with the
same small page.  In this process a :class:`~crawler.net.fetcher.Fetcher` fetches it N times in a
row, with either

* ``before``: httpx2's own ``AsyncHTTPTransport`` (what the Fetcher used until the check), or
* ``after``: the Fetcher's default, ``crawler.net.connect.CheckedTransport``;

for the IP literal ``127.0.0.1`` and for the name ``localhost`` (resolved per new connection;
private addresses allowed so that it may connect), on keep-alive connections and with
``Connection: close`` (one new connection, so one resolution and check, per request).  Rounds
are interleaved; the figures are medians of process CPU time (this process, all threads) per
request.

    .venv/bin/python bench/address_check.py [--requests 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import product

import httpx2
import trio
from benchlib import free_ports, header, median, wait_for_port

from crawler.net.fetch_policy import FetchPolicy
from crawler.net.fetcher import _LIMITS, Fetcher

SERVER = r"""
import asyncio, sys
BODY = b"<html><body><p>ok</p></body></html>" * 20
async def handle(reader, writer):
    close = sys.argv[2] == "close"
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n" % len(BODY)
            + (b"Connection: close\r\n" if close else b"") + b"\r\n")
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            if not request:
                break
            writer.write(head + BODY)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=512)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


def transport_factory(variant: str) -> Callable[[], httpx2.AsyncBaseTransport] | None:
    if variant == "after":
        return None  # the Fetcher's default: CheckedTransport
    context = httpx2.create_ssl_context()
    return lambda: httpx2.AsyncHTTPTransport(verify=context, limits=_LIMITS, trust_env=False)


async def loop(url: str, n: int, variant: str) -> tuple[float, float]:
    policy = FetchPolicy(timeout=10, retries=0, allow_private_addresses=True)
    async with Fetcher(policy, transport_factory=transport_factory(variant)) as fetcher:
        await fetcher.fetch(url)  # the client, its pool and the first connection: not measured
        cpu, wall = time.process_time(), time.perf_counter()
        for _ in range(n):
            result = await fetcher.fetch(url)
            assert result.status == 200
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(header("address check: CPU per request, before/after, same run"))
    results: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for mode in ("keep-alive", "close"):
        port = free_ports(1)[0]
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), mode])
        try:
            wait_for_port(port)
            for _round, host, variant in product(range(args.rounds), ("127.0.0.1", "localhost"), ("before", "after")):
                url = f"http://{host}:{port}/page"
                results.setdefault((mode, host, variant), []).append(trio.run(loop, url, args.requests, variant))
        finally:
            server.terminate()
            server.wait(10)
    print(f"# {args.requests} sequential requests per run, {args.rounds} interleaved rounds, medians")
    print(f"{'connections':<11} {'host':<10} {'before µs CPU/req':>18} {'after µs CPU/req':>17} {'after/before':>13}"
          f" {'before req/s':>13} {'after req/s':>12}")
    for mode, host in product(("keep-alive", "close"), ("127.0.0.1", "localhost")):
        cpu = {v: median([c for c, _ in results[(mode, host, v)]]) / args.requests * 1e6 for v in ("before", "after")}
        rate = {v: args.requests / median([w for _, w in results[(mode, host, v)]]) for v in ("before", "after")}
        ratio = cpu["after"] / cpu["before"]
        print(f"{mode:<11} {host:<10} {cpu['before']:>18.1f} {cpu['after']:>17.1f} {ratio:>13.3f}"
              f" {rate['before']:>13.0f} {rate['after']:>12.0f}")


if __name__ == "__main__":
    main()
