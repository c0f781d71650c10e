"""The command line's contract (parse, fetch, replay, mirror, demo, --version) over real sockets.

Every network request goes to the offline mirror on 127.0.0.1.  Commands run in-process
through :func:`crawler.cli.main` (output via ``capsys``) unless they need a process of
their own (a signal, a server in the foreground).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import __version__
from crawler.archive.warc_reading import check_file, read_response_at
from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import snapshot_meta
from tests.test_catalog_superseded import assert_kept
from tests.warc_samples import chunk, encode, warcio_check

ROOT = Path(__file__).resolve().parent.parent
REAL = Path(__file__).resolve().parent / "fixtures" / "real"
REAL_URLS = {
    "baocantho-a80443": "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
    "baoangiang-a367201": "https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
}


@pytest.fixture(scope="module")
def mirror() -> Iterator[Mirror]:
    with Mirror(articles=6, seed=11) as m:
        yield m


def origin_args(m: Mirror, **override: str) -> list[str]:
    """``--origin HOST=URL`` for every mirrored host; ``override`` maps a host (dots as "_") elsewhere."""
    origins = dict(m.origins)
    for key, url in override.items():
        origins[key.replace("_", ".")] = url
    return [f"--origin={host}={url}" for host, url in origins.items()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def catalog_rows(archive: Path) -> list[tuple[str, str, int, str, str]]:
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        rows = db.execute("SELECT source, article_id, version, url, text_path FROM snapshots "
                          "ORDER BY source, article_id, version").fetchall()
    return [(str(s), str(a), int(v), str(u), str(t)) for s, a, v, u, t in rows]


def crawl_quietly(m: Mirror, archive: Path, *extra: str) -> None:
    code = main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet", "--no-progress",
                 *extra])
    assert code == 0


def texts_under(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in (root / "text").rglob("*.txt")}


# -- --version -----------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"crawler {__version__} ")


# -- parse ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(REAL_URLS))
def test_parse_prints_the_snapshot_of_a_saved_page(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["parse", "--url", REAL_URLS[name], str(REAL / f"{name}.html")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == (REAL / f"{name}.expected.txt").read_text(encoding="utf-8") + "\n"
    assert err == ""


def test_parse_refuses_a_host_no_source_covers(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["parse", "--url", "https://baohaugiang.com.vn/tin-a1.html", str(REAL / "baocantho-a80443.html")])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert "baohaugiang.com.vn" in err and "no configured source" in err


def test_parse_of_a_listing_page_names_the_missing_field(mirror: Mirror, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with httpx2.Client(timeout=5) as client:
        page = client.get(mirror.origins["baocantho.com.vn"] + "/thoi-su/")
    assert page.status_code == 200
    saved = tmp_path / "thoi-su.html"
    saved.write_bytes(page.content)
    code = main(["parse", "--url", "https://baocantho.com.vn/thoi-su/", str(saved)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "extraction failed" in err and "no title" in err


def test_parse_of_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.html"
    code = main(["parse", "--url", REAL_URLS["baocantho-a80443"], str(missing)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert f"cannot read {missing}" in err


# -- fetch ---------------------------------------------------------------------------------------


def test_fetch_archives_one_article(mirror: Mirror, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article_id = mirror.article_ids("baocantho")[-1]
    url = mirror.article("baocantho", article_id).url  # the real URL; --origin says where to connect
    assert url.startswith("https://baocantho.com.vn/")
    code = main(["fetch", url, "--archive", str(tmp_path), *origin_args(mirror)])
    out, err = capsys.readouterr()
    assert code == 0, err

    text_path = Path(out.strip())
    assert out.count("\n") == 1 and text_path.is_file()
    assert text_path.read_text(encoding="utf-8") == mirror.expected_snapshot("baocantho", article_id)

    warcs = list((tmp_path / "warc").iterdir())
    assert len(warcs) == 1 and warcs[0].name.endswith(".warc.gz")
    assert check_file(warcs[0]) == []
    status, report = warcio_check(warcs[0])
    assert status == 0, report

    (meta,) = snapshot_meta(tmp_path, text_path).values()
    assert meta["warc_file"] == warcs[0].name
    response = read_response_at(warcs[0], int(str(meta["warc_offset"])))
    assert response.url == url and response.status == 200

    rows = catalog_rows(tmp_path)
    assert rows == [("baocantho", article_id, 1, url, text_path.relative_to(tmp_path).as_posix())]
    # The record is truthful about where the bytes came from: the mirror's address, and the mapping.
    assert response.header("content-type") is not None
    raw = gzip.decompress(warcs[0].read_bytes())
    assert b"WARC-IP-Address: 127.0.0.1\r\n" in raw and b"\r\nHost: baocantho.com.vn\r\n" in raw
    assert b"x-crawler-origins: " in raw and mirror.origins["baocantho.com.vn"].encode() in raw


def test_fetch_of_a_mirror_url_archives_the_real_url(mirror: Mirror, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    article_id = mirror.article_ids("hue")[-1]
    code = main(["fetch", mirror.article_url("hue", article_id), "--archive", str(tmp_path), *origin_args(mirror)])
    assert code == 0, capsys.readouterr().err
    assert catalog_rows(tmp_path)[0][3] == mirror.article("hue", article_id).url


def test_fetch_failures_leave_the_archive_intact(mirror: Mirror, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    article_id = mirror.article_ids("baoangiang")[0]
    url = mirror.article_url("baoangiang", article_id)
    assert main(["fetch", url, "--archive", str(tmp_path), *origin_args(mirror)]) == 0
    text_path = Path(capsys.readouterr().out.strip())
    first_warc = next((tmp_path / "warc").iterdir())
    before = {p: p.read_bytes() for p in (text_path, first_warc)}
    ag = mirror.origins["baoangiang.com.vn"]

    def fetch(target: str, *extra: str) -> tuple[int, str, str]:
        code = main(["fetch", target, "--archive", str(tmp_path), *extra])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = fetch("https://baohaugiang.com.vn/tin-moi-a123.html", *origin_args(mirror))
    assert (code, out) == (2, "")
    assert "baohaugiang.com.vn" in err

    code, out, err = fetch(ag + "/thoi-su/", *origin_args(mirror))
    assert (code, out) == (1, "")
    assert "not an article" in err

    code, out, err = fetch(ag + "/bai-khong-co-that-a498001.html", *origin_args(mirror))
    assert (code, out) == (1, "")
    assert "HTTP 404" in err

    port = free_port()
    dead = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    code, out, err = fetch(dead + "/tin-moi-a498001.html", "--timeout", "2",
                           *origin_args(mirror, baoangiang_com_vn=dead))
    assert (code, out) == (1, "")
    assert f"127.0.0.1:{port}" in err and "connect" in err
    assert time.monotonic() - started < 15

    for path, data in before.items():
        assert path.read_bytes() == data, path
    assert [row[:3] for row in catalog_rows(tmp_path)] == [("baoangiang", article_id, 1)]
    warcs = sorted((tmp_path / "warc").iterdir())
    assert not [p for p in warcs if p.name.endswith(".open")]
    for path in warcs:
        assert check_file(path) == [], path
    assert len(list((tmp_path / "text").rglob("*.txt"))) == 1


def warc_records(archive: Path) -> list[tuple[str, str, str | None]]:
    """(WARC-Type, target URI, WARC-Profile) of every record in the archive's WARC files, in file order."""
    records: list[tuple[str, str, str | None]] = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                records.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                                record.rec_headers.get_header("WARC-Profile")))
    return records


