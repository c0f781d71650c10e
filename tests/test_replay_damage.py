"""Replay of damaged and hostile WARCs: caps on every decode, one bad record never stops the rest.

Every case puts good article records before and after the damage and checks that each of
them is replayed, that the damage is reported with its file and offset, and that
``crawler replay`` exits 5 ("completed with problems").  Each runs with both readers.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import pytest

from crawler.cli import main
from crawler.codings import ContentDecodingError, TooLargeError, dechunk
from crawler.replay.collection import BadRecord, Record, read_records, to_response
from crawler.replay.job import cleanup_temporaries

from .replay_samples import Page, articles, gz, http_response, page_record, record, warcinfo, write, zst

READERS = ["python", "fastwarc"]


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    return articles(per_source=2)


def replay_cli(capsys: pytest.CaptureFixture[str], warc: Path, out: Path, reader: str,
               *extra: str) -> tuple[int, list[dict[str, object]], str]:
    code = main(["replay", str(warc), "--out", str(out), "--jsonl", "-", "--reader", reader, "--processes", "1",
                 *extra])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    return code, rows, captured.err


def assert_replayed(rows: list[dict[str, object]], out: Path, good: list[Page]) -> None:
    assert sorted((str(r["source"]), str(r["article_id"])) for r in rows) == sorted(
        (p.source, p.article_id) for p in good)
    for page in good:
        [path] = list((out / "text" / page.source).rglob(f"{page.article_id}.txt"))
        assert path.read_text(encoding="utf-8") == page.expected


def gz_cases(pages: list[Page]) -> dict[str, tuple[list[bytes], int, str]]:
    """name -> (members with the damage third, index of the damaged member, reason expected)."""
    extra = pages[-1]
    good = [gz(page_record(p)) for p in pages[:-1]]
    whole = gz(page_record(extra))
    block = http_response(extra.html)
    damaged = {
        "garbage between members": (b"\x00GARBAGE\x13\x37" * 50, "bytes between members"),
        "truncated member": (whole[: len(whole) // 2], "damaged compressed member"),
        "content-length too small": (gz(record(extra.url, block, content_length=len(block) // 2)),
                                     "does not fit the record"),
        "content-length too large": (gz(record(extra.url, block, content_length=len(block) + 5000)),
                                     "record truncated"),
        "non-WARC member": (gz(b"<html>this is not a WARC record</html>\r\n\r\n"), "not a WARC record"),
        "broken target line": (gz(page_record(extra).replace(b"WARC-Target-URI:", b"WARC-Target-URI")),
                               "no WARC-Target-URI"),
        "broken content-length line": (gz(page_record(extra).replace(b"Content-Length: ", b"Content-Length ", 1)),
                                       "no Content-Length"),
        "record of 50 GB": (gz(record(extra.url, block, content_length=50_000_000_000)), "too large"),
    }
    return {name: ([*good[:3], data, *good[3:]], 3, reason) for name, (data, reason) in damaged.items()}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", ["garbage between members", "truncated member", "content-length too small",
                                  "content-length too large", "non-WARC member", "broken target line",
                                  "broken content-length line", "record of 50 GB"])
def test_gzip_damage_is_reported_and_skipped(case: str, reader: str, pages: list[Page], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    members, index, reason = gz_cases(pages)[case]
    info = gz(warcinfo())
    warc = write(tmp_path / "damaged.warc.gz", [info, *members])
    bad_at = len(info) + sum(len(m) for m in members[:index])
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    assert code == 5, err
    assert_replayed(rows, tmp_path / "out", pages[:-1])
    assert f"bad record: {warc} at offset {bad_at}: " in err
    assert reason in err


def plain_cases(pages: list[Page]) -> dict[str, tuple[list[bytes], int, str]]:
    extra = pages[-1]
    good = [page_record(p) for p in pages[:-1]]
    block = http_response(extra.html)
    damaged = {
        "junk lines": (b"junk line\r\nmore junk, no WARC here\r\n\r\n", "not a WARC record"),
        "content-length too small": (record(extra.url, block, content_length=100), "does not fit the record"),
        "content-length too large": (record(extra.url, block, content_length=len(block) + 700),
                                     "does not fit the record"),
        "broken version line": (page_record(extra).replace(b"WARC/1.1", b"WARX/1.1", 1), "not a WARC record"),
        "record of 50 GB": (record(extra.url, block, content_length=50_000_000_000), "too large"),
    }
    return {name: ([*good[:3], data, *good[3:]], 3, reason) for name, (data, reason) in damaged.items()}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("case", ["junk lines", "content-length too small", "content-length too large",
                                  "broken version line", "record of 50 GB"])
def test_uncompressed_damage_is_reported_and_resynchronised(case: str, reader: str, pages: list[Page],
                                                            tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    members, index, reason = plain_cases(pages)[case]
    info = warcinfo()
    warc = write(tmp_path / "damaged.warc", [info, *members])
    bad_at = len(info) + sum(len(m) for m in members[:index])
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    assert code == 5, err
    assert_replayed(rows, tmp_path / "out", pages[:-1])
    assert f"bad record: {warc} at offset {bad_at}: " in err
    assert reason in err


@pytest.mark.parametrize("reader", READERS)
def test_zstd_damage(reader: str, pages: list[Page], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    frames = [zst(page_record(p)) for p in pages[:-1]]
    broken = zst(page_record(pages[-1]))
    warc = write(tmp_path / "damaged.warc.zst",
                 [frames[0], b"junk" * 10, frames[1], broken[: len(broken) // 2], *frames[2:]])
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    assert code == 5, err
    assert_replayed(rows, tmp_path / "out", pages[:-1])
    assert f"at offset {len(frames[0])}: 40 bytes between members" in err
    assert err.count("bad record:") == 2


@pytest.mark.parametrize("reader", READERS)
def test_invalid_article_ids_never_become_file_names(reader: str, pages: list[Page], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    cantho = next(p for p in pages if p.source == "baocantho")
    # A DotNetNuke-era Huế page (index 4 of the mirror: its two oldest articles are VDOC's, the next two of
    # the category-path site): its id is in the URL, ``-<ID>.html``.
    hue = articles(per_source=5, sources=("hue",))[-1]
    assert hue.url.endswith(f"-{hue.article_id}.html") and f"-a{hue.article_id}" not in hue.url
    hostile = [
        # an id from the page (#txtnewsid) of 100 digits, and one of Arabic-Indic digits
        record(cantho.url, http_response(cantho.html.replace(f'value="{cantho.article_id}"'.encode(),
                                                             b'value="' + b"9" * 100 + b'"'))),
        record(cantho.url, http_response(cantho.html.replace(f'value="{cantho.article_id}"'.encode(),
                                                             'value="١٢٣٤"'.encode()))),
        # an id from the URL (the Huế adapter's first choice) of 100 digits
        record(hue.url.replace(f"-{hue.article_id}.html", "-" + "7" * 100 + ".html"), http_response(hue.html)),
    ]
    others = [p for p in pages if p != cantho]
    members = [gz(page_record(others[0])), *map(gz, hostile), *(gz(page_record(p)) for p in others[1:])]
    warc = write(tmp_path / "ids.warc.gz", members)
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    # Ids are validated at the edge: a page's invalid #txtnewsid is ignored (the URL's id is used) and a
    # URL whose id is invalid is no article URL (skipped): nothing fails, nothing gets a bogus name.
    assert code == 0, err
    assert_replayed(rows, tmp_path / "out", [*others, cantho])
    assert not [p for p in (tmp_path / "out").rglob("*") if "999999" in p.name or "777777" in p.name]


# -- decompression caps ------------------------------------------------------------------------------


def gzip_gzip_bomb(gib: int = 8) -> bytes:
    """``Content-Encoding: gzip, gzip`` over ``gib`` GiB of zeros, in a few KB (members concatenated)."""
    one = gzip.compress(b"\0" * (1 << 20), mtime=0)
    inner = one * (gib * 1024)
    return gzip.compress(inner, compresslevel=9, mtime=0)


@pytest.mark.parametrize("reader", READERS)
def test_replay_caps_a_stacked_gzip_bomb(reader: str, pages: list[Page], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bomb = gzip_gzip_bomb()
    assert len(bomb) < 64_000
    url = pages[0].url.replace(f"a{pages[0].article_id}.html", "a1.html")
    hostile = record(url, http_response(bomb, [("Content-Encoding", "gzip, gzip")]))
    warc = write(tmp_path / "bomb.warc.gz", [gz(page_record(pages[1])), gz(hostile), gz(page_record(pages[2]))])
    assert warc.stat().st_size < 70_000
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    assert code == 5, err
    assert "MemoryError" not in err and "Traceback" not in err
    assert "response body too large: decoded body exceeds 104857600 bytes" in err
    assert_replayed(rows, tmp_path / "out", [pages[1], pages[2]])


def _bombs() -> dict[str, tuple[bytes, list[tuple[str, str]]]]:
    zeros = b"\0" * 3_000_000
    deflated = zlib.compress(zeros, 9)
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return {
        "gzip": (gzip.compress(zeros, mtime=0), [("Content-Encoding", "gzip")]),
        "deflate": (deflated, [("Content-Encoding", "deflate")]),
        "raw deflate": (raw.compress(zeros) + raw.flush(), [("Content-Encoding", "deflate")]),
        "br": (bytes(brotli.compress(zeros, quality=1)), [("Content-Encoding", "br")]),
        "br over gzip": (bytes(brotli.compress(gzip.compress(zeros, mtime=0))), [("Content-Encoding", "gzip, br")]),
        "chunked gzip": (b"%x\r\n" % len(gzip.compress(zeros, mtime=0)) + gzip.compress(zeros, mtime=0)
                         + b"\r\n0\r\n\r\n", [("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]),
        "huge chunk size": (b"7fffffffffffffff\r\nabc\r\n0\r\n\r\n", [("Transfer-Encoding", "chunked")]),
        "plain body over the cap": (zeros, []),
    }


@pytest.mark.parametrize("name", list(_bombs()))
def test_every_decode_is_capped(name: str, tmp_path: Path) -> None:
    body, headers = _bombs()[name]
    warc = write(tmp_path / "b.warc", [record("https://baocantho.com.vn/x-a1.html", http_response(body, headers))])
    [item] = list(read_records(warc, engine="python"))
    assert isinstance(item, Record)
    from crawler.replay.collection import ResponseTooLarge

    with pytest.raises(ResponseTooLarge, match="exceeds 1000000 bytes"):
        to_response(item, warc.name, limit=1_000_000)
    if name != "huge chunk size":
        assert len(to_response(item, warc.name, limit=4_000_000).content) == 3_000_000


def test_dechunk_refuses_declared_sizes_over_the_limit() -> None:
    with pytest.raises(TooLargeError):
        dechunk(b"ffffffff\r\n" + b"a" * 10, limit=1000)
    with pytest.raises(ContentDecodingError, match="bad chunk-size line"):
        dechunk(b"1" * 40 + b"\r\nabc\r\n0\r\n\r\n")
    assert dechunk(b"3\r\nabc\r\n0\r\n\r\n", limit=3) == b"abc"


def test_block_over_max_block_is_not_read(tmp_path: Path) -> None:
    body = b"x" * 5000
    warc = write(tmp_path / "big.warc", [record("https://h.test/a", http_response(body)),
                                         record("https://h.test/b", http_response(b"small"))])
    items = list(read_records(warc, engine="python", max_block=1000))
    assert isinstance(items[0], BadRecord) and "too large" in items[0].reason
    assert isinstance(items[1], Record) and items[1].head.url == "https://h.test/b"


# -- temporaries of killed replays ----------------------------------------------------------------------


def test_replay_removes_temporaries_of_dead_processes(pages: list[Page], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    out = tmp_path / "out"
    month = out / "text" / "baocantho" / "2024" / "05"
    month.mkdir(parents=True)
    stale = [month / f".123.txt.{dead_pid}.tmp", month / f".124.v2.txt.{dead_pid}.tmp"]
    alive = month / f".125.txt.{os.getppid()}.tmp"  # a running process: kept
    unrelated = month / ".notes.tmp"
    for path in (*stale, alive, unrelated):
        path.write_text("partial")
    warc = write(tmp_path / "ok.warc.gz", [gz(page_record(p)) for p in pages])
    code, _, err = replay_cli(capsys, warc, out, "python")
    assert code == 0, err
    assert "removed 2 temporary files left by killed runs" in err
    assert not any(p.exists() for p in stale)
    assert alive.exists() and unrelated.exists()
    assert cleanup_temporaries(out / "text") == 0


# -- the two readers agree, and agree with warcio ----------------------------------------------------------


def _read(path: Path, engine: str, types: frozenset[str] | None = None) -> list[object]:
    return [(r.head, r.block) if isinstance(r, Record) else r
            for r in read_records(path, engine=engine, types=types)]  # type: ignore[arg-type]


def test_readers_agree_on_every_damaged_file(pages: list[Page], tmp_path: Path) -> None:
    files = []
    for name, (members, _, _) in gz_cases(pages).items():
        files.append(write(tmp_path / f"{len(files)}.warc.gz", members))
        plain = [zlib.decompress(m, 16 + zlib.MAX_WBITS) if m[:2] == b"\x1f\x8b" and name != "truncated member"
                 else m for m in members]
        files.append(write(tmp_path / f"{len(files)}.warc", plain))
    for members, _, _ in plain_cases(pages).values():
        files.append(write(tmp_path / f"{len(files)}.warc", members))
        files.append(write(tmp_path / f"{len(files)}.warc.zst", [zst(m) for m in members]))
    for path in files:
        assert _read(path, "python") == _read(path, "fastwarc"), path
        responses = frozenset({"response"})
        assert _read(path, "python", responses) == _read(path, "fastwarc", responses), path


@pytest.mark.parametrize("gzip_records", [True, False])
def test_readers_give_warcio_payloads(gzip_records: bool, tmp_path: Path) -> None:
    from crawler.archive.warc import WarcWriter
    from crawler.archive.warc_reading import iter_responses

    from .warc_samples import fetch_result, write_foreign_warc

    foreign = tmp_path / ("foreign.warc.gz" if gzip_records else "foreign.warc")
    write_foreign_warc(foreign, gzip_records=gzip_records)
    with WarcWriter(tmp_path, "own") as writer:
        writer.write_exchange(fetch_result("http://baocantho.test/a.html", coding="gzip", chunked=True))
        writer.write_exchange(fetch_result("http://baocantho.test/b.html", coding="br"))
        writer.write_exchange(fetch_result("http://baocantho.test/c.html"))
    for path in (foreign, *writer.closed_paths):
        expected = [(r.url, r.offset, r.status, r.headers, r.content, r.problems) for r in iter_responses(path)]
        for engine in READERS:
            got = [to_response(item, path.name) for item in read_records(path, engine=engine)  # type: ignore[arg-type]
                   if isinstance(item, Record) and item.head.rec_type == "response"
                   and item.head.url.startswith("http")]
            assert [(r.url, r.offset, r.status, r.headers, r.content, r.problems) for r in got] == expected


def test_warcio_reader_caps_bombs_too(tmp_path: Path) -> None:
    from crawler.archive.warc_reading import iter_responses
    from crawler.errors import ArchiveError

    bomb = gzip_gzip_bomb(1)
    warc = write(tmp_path / "bomb.warc.gz", [gz(record("https://h.test/a", http_response(
        bomb, [("Content-Encoding", "gzip, gzip")])))])
    with pytest.raises(ArchiveError, match="exceeds 104857600 bytes"):
        list(iter_responses(warc))


def test_without_the_scale_extra_zstd_and_fastwarc_are_refused_with_a_message(
        pages: list[Page], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    zst_file = write(tmp_path / "a.warc.zst", [zst(page_record(p)) for p in pages[:2]])
    gz_file = write(tmp_path / "b.warc.gz", [gz(page_record(p)) for p in pages[2:4]])
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import fails as when not installed
    monkeypatch.setitem(sys.modules, "fastwarc", None)
    monkeypatch.setitem(sys.modules, "fastwarc.warc", None)
    code, rows, err = replay_cli(capsys, zst_file, tmp_path / "out", "auto")
    assert code == 5 and rows == []
    assert f"bad record: {zst_file} at offset 0: reading .warc.zst needs the 'scale' extra" in err
    code, rows, err = replay_cli(capsys, gz_file, tmp_path / "out2", "auto")  # the Python reader
    assert code == 0 and len(rows) == 2
    assert main(["replay", str(gz_file), "--jsonl", "-", "--reader", "fastwarc"]) == 1
    assert "--reader fastwarc needs the 'scale' extra" in capsys.readouterr().err


def test_jsonl_to_a_file_of_any_name(pages: list[Page], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    warc = write(tmp_path / "b.warc.gz", [gz(page_record(p)) for p in pages[:3]])
    target = tmp_path / "articles.json"
    assert main(["replay", str(warc), "--jsonl", str(target), "--processes", "1"]) == 0
    assert target.is_file() and len(target.read_text(encoding="utf-8").splitlines()) == 3


def test_a_file_of_garbage_is_summed_up_not_listed_forever(pages: list[Page], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.replay.engine as engine
    from crawler.config import load_sources

    monkeypatch.setattr(engine, "MAX_PROBLEMS_PER_FILE", 5)
    member = gz(page_record(pages[0]))
    warc = write(tmp_path / "g.warc.gz", [m for _ in range(12) for m in (member, b"junk")])
    result = engine.replay_file(engine.FileTask(str(warc)), engine.ReplayConfig(load_sources(None)))
    assert result.articles == 12
    assert len(result.problems) == 6
    assert result.problems[-1].reason == "7 more bad records after this one, not listed"


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("error", [RuntimeError("an adapter bug"), LookupError("unknown encoding: x"),
                                   RecursionError("maximum recursion depth exceeded"), MemoryError()])
def test_a_page_the_extraction_raises_on_is_a_problem_of_its_record(
        reader: str, error: BaseException, pages: list[Page], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An exception of the parse (an adapter's bug a page triggers) costs that record, not the rest of its file."""
    import crawler.replay.engine as engine

    hostile = pages[2]
    real = engine.parse_response

    def parse(adapter: object, content: bytes, content_type: str | None, url: str) -> object:
        if url == hostile.url:
            raise error
        return real(adapter, content, content_type, url)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "parse_response", parse)
    info = gz(warcinfo())
    members = [gz(page_record(p)) for p in pages]
    warc = write(tmp_path / "hostile.warc.gz", [info, *members])
    offset = len(info) + sum(len(m) for m in members[:2])
    code, rows, err = replay_cli(capsys, warc, tmp_path / "out", reader)
    assert code == 5, err
    assert_replayed(rows, tmp_path / "out", [p for p in pages if p is not hostile])
    assert f"bad record: {warc} at offset {offset}: " in err
    assert hostile.url in err and type(error).__name__ in err
