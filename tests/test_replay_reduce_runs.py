"""Issue 22: the reduce's sorted runs move each row's JSON line verbatim (never re-encoded nor decoded),
and a run that is not what it wrote is named, whatever breaks it."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.replay.spill import SpillDamaged, iter_items, write_items

LINES = [
    '{"title": "Quảng Trị: \\"mưa lớn\\"", "text": "a\\\\b\\nc", "version": 1}\n',
    '{"x": "\\u2028 \\u0085 \\u009f tab\\t", "version": 2}\n',
    '{"url": "https://h.vn/a?b=1&c=\\"", "images": [], "rules": {}}\n',
    "{}\n",
]
ORDERS = [("2026-01-01T00:00:00.000000000Z", "/a/b.warc.gz", 0, 1),
          ("~weird\tdate \"quoted\"", "/tmp/with\ttab/ü.warc", 12345678901, 2),
          ("", "", 0, 0), ("2026", "f", 1, 3)]


@pytest.mark.parametrize("as_bytes", [True, False])
def test_a_run_holds_each_line_verbatim_and_gives_it_back_as_bytes(tmp_path: Path, as_bytes: bool) -> None:
    run = tmp_path / "000.jsonl"
    items = [(order, line.encode("utf-8") if as_bytes else line) for order, line in zip(ORDERS, LINES, strict=True)]
    with open(run, "wb") as handle:
        write_items(handle, items)
    data = run.read_bytes()
    for line in LINES:
        assert line.encode("utf-8") in data  # not escaped into a JSON string
    assert list(iter_items(run)) == [(order, line.encode("utf-8")) for order, line in zip(ORDERS, LINES, strict=True)]


@pytest.mark.parametrize("raw", [
    b'["d","f",0,1]\t{"a": 1}\r\n',  # a carriage return inside
    b'["d","f",0,1]\t{"a": "\xe2\x80\xa8"}\n',  # U+2028 raw
    b'["d","f",0,1]\t{"a": "\xe2\x80\xa9"}\n',
    b'["d","f",0,1]\t{"a": "\xc2\x85"}\n',  # NEL raw
    b'["d","f",0,1]\t["a"]\n',  # not an object
    b'["d","f",0,1]\t{"a": 1}',  # torn: no newline
    b'["d","f",0,1] {"a": 1}\n',  # no tab
    b'["d","f",0]\t{"a": 1}\n',  # order of 3
    b'["d","f","0",1]\t{"a": 1}\n',  # offset not a number
    b'["d","f",true,1]\t{"a": 1}\n',
    b'{"d": 1}\t{"a": 1}\n',
    b'not json\t{"a": 1}\n',
    b'\xff\xfe\t{"a": 1}\n',
])
def test_a_damaged_run_is_named(tmp_path: Path, raw: bytes) -> None:
    run = tmp_path / "007.jsonl"
    run.write_bytes(b'["d","f",0,0]\t{"ok": 1}\n' + raw)
    with pytest.raises(SpillDamaged) as caught:
        list(iter_items(run))
    assert str(run) in str(caught.value)
