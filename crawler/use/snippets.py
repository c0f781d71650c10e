"""The snippet of a search hit: about two dozen words of the best block of an article, matches marked «so».

Part of :mod:`crawler.use.search`: cut from the row's sapo (metadata) and body (read from the snapshot file by
:func:`crawler.archive.snapshot_body.read_body`: the index keeps no copy of the text, the metadata no body),
the block with the most matches of the query's folded words (:func:`crawler.use.query.query_terms`),
folded character by character so that a match's place in the folded text is its place in the original.
"""

from __future__ import annotations

import json
import re
import unicodedata

from crawler.use.folding import WORD, fold, fold_d

SNIPPET_WORDS = 24
MARK_START, MARK_END = "«", "»"


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding one character at a time, as :func:`fold` does, filled on first use.

    A character whose fold is not one character (``ß`` -> ``ss``) is only lower-cased: a folded text
    then has the length of the original, so a word's place in one is its place in the other.
    """

    def __missing__(self, code: int) -> str:
        folded = fold(chr(code))
        value = folded if len(folded) == 1 else chr(code).lower()
        if len(value) != 1:
            value = chr(code)
        self[code] = value
        return value
_FOLD_TABLE = _FoldTable()


def snippet(title: str, meta: str | None, terms: list[tuple[str, bool]], words: int = SNIPPET_WORDS,
            body: list[str] | None = None) -> str:
    """About ``words`` words of the sapo or body block with the most matches, matches marked «so».

    ``body``: the snapshot's body blocks (from its file); when None, the metadata's ``body`` if it has one.
    """
    blocks: list[str] = []
    try:
        data = json.loads(meta) if meta else {}
    except ValueError:
        data = {}
    if isinstance(data, dict):
        if isinstance(data.get("sapo"), str) and data["sapo"]:
            blocks.append(data["sapo"])
        if body is None:
            body = [b for b in data.get("body") or [] if isinstance(b, str)]
    blocks.extend(b for b in body or [] if b)
    blocks = blocks or [title]
    exact = {term for term, prefix in terms if not prefix}
    prefixes = tuple(term for term, prefix in terms if prefix)
    alternatives = [re.escape(t) for t in sorted(exact)] + [re.escape(t) + r"\w*" for t in prefixes]
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)") if alternatives else None
    block = blocks[0]
    if pattern is not None and len(blocks) > 1:
        # The block with the most matches, counted on a quick ASCII folding of all of them at once (blocks
        # are single lines); only the chosen one is folded character by character (to keep positions).
        quick = unicodedata.normalize("NFD", fold_d("\n".join(blocks))).encode("ascii", "ignore").decode().lower()
        counts = [len(pattern.findall(line)) for line in quick.split("\n")]
        if len(counts) == len(blocks):
            block = blocks[max(range(len(blocks)), key=counts.__getitem__)]
    folded = block.translate(_FOLD_TABLE)
    found = pattern.search(folded) if pattern is not None else None
    low = max(0, found.start() - 300) if found is not None else 0
    tokens = [(m.start(), m.end(), m.group() in exact or (bool(prefixes) and m.group().startswith(prefixes)))
              for m in WORD.finditer(folded, low, low + 1200)]
    if not tokens:
        return block[:200]
    first = next((i for i, (_, _, hit) in enumerate(tokens) if hit), 0)
    start = max(0, min(first - words // 4, len(tokens) - words))
    end = min(len(tokens), start + words)
    out: list[str] = ["…" if start > 0 or low > 0 else ""]
    position = tokens[start][0]
    for begin, finish, hit in tokens[start:end]:
        out.append(block[position:begin])
        out.append(f"{MARK_START}{block[begin:finish]}{MARK_END}" if hit else block[begin:finish])
        position = finish
    if end == len(tokens) and WORD.search(folded, position) is None:  # the block's last word
        tail = block[position:]
    else:
        tail = block[position:tokens[end][0] if end < len(tokens) else position].rstrip() + " …"
    out.append(tail)
    return "".join(out).strip()
