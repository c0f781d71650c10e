"""The FORMAT.md rules: text clean-up, Vietnamese dates, charsets, and the snapshot layout.

Adapters produce an :class:`~crawler.models.Article` whose fields are already cleaned
with :func:`clean_line`; :func:`render_snapshot` lays them out as the plain-text
snapshot, and :func:`canonical_blocks` is the comparison rule of FORMAT.md.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from crawler.models import Article

SHARE_LABEL = "Chia sẻ bài viết"
VN_TZ = timezone(timedelta(hours=7), "+07:00")

# Characters that carry no text: removed, not turned into spaces (U+FEFF counts as a space).
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
# Date then time, as the sites print it: "09/03/2022 - 19:50" (VDOC), "Thứ Năm, 05/03/2026 10:17"
# (DNN, Huế 2025-), "05/03/2026, 10:17", "05/03/2026 | 10:17", "05/03/2026 lúc 10:17".  ASCII digits
# only: int() would read Arabic-Indic or fullwidth digits too.
_DATE_LINE = re.compile(
    r"(?<![0-9])(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})\s*(?:-|–|,|\||lúc)?\s*"
    r"(?P<H>[0-9]{1,2})[:h](?P<M>[0-9]{2})(?![0-9])"
)
# Time then date: "10:17 05/03/2026", "10:17, Thứ Năm, 05/03/2026", "10:17 - 05/03/2026".
_TIME_FIRST = re.compile(
    r"(?<![0-9/])(?P<H>[0-9]{1,2})[:h](?P<M>[0-9]{2})\s*(?:-|–|,|\|)?\s*"
    r"(?:(?:Thứ\s+\w+|Chủ\s+nhật|T[2-7]|CN)\s*,?\s*)?(?P<d>[0-9]{1,2})/(?P<m>[0-9]{1,2})/(?P<y>[0-9]{4})(?![0-9])",
    re.IGNORECASE,
)
_CHARSET_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def clean_line(text: str) -> str:
    """One line of snapshot text: NFC, white-space runs collapsed to one space, stripped.

    ``str.split()`` splits on every Unicode white space (NBSP, the U+2000 spaces, U+3000, ...),
    which is what FORMAT.md asks for, and is several times faster than a regular expression.
    """
    if not text.isascii():
        if any(char in text for char in _INVISIBLE_CHARS):  # faster than a regex search, and rare
            text = _INVISIBLE.sub(lambda m: " " if m.group() == "\ufeff" else "", text)
        text = " ".join(text.split())
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def clean_blocks(lines: Iterable[str]) -> list[str]:
    """Clean each line, drop empty ones and merge consecutive duplicates."""
    out: list[str] = []
    for raw in lines:
        line = clean_line(raw)
        if line and (not out or out[-1] != line):
            out.append(line)
    return out


def canonical_blocks(text: str) -> list[str]:
    """FORMAT.md's comparison rule: the canonical block list of any text."""
    blocks = clean_blocks(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    for i, block in enumerate(blocks):
        if block == SHARE_LABEL:
            return blocks[: i + 1]
    return blocks


def format_date_line(published: datetime) -> str:
    """The date line as the sites print it: ``DD/MM/YYYY - HH:MM`` in Vietnam time."""
    local = published.astimezone(VN_TZ)
    return local.strftime("%d/%m/%Y - %H:%M")


def find_vn_datetime(text: str) -> datetime | None:
    """The first date with a time in text, as an aware datetime (Vietnam time).

    Accepts ``DD/MM/YYYY - HH:MM`` and its variants (comma, ``|``, ``lúc`` or nothing
    between date and time, a weekday before the date as in DNN's ``Thứ Năm, 05/03/2026
    10:17``) and the time-first forms ``10:17 05/03/2026`` / ``10:17, Thứ Năm, 05/03/2026``.
    When both kinds occur the first wins, and when they share the date the date-first
    reading (the sites' own order) does.
    """
    date_first, time_first = _DATE_LINE.search(text), _TIME_FIRST.search(text)
    if date_first is not None and (time_first is None or time_first.end() > date_first.start()):
        match = date_first
    elif time_first is not None:
        match = time_first
    else:
        return None
    try:
        return datetime(
            int(match["y"]), int(match["m"]), int(match["d"]), int(match["H"]), int(match["M"]), tzinfo=VN_TZ
        )
    except ValueError:
        return None


def render_snapshot(article: Article) -> str:
    """The plain-text snapshot of an article (FORMAT.md, blocks 1 to 8)."""
    blocks: list[str] = []
    if article.breadcrumb:
        blocks.append(" ".join(article.breadcrumb))
    blocks.append(format_date_line(article.published))
    if article.kicker:
        blocks.append(article.kicker)
    blocks.append(article.title)
    if article.sapo:
        blocks.append(article.sapo)
    blocks.extend(article.body)
    if article.byline:
        blocks.extend(article.byline.split("\n"))
    blocks.append(SHARE_LABEL)
    # Article fields are clean lines already (adapters clean them): only drop empties and repeats.
    out: list[str] = []
    for block in blocks:
        if block and (not out or out[-1] != block):
            out.append(block)
    return "\n\n".join(out)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_HEADER.search(content_type)
    return match.group(1) if match else None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Bytes to text: charset from the HTTP header, then the page's meta tag, then detection.

    A declared single-byte charset (windows-1252, latin-1, windows-1258, ...) loses to
    bytes that are valid UTF-8 with non-ASCII characters: that combination is a wrong
    declaration, not a page, in practice.  With nothing usable declared, UTF-8 is
    tried, then windows-1258 (the legacy Vietnamese code page).  Undecodable bytes
    become U+FFFD rather than raising: a page is never lost to a bad declaration,
    and the WARC keeps the original bytes anyway.
    """
    codec = choose_charset(data, content_type)
    if codec == "utf-8-sig":
        return data[3:].decode("utf-8", "replace")
    return data.decode(codec, "replace")


def choose_charset(data: bytes, content_type: str | None = None) -> str:
    """The codec :func:`decode_html` decodes ``data`` with (``utf-8`` only for valid UTF-8)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        valid_utf8 = True
    except UnicodeDecodeError:
        valid_utf8 = False
    declared: list[str] = []
    header = charset_from_content_type(content_type)
    if header:
        declared.append(header)
    meta = _CHARSET_META.search(data[:4096])
    if meta:
        declared.append(meta.group(1).decode("ascii", "replace"))
    for name in declared:
        try:
            info = codecs.lookup(_codec_name(name))
        except LookupError:
            continue
        if info.name == "utf-8":
            if valid_utf8:
                return "utf-8"
            continue
        if valid_utf8 and not data.isascii() and _single_byte(info.name):
            return "utf-8"
        try:
            data.decode(info.name)
        except UnicodeDecodeError:
            continue
        return info.name
    return "utf-8" if valid_utf8 else "cp1258"


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp12", "latin", "iso8859", "cp1258", "windows", "ascii", "mac-", "koi8", "tis"))


def _codec_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in ("windows-1258", "cp1258", "x-cp1258"):
        return "cp1258"
    return lowered
