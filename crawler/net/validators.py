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

__all__ = ["MAX_HEADER_VALUE_LENGTH", "MAX_VALIDATOR_LENGTH", "header_value_problem", "sendable_validator"]

# Real ETags are a hash or "mtime-size" (under 100 characters); a longer one is not worth a byte on every request.
MAX_VALIDATOR_LENGTH = 256
# Any header value we send (servers refuse header lines longer than 8 KB; we stay far below).
MAX_HEADER_VALUE_LENGTH = 4096


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be sent as a request header value (None when it can).

    Allowed: visible ASCII and inner spaces (RFC 9110 field-value without obs-text), at most
    :data:`MAX_HEADER_VALUE_LENGTH` characters.
    """
    if len(value) > MAX_HEADER_VALUE_LENGTH:
        return f"{len(value)} characters long (at most {MAX_HEADER_VALUE_LENGTH})"
    if value != value.strip(" \t"):
        return "leading or trailing white space"
    for char in value:
        if not " " <= char <= "~":
            return f"character {char!r} is not visible ASCII"
    return None


def sendable_validator(name: str, value: str | None) -> str | None:
    """``value`` of the validator header ``name`` (``etag`` or ``last-modified``) if it may be sent back, else None."""
    if not value or len(value) > MAX_VALIDATOR_LENGTH or header_value_problem(value) is not None:
        return None
    if name.lower() == "last-modified":
        from email.utils import parsedate_to_datetime  # imported by the first Last-Modified, not by every command

        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None  # RFC 9110 §13.1.3: a server ignores an If-Modified-Since that is not a date
    return value
