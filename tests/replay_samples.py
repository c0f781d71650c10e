"""Test helpers for replay: article pages of the mirror (no sockets) as hand-made WARC records.

Records are built byte by byte so that tests can damage them precisely (garbage between
members, a wrong Content-Length, a broken header line); ``articles`` renders real article
pages of the offline mirror at their real ``https://<host>/…`` URLs, with the snapshot
each one must give.
"""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import zstandard

from crawler.mirror.site import Site
from crawler.mirror.snapshot import snapshot


@dataclass(frozen=True)
class Page:
    source: str
    article_id: str
    url: str
    html: bytes
    expected: str  # the snapshot text


def articles(per_source: int = 2, seed: int = 3, sources: Iterable[str] = ("baocantho", "baoangiang", "hue")
             ) -> list[Page]:
    site = Site(per_source, seed)
    pages = []
    for source in sources:
        for index in range(per_source):
            spec = site.generator.article(source, index)
            host, path = spec.url.split("/", 3)[2], "/" + spec.url.split("/", 3)[3]
            page = site.page(host, path)
            assert page.status == 200, spec.url
            pages.append(Page(source, spec.article_id, spec.url, page.body, snapshot(spec)))
    return pages


def http_response(body: bytes, headers: Iterable[tuple[str, str]] = (), status: str = "200 OK") -> bytes:
    all_headers = [("Content-Type", "text/html; charset=utf-8"), *headers]
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in all_headers):
        all_headers.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers) + "\r\n"
    return head.encode("utf-8") + body


def record(url: str, block: bytes, *, rec_type: str = "response", version: str = "WARC/1.1",
           date: str = "2024-05-01T03:04:05.000001Z", content_length: int | None = None,
           extra: Iterable[tuple[str, str]] = ()) -> bytes:
    """One WARC record, uncompressed; ``content_length`` overrides the true length (to damage it)."""
    fields = [("WARC-Type", rec_type), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"), ("WARC-Date", date)]
    if url:
        fields.append(("WARC-Target-URI", url))
    ctype = "application/http;msgtype=response" if rec_type == "response" else "application/warc-fields"
    fields += [("Content-Type", ctype), *extra]
    fields.append(("Content-Length", str(len(block) if content_length is None else content_length)))
    head = version + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def warcinfo(source: str | None = None) -> bytes:
    block = b"software: test\r\nformat: WARC File Format 1.1\r\n"
    if source:
        block += f"x-crawler-source: {source}\r\n".encode()
    return record("", block, rec_type="warcinfo")


def page_record(page: Page, **kwargs: object) -> bytes:
    return record(page.url, http_response(page.html), **kwargs)  # type: ignore[arg-type]


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zst(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def write(path: Path, members: Iterable[bytes]) -> Path:
    path.write_bytes(b"".join(members))
    return path


UNRELATED = ("news.example.org", "www.other-paper.test", "blog.example.net")


def unrelated_record(index: int, *, date: str) -> bytes:
    """A response of a host no source covers; its body is a broken gzip stream (decoding it would fail)."""
    host = UNRELATED[index % len(UNRELATED)]
    body = b"\x1f\x8b\x08\x00broken" * 50
    return record(f"https://{host}/story-{index}.html", http_response(body, [("Content-Encoding", "gzip")]),
                  date=date)


def collection(directory: Path, per_source: int = 3) -> dict[str, object]:
    """A small foreign collection: four WARC files (gzip 1.1, plain 1.0, zstd, gzip), versions spread over
    files and out of file order, unrelated hosts, one garbage stretch.  Returns facts for the tests."""
    site = Site(per_source, 7)
    specs = [(source, index) for source in ("baocantho", "baoangiang", "hue") for index in range(per_source)]

    def page(source: str, index: int) -> tuple[str, bytes]:
        spec = site.generator.article(source, index)
        host, path = spec.url.split("/", 3)[2], "/" + spec.url.split("/", 3)[3]
        return spec.url, site.page(host, path).body

    def rec(source: str, index: int, date: str, version: str = "WARC/1.1") -> bytes:
        url, html = page(source, index)
        return record(url, http_response(html), date=date, version=version)

    first = [rec(s, i, f"2024-03-0{1 + n % 9}T00:00:00.5Z") for n, (s, i) in enumerate(specs)]
    revised_source, revised_index = specs[0]
    original = first[0]
    site.revise(revised_source, site.generator.article(revised_source, revised_index).article_id)
    v2 = rec(revised_source, revised_index, "2024-04-01T00:00:00Z", version="WARC/1.0")
    v3_same_as_v1 = original.replace(b"2024-03-01T00:00:00.5Z", b"2024-05-01T00:00:00Z")
    early_dup = first[1].replace(b"2024-03-02T00:00:00.5Z", b"2024-03-02T00:00:00Z")  # same text: no version
    files = {
        "a-coll.warc.gz": [gz(warcinfo()), *(gz(r) for r in first[:4]),
                           gz(unrelated_record(0, date="2024-03-01T00:00:00Z")), b"GARBAGE" * 20,
                           gz(unrelated_record(1, date="2024-03-01T00:00:01Z"))],
        "b-coll.warc": [v2, *first[4:6],
                        unrelated_record(2, date="2024-03-01T00:00:00Z"),
                        unrelated_record(3, date="2024-03-01T00:00:00Z")],
        "c-coll.warc.zst": [zst(v3_same_as_v1), *(zst(r) for r in first[6:8]), zst(early_dup),
                            zst(unrelated_record(4, date="2024-03-01T00:00:00Z"))],
        "d-coll.warc.gz": [*(gz(r) for r in first[8:]), gz(unrelated_record(5, date="2024-03-01T00:00:00Z"))],
    }
    for name, members in files.items():
        write(directory / name, members)
    revised_id = site.generator.article(revised_source, revised_index).article_id
    early = (specs[1][0], site.generator.article(*specs[1]).article_id)
    return {"articles": len(specs), "revised": (revised_source, revised_id), "unrelated": 6, "early": early,
            "files": [directory / name for name in files]}
