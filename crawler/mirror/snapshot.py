"""The FORMAT.md text an article should give, computed from its :class:`ArticleSpec`.

Part of the offline mirror: this is the independent oracle that the crawler's
snapshots are compared with.  It never looks at HTML.  The block rules are the ones
of ``shared/FORMAT.md``: NFC, every white-space run (U+00A0 included) collapsed to
one space, lines stripped, empty blocks dropped, consecutive duplicates merged,
blocks joined by ``"\\n\\n"``, the last line ``Chia sẻ bài viết``, no final newline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from crawler.mirror.spec import ArticleSpec, DataTable, Element, Figure, Heading, ItemList, Noise, Para

SHARE_LABEL = "Chia sẻ bài viết"
_SPACE = re.compile(r"\s+")


def clean(text: str) -> str:
    """One line of a snapshot: NFC, white space collapsed (U+00A0 included), stripped."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def element_blocks(element: Element) -> Iterator[str]:
    """The raw (not yet cleaned) blocks one body element stands for."""
    if isinstance(element, Para):
        yield from element.lines
    elif isinstance(element, Heading):
        yield element.text
    elif isinstance(element, ItemList):
        yield from element.items
    elif isinstance(element, Figure):
        if element.caption is not None:
            yield element.caption
        if element.tail is not None:
            yield element.tail
    elif isinstance(element, DataTable):
        for row in element.rows:
            yield from row
    else:
        assert isinstance(element, Noise)


def raw_blocks(spec: ArticleSpec) -> Iterator[str]:
    """The blocks in FORMAT.md order, before cleaning."""
    if spec.show_breadcrumb:
        names = [spec.category.name]
        if spec.category.sub_name:
            names.append(spec.category.sub_name)
        yield " ".join(names)
    yield spec.date_line
    if spec.kicker:
        yield spec.kicker
    yield spec.title
    if spec.sapo:
        yield spec.sapo
    for element in spec.body:
        yield from element_blocks(element)
    yield from spec.byline
    yield SHARE_LABEL


def finish(blocks: Iterable[str]) -> list[str]:
    """Clean each block, drop the empty ones, merge consecutive duplicates, stop at the share label."""
    out: list[str] = []
    for block in blocks:
        line = clean(block)
        if not line or (out and out[-1] == line):
            continue
        out.append(line)
        if line == SHARE_LABEL:
            break
    return out


def snapshot_blocks(spec: ArticleSpec) -> list[str]:
    return finish(raw_blocks(spec))


def snapshot(spec: ArticleSpec) -> str:
    """The snapshot text of an article (FORMAT.md), without a final newline."""
    return "\n\n".join(snapshot_blocks(spec))


def canonical_blocks(text: str) -> list[str]:
    """FORMAT.md "How a sample compares": the canonical block list of any text."""
    return finish(text.split("\n"))
