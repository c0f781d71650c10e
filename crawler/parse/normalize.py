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
from datetime import datetime

from crawler.models import Article
from crawler.parse.snapshot_format import SHARE_LABEL as SHARE_LABEL
from crawler.parse.snapshot_format import VN_TZ as VN_TZ  # both re-exported: their own module serves readers

# Characters that carry no text: removed, not turned into spaces (U+FEFF counts as a space).
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_COMMON_WHITE = ("\n", "\u00a0", "\t", "\r")
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
    if text.isprintable():
        # Every white space but the ASCII space, and every invisible character, is unprintable (Unicode
        # "Other" or "Separator"): one C pass shows a line that needs no split (most lines, and every line
        # cleaned before: the split and join were 95 % of the time on a page's body).
        return _clean_printable(text)
    # Line breaks, tabs and no-break spaces are the unprintable characters of most lines (the source's own line
    # breaks and indentation, &nbsp;): as spaces they leave a printable line, cleaned as one.
    spaced = text
    for white in _COMMON_WHITE:
        if white in spaced:
            spaced = spaced.replace(white, " ")
    if spaced is not text and spaced.isprintable():
        return _clean_printable(spaced)
    if not text.isascii():
        # faster than a regex search or a generator over _INVISIBLE_CHARS, and rare
        if "\u200b" in text or "\u200c" in text or "\u200d" in text or "\u2060" in text or "\ufeff" in text:
            text = _INVISIBLE.sub(lambda m: " " if m.group() == "\ufeff" else "", text)
        text = " ".join(text.split())
        return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def _clean_printable(text: str) -> str:
    """:func:`clean_line` of a printable line: its only white space is ASCII spaces, which ``split`` and ``join``
    would strip and collapse; a strip and a replace do it in a few passes over the line, not one per word."""
    if text[:1] == " " or text[-1:] == " ":
        text = text.strip(" ")
    while "  " in text:  # each pass halves the runs of spaces inside (a line break's indentation)
        text = text.replace("  ", " ")
    if text.isascii():
        return text
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


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
    if local.year >= 1000:  # what strftime prints, a few times faster (it gives no padding to a year < 1000)
        return f"{local.day:02d}/{local.month:02d}/{local.year} - {local.hour:02d}:{local.minute:02d}"
    return local.strftime("%d/%m/%Y - %H:%M")


