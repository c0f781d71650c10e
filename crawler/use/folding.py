"""How the search indexes compare words: diacritics folded, ``đ`` as ``d``, the two placements of a tone mark.

Part of :mod:`crawler.use.search`, shared by the query language (:mod:`crawler.use.query`), the
ranking and the snippets (:mod:`crawler.use.snippets`).  FTS5's ``unicode61 remove_diacritics 2``
makes ``tin tuc`` find ``tin tức``; ``đ`` is a letter of its own there, so it is folded to ``d`` in
the index and in queries (``da nang`` finds ``Đà Nẵng``), and so is the eth (``Ð``) some sites write
for it.  A word typed with diacritics is looked up in the exact index under every placement of its
tone mark (``hóa`` / ``hoá``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata

# A word, as queries and snippets split text.
WORD = re.compile(r"\w+")


def fold_d(text: str) -> str:
    """``đ`` (and the eth some sites write for it) as ``d``, as the index has them (crawler.archive.catalog_schema)."""
    # str.replace runs at memory speed; str.translate with a mapping looks every character up.
    return text.replace("đ", "d").replace("Đ", "D").replace("ð", "d").replace("Ð", "D")


def fold(text: str) -> str:
    """Lower case without diacritics (``Đà Nẵng`` -> ``da nang``), as the index compares words."""
    decomposed = unicodedata.normalize("NFD", fold_d(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng (combining, as NFD writes them)
_GLIDES = re.compile(r"(?i)(?<!q)(oa|oe|uy)$")  # after q the u is the consonant's (quý, quá): one placement
MAX_PLACEMENTS = 16


def _placements(syllable: str) -> list[str]:
    """A syllable and, when it ends in oa/oe/uy with a tone mark on either vowel, the other placement of the
    mark (old style ``hoá``, ``thuỷ``; new style ``hóa``, ``thủy``): both are in use on the same sites."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tones = [c for c in decomposed if c in _TONES]
    bare = "".join(c for c in decomposed if c not in _TONES)
    base = unicodedata.normalize("NFC", bare)
    if len(tones) != 1 or not _GLIDES.search(base):
        return [syllable]
    forms = []
    for position in (len(base) - 2, len(base) - 1):
        marked = base[:position + 1] + tones[0] + base[position + 1:]
        forms.append(unicodedata.normalize("NFC", unicodedata.normalize("NFD", marked)))
    return list(dict.fromkeys([syllable, *forms]))


def tone_placements(text: str) -> list[str]:
    """``text`` with every placement of the tone marks of its oa/oe/uy syllables (at most MAX_PLACEMENTS)."""
    parts = re.split(r"(\w+)", text)
    options = [_placements(part) if WORD.fullmatch(part) else [part] for part in parts]
    out: list[str] = []
    for combo in itertools.product(*options):
        out.append("".join(combo))
        if len(out) == MAX_PLACEMENTS:
            break
    return out
