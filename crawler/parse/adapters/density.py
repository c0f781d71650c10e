"""The main text of a page by content density: the element whose paragraphs hold the most text that is not links.

Part of the ``generic`` adapter (:mod:`.generic`).  Every paragraph's own text (links left out) scores
its parent fully and its grandparent and great-grandparent in part; the element with the highest
score, weighed by how little of its text is links, is the body.  Paragraphs in page furniture
(:func:`crawler.parse.adapters.marks.in_chrome`) do not count.  Pure.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parse.adapters.marks import in_chrome
from crawler.parse.normalize import clean_line

PARAGRAPH_TAGS = ("p", "td", "pre", "blockquote", "li", "h2", "h3", "h4")


def own_text_length(node: LexborNode) -> tuple[int, int]:
    """Characters of a paragraph's text, and of those inside links."""
    text = clean_line(node.text(deep=True, separator=" ") or "")
    linked = sum(len(clean_line(a.text(deep=True) or "")) for a in node.css("a"))
    return len(text), linked
PARAGRAPHS = ",".join(PARAGRAPH_TAGS)
INNER_PARAGRAPHS = ",".join(PARAGRAPH_TAGS[:3])


def densest(tree: LexborHTMLParser) -> LexborNode | None:
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    links: dict[int, int] = {}
    lengths: dict[int, int] = {}
    # Elements that hold a p, td or pre below them: an outer cell or quote, whose paragraphs count themselves.
    holders: set[int] = set()
    for inner in tree.css(INNER_PARAGRAPHS):
        parent = inner.parent
        while parent is not None and (key := parent.mem_id) not in holders:
            holders.add(key)
            parent = parent.parent
    for para in tree.css(PARAGRAPHS):
        if para.mem_id in holders:
            continue
        text = para.text(deep=True, separator=" ") or ""
        length = len(clean_line(text))
        if length < 25 or in_chrome(para, depth=4):
            continue
        linked = sum(len(clean_line(a.text(deep=True) or "")) for a in para.css("a"))
        score = 1.0 + min(length / 100.0, 3.0) + min(text.count(",") / 5.0, 2.0)  # para_commas
        ancestor = para.parent
        for weight in (1.0, 0.5, 0.34):
            if ancestor is None or ancestor.tag in ("html", "body"):
                break
            key = ancestor.mem_id
            nodes[key] = ancestor
            scores[key] = scores.get(key, 0.0) + score * weight
            links[key] = links.get(key, 0) + linked
            lengths[key] = lengths.get(key, 0) + length
            ancestor = ancestor.parent
    if not scores:
        return None
    best = max(scores, key=lambda k: scores[k] * (1.0 - links[k] / max(lengths[k], 1)))
    return nodes[best]


def para_commas(node: LexborNode) -> float:
    return min((node.text(deep=True) or "").count(",") / 5.0, 2.0)
