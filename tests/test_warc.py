"""crawler.archive.warc, the writer (records, digests, gzip members, rotation), and .warc_reading, the reader."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.archive.warc import WarcWriter
from crawler.archive.warc_reading import check_file, iter_responses, read_response_at, read_warcinfo
from crawler.codings import ContentDecodingError, dechunk, decode_content
from crawler.errors import ArchiveError

from .warc_samples import (
    HTML_BYTES,
    chunk,
    encode,
    fetch_result,
    warcio_check,
    warcio_index,
    write_foreign_warc,
)

# -- decoding helpers -----------------------------------------------------------


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate", "raw-deflate", "br", "identity"])
def test_decode_content_each_coding(coding: str) -> None:
    header = "deflate" if coding == "raw-deflate" else coding
    assert decode_content(encode(HTML_BYTES, coding), header) == HTML_BYTES


def test_decode_content_stacked_codings_and_case() -> None:
    body = encode(encode(HTML_BYTES, "gzip"), "br")
    assert decode_content(body, "GZIP, br") == HTML_BYTES
    assert decode_content(b"", "gzip") == b""  # a 304 or redirect with an encoding header
    assert decode_content(b"plain", None) == b"plain"


def test_decode_content_concatenated_gzip_members() -> None:
    assert decode_content(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip") == b"abcd"


@pytest.mark.parametrize(
    ("body", "coding", "message"),
    [
        (b"not gzip at all", "gzip", "undecodable gzip"),
        (encode(HTML_BYTES, "gzip")[:-30], "gzip", "truncated"),
        (b"\x00\x01garbage", "br", "br"),
        (encode(HTML_BYTES, "br")[:-5], "br", "br"),
        (b"xx", "compress", "unsupported content encoding"),
    ],
)
def test_decode_content_errors(body: bytes, coding: str, message: str) -> None:
    with pytest.raises(ContentDecodingError, match=message):
        decode_content(body, coding)


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_decode_content_limit_guards_against_bombs(coding: str) -> None:
    bomb = encode(b"\0" * 2_000_000, coding)
    assert len(bomb) < 10_000
    with pytest.raises(ContentDecodingError, match="exceeds 100000 bytes"):
        decode_content(bomb, coding, limit=100_000)
    assert len(decode_content(bomb, coding, limit=2_000_000)) == 2_000_000


def test_dechunk_variants() -> None:
    assert dechunk(chunk(HTML_BYTES)) == HTML_BYTES
    assert dechunk(chunk(HTML_BYTES, 3, extension=True)) == HTML_BYTES
    assert dechunk(b"5\nhello\n0\n\n") == b"hello"  # bare LF line ends
    assert dechunk(b"3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n") == b"abc"
    for bad in (b"<html>", b"zz\r\nab\r\n0\r\n\r\n", b"10\r\nshort\r\n", b"3\r\nabcX0\r\n\r\n", b"3\r\nabc\r\n"):
        with pytest.raises(ContentDecodingError):
            dechunk(bad)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=3000), size=st.integers(1, 600), coding=st.sampled_from(["gzip", "deflate", "br"]))
def test_chunked_and_encoded_round_trip(data: bytes, size: int, coding: str) -> None:
    assert dechunk(chunk(data, size)) == data
    assert decode_content(encode(data, coding), coding) == data


# -- writer -----------------------------------------------------------------------


def test_round_trip_and_warcio_reads_it(tmp_path: Path) -> None:
    plain = fetch_result("http://baocantho.test/a.html")
    chunked_gzip = fetch_result("http://baocantho.test/b.html?x=1&y=đ", coding="gzip", chunked=True)
    with WarcWriter(tmp_path, "baocantho", info={"x-crawler-source": "baocantho"}) as writer:
        loc1 = writer.write_exchange(plain)
        loc2 = writer.write_exchange(chunked_gzip)
        assert writer.current_path is not None
        assert writer.current_path.name.endswith(".warc.gz.open")
    [path] = writer.closed_paths
    assert writer.current_path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert loc1.filename == loc2.filename == path.name

    responses = list(iter_responses(path))
    assert [(r.url, r.status, r.content) for r in responses] == [
        (plain.url, 200, HTML_BYTES),
        (chunked_gzip.url, 200, HTML_BYTES),
    ]
    assert [r.offset for r in responses] == [loc1.offset, loc2.offset]
    second = responses[1]
    assert second.header("X-Crawler-Transfer-Encoding") == "chunked"
    assert second.header("Transfer-Encoding") is None
    assert second.header("Content-Encoding") == "gzip"
    assert second.warc_version == "WARC/1.1"
    assert second.date == "2024-05-01T03:04:05.678901Z"
    assert second.payload_digest is not None and second.payload_digest.startswith("sha1:")
    assert second.problems == ()

    status, output = warcio_check(path)
    assert status == 0, output
    assert output.count("digest pass") == 5  # warcinfo, 2 x (request, response)
    assert check_file(path) == []

    index = warcio_index(path)
    assert [row["warc-type"] for row in index] == ["warcinfo", "request", "response", "request", "response"]
    assert index[0]["offset"] == "0"
    assert [int(row["offset"]) for row in index if row["warc-type"] == "response"] == [loc1.offset, loc2.offset]


def test_record_headers(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, "t", gzip_level=1) as writer:
        writer.write_exchange(fetch_result(peer_ip="10.1.2.3"))
        writer.write_exchange(fetch_result(peer_ip=None))
    raw = gzip.decompress(writer.closed_paths[0].read_bytes())
    records = raw.split(b"WARC/1.1\r\n")[1:]
    assert len(records) == 5
    warcinfo, request, response = records[0], records[1], records[2]
    assert b"WARC-Type: warcinfo" in warcinfo
    assert b"WARC-Filename: " + writer.closed_paths[0].name.encode() in warcinfo
    assert b"software: crawler/" in warcinfo and b"conformsTo: http://iipc" in warcinfo
    info_id = warcinfo.split(b"WARC-Record-ID: ")[1].split(b"\r\n")[0]
    req_id = request.split(b"WARC-Record-ID: ")[1].split(b"\r\n")[0]
    resp_id = response.split(b"WARC-Record-ID: ")[1].split(b"\r\n")[0]
    assert b"WARC-Concurrent-To: " + req_id in response
    assert b"WARC-Concurrent-To: " + resp_id in request
    assert b"WARC-Warcinfo-ID: " + info_id in response
    assert b"WARC-IP-Address: 10.1.2.3" in response
    assert b"WARC-IP-Address" not in records[4]
    assert b"WARC-Date: 2024-05-01T03:04:05.678901Z" in response
    assert b"Content-Type: application/http;msgtype=response" in response
    assert b"WARC-Payload-Digest: sha1:" in response


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, "t") as writer:
        location = writer.write_exchange(fetch_result())
    data = writer.closed_paths[0].read_bytes()
    member = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = member.decompress(data[location.offset :])
    assert head.startswith(b"WARC/1.1\r\nWARC-Type: response\r\n")
    assert member.eof and member.unused_data == b""  # the response is the last member


def _members(data: bytes) -> list[bytes]:
    """Each gzip member of a WARC file, inflated on its own (a reader seeking to its offset)."""
    out = []
    while data:
        member = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out.append(member.decompress(data) + member.flush())
        assert member.eof
        data = member.unused_data
    return out


def test_fast_levels_are_isal_and_the_others_zlib() -> None:
    """Levels 1-3 deflate with ISA-L (several times less CPU than zlib, same format); 0 and 4-9 with zlib."""
    from isal import isal_zlib

    from crawler.archive import warc

    for level in range(10):
        expected = isal_zlib.Compress if level in (1, 2, 3) else type(zlib.compressobj())
        assert isinstance(warc._compressor(level), expected), level


@settings(max_examples=40, deadline=None)
@given(bodies=st.lists(st.binary(max_size=70_000) | st.text(max_size=20_000).map(str.encode), min_size=1,
                       max_size=4),
       level=st.integers(0, 9), coding=st.sampled_from(["identity", "gzip"]))
def test_every_level_writes_the_same_records(tmp_path_factory: pytest.TempPathFactory, bodies: list[bytes],
                                             level: int, coding: str) -> None:
    """Whatever deflates them, the records inflate (member by member) to the bytes zlib's level 6 holds,
    and warcio reads the bodies back."""
    results = [fetch_result(f"http://baocantho.test/a{i}.html", content=body, coding=coding)
               for i, body in enumerate(bodies)]
    records = {}
    for lvl in (6, level):
        directory = tmp_path_factory.mktemp("warc")
        with WarcWriter(directory, "t", gzip_level=lvl) as writer:
            for result in results:
                writer.write_exchange(result)
        raw = writer.closed_paths[0].read_bytes()
        members = _members(raw)
        assert len(members) == 1 + 2 * len(results)  # warcinfo, then a request and a response per exchange
        # the record ids and the file name differ from file to file: compare everything else
        records[lvl] = [re_ids(m) for m in members]
        assert [r.content for r in iter_responses(writer.closed_paths[0])] == bodies
        status, output = warcio_check(writer.closed_paths[0])
        assert status == 0, output
    assert records[level] == records[6]


def re_ids(record: bytes) -> bytes:
    import re

    record = re.sub(rb"<urn:uuid:[0-9a-f-]{36}>", b"<id>", record)
    record = re.sub(rb"WARC-Filename: \S+", b"WARC-Filename: f", record)
    record = re.sub(rb"WARC-Date: \S+", b"WARC-Date: d", record) if b"warcinfo" in record[:40] else record
    return re.sub(rb"WARC-Block-Digest: \S+", b"WARC-Block-Digest: b", record) if b"warcinfo" in record[:40] \
        else record


def test_rotation(tmp_path: Path) -> None:
    results = [fetch_result(f"http://baocantho.test/{i}.html", content=b"x%d" % i) for i in range(4)]
    with WarcWriter(tmp_path, "rot", max_size=1, info={"x-crawler-source": "baocantho"}) as writer:
        locations = [writer.write_exchange(r) for r in results]
    paths = writer.closed_paths
    assert len(paths) == 4
    assert [p.name[-14:] for p in paths] == [f"-{i:05d}.warc.gz" for i in range(4)]
    assert all(p.name.startswith("rot-") and len(p.name.split("-")[1]) == 20 for p in paths)
    assert not list(tmp_path.glob("*.open"))
    for path, location, result in zip(paths, locations, results, strict=True):
        assert read_warcinfo(path)["x-crawler-source"] == "baocantho"
        assert warcio_index(path)[0]["warc-type"] == "warcinfo"
        assert location.filename == path.name
        assert read_response_at(path, location.offset).content == result.content
        assert check_file(path) == []
    status, output = warcio_check(*paths)
    assert status == 0, output


def test_rotation_by_size(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, "rot", max_size=3000) as writer:
        locations = [writer.write_exchange(fetch_result(content=bytes(range(256)) * 4)) for _ in range(6)]
    assert 1 < len(writer.closed_paths) < 6
    for location in locations:
        assert read_response_at(tmp_path / location.filename, location.offset).content == bytes(range(256)) * 4


def test_offsets_lead_to_the_right_record(tmp_path: Path) -> None:
    results = [fetch_result(f"http://baocantho.test/{i}", content=b"body %d" % i, coding="gzip") for i in range(5)]
    with WarcWriter(tmp_path, "t") as writer:
        locations = [writer.write_exchange(r) for r in results]
    path = writer.closed_paths[0]
    for location, result in reversed(list(zip(locations, results, strict=True))):
        response = read_response_at(path, location.offset)
        assert (response.url, response.content, response.offset) == (result.url, result.content, location.offset)
    request_offset = int(warcio_index(path)[1]["offset"])
    with pytest.raises(ArchiveError, match="request record"):
        read_response_at(path, request_offset)
    with pytest.raises(ArchiveError, match="warcinfo record"):
        read_response_at(path, 0)
    with pytest.raises(ArchiveError, match="unreadable"):
        read_response_at(path, locations[0].offset - 1)  # not a record start


def test_lazy_open_and_close_idempotent(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "sub", "t")
    writer.close()
    assert not (tmp_path / "sub").exists()
    writer.write_exchange(fetch_result())
    writer.close()
    writer.close()
    assert len(writer.closed_paths) == 1
    writer.write_exchange(fetch_result())  # a new file after close
    writer.close()
    assert len(writer.closed_paths) == 2 and len(set(writer.closed_paths)) == 2


def test_revisit_records(tmp_path: Path) -> None:
    not_modified = fetch_result(status=304, reason="Not Modified", content=b"")
    same = fetch_result()
    with WarcWriter(tmp_path, "t") as writer:
        first = writer.write_exchange(same)
        writer.write_revisit(
            not_modified,
            refers_to_uri=same.url,
            refers_to_date="2024-05-01T03:04:05.678901Z",
            profile="server-not-modified",
            refers_to_record_id="<urn:uuid:00000000-0000-0000-0000-000000000000>",
        )
        revisit = writer.write_revisit(
            same, refers_to_uri=same.url, refers_to_date="2024-05-01T03:04:05Z", profile="identical-payload-digest"
        )
    path = writer.closed_paths[0]
    assert [r.offset for r in iter_responses(path)] == [first.offset]  # revisits are not responses
    index = warcio_index(path)
    assert [row["warc-type"] for row in index].count("revisit") == 2
    status, output = warcio_check(path)
    assert status == 0, output
    assert check_file(path) == []
    raw = gzip.decompress(path.read_bytes()[revisit.offset :])
    assert b"WARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest" in raw
    assert b"WARC-Payload-Digest: " + iter_responses_digest(path) in raw
    assert HTML_BYTES not in raw  # headers only
    with pytest.raises(ArchiveError, match="revisit"):
        read_response_at(path, revisit.offset)


def iter_responses_digest(path: Path) -> bytes:
    [response] = iter_responses(path)
    assert response.payload_digest is not None
    return response.payload_digest.encode()


def test_writer_rejects_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        WarcWriter(tmp_path, "a/b")
    with pytest.raises(ValueError):
        WarcWriter(tmp_path, "t", info={"x": "line\r\nbreak"})
    with pytest.raises(ValueError):
        WarcWriter(tmp_path, "t", info={"a:b": "c"})
    with WarcWriter(tmp_path, "t") as writer:
        with pytest.raises(ArchiveError, match="status line"):
            writer.write_exchange(dataclasses.replace(fetch_result(), response_head=b""))
        with pytest.raises(ArchiveError, match="line break"):
            writer.write_exchange(fetch_result("http://x.test/a\r\nb"))
        writer.write_exchange(fetch_result())
    assert check_file(writer.closed_paths[0]) == []  # the failed writes left no partial records


def test_never_overwrites(tmp_path: Path) -> None:
    import crawler.archive.warc as warc

    source = tmp_path / "a.open"
    target = tmp_path / "a"
    source.write_bytes(b"new")
    target.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        warc._rename_exclusive(source, target)
    assert target.read_bytes() == b"old" and source.exists()


# -- reader on foreign WARCs ------------------------------------------------------


@pytest.mark.parametrize("gzip_records", [True, False])
def test_foreign_warcs(tmp_path: Path, gzip_records: bool) -> None:
    path = tmp_path / ("foreign.warc.gz" if gzip_records else "foreign.warc")
    samples = write_foreign_warc(path, gzip_records=gzip_records)
    responses = list(iter_responses(path))
    assert [(r.url, r.status, r.content) for r in responses] == [(s.url, s.status, s.content) for s in samples]
    assert [bool(r.problems) for r in responses] == [s.problems for s in samples]
    assert all(r.warc_version == "WARC/1.0" for r in responses)
    assert read_warcinfo(path) == {"software": "warcio", "format": "1.0"}
    for response in responses:
        again = read_response_at(path, response.offset)
        assert (again.url, again.content, again.record_id) == (response.url, response.content, response.record_id)
    assert check_file(path) == []
    chunked = responses[0]
    assert chunked.header("Transfer-Encoding") == "chunked"


def test_read_warcinfo_absent(tmp_path: Path) -> None:
    path = tmp_path / "x.warc.gz"
    samples = write_foreign_warc(path)
    assert samples
    with WarcWriter(tmp_path, "t") as writer:
        writer.write_exchange(fetch_result())
    without_info = tmp_path / "noinfo.warc.gz"
    data = writer.closed_paths[0].read_bytes()
    first_member = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first_member.decompress(data)
    without_info.write_bytes(first_member.unused_data)
    assert read_warcinfo(without_info) == {}
    assert len(list(iter_responses(without_info))) == 1


def test_check_file_reports_corruption(tmp_path: Path) -> None:
    with WarcWriter(tmp_path, "t") as writer:
        writer.write_exchange(fetch_result(content=b"Tin tuc Can Tho"))
    raw = gzip.decompress(writer.closed_paths[0].read_bytes())
    corrupted = tmp_path / "corrupted.warc"
    corrupted.write_bytes(raw.replace(b"Tin tuc Can Tho", b"Tin tuc Can Thu"))
    problems = check_file(corrupted)
    assert any("block digest failed" in p for p in problems), problems
    assert any("payload digest failed" in p for p in problems), problems
    assert all("response" in p for p in problems)
    status, _ = warcio_check(corrupted)
    assert status == 1

    data = writer.closed_paths[0].read_bytes()
    for cut in (5, 40, 100):  # gzip trailer, end of the body, inside the head: warcio notices none
        truncated = tmp_path / f"truncated-{cut}.warc.gz"
        truncated.write_bytes(data[:-cut])
        problems = check_file(truncated)
        assert any("truncated" in p for p in problems), (cut, problems)
    truncated = tmp_path / "truncated-40.warc.gz"
    [response] = iter_responses(truncated)
    assert response.problems and "record truncated" in response.problems[0]
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(data[:-60] + bytes(b ^ 0x55 for b in data[-60:-30]) + data[-30:])
    assert any("damaged" in p or "failed" in p for p in check_file(damaged))

    garbage = tmp_path / "garbage.warc"
    garbage.write_bytes(b"<html>not a WARC</html>\r\n\r\n")
    assert check_file(garbage)
    arc_like = tmp_path / "arc-like.warc"  # five words would pass for an ARC header
    arc_like.write_bytes(b"this is not a warc\r\n\r\n")
    assert check_file(arc_like)
    with pytest.raises(ArchiveError):
        list(iter_responses(arc_like))
    with pytest.raises(ArchiveError):
        list(iter_responses(garbage))
    assert check_file(tmp_path / "missing.warc")
    with pytest.raises(ArchiveError):
        list(iter_responses(tmp_path / "missing.warc"))


def test_warcio_cli_check(tmp_path: Path) -> None:
    """The real ``warcio check`` command, once, on files from every writer path.

    Not with a br-encoded response: warcio 1.8's ``check`` decodes content and its br
    decoder crashes with brotli >= 1.2 (our ``check_file`` covers br records).
    """
    with WarcWriter(tmp_path, "cli", max_size=1) as writer:
        writer.write_exchange(fetch_result(coding="gzip", chunked=True))
        writer.write_exchange(fetch_result(coding="deflate"))
        writer.write_revisit(
            fetch_result(),
            refers_to_uri="http://x.test/",
            refers_to_date="2024-01-01T00:00:00Z",
            profile="identical-payload-digest",
        )
    warcio = Path(sys.executable).with_name("warcio")
    command = [str(warcio)] if warcio.exists() else [sys.executable, "-c", "from warcio.cli import main; main()"]
    done = subprocess.run([*command, "check", *map(str, writer.closed_paths)], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


# -- a WARC written by wget -------------------------------------------------------


@pytest.fixture
def chunked_gzip_server() -> Iterator[str]:
    """A one-page HTTP server on 127.0.0.1 answering with a chunked, gzip-encoded body."""
    listener = socket.create_server(("127.0.0.1", 0))
    body = chunk(encode(HTML_BYTES, "gzip"), 20)
    reply = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body
    )
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(4096)
                        if not more:
                            break
                        data += more
                    conn.sendall(reply)
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/trang.html"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget not installed")
def test_reads_wget_warc(tmp_path: Path, chunked_gzip_server: str) -> None:
    base = tmp_path / "wget"
    subprocess.run(
        [
            "wget",
            "-q",
            "--tries=1",
            "--timeout=5",
            f"--warc-file={base}",
            "-O",
            str(tmp_path / "out"),
            chunked_gzip_server,
        ],
        check=True,
        timeout=30,
        cwd=tmp_path,
    )
    path = tmp_path / "wget.warc.gz"
    [response] = list(iter_responses(path))
    assert response.url == chunked_gzip_server
    assert response.header("Transfer-Encoding") == "chunked"  # wget keeps the framing in the record
    assert response.content == HTML_BYTES
    assert response.problems == ()
    assert read_warcinfo(path).get("software", "").startswith("Wget")
    assert read_response_at(path, response.offset).content == HTML_BYTES
    assert check_file(path) == []
