"""Issue 22: the WARC header fields replay asks of every record are found in make_head's one pass, and they
are exactly what ``RecordHead.get`` gives (the first field of that name, whatever its case)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.replay.records import make_head

NAMES = ["WARC-Date", "warc-date", "WARC-DATE", "WARC-Record-ID", "warc-record-id", "WARC-Record-Id",
         "WARC-Type", "WARC-Target-URI", "X-Other", "WARC-Dates"]


@pytest.mark.parametrize("fields", [
    (("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Record-ID", "<urn:uuid:1>")),
    (("warc-date", "first"), ("WARC-Date", "second"), ("WARC-RECORD-ID", "a"), ("WARC-Record-ID", "b")),
    (("WARC-Type", "response"),),  # neither
    (("WARC-Record-ID", ""), ("WARC-Date", " 2026-01-01 ")),  # empty and padded values kept as they are
])
def test_date_and_record_id_are_what_get_gives(fields: tuple[tuple[str, str], ...]) -> None:
    head = make_head(0, "WARC/1.1", (("Content-Length", "0"), *fields))
    assert head.date == head.get("WARC-Date")
    assert head.record_id == head.get("WARC-Record-ID")


@settings(deadline=None)  # the machine is shared: timings vary
@given(st.lists(st.tuples(st.sampled_from(NAMES), st.text(max_size=5)), max_size=8))
def test_any_header_agrees_with_get(fields: list[tuple[str, str]]) -> None:
    head = make_head(7, "WARC/1.0", (*fields, ("content-length", "12")))
    assert (head.date, head.record_id) == (head.get("WARC-Date"), head.get("WARC-Record-ID"))
    assert head.content_length == 12


# -- the one scan both readers share (header_values), and the checks on its values (check_fields) ------------

SPELLINGS = [*NAMES, "Content-Length", "CONTENT-LENGTH", "content-length", "Content-Lengths", "WARC-Target-Uri",
             "warc-target-uri", "WARC-TYPE", "WARC-\u0130D", "WARC-\u212aey", "Warc-Date\u00a0", " WARC-Date"]


@settings(deadline=None)
@given(st.lists(st.tuples(st.one_of(st.sampled_from(SPELLINGS), st.text(max_size=12)), st.text(max_size=6)),
                max_size=10))
def test_header_values_are_the_first_field_of_each_name(fields: list[tuple[str, str]]) -> None:
    from crawler.replay.records import RecordHead, header_values

    probe = RecordHead(0, "WARC/1.1", tuple(fields), 0, "", "")
    names = ("Content-Length", "WARC-Type", "WARC-Target-URI", "WARC-Date", "WARC-Record-ID")
    # twice: the second scan goes through the memo of spellings the first one filled
    assert header_values(fields) == [probe.get(name) for name in names]
    assert header_values(fields) == [probe.get(name) for name in names]


@settings(deadline=None)
@given(st.sampled_from(["", "response", "request", "revisit", "resource", "warcinfo", "metadata", "x-odd"]),
       st.sampled_from(["", "http://a.example/", "<https://b.example/x>"]),
       st.one_of(st.none(), st.sampled_from(["", " ", "2026-01-01T00:00:00Z", "2026-01-01", "2026-13-01", "x",
                                             "2026-01-01T00:00:00.123456789Z", "2026-01-01T00:00:00+07:00"])))
def test_check_fields_is_check_head(rec_type: str, url: str, date: str | None) -> None:
    from crawler.replay.records import BadBytes, RecordHead, check_fields, check_head

    head = RecordHead(0, "WARC/1.1", (), 0, rec_type, url, date)
    outcomes = []
    for check in (lambda: check_head(head), lambda: check_fields(rec_type, url, date)):
        try:
            check()
            outcomes.append(None)
        except BadBytes as exc:
            outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


# -- both readers, on headers of every shape (the FastWARC reader checks them on their values, and checks a
# WARC-Date once per run of records that share it) ------------------------------------------------------------

_DATES = ["2024-05-01T03:04:05Z", "2024-05-01T03:04:06Z", "", " ", "yesterday", "2024-13-01", None]


@st.composite
def _warc_headers(draw: st.DrawFn) -> bytes:
    rec_type = draw(st.sampled_from(["response", "request", "metadata", "revisit", "warcinfo", "Response",
                                     " response ", "x-odd", "", None]))
    url = draw(st.sampled_from(["https://baocantho.com.vn/a-1.html", "<http://news.example.org/x>", "", None]))
    date = draw(st.sampled_from(_DATES))
    names = draw(st.sampled_from([("WARC-Type", "WARC-Target-URI", "WARC-Date"),
                                  ("warc-type", "WARC-TARGET-URI", "Warc-Date"),
                                  ("WARC-Type ", "WARC-Target-URI\t", "WARC-Date  ")]))
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>x</html>"
    fields = [(names[0], rec_type), ("WARC-Record-ID", f"<urn:uuid:{draw(st.integers(0, 3))}>"),
              (names[2], date), (names[1], url)]
    if draw(st.booleans()):  # a second field of the same name (the first one counts)
        fields.append((names[2], draw(st.sampled_from(_DATES))))
    length = len(block) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    # The FastWARC reader takes a Content-Length written plainly as it is; every other spelling gets the checks.
    spelled = draw(st.sampled_from(["{}", "{}", "0{}", "00000000000000000{}", "000000000000000000{}", " {}", "{} ",
                                    "+{}", "{}.0", "1_{}", "-{}", "{}x", "{}\u0660"])).format(length)
    if draw(st.booleans()):  # the same number in other digits (str.isdigit takes them; int() too)
        spelled = spelled.translate(str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664"
                                                               "\u0665\u0666\u0667\u0668\u0669"))
    # Spaces or tabs after the version: warcio and FastWARC strip them, and so does the Python reader.
    version = draw(st.sampled_from(["WARC/1.1", "WARC/1.1", "WARC/1.0", "WARC/1.10", "WARC/2.0", "WARC/1.1 ",
                                    "WARC/1.0\t", "WARC/1.1  \t"]))
    head = f"{version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields if v is not None)
    return (head + f"Content-Length: {spelled}\r\n\r\n").encode() + block + b"\r\n\r\n"


_BLOCK = b"HTTP/1.1 200 OK\r\n\r\nx"


def _record(*fields: str) -> bytes:
    head = "WARC/1.1\r\n" + "".join(f"{f}\r\n" for f in fields) + f"Content-Length: {len(_BLOCK)}\r\n\r\n"
    return head.encode() + _BLOCK + b"\r\n\r\n"


@settings(deadline=None, max_examples=300)
@given(st.lists(_warc_headers(), min_size=1, max_size=6))
@example([_record("WARC-Type: response", "WARC-Target-URI: http://a.example/")])  # no WARC-Date, first record
@example([_record("WARC-Type: request", "WARC-Date: 2024-05-01T03:04:05Z", "WARC-Target-URI: http://a.example/"),
          _record("WARC-Type: response", "WARC-Date: 2024-05-01T03:04:05Z"),  # same date, no URI
          _record("WARC-Date: 2024-05-01T03:04:05Z", "WARC-Target-URI: http://a.example/"),  # no type
          _record("WARC-Type: response", "WARC-Target-URI: http://a.example/")])  # no date after a good one
def test_both_readers_agree_on_headers_of_every_shape(records: list[bytes]) -> None:
    import gzip
    import tempfile
    from pathlib import Path

    from crawler.replay.collection import Record, read_records

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory, "h.warc.gz")
        path.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))
        for types in (None, frozenset({"response"})):
            seen = [[(r.head, r.block) if isinstance(r, Record) else r
                     for r in read_records(path, engine=engine, types=types)]  # type: ignore[arg-type]
                    for engine in ("python", "fastwarc")]
            assert seen[0] == seen[1], types


@pytest.mark.parametrize("records", [
    [_record("WARC-Type: request", "WARC-Date: 2024-05-01T03:04:05Z", "WARC-Target-URI: http://a.example/"),
     _record("WARC-Type: response", "WARC-Date: 2024-05-01T03:04:05Z", "WARC-Target-URI: http://a.example/")],
    [_record("warc-type: Request", "Warc-Date: yesterday", "WARC-Target-URI: http://a.example/"),
     _record("WARC-Type: response", "WARC-Date: 2024-05-01T03:04:05Z", "WARC-Target-URI: http://a.example/")],
    [_record("WARC-Type: metadata", "WARC-Date: 2024-05-01T03:04:05Z"),  # no URI: fine for metadata
     _record("WARC-Type: revisit", "WARC-Date: 2024-05-01T03:04:05Z")],  # no URI: a problem
])
@pytest.mark.parametrize("by_name", [True, False])
def test_the_fastwarc_reader_without_header_keys_reads_as_with_them(records: list[bytes], by_name: bool,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Before FastWARC 2 (no WarcHeader keys) every record's fields are read as text: the same records."""
    import gzip

    from crawler.replay import fastwarc_reader
    from crawler.replay.collection import Record, read_records

    if not by_name:
        monkeypatch.setattr(fastwarc_reader, "_header_keys", lambda: None)
    path = tmp_path / "h.warc.gz"
    path.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in records))
    for types in (None, frozenset({"response"})):
        seen = [[(r.head, r.block) if isinstance(r, Record) else r
                 for r in read_records(path, engine=engine, types=types)]  # type: ignore[arg-type]
                for engine in ("python", "fastwarc")]
        assert seen[0] == seen[1], types
