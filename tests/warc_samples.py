"""Test helpers for crawler.archive.warc: FetchResults to archive, and "foreign" WARCs built with warcio itself.

The foreign files imitate what other tools (warcio, wget, pywb) write: WARC/1.0, bodies
still chunked in the record, gzip/deflate/br content encodings, responses without a
request record, several captures of one URL, revisit/metadata/resource records.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import brotli
from warcio.cli import main as warcio_main
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.models import FetchResult

HTML = "<html><head><meta charset='utf-8'><title>Cần Thơ</title></head><body><p>Xin chào Huế</p></body></html>"
HTML_BYTES = HTML.encode("utf-8")


def chunk(data: bytes, size: int = 7, *, extension: bool = False) -> bytes:
    """Frame ``data`` with HTTP/1.1 chunked transfer coding (small chunks, to exercise the parser)."""
    out = bytearray()
    for start in range(0, len(data), size):
        piece = data[start : start + size]
        out += b"%x%s\r\n" % (len(piece), b";ext=1" if extension else b"") + piece + b"\r\n"
    return bytes(out) + b"0\r\n\r\n"


def encode(data: bytes, coding: str) -> bytes:
    if coding in ("gzip", "x-gzip"):
        return gzip.compress(data, mtime=0)
    if coding == "deflate":
        return zlib.compress(data)
    if coding == "raw-deflate":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush()
    if coding == "br":
        return bytes(brotli.compress(data))
    if coding == "identity":
        return data
    raise ValueError(coding)


def fetch_result(
    url: str = "http://baocantho.test/tin-tuc/a1.html",
    *,
    status: int = 200,
    reason: str = "OK",
    headers: Iterable[tuple[str, str]] = (("Content-Type", "text/html; charset=utf-8"),),
    content: bytes = HTML_BYTES,
    coding: str = "identity",
    chunked: bool = False,
    peer_ip: str | None = "127.0.0.1",
    fetched_at: datetime | None = None,
) -> FetchResult:
    """A FetchResult as the fetcher would produce it (body de-chunked, content-encoded)."""
    body = encode(content, coding)
    all_headers = list(headers)
    if coding != "identity":
        all_headers.append(("Content-Encoding", "deflate" if coding == "raw-deflate" else coding))
    all_headers.append(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(len(body))))
    path = url.split("/", 3)[3] if url.count("/") >= 3 else ""
    host = url.split("/")[2]
    request_head = f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: gzip, deflate, br\r\n\r\n".encode()
    response_head = (
        f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers) + "\r\n"
    ).encode("utf-8")
    return FetchResult(
        url=url,
        status=status,
        reason=reason,
        http_version="HTTP/1.1",
        request_head=request_head,
        response_head=response_head,
        headers=tuple(all_headers),
        body=body,
        peer_ip=peer_ip,
        fetched_at=fetched_at or datetime(2024, 5, 1, 3, 4, 5, 678901, tzinfo=UTC),
    )


@dataclass(frozen=True)
class Sample:
    """One response written into a foreign WARC, and what the reader should give back."""

    url: str
    content: bytes
    status: int = 200
    problems: bool = False


def _response(
    writer: WARCWriter,
    url: str,
    body: bytes,
    headers: list[tuple[str, str]],
    *,
    status: str = "200 OK",
    with_request: bool = True,
) -> None:
    http_headers = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    payload = io.BytesIO(body)
    record = writer.create_warc_record(url, "response", payload=payload, length=len(body), http_headers=http_headers)
    if with_request:
        request = writer.create_warc_record(
            url,
            "request",
            http_headers=StatusAndHeaders(
                "GET /" + url.split("/", 3)[-1] + " HTTP/1.1",
                [("Host", url.split("/")[2])],
                is_http_request=True,
            ),
        )
        writer.write_request_response_pair(request, record)
    else:
        writer.write_record(record)


def write_foreign_warc(path: Path, *, gzip_records: bool = True) -> list[Sample]:
    """Write a WARC/1.0 file with warcio's WARCWriter; returns the responses the reader must yield, in order."""
    samples: list[Sample] = []
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=gzip_records)  # warcio's default: WARC/1.0, gzip level 9
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "warcio", "format": "1.0"}))

        url = "http://baohaugiang.test/chunked.html"
        _response(writer, url, chunk(HTML_BYTES), [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked")])
        samples.append(Sample(url, HTML_BYTES))

        url = "http://baohaugiang.test/chunked-gzip.html"
        body = chunk(encode(HTML_BYTES, "gzip"), 5, extension=True)
        headers = [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]
        _response(writer, url, body, headers)
        samples.append(Sample(url, HTML_BYTES))

        for coding in ("gzip", "x-gzip", "deflate", "br"):
            url = f"http://baohaugiang.test/{coding}.html"
            body = encode(HTML_BYTES, coding)
            _response(writer, url, body, [("Content-Encoding", coding), ("Content-Length", str(len(body)))])
            samples.append(Sample(url, HTML_BYTES))

        url = "http://baohaugiang.test/raw-deflate.html"
        _response(writer, url, encode(HTML_BYTES, "raw-deflate"), [("Content-Encoding", "deflate")])
        samples.append(Sample(url, HTML_BYTES))

        # A body another tool stored de-chunked while keeping the header (warcprox did this).
        url = "http://baohaugiang.test/dechunked.html"
        _response(writer, url, HTML_BYTES, [("Transfer-Encoding", "chunked")])
        samples.append(Sample(url, HTML_BYTES, problems=True))

        # A body stored decoded while the header still says gzip.
        url = "http://baohaugiang.test/decoded.html"
        _response(writer, url, HTML_BYTES, [("Content-Encoding", "gzip")])
        samples.append(Sample(url, HTML_BYTES, problems=True))

        url = "http://baohaugiang.test/no-request.html"
        _response(writer, url, b"solo", [("Content-Length", "4")], with_request=False)
        samples.append(Sample(url, b"solo"))

        url = "http://baohaugiang.test/twice.html"
        _response(writer, url, b"first", [("Content-Length", "5")])
        samples.append(Sample(url, b"first"))
        _response(writer, url, b"second", [("Content-Length", "6")], status="404 Not Found")
        samples.append(Sample(url, b"second", status=404))

        revisit = writer.create_revisit_record(
            url,
            digest="sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ",
            refers_to_uri=url,
            refers_to_date="2024-01-01T00:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [("Content-Length", "6")], protocol="HTTP/1.1"),
        )
        writer.write_record(revisit)
        meta = b"outlink: http://baohaugiang.test/x\r\n"
        writer.write_record(
            writer.create_warc_record(
                "http://baohaugiang.test/twice.html",
                "metadata",
                payload=io.BytesIO(meta),
                length=len(meta),
                warc_content_type="application/warc-fields",
            )
        )
        resource = b"resource body"
        writer.write_record(
            writer.create_warc_record(
                "http://baohaugiang.test/resource.txt",
                "resource",
                payload=io.BytesIO(resource),
                length=len(resource),
                warc_content_type="text/plain",
            )
        )
        dns = b"20240101000000\nbaohaugiang.test.\t300\tIN\tA\t127.0.0.1\n"
        writer.write_record(
            writer.create_warc_record(
                "dns:baohaugiang.test",
                "response",
                payload=io.BytesIO(dns),
                length=len(dns),
                warc_content_type="text/dns",
            )
        )
    return samples


def warcio_check(*paths: Path) -> tuple[int, str]:
    """Run ``warcio check -v`` in-process; returns (exit status, output)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            warcio_main(["check", "-v", *map(str, paths)])
            status = 0
        except SystemExit as exc:
            status = int(exc.code or 0)
    return status, out.getvalue()


def warcio_index(path: Path) -> list[dict[str, str]]:
    """Run ``warcio index`` in-process: one dict per record, with offset, type and status."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        warcio_main(["index", "-f", "offset,length,warc-type,warc-target-uri,http:status", str(path)])
    return [json.loads(line) for line in out.getvalue().splitlines()]
