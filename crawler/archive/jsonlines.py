"""JSON Lines that every reader splits into the same records: the one place that escapes line breaks.

JSON escapes the control characters below U+0020 but leaves U+0085 (NEL), U+2028 and U+2029
raw, and Python's ``str.splitlines``, JavaScript and many JSON Lines readers end a line at
each of them; orjson does not escape them either.  Every JSON Lines writer of the project
(``replay --jsonl``, ``export --format jsonl``, ``failed --json``, ``search --json``, crawl
journals, ``--log-json``, WACZ ``pages.jsonl``) goes through :func:`dumps` or
:func:`dumps_bytes`, which also escape the other C1 controls and lone surrogates (from bad
input), so that a line holds exactly one record and is valid UTF-8.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

__all__ = ["dumps", "dumps_bytes", "escape", "escape_bytes"]

_RAW = re.compile("[\x80-\x9f\u2028\u2029\ud800-\udfff]")
# The same characters in UTF-8 (orjson never writes a surrogate): C2 80..C2 9F, E2 80 A8, E2 80 A9.
_RAW_UTF8 = re.compile(b"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def _escaped_utf8(match: re.Match[bytes]) -> bytes:
    return f"\\u{ord(match.group().decode('utf-8')):04x}".encode("ascii")


def escape(text: str) -> str:
    """Serialised JSON with those characters as ``\\uXXXX`` (they can only occur inside its strings)."""
    # The regular expression scans ~60 instructions a character: most text has none of the characters, which
    # memchr-fast searches (and the UTF-8 encoder, which refuses a lone surrogate) show first.
    if text.isascii() or _none_raw(text):
        return text
    return _RAW.sub(_escaped, text)


def _none_raw(text: str) -> bool:
    """True when ``text`` holds none of the characters :data:`_RAW` matches."""
    if "\u2028" in text or "\u2029" in text:
        return False
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return not _has_c1(data)


def _has_c1(data: bytes) -> bool:
    """Whether UTF-8 ``data`` holds a C1 control (C2 80..C2 9F; C2 is never a continuation byte)."""
    at = data.find(b"\xc2")
    while at >= 0:
        following = data[at + 1 : at + 2]
        if following and 0x80 <= following[0] <= 0x9F:
            return True
        at = data.find(b"\xc2", at + 1)
    return False


def escape_bytes(data: bytes) -> bytes:
    """:func:`escape` for JSON serialised to UTF-8."""
    # `in` is a memchr-fast scan; the regex (about 300 MB/s) runs only on the rare rows that may need it.
    if b"\xe2\x80\xa8" not in data and b"\xe2\x80\xa9" not in data and not _has_c1(data):
        return data
    return _RAW_UTF8.sub(_escaped_utf8, data)


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, **options)``, one line, safe for every JSON Lines reader."""
    return escape(json.dumps(value, ensure_ascii=False, **options))


def dumps_bytes(value: Any) -> bytes:
    """Compact JSON in UTF-8 (orjson), safe for every JSON Lines reader."""
    try:
        data: bytes = orjson.dumps(value)
    except TypeError:  # a lone surrogate, which orjson refuses: the standard library escapes it
        return escape(json.dumps(value, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")
    return escape_bytes(data)
