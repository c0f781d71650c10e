"""The validator checks' fast paths (issue 22: CPU per page of a crawl) answer as the general ones did.

``header_value_problem`` answers the common value (visible ASCII) with one regular expression, and
``sendable_validator`` reads an IMF-fixdate ``Last-Modified`` without email.utils' general parser.  Both
must give exactly what the plain implementations below (the code before the fast paths) give, for any
string: the same reason, the same value kept or dropped.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.net.validators import (
    MAX_HEADER_VALUE_LENGTH,
    MAX_VALIDATOR_LENGTH,
    header_value_problem,
    sendable_validator,
)


def reference_problem(value: str) -> str | None:
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        return f"{len(value)} characters long (at most {MAX_HEADER_VALUE_LENGTH})"
    if value != value.strip(" \t"):
        return "leading or trailing white space"
    for char in value:
        if not " " <= char <= "~":
            return f"character {char!r} is not visible ASCII"
    return None


def reference_validator(name: str, value: str | None) -> str | None:
    if not value or len(value) > MAX_VALIDATOR_LENGTH or reference_problem(value) is not None:
        return None
    if name.lower() == "last-modified":
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return value


DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "mon", "Xyz", "Monday"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "jan", "Foo"]


@st.composite
def http_dates(draw: st.DrawFn) -> str:
    """IMF-fixdates, in range or not (day 00-39, hour 00-29, ...), with an odd field now and then."""
    two = st.integers(0, 99).map(lambda n: f"{n:02d}")
    day = draw(st.one_of(st.integers(0, 39).map(lambda n: f"{n:02d}"), two, st.sampled_from(["1", "001", "x1"])))
    year = draw(st.one_of(st.integers(0, 9999).map(lambda n: f"{n:04d}"), st.sampled_from(["99", "10000", "2O24"])))
    time = ":".join(draw(st.one_of(st.integers(0, 29).map(lambda n: f"{n:02d}"), two,
                                   st.sampled_from(["60", "61", "5", "123"]))) for _ in range(3))
    zone = draw(st.sampled_from(["GMT", "GMT", "GMT", "UTC", "gmt", "+0700", "-0000", "GMT ", "GMTX"]))
    sep = draw(st.sampled_from([", ", ", ", " ", ",", ",  "]))
    return f"{draw(st.sampled_from(DAYS))}{sep}{day} {draw(st.sampled_from(MONTHS))} {year} {time} {zone}"


@settings(max_examples=600)
@given(st.one_of(st.text(max_size=300), st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x80),
                                                 max_size=40), http_dates()))
def test_the_fast_checks_answer_as_the_general_ones(value: str) -> None:
    assert header_value_problem(value) == reference_problem(value)
    for name in ("etag", "last-modified", "Last-Modified"):
        assert sendable_validator(name, value) == reference_validator(name, value)


@pytest.mark.parametrize("value", [
    "Sun, 06 Nov 1994 08:49:37 GMT", "Tue, 29 Feb 2000 00:00:00 GMT", "Thu, 29 Feb 2001 00:00:00 GMT",
    "Mon, 31 Apr 2024 10:00:00 GMT", "Mon, 00 Jan 2024 10:00:00 GMT", "Mon, 01 Jan 2024 24:00:00 GMT",
    "Mon, 01 Jan 2024 23:60:00 GMT", "Mon, 01 Jan 2024 23:59:60 GMT", "Mon, 01 Jan 0050 00:00:00 GMT",
    "Mon, 01 Jan 0069 00:00:00 GMT", "Mon, 01 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 +0700",
    "Sun, 06 Nov 1994 08:49:37 GMT\n", "W/\"abc\"", "\"x\" ", "cà phê", "a\x7fb", "~ !",
])
def test_the_fast_checks_on_chosen_values(value: str) -> None:
    assert header_value_problem(value) == reference_problem(value)
    assert sendable_validator("last-modified", value) == reference_validator("last-modified", value)
    assert sendable_validator("etag", value) == reference_validator("etag", value)