def find_vn_datetime(text: str) -> datetime | None:
    """The first date with a time in text, as an aware datetime (Vietnam time).

    Accepts ``DD/MM/YYYY - HH:MM`` and its variants (comma, ``|``, ``lúc`` or nothing
    between date and time, a weekday before the date as in DNN's ``Thứ Năm, 05/03/2026
    10:17``) and the time-first forms ``10:17 05/03/2026`` / ``10:17, Thứ Năm, 05/03/2026``.
    When both kinds occur the first wins, and when they share the date the date-first
    reading (the sites' own order) does.
    """
    if "/" not in text:
        return None  # both forms hold D/M/YYYY: most lines (body paragraphs) are answered here
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
    # Article fields are clean lines already (adapters clean them): only drop empties and repeats, and the
    # share label anywhere but last (a field that reads it, e.g. a kicker, would end the text there: FORMAT.md).
    out: list[str] = []
    for block in blocks:
        if block and block != SHARE_LABEL and (not out or out[-1] != block):
            out.append(block)
    out.append(SHARE_LABEL)
    return "\n\n".join(out)


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_HEADER.search(content_type)
    return match.group(1) if match else None


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Bytes to text: a byte order mark, then the charset of the HTTP header, the page's meta tag, detection.

    A byte order mark (UTF-8, UTF-16LE, UTF-16BE) wins over any declaration, as in the WHATWG
    encoding sniffing.  A declared single-byte charset (windows-1252, latin-1, windows-1258, ...)
    loses to bytes that are (nearly all) valid UTF-8 with non-ASCII characters: that combination
    is a wrong declaration, not a page, in practice.  A page declared (or, undeclared, read as)
    UTF-8 stays UTF-8 when a few bytes are invalid: they become U+FFFD and the rest of the page
    keeps its text; only bytes that are clearly not UTF-8 (more invalid sequences than valid
    multi-byte characters) fall back to the next declaration, then windows-1258 (the legacy
    Vietnamese code page).  Undecodable bytes become U+FFFD rather than raising: a page is never
    lost to a bad declaration, and the WARC keeps the original bytes anyway.
    """
    codec = choose_charset(data, content_type)
    return data.decode("utf-8" if codec == DAMAGED_UTF8 else codec, "replace")


# choose_charset's answer for a UTF-8 page with a few invalid bytes (decoded with U+FFFD for them).
DAMAGED_UTF8 = "utf-8-damaged"
# Byte order marks and the codec that decodes (and drops) them; UTF-16 first is fine (no overlap).
_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# A page declared UTF-8 keeps that reading with up to this many invalid sequences, whatever else.
_DECLARED_UTF8_GRACE = 8
# The charsets a declaration may name: the encodings of the WHATWG Encoding Standard (the labels a
# browser reads a page in; any other label is ignored), as Python's codecs name them, plus those
# Python reads some of their labels as (latin-1, ascii: a browser reads windows-1252; kept as they were),
# by the names Python has for them (windows-874: cp874, x-mac-cyrillic, windows-31j: cp932).
# Python also knows codecs that are no charset: bytes-to-bytes ones (uu, base64, zlib: LookupError on
# bytes.decode), escape and IDNA codecs, UTF-7, UTF-32.  A declaration of one is ignored.
_WHATWG_ENCODINGS = (
    "utf-8", "ibm866", "iso-8859-2", "iso-8859-3", "iso-8859-4", "iso-8859-5", "iso-8859-6", "iso-8859-7",
    "iso-8859-8", "iso-8859-10", "iso-8859-13", "iso-8859-14", "iso-8859-15", "iso-8859-16", "koi8-r", "koi8-u",
    "macintosh", "cp874", "windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254",
    "windows-1255", "windows-1256", "windows-1257", "windows-1258", "mac-cyrillic", "gbk", "gb18030", "big5",
    "euc-jp", "iso-2022-jp", "shift_jis", "euc-kr", "utf-16be", "utf-16le",
    # labels of those encodings that Python resolves to another codec of the same script
    "iso-8859-1", "us-ascii", "iso-8859-9", "iso-8859-11", "tis-620", "gb2312", "cp932", "big5-hkscs",
    "cp949", "utf-16",
)
_CHARSET_CODECS = frozenset(codecs.lookup(name).name for name in _WHATWG_ENCODINGS)


def choose_charset(data: bytes, content_type: str | None = None) -> str:
    """The codec :func:`decode_html` decodes ``data`` with.

    ``utf-8`` only for valid UTF-8 (callers may hand such bytes to the parser as they are);
    :data:`DAMAGED_UTF8` for UTF-8 with a few invalid bytes; ``utf-8-sig`` or ``utf-16`` for a
    page with a byte order mark; else a Python codec name.
    """
    for bom, bom_codec in _BOMS:
        if data.startswith(bom):
            return bom_codec
    invalid, multibyte = _utf8_counts(data)
    utf8 = "utf-8" if invalid == 0 else DAMAGED_UTF8
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
        if info.name not in _CHARSET_CODECS:
            continue  # uu, base64, unicode_escape, utf-7, ...: no charset a browser would read the page in
        if info.name in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
            # UTF-16 without a byte order mark: read as UTF-8, as the WHATWG rules do for a meta tag.
            if invalid <= max(multibyte, _DECLARED_UTF8_GRACE):
                return utf8
            continue
        if _single_byte(info.name) and multibyte and invalid * 8 <= multibyte:
            return utf8
        try:
            data.decode(info.name)
        except UnicodeDecodeError:
            continue
        return info.name
    return utf8 if invalid <= multibyte else "cp1258"


def _utf8_counts(data: bytes) -> tuple[int, int]:
    """(invalid UTF-8 sequences, multi-byte characters: 1 for any when all are valid) in ``data``.

    The last answer is remembered with the bytes object it was for: the same body is asked about
    twice per page (:func:`crawler.parse.extraction.parse_response`, then the adapter's
    ``parse_html``), and validating a page's UTF-8 is a pass over all of it.  Holding the object
    keeps its identity from being taken by another while it is remembered; only ``bytes`` (immutable).
    """
    global _last_counts
    last = _last_counts
    if last[0] is data:
        return last[1]
    try:
        data.decode("utf-8")
        counts = (0, 1 if not data.isascii() else 0)
    except UnicodeDecodeError:
        counts = _utf8_evidence(data)
    if type(data) is bytes:
        _last_counts = (data, counts)
    return counts


_last_counts: tuple[bytes | None, tuple[int, int]] = (None, (0, 0))


def _utf8_evidence(data: bytes) -> tuple[int, int]:
    """(invalid UTF-8 sequences, valid multi-byte characters) in ``data``."""
    text = data.decode("utf-8", "replace")
    invalid = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # minus the page's own U+FFFD
    ascii_bytes = len(data) - len(data.translate(None, _ASCII))
    return invalid, len(text) - ascii_bytes - invalid - data.count(b"\xef\xbf\xbd")


_ASCII = bytes(range(128))


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp12", "latin", "iso8859", "cp1258", "windows", "ascii", "mac-", "koi8", "tis"))


def _codec_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in ("windows-1258", "cp1258", "x-cp1258"):
        return "cp1258"
    return lowered