def article_requests(m: Mirror, url: str) -> list[int]:
    path = "/" + url.split("/", 3)[3]
    return [entry.status for entry in m.request_log if entry.path == path]


def test_fetch_of_an_archived_article_makes_no_request(mirror: Mirror, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    article_id = mirror.article_ids("hue")[-1]
    url = mirror.article_url("hue", article_id)
    assert main(["fetch", url, "--archive", str(tmp_path), *origin_args(mirror)]) == 0
    first = capsys.readouterr().out.strip()
    before = warc_records(tmp_path)
    requests = len(article_requests(mirror, url))

    for _ in range(2):
        code = main(["fetch", url, "--archive", str(tmp_path), *origin_args(mirror)])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert out.strip() == first  # stdout is the snapshot's path, as for a first fetch
        assert f"already archived: {first}" in err and err.count("\n") == 1
    assert len(article_requests(mirror, url)) == requests
    assert warc_records(tmp_path) == before
    assert len(catalog_rows(tmp_path)) == 1


def test_fetch_refresh_writes_revisits_or_a_new_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Mirror(articles=3, seed=21) as m:
        article_id = m.article_ids("baocantho")[-1]
        url = m.article_url("baocantho", article_id)

        def fetch(*extra: str) -> tuple[int, str, str]:
            code = main(["fetch", url, "--archive", str(tmp_path), *origin_args(m), *extra])
            out, err = capsys.readouterr()
            return code, out.strip(), err

        code, first, _ = fetch()
        assert code == 0
        assert [r[0] for r in warc_records(tmp_path)] == ["warcinfo", "request", "response"]

        # Unchanged: a conditional request, answered 304, recorded as a server-not-modified revisit.
        code, out, err = fetch("--refresh")
        assert (code, out) == (0, first)
        assert "not modified" in err
        statuses = article_requests(m, url)
        assert statuses[-1] == 304
        (sent,) = [e for e in m.request_log if e.status == 304]
        assert "if-none-match" in sent.headers or "if-modified-since" in sent.headers
        revisits = [r for r in warc_records(tmp_path) if r[0] == "revisit"]
        assert len(revisits) == 1 and revisits[0][2] is not None and "server-not-modified" in revisits[0][2]

        # A server that ignores the validators and sends the same body: identical-payload-digest revisit.
        with contextlib.closing(sqlite3.connect(tmp_path / "catalog.sqlite")) as db, db:
            db.execute("UPDATE http_cache SET etag=NULL, last_modified=NULL")
        code, out, err = fetch("--refresh")
        assert (code, out) == (0, first)
        assert "unchanged" in err
        assert article_requests(m, url)[-1] == 200
        profiles = [r[2] or "" for r in warc_records(tmp_path) if r[0] == "revisit"]
        assert len(profiles) == 2 and "identical-payload-digest" in profiles[1]
        assert [row[2] for row in catalog_rows(tmp_path)] == [1]

        # Changed text: a full response record and a new version beside the old one.
        m.revise("baocantho", article_id)
        code, out, err = fetch("--refresh")
        assert code == 0, err
        assert out.endswith(f"{article_id}.v2.txt") and Path(out).read_text(encoding="utf-8") == m.expected_snapshot(
            "baocantho", article_id)
        assert Path(first).is_file()
        assert [row[2] for row in catalog_rows(tmp_path)] == [1, 2]
        assert_kept(tmp_path)  # version 1 is superseded (tests/test_catalog_superseded.py)
        assert [r[0] for r in warc_records(tmp_path)].count("response") == 2
    for path in (tmp_path / "warc").iterdir():
        assert check_file(path) == [], path
    assert main(["verify", "--archive", str(tmp_path)]) == 0


@pytest.mark.parametrize(("url", "code", "message"), [
    ("not-a-url", 2, "not an http(s) URL: 'not-a-url'"),
    ("ftp://x", 2, "not an http(s) URL: 'ftp://x'"),
    ("http://", 2, "not an http(s) URL: 'http://'"),
    ("https:///a", 2, "not an http(s) URL: 'https:///a'"),
    ("http://[::1/x-a1.html", 2, "not an http(s) URL"),
    ("https://baocantho.com.vn:99999/x-a1.html", 2, "not an http(s) URL"),
    ("https://baohaugiang.com.vn/tin-a1.html", 2, "no configured source covers host 'baohaugiang.com.vn'"),
    ("https://baocantho.com.vn/thoi-su/", 1, "is not an article URL of baocantho"),
])
def test_refused_fetch_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, code: int,
                                       message: str) -> None:
    archive = tmp_path / "archive"
    if code == 2 and "source" not in message:
        with pytest.raises(SystemExit) as exc:
            main(["fetch", url, "--archive", str(archive)])
        assert exc.value.code == code
    else:
        assert main(["fetch", url, "--archive", str(archive)]) == code
    out, err = capsys.readouterr()
    assert out == "" and message in err
    if code == 2 and "source" not in message:
        assert err.startswith("usage: crawler fetch ")  # the subcommand's usage, not the top level's
    assert not archive.exists()


