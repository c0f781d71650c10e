"""Generate a WARC collection for the replay benchmark: mirror articles plus as many records of unrelated hosts.

    .venv/bin/python bench/make_collection.py DIR [--records 100000] [--per-file 2000] [--seed 1]

Half the response records are article pages of the offline mirror's three sources,
rendered without sockets (:class:`crawler.mirror.site.Site`, real ``https://<host>/`` URLs);
half are pages of 200 unrelated hosts (the same kind of HTML, so the same size).  Half the
bodies are stored ``Content-Encoding: gzip`` (as a crawl of a gzipping server keeps them).
Files of ``--per-file`` records each: 3 in 5 are ``.warc.gz`` WARC/1.1 (a request record
before each response, as this crawler writes), 1 in 5 ``.warc.gz`` WARC/1.0 (responses only,
as other tools write), 1 in 5 ``.warc.zst`` (one zstd frame per record, as Common Crawl and
FastWARC write).  Deterministic for a seed; ``DIR/collection.json`` describes it, and an
existing collection with the same description is reused.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
import uuid
import zlib
from pathlib import Path

import zstandard

from crawler.mirror.site import Site

UNRELATED_HOSTS = 200


def _member(data: bytes, kind: str) -> bytes:
    if kind == "zst":
        return bytes(zstandard.ZstdCompressor(level=3).compress(data))
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def _record(version: str, rec_type: str, url: str, date: str, block: bytes, ctype: str) -> bytes:
    fields = [("WARC-Type", rec_type), ("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=random.getrandbits(128))}>"),
              ("WARC-Date", date), ("WARC-Target-URI", url), ("Content-Type", ctype),
              ("Content-Length", str(len(block)))]
    head = version + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode() + block + b"\r\n\r\n"


def _http(body: bytes, gzipped: bool) -> bytes:
    headers = "Content-Type: text/html; charset=utf-8\r\n"
    if gzipped:
        body = gzip.compress(body, compresslevel=6, mtime=0)
        headers += "Content-Encoding: gzip\r\n"
    return f"HTTP/1.1 200 OK\r\n{headers}Content-Length: {len(body)}\r\n\r\n".encode() + body


def make(directory: Path, records: int, per_file: int, seed: int) -> dict[str, object]:
    description = {"records": records, "per_file": per_file, "seed": seed, "version": 2}
    index = directory / "collection.json"
    if index.exists() and json.loads(index.read_text()).get("description") == description:
        return dict(json.loads(index.read_text()))
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.warc*"):
        old.unlink()
    random.seed(seed)
    articles = records // 2
    per_source = -(-articles // 3)
    site = Site(per_source, seed, cache_pages=1)
    started = time.monotonic()
    files: list[str] = []
    counts = {"articles": 0, "unrelated": 0}
    sources = ("baocantho", "baoangiang", "hue")
    pending: list[tuple[str, bytes]] = []  # (url, html) of the current file
    n_file = 0

    def flush() -> None:
        nonlocal n_file, pending
        if not pending:
            return
        style = ("gz11", "gz11", "gz10", "gz11", "zst")[n_file % 5]
        kind = "zst" if style == "zst" else "gz"
        version = "WARC/1.0" if style == "gz10" else "WARC/1.1"
        name = f"coll-{n_file:05d}.warc.{'zst' if kind == 'zst' else 'gz'}"
        out = bytearray()
        info = b"software: bench/make_collection.py\r\nformat: WARC File Format 1.1\r\n"
        out += _member(_record(version, "warcinfo", "", "2024-01-01T00:00:00Z", info, "application/warc-fields")
                       .replace(b"WARC-Target-URI: \r\n", b""), kind)
        for number, (url, html) in enumerate(pending):
            date = f"2024-{1 + n_file % 12:02d}-{1 + number % 28:02d}T{number % 24:02d}:00:00Z"
            if style == "gz11":
                host = url.split("/")[2]
                request = f"GET /{url.split('/', 3)[3]} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
                out += _member(_record(version, "request", url, date, request, "application/http;msgtype=request"),
                               kind)
            block = _http(html, gzipped=random.random() < 0.5)
            out += _member(_record(version, "response", url, date, block, "application/http;msgtype=response"), kind)
        (directory / name).write_bytes(bytes(out))
        files.append(name)
        n_file += 1
        pending = []

    article_index = 0
    for number in range(records):
        spec = site.generator.article(sources[article_index % 3], (article_index // 3) % per_source)
        if number % 2 == 0:
            url = spec.url
            counts["articles"] += 1
        else:  # an unrelated host's page of the same kind and size
            host = f"site{random.randrange(UNRELATED_HOSTS)}.example.com"
            url = f"https://{host}/news/{number}.html"
            counts["unrelated"] += 1
        host, path = spec.url.split("/", 3)[2], "/" + spec.url.split("/", 3)[3]
        pending.append((url, site.page(host, path).body))
        if number % 2 == 0:
            article_index += 1
        if len(pending) >= per_file:
            flush()
        if number and number % 10000 == 0:
            print(f"  {number:,} records, {time.monotonic() - started:.0f} s", file=sys.stderr)
    flush()
    result = {"description": description, "files": files, **counts,
              "bytes": sum((directory / f).stat().st_size for f in files)}
    index.write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--per-file", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = make(args.directory, args.records, args.per_file, args.seed)
    print(json.dumps({k: v for k, v in result.items() if k != "files"}))


if __name__ == "__main__":
    main()
