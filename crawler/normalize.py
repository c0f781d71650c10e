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

# Every run of white space (NBSP and the other Unicode spaces included) becomes one space.
_SPACE_RUN = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000\ufeff]+")
# Zero-width characters carry no text; they are removed, not turned into spaces.
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060]")
_DATE_LINE = re.compile(
    r"(?<!\d)(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})\s*(?:-|–|,)?\s*(?P<H>\d{1,2})[:h](?P<M>\d{2})(?!\d)"
)
_CHARSET_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def clean_line(text: str) -> str:
    """One line of snapshot text: NFC, white-space runs collapsed to one space, stripped."""
    text = _ZERO_WIDTH.sub("", text)
    return unicodedata.normalize("NFC", _SPACE_RUN.sub(" ", text)).strip()


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
    """The first ``DD/MM/YYYY - HH:MM`` (or close variants) in text, as an aware datetime."""
    match = _DATE_LINE.search(text)
    if match is None:
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
    return "\n\n".join(clean_blocks(blocks))


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
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    try:
        as_utf8: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        as_utf8 = None
    declared: list[str] = []
    header = charset_from_content_type(content_type)
    if header:
        declared.append(header)
    meta = _CHARSET_META.search(data[:4096])
    if meta:
        declared.append(meta.group(1).decode("ascii", "replace"))
    for name in declared:
        codec = _codec_name(name)
        try:
            info = codecs.lookup(codec)
        except LookupError:
            continue
        if info.name == "utf-8":
            if as_utf8 is not None:
                return as_utf8
            continue
        if as_utf8 is not None and not data.isascii() and _single_byte(info.name):
            return as_utf8
        try:
            return data.decode(info.name)
        except UnicodeDecodeError:
            continue
    if as_utf8 is not None:
        return as_utf8
    return data.decode("cp1258", "replace")


def _single_byte(codec: str) -> bool:
    return codec.startswith(("cp12", "latin", "iso8859", "cp1258", "windows", "ascii", "mac-", "koi8", "tis"))


def _codec_name(name: str) -> str:
    lowered = name.strip().lower()
    if lowered in ("windows-1258", "cp1258", "x-cp1258"):
        return "cp1258"
    return lowered
