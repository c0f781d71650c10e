"""Issue 22: the WARC header fields replay asks of every record are found in make_head's one pass, and they
are exactly what ``RecordHead.get`` gives (the first field of that name, whatever its case)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
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
