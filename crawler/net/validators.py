"""Header values a server gave us that we send back: checked before they are stored or go out again.

A cache validator (``ETag``, ``Last-Modified``) comes from a server and returns to it as
``If-None-Match`` / ``If-Modified-Since``.  h11 accepts any byte 0x80-0xFF in a received header
(RFC 9110's obs-text) and the fetcher decodes such bytes as UTF-8 (or latin-1), but a request
header must encode to the bytes it was (httpx2 sends ASCII), and a control character, CR or LF
must never reach the wire.  So a validator is remembered and sent only when it is a plain header
value (:func:`header_value_problem`) of sensible length and, for ``Last-Modified``, an HTTP-date;
anything else is dropped and the next request is simply unconditional (RFC 9110 §13.1: a
validator is an optimisation, never required).  Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

__all__ = ["MAX_HEADER_VALUE_LENGTH", "MAX_VALIDATOR_LENGTH", "header_value_problem", "sendable_validator"]

# Real ETags are a hash or "mtime-size" (under 100 characters); a longer one is not worth a byte on every request.
MAX_VALIDATOR_LENGTH = 256
# Any header value we send (servers refuse header lines longer than 8 KB; we stay far below).
MAX_HEADER_VALUE_LENGTH = 4096

_VISIBLE = re.compile(r"[ -~]*")  # visible ASCII and spaces: the common value, checked without a loop
# RFC 9110's preferred date (IMF-fixdate), what nearly every server sends: its fields checked here
# exactly as email.utils.parsedate_to_datetime would, without its general parser (a few µs per page).
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (" + "|".join(_MONTHS) + r") ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a request header value (None when it can).

    Allowed: visible ASCII and inner spaces (RFC 9110 field-value without obs-text), at most
    :data:`MAX_HEADER_VALUE_LENGTH` characters.
    """
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        return f"{len(value)} characters long (at most {MAX_HEADER_VALUE_LENGTH})"
    if value != value.strip(" \t"):
        return "leading or trailing white space"
    if _VISIBLE.fullmatch(value) is not None:
        return None
    for char in value:
        if not " " <= char <= "~":
            return f"character {char!r} is not visible ASCII"
    return None


def sendable_validator(name: str, value: str | None) -> str | None:
    """``value`` of the validator header ``name`` (``etag`` or ``last-modified``) if it may be sent back, else None."""
    if not value or len(value) > MAX_VALIDATOR_LENGTH or header_value_problem(value) is not None:
        return None
    if name.lower() == "last-modified":
        fixdate = _IMF_FIXDATE.fullmatch(value)
        if fixdate is not None:
            return value if _is_date(*fixdate.groups()) else None
        from email.utils import parsedate_to_datetime  # imported by the first Last-Modified, not by every command

        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None  # RFC 9110 §13.1.3: a server ignores an If-Modified-Since that is not a date
    return value


def _is_date(day: str, month: str, year: str, hour: str, minute: str, second: str) -> bool:
    """Whether parsedate_to_datetime accepts an IMF-fixdate of these fields (it reads years below 100 as
    19xx/20xx and then builds a datetime: a day, hour, minute or second out of range is no date)."""
    number = int(year)
    if number < 100:
        number += 1900 if number > 68 else 2000
    try:
        datetime(number, _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except ValueError:
        return False
    return True
