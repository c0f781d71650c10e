"""Refuse pages the HTML parser would take too long over, before parsing them (pure, cheap).

lexbor, like every HTML5 tree builder, does work per start tag in proportion to the stack of
open elements (``<div>`` x 100,000: 28 s; the select/option rules likewise) and per attribute
in proportion to the element's attributes so far (one element with 200,000 attributes: 159 s).
Measured figures and the design: docs/decisions/0006-crawl-pipeline.md.  Two limits are
checked on the raw bytes, so that such a page is a failure of that page:

- size: more than :data:`MAX_PARSE_BYTES` is not parsed (real pages are < 0.5 MB);
- nesting: a page with at most :data:`DEEP_CHECK_TAGS` ``<`` costs at most ~0.3 s however it
  nests; pages with more are tokenised (a regular expression; scripts, styles and comments
  skipped) and refused when the stack of open elements could pass :data:`MAX_DEPTH`, or when
  they have more than :data:`MAX_TAGS` tags.

Attributes cannot be bounded this cheaply (quoted values may hold ``<`` and ``>``); in a crawl
every page is parsed in an archive worker that is killed when a job passes its deadline
(:mod:`crawler.crawl.worker_pool`).  The same bytes always get the same verdict here, so a crawl and a
replay of its WARC agree.
"""

from __future__ import annotations

import re

MAX_PARSE_BYTES = 4 * 1024 * 1024
DEEP_CHECK_TAGS = 8_000
MAX_TAGS = 60_000  # real pages have up to ~10,000
MAX_DEPTH = 2_000

# Tags whose end tag is optional and which the tree builder closes by itself (no stack growth).
_SELF_CLOSING_KIN = frozenset({
    b"p", b"li", b"dt", b"dd", b"td", b"th", b"tr", b"tbody", b"thead", b"tfoot", b"colgroup", b"caption",
    b"rb", b"rt", b"rtc", b"rp", b"html", b"head", b"body",
})
_VOID = frozenset({
    b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"source", b"track",
    b"wbr", b"param", b"keygen", b"basefont", b"bgsound", b"frame", b"image",
})
# ``<x/>`` closes itself only in SVG and MathML; in HTML the slash is ignored (``<div/>`` opens a div).
_FOREIGN_SELF_CLOSING = frozenset({b"path", b"circle", b"rect", b"line", b"polyline", b"polygon", b"ellipse",
                                   b"use", b"stop", b"mspace", b"none", b"mprescripts"})
_TOKEN = re.compile(
    rb"<!--.*?(?:-->|\Z)|<(?:script|style|textarea|title|xmp|noembed|noframes)\b.*?(?:</(?:script|style|textarea"
    rb"|title|xmp|noembed|noframes)\s*>|\Z)|<(/?)([A-Za-z][^\s/>]*)([^>]*)>",
    re.DOTALL | re.IGNORECASE,
)


def complexity_problem(html: bytes | str) -> str | None:
    """Why a page must not be parsed (too big, nesting too deep), or None."""
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    if len(data) > MAX_PARSE_BYTES:
        return f"page of {len(data)} bytes is larger than the {MAX_PARSE_BYTES} bytes we parse"
    tags = data.count(b"<")
    if tags <= DEEP_CHECK_TAGS:
        return None
    if tags > MAX_TAGS:
        return f"page has {tags} '<' (at most {MAX_TAGS} are parsed)"
    return _depth_problem(data)


def _depth_problem(data: bytes) -> str | None:
    depth = deepest = 0
    for match in _TOKEN.finditer(data):
        name = match.group(2)
        if name is None:
            continue  # a comment or a raw-text element: no stack growth
        name = name.lower()
        if name in _VOID or name in _SELF_CLOSING_KIN:
            continue
        if match.group(1):
            depth = max(0, depth - 1)
        elif not (name in _FOREIGN_SELF_CLOSING and match.group(3).endswith(b"/")):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return f"elements nest more than {MAX_DEPTH} deep (at byte {match.start()})"
    return None
