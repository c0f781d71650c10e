"""The FastWARC and the pure-Python readers see the same problems in malformed records.

Each shape of malformed record sits between good records, in a gzip and an uncompressed
file; both readers must report the same bad records (file, offset, reason) and ``crawler
replay`` must exit with the same code and replay the same articles, whatever the record's type.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.replay.collection import BadRecord, Record, read_records

from .replay_samples import Page, articles, gz, http_response, page_record, record, write

READERS = ["python", "fastwarc"]
DATE = b"WARC-Date: 2024-05-01T03:04:05.000001Z\r\n"


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    return articles(per_source=1)


def _shapes(page: Page) -> dict[str, tuple[bytes, str | None]]:
    """name -> (the record, the reason expected in the report; None: not a problem)."""
    block = http_response(page.html)
    whole = page_record(page)
    length = f"Content-Length: {len(block)}".encode()
    return {
        "response without WARC-Target-URI": (record("", block), "response record has no WARC-Target-URI"),
        "revisit without WARC-Target-URI": (record("", block, rec_type="revisit"), "has no WARC-Target-URI"),
        "request without WARC-Target-URI": (record("", b"GET / HTTP/1.1\r\n\r\n", rec_type="request"),
                                            "request record has no WARC-Target-URI"),
        "resource without WARC-Target-URI": (record("", b"hello", rec_type="resource"), "has no WARC-Target-URI"),
        "without WARC-Type": (whole.replace(b"WARC-Type: response\r\n", b""), "record has no WARC-Type"),
        "empty WARC-Type": (whole.replace(b"WARC-Type: response", b"WARC-Type: "), "record has no WARC-Type"),
        "without WARC-Date": (whole.replace(DATE, b""), "record has no WARC-Date"),
        "request without WARC-Date": (record(page.url, b"GET / HTTP/1.1\r\n\r\n", rec_type="request")
                                      .replace(DATE, b""), "record has no WARC-Date"),
        "unparsable WARC-Date": (whole.replace(DATE, b"WARC-Date: yesterday\r\n"), "bad WARC-Date 'yesterday'"),
        "negative Content-Length": (whole.replace(length, b"Content-Length: -5"), "bad Content-Length '-5'"),
        "hex Content-Length": (whole.replace(length, b"Content-Length: 0x10"), "bad Content-Length '0x10'"),
        "empty Content-Length": (whole.replace(length, b"Content-Length: "), "bad Content-Length ''"),
        "Arabic-Indic digits": (whole.replace(length, "Content-Length: ١٢".encode()), "bad Content-Length"),
        "unknown WARC-Type (ignored, as WARC says)": (record(page.url, block, rec_type="bogus"), None),
        "metadata without WARC-Target-URI (allowed)": (record("", b"a: b\r\n", rec_type="metadata"), None),
        "date with an offset (accepted)": (whole.replace(DATE, b"WARC-Date: 2024-05-01T03:04:05+07:00\r\n"), None),
        "day-only date (accepted)": (whole.replace(DATE, b"WARC-Date: 2024-05-01\r\n"), None),
    }


SHAPES = list(_shapes(articles(per_source=1)[0]))


def _file(tmp_path: Path, pages: list[Page], bad: bytes, compressed: bool) -> Path:
    good = [page_record(p) for p in pages]
    members = [*good[:2], bad, *good[2:]]
    if compressed:
        return write(tmp_path / "shape.warc.gz", [gz(m) for m in members])
    return write(tmp_path / "shape.warc", members)


@pytest.mark.parametrize("compressed", [True, False], ids=["gzip", "plain"])
@pytest.mark.parametrize("shape", SHAPES)
def test_both_readers_report_the_same_problems(shape: str, compressed: bool, pages: list[Page],
                                               tmp_path: Path) -> None:
    bad, reason = _shapes(pages[0])[shape]
    path = _file(tmp_path, pages, bad, compressed)
    seen: dict[tuple[str, bool], list[object]] = {}
    for reader in READERS:
        for types in (None, frozenset({"response"})):
            items = [(r.head.offset, r.head.url) if isinstance(r, Record) else r
                     for r in read_records(path, engine=reader, types=types)]  # type: ignore[arg-type]
            seen[(reader, types is None)] = items
            problems = [i for i in items if isinstance(i, BadRecord)]
            if reason is None:
                assert problems == [], (reader, types)
            else:
                assert len(problems) == 1 and reason in problems[0].reason, (reader, types, problems)
    assert seen[("python", True)] == seen[("fastwarc", True)]
    assert seen[("python", False)] == seen[("fastwarc", False)]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("shape", SHAPES)
def test_replay_exits_the_same_for_both_readers(shape: str, reader: str, pages: list[Page], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad, reason = _shapes(pages[0])[shape]
    path = _file(tmp_path, pages, bad, compressed=True)
    code = main(["replay", str(path), "--jsonl", "-", "--reader", reader, "--processes", "1", "--no-progress"])
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert {r["article_id"] for r in rows} == {p.article_id for p in pages}
    if reason is None:
        assert code == 0, captured.err
    else:
        assert code == 5, captured.err
        assert reason in captured.err

