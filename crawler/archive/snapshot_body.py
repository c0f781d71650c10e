"""The body of a snapshot, read back from its file: what the search index and the snippets hold.

The catalog's metadata has no ``body`` (it was taken out to keep the catalog small and the crawl's commits
cheap): the body is in the snapshot file only (FORMAT.md: breadcrumb, date line, kicker, title, sapo, body
blocks, byline lines, the share label).  :func:`body_blocks` cuts the body blocks out of a snapshot's text
with the fields the metadata does keep (title, sapo, byline); :func:`read_body` reads a snapshot file the
catalog names (never one outside the archive, never through a link) and falls back to a ``body`` the
metadata still has (archives written before it was taken out) when the file cannot be read.
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from crawler.archive.outputs import read_inside
from crawler.errors import ArchiveError
from crawler.parse.snapshot_format import SHARE_LABEL

# FORMAT.md's date line (crawler.parse.normalize.format_date_line).
_DATE_LINE = re.compile(r"\d\d/\d\d/\d{4} - \d\d:\d\d")


def body_blocks(text: str, title: str, sapo: str | None, byline: str | None) -> list[str]:
    """The body blocks of a snapshot's ``text`` (FORMAT.md), without the blocks before them (breadcrumb, date
    line, kicker, title, sapo), nor the byline lines and the share label after them.

    A text whose title cannot be found (a file edited by hand) gives every block but the share label.
    """
    blocks = text.split("\n\n")
    if blocks and blocks[-1] == SHARE_LABEL:
        blocks.pop()
    # The title follows the date line (block 0, or 1 after a breadcrumb) and a kicker, if any: looked for after the
    # date line, as a breadcrumb may read like the title.
    after_date = next((i + 1 for i in range(min(2, len(blocks))) if _DATE_LINE.fullmatch(blocks[i])), 0)
    try:
        start = blocks.index(title, after_date, after_date + 2 if after_date else 4) + 1
    except ValueError:
        return blocks
    if sapo and start < len(blocks) and blocks[start] == sapo:
        start += 1
    end = len(blocks)
    if byline:
        lines = byline.split("\n")
        # The renderer drops a line equal to the one before it: the byline's first line may have merged.
        for skip in range(len(lines)):
            tail = lines[skip:]
            if end - len(tail) >= start and blocks[end - len(tail):] == tail:
                end -= len(tail)
                break
    return blocks[start:end]


def meta_fields(meta: str | bytes | None) -> dict[str, object]:
    """The catalog's metadata as a mapping (empty when missing or malformed)."""
    if not meta:
        return {}
    try:
        data = orjson.loads(meta)
    except orjson.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def read_body(archive: Path, text_path: str, title: str, meta: dict[str, object]) -> list[str] | None:
    """The body blocks of the snapshot file ``text_path`` (relative to ``archive``), or the metadata's ``body``
    when the file cannot be read (gone, outside the archive, a link, not a regular file); None when neither."""
    try:  # a damaged byte is indexed as U+FFFD: the rest of the text is still found
        text: str | None = read_inside(archive, text_path, "snapshot").decode("utf-8", "replace")
    except (OSError, ArchiveError):  # ArchiveError: a link, a path outside the archive, not a regular file
        text = None
    if text is not None:
        return body_blocks(text, _text(meta.get("title")) or title, _text(meta.get("sapo")),
                           _text(meta.get("byline")))
    body = meta.get("body")
    if isinstance(body, list):
        return [block for block in body if isinstance(block, str)]
    return None