# -- replay --------------------------------------------------------------------------------------


def jsonl_records(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_replay_reproduces_a_crawled_archive(mirror: Mirror, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    archive, out_dir = tmp_path / "archive", tmp_path / "replayed"
    crawl_quietly(mirror, archive)
    capsys.readouterr()
    stored = texts_under(archive)
    assert len(stored) == sum(len(mirror.article_ids(s)) for s in mirror.sources)

    assert main(["replay", "--archive", str(archive), "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert texts_under(out_dir) == stored

    assert main(["replay", "--archive", str(archive), "--jsonl", "-"]) == 0
    out, err = capsys.readouterr()
    records = jsonl_records(out)
    assert f"{len(stored)} articles" in err
    assert len(records) == len(stored)
    for record in records:
        assert {"url", "source", "article_id", "published", "title", "text"} <= set(record)
        source, article_id = str(record["source"]), str(record["article_id"])
        assert record["text"] == mirror.expected_snapshot(source, article_id)
        assert record["title"] in str(record["text"]).split("\n\n")
        assert record["published"] == mirror.article(source, article_id).published.isoformat()
        assert record["url"] == mirror.article(source, article_id).url or source == "hue"

    jsonl = tmp_path / "articles.jsonl"
    assert main(["replay", "--archive", str(archive), "--jsonl", str(jsonl)]) == 0
    assert capsys.readouterr().out == ""
    assert jsonl_records(jsonl.read_text(encoding="utf-8")) == records


def test_replay_keeps_the_version_layout_of_a_refreshed_archive(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    archive, out_dir = tmp_path / "archive", tmp_path / "replayed"
    with Mirror(articles=3, seed=5) as m:
        crawl_quietly(m, archive, "--source", "baocantho")
        m.revise("baocantho", m.article_ids("baocantho")[-1])
        crawl_quietly(m, archive, "--source", "baocantho", "--refresh")
    stored = texts_under(archive)
    assert any(".v2." in p.name for p in stored)
    assert main(["replay", "--archive", str(archive), "--out", str(out_dir)]) == 0
    capsys.readouterr()
    assert texts_under(out_dir) == stored


def _record(writer: WARCWriter, url: str, body: bytes, headers: list[tuple[str, str]], *,
            with_request: bool) -> None:
    record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                       http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"))
    if not with_request:
        writer.write_record(record)
        return
    path = "/" + url.split("/", 3)[3]
    request = writer.create_warc_record(url, "request", http_headers=StatusAndHeaders(
        f"GET {path} HTTP/1.1", [("Host", url.split("/")[2])], is_http_request=True))
    writer.write_request_response_pair(request, record)


def _identity_page(client: httpx2.Client, url: str) -> bytes:
    response = client.get(url, headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200 and "content-encoding" not in response.headers
    return response.content


def test_replay_reads_warcs_written_by_other_tools(mirror: Mirror, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    ids = mirror.article_ids("baoangiang")[:4]
    urls = [mirror.article_url("baoangiang", a) for a in ids]
    html = "text/html; charset=utf-8"
    warc = tmp_path / "foreign.warc.gz"
    with httpx2.Client(timeout=5) as client:
        pages = [_identity_page(client, u) for u in urls]
    with open(warc, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)  # warcio's defaults: WARC/1.0
        writer.write_record(writer.create_warcinfo_record(warc.name, {"software": "warcio"}))
        # body still chunk-framed in the record
        _record(writer, urls[0], chunk(pages[0], 997), [("Content-Type", html), ("Transfer-Encoding", "chunked")],
                with_request=True)
        # gzip content encoding inside chunked framing, no request record
        gz = encode(pages[1], "gzip")
        _record(writer, urls[1], chunk(gz, 512, extension=True),
                [("Content-Type", html), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")],
                with_request=False)
        # deflate (zlib) content encoding, no request record
        deflated = encode(pages[2], "deflate")
        _record(writer, urls[2], deflated,
                [("Content-Type", html), ("Content-Encoding", "deflate"), ("Content-Length", str(len(deflated)))],
                with_request=False)
        # the same URL captured twice: raw deflate, then identity
        raw = encode(pages[3], "raw-deflate")
        _record(writer, urls[3], raw, [("Content-Type", html), ("Content-Encoding", "deflate")], with_request=True)
        _record(writer, urls[3], pages[3], [("Content-Type", html), ("Content-Length", str(len(pages[3])))],
                with_request=True)
    assert warc.read_bytes()[:2] == b"\x1f\x8b"

    out_dir = tmp_path / "out"
    code = main(["replay", str(warc), "--source", "baoangiang", "--jsonl", "-", "--out", str(out_dir)])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = jsonl_records(out)
    # One object per article: the second, identical capture of urls[3] adds no record.
    assert [r["url"] for r in records] == urls
    for record, article_id in zip(records, ids, strict=True):
        assert (record["source"], record["article_id"]) == ("baoangiang", article_id)
        assert record["text"] == mirror.expected_snapshot("baoangiang", article_id)
    written = texts_under(out_dir)
    assert len(written) == 4
    for article_id in ids:
        (path,) = [p for p in written if p.name == f"{article_id}.txt"]
        assert path.parts[:2] == ("text", "baoangiang")
        assert written[path].decode("utf-8") == mirror.expected_snapshot("baoangiang", article_id)

    # Without --source the 127.0.0.1 records belong to no source: nothing is an article.
    code = main(["replay", str(warc), "--jsonl", "-"])
    out, err = capsys.readouterr()
    assert (code, out) == (0, "")
    assert "0 articles" in err


def test_replay_takes_the_source_from_a_real_host(mirror: Mirror, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    picks = [("baocantho", "baocantho.com.vn"), ("hue", "huengaynay.vn")]
    warc = tmp_path / "realhosts.warc"
    expected: list[tuple[str, str, str]] = []
    with httpx2.Client(timeout=5) as client, open(warc, "wb") as handle:
        writer = WARCWriter(handle, gzip=False)
        for source, host in picks:
            article_id = mirror.article_ids(source)[-1]
            mirrored = mirror.article_url(source, article_id)
            page = _identity_page(client, mirrored).decode("utf-8")
            for real, origin in mirror.origins.items():  # the page as the real site serves it
                page = page.replace(origin, f"https://{real}")
            real_url = f"https://{host}/" + mirrored.split("/", 3)[3]
            body = page.encode("utf-8")
            _record(writer, real_url, body, [("Content-Type", "text/html; charset=utf-8"),
                                             ("Content-Length", str(len(body)))], with_request=False)
            expected.append((real_url, source, article_id))
    assert "127.0.0.1" not in warc.read_text(encoding="utf-8")

    code = main(["replay", str(warc), "--jsonl", "-"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = jsonl_records(out)
    assert [(r["url"], r["source"], r["article_id"]) for r in records] == expected
    for record, (_, source, article_id) in zip(records, expected, strict=True):
        assert record["text"] == mirror.expected_snapshot(source, article_id)


def test_replay_without_warc_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", "--archive", str(tmp_path / "empty"), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert "no WARC files" in err

    missing = tmp_path / "nope.warc.gz"
    code = main(["replay", str(missing), "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert f"no such WARC file: {missing}" in err
    assert not (tmp_path / "out").exists()


# -- mirror --------------------------------------------------------------------------------------


def _free_port_block(n: int = 4) -> int:
    """A port p with p .. p+n-1 all free (probed by binding them)."""
    for _ in range(50):
        base = free_port()
        if base + n > 65535:
            continue
        socks: list[socket.socket] = []
        try:
            for port in range(base, base + n):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no block of free ports")


def test_mirror_command_serves_until_interrupted(tmp_path: Path) -> None:
    port = _free_port_block(10)
    # Started as a script's background job would be: SIGINT inherited as ignored, which Python keeps
    # unless the command handles SIGINT itself (as it must: Ctrl-C, or a test's SIGINT, stops it).
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "mirror", "--port", str(port), "--articles", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(10)]
        origins = dict(line.rstrip("\n").split("\t") for line in lines)
        paste = [proc.stdout.readline() for _ in range(2)]
        # The four portals, their image hosts (crawl --images), then one paper per other CMS family.
        assert origins == {host: f"http://127.0.0.1:{port + n}" for n, host in
                           enumerate(("baocantho.com.vn", "baoangiang.com.vn", "baothuathienhue.vn",
                                      "huengaynay.vn", "images.baoangiang.com.vn", "file.huengaynay.vn",
                                      "file.baothuathienhue.vn", "baotayninh.vn", "baodongnai.com.vn",
                                      "baonghean.vn"))}
        with httpx2.Client(timeout=5) as client:
            home = client.get(origins["baoangiang.com.vn"] + "/")
            assert home.status_code == 200 and origins["baoangiang.com.vn"] in home.text
            assert client.get(origins["huengaynay.vn"] + "/robots.txt").status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert out == "" and "Traceback" not in err and err == ""
    # After the table: an --origin argument list ready to paste after `crawler fetch|crawl|replay|parse`.
    assert paste == ["\n", " ".join(f"--origin {host}={url}" for host, url in origins.items()) + "\n"]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


# -- demo ----------------------------------------------------------------------------------------


def test_demo_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "demo"
    assert main(["demo", "--archive", str(archive), "--articles", "10"]) == 0
    out, err = capsys.readouterr()
    total = len(list((archive / "text").rglob("*.txt")))
    assert total == 6 * 10 + 2  # six sources (one per CMS family too); baocantho and hue have a seed article
    assert f"{total} new snapshots this run, {total} in all" in out
    assert ", 0 differ, 0 articles missing" in out
    assert f"{total} byte-identical, 0 differing, 0 not replayed" in out
    # Every family, read by its own template (a shift to anchors/generic would show here).
    assert "baotayninh: 10 mediatech" in out and "baodongnai: 10 javaplatform" in out and "baonghean: 10 onecms" in out
    assert err == ""

    assert main(["demo", "--archive", str(archive), "--articles", "10"]) == 0
    out, err = capsys.readouterr()
    assert f"0 new snapshots this run, {total} in all" in out
    assert re.findall(r"^\w+: (\d+) new", out, re.M) == ["0"] * 6
    assert ", 0 differ, " in out and f"{total} byte-identical, 0 differing" in out
    assert err == ""
    # Each demo run leaves its stats file, as `crawler crawl` does; the second one saw 304s only.
    runs = sorted((archive / "runs").glob("*.json"))
    assert len(runs) == 2
    second = json.loads(runs[1].read_text(encoding="utf-8"))
    assert second["exit_code"] == 0 and all(s["new"] == 0 and s["listings_not_modified"] > 0
                                            for s in second["sources"].values())
