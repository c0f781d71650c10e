# The parse-time guard as it was on house at b1bbf21 (crawler/parse/htmlguard.py, verbatim below): the reference
# of tests/test_htmlguard_same.py.  Do not edit: a faster guard must give the same verdict and message for every input.
"""Refuse pages the HTML parser would take too long over, before parsing them (pure, linear).

lexbor, like every HTML5 tree builder, does work per start tag in proportion to the stack of
open elements (``<div>`` x 100,000: 28 s; the select/option rules likewise) and per attribute
in proportion to the element's attributes so far (one element with 200,000 attributes: 159 s;
800 elements of 1,000 distinct attributes each, 3.9 MB: 5.9 s; of 250 each: 1.0 s).
Measured figures and the design: docs/decisions/0011-crawl-pipeline.md.  Checked on the raw
bytes, so that such a page is a failure of that page:

- size: more than :data:`MAX_PARSE_BYTES` is not parsed (real pages are < 0.5 MB);
- tags: more than :data:`MAX_TAGS` ``<`` are not parsed (real pages have up to ~10,000);
- attributes: an element with more than :data:`MAX_ATTRIBUTES` attributes (real elements have
  a few dozen at most);
- nesting: the stack of open elements could pass :data:`MAX_DEPTH`.

The last two are found by one pass of a tokenizer that follows the HTML tokenizer's tag,
attribute (quoted and unquoted values), comment and raw-text states, so an unclosed tag or
quote, or an unclosed comment, is read the way the parser reads it (to the end of the page).
Every step of the pass consumes what it matched and none looks further than that, so the pass
is linear in the page's size whatever the input (a page of 60,000 unclosed ``<a `` used to
take the previous regular expression 500 s).  The same bytes always get the same verdict here,
so a crawl and a replay of its WARC agree.
"""

from __future__ import annotations

import re
from itertools import islice

MAX_PARSE_BYTES = 4 * 1024 * 1024
MAX_TAGS = 60_000  # real pages have up to ~10,000
MAX_DEPTH = 2_000
MAX_ATTRIBUTES = 256

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
_FOREIGN_ROOTS = frozenset({b"svg", b"math"})
# Elements whose content the tokenizer reads as text up to their end tag (outside SVG and MathML).
_RAW_TEXT = frozenset({b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes"})
# Their end tags, any case, spelled with classes (``</[sS][cC]…``) rather than re.IGNORECASE: the literal
# ``</`` in front lets the regex engine jump from one ``</`` to the next instead of trying every byte.
_RAW_TEXT_END = {
    name: re.compile(rb"</" + b"".join(b"[%c%c]" % (c, c ^ 32) for c in name) + rb"[\t\n\f\r />]")
    for name in _RAW_TEXT
}

# One attribute, as the tokenizer's "before attribute name" .. "attribute value" states read it:
# separators (whitespace and '/'), a name (its first character may be '=', quotes and '<' are part
# of it), then an optional '=' and a value: quoted (to the closing quote, or the end of the page)
# or unquoted (to whitespace or '>').  Possessive quantifiers: nothing is ever tried twice.
_ATTRIBUTE = (
    rb"[\t\n\f\r /]*+[^\t\n\f\r />][^\t\n\f\r />=]*+[\t\n\f\r ]*+"
    rb"""(?:=[\t\n\f\r ]*+(?:"[^"]*+"?|'[^']*+'?|[^\t\n\f\r >]*+))?+"""
)
_ONE_ATTRIBUTE = re.compile(_ATTRIBUTE)
# A comment's rest, to its first '-->' or '--!>' (or the page's end): the bytes up to each '-' in one step
# when it holds at most 4 other '-' (a bounded repeat: no backtracking frame kept per '-'), else a lazy
# '.*?' (which tries the end at every byte).  Both read the same end.
_COMMENT_REST = rb"(?:-?>|[^-]*+(?:-(?!-!?>)[^-]*+){0,4}(?:--!?>|\Z)|.*?(?:--!?>|\Z))"
_MARKUP = re.compile(
    rb"<!--" + _COMMENT_REST +  # a comment (to the end of the page if unclosed)
    rb"|<(?:[!?]|/(?![A-Za-z]))[^>]*+(?:>|\Z)"  # doctype, bogus comment, '</>'
    rb"|<(/?)([A-Za-z][^\t\n\f\r />]*+)((?:" + _ATTRIBUTE + rb")*+)([\t\n\f\r /]*+)(?:>|\Z)",  # a tag
    re.DOTALL,
)


def complexity_problem(html: bytes | str) -> str | None:
    """Why a page must not be parsed (too big, too many tags or attributes, nesting too deep), or None."""
    data = html.encode("utf-8", "surrogatepass") if isinstance(html, str) else html
    if len(data) > MAX_PARSE_BYTES:
        return f"page of {len(data)} bytes is larger than the {MAX_PARSE_BYTES} bytes we parse"
    tags = data.count(b"<")
    if tags > MAX_TAGS:
        return f"page has {tags} '<' (at most {MAX_TAGS} are parsed)"
    return _structure_problem(data, tags)


# What the tokenizer passes over without anything to count when the page is too small to nest too deep
# (see _shallow_structure_problem): text, a '<' that starts no markup, comments, doctypes, and tags of at
# most MAX_ATTRIBUTES attributes except those whose name changes how what follows is read (raw text,
# SVG/MathML, plaintext).  The same sub-patterns as _MARKUP, so the same bytes make the same tokens.
_SPECIAL_NAMES = b"|".join(sorted(_RAW_TEXT | _FOREIGN_ROOTS | {b"plaintext"}))
_NAME_END = rb"(?:[\t\n\f\r />]|\Z)"
# The rest of a tag after its name: at most MAX_ATTRIBUTES attributes (a tag with more stops the run).
_TAG_REST = rb"[^\t\n\f\r />]*+(?:" + _ATTRIBUTE + rb"){0,%d}+[\t\n\f\r /]*+(?:>|\Z)" % MAX_ATTRIBUTES
_PLAIN_RUN = re.compile(
    rb"(?:[^<]++"
    # a tag first (the most frequent; no other branch starts with '<' and a letter or '</' and a letter)
    rb"|</?(?!(?i:" + _SPECIAL_NAMES + rb")" + _NAME_END + rb")[A-Za-z]" + _TAG_REST +
    rb"|<(?![A-Za-z!?/])"  # a '<' that starts no markup is text
    rb"|<!--" + _COMMENT_REST +
    rb"|<(?:[!?]|/(?![A-Za-z]))[^>]*+(?:>|\Z)"
    # A greedy repeat, not a possessive one: Python before 3.11.3 ends a possessive repeat of this
    # alternation in the middle of a token (the same ends in a correct engine: nothing follows it).
    rb")*",
    re.DOTALL,
)


def _raw_text_element(name: bytes) -> bytes:
    """A raw-text element's start tag and its text, up to its end tag (not included) or the page's end."""
    spelled = b"".join(b"[%c%c]" % (c, c ^ 32) for c in name)
    return (rb"|<" + spelled + rb"(?=" + _NAME_END + rb")" + _TAG_REST +
            rb"(?:[^<]++|<(?!/" + spelled + rb"[\t\n\f\r />]))*")


# _PLAIN_RUN outside SVG and MathML, where more needs no look (issue 22: a stop costs a few µs of Python,
# and the comment's lazy '.*?' tried the comment's end at every byte: a third of the run's time):
# - every end tag (outside foreign content, an end tag changes nothing the pass counts);
# - the raw-text elements with their text, read as the exact pass reads them (to the first end tag of
#   their name, any case, then a white space, '/' or '>'; to the page's end without one);
# - a comment to its first '-->' or '--!>' (or the page's end) when it holds at most 4 other '-': the
#   bytes between them in one step each.  A bounded greedy repeat (Python 3.11.2 gets a possessive repeat
#   of a group wrong, and an unbounded greedy one keeps a backtracking frame per '-': 500 MB for a 4 MB
#   comment of '-'); a comment with more stops the run, and the loop reads it with _MARKUP.
# It stops at <svg>, <math>, <plaintext>, such a comment, and a tag of more than MAX_ATTRIBUTES attributes.
_HTML_RUN = re.compile(
    rb"(?:[^<]++"
    rb"|<(?!(?i:" + _SPECIAL_NAMES + rb")" + _NAME_END + rb")[A-Za-z]" + _TAG_REST +
    rb"|</[A-Za-z]" + _TAG_REST +
    b"".join(_raw_text_element(name) for name in sorted(_RAW_TEXT)) +
    rb"|<(?![A-Za-z!?/])"
    rb"|<!--(?:-?>|[^-]*+(?:-(?!-!?>)[^-]*+){0,4}(?:--!?>|\Z))"
    rb"|<(?:!(?!--)|[?]|/(?![A-Za-z]))[^>]*+(?:>|\Z)"  # doctype, bogus comment, '</>' (a comment is not one)
    rb")*",  # greedy, as _PLAIN_RUN
    re.DOTALL,
)


def _structure_problem(data: bytes, tags: int) -> str | None:
    """Elements nested too deep or with too many attributes, found in one linear pass (``tags``: the '<' count)."""
    # Every element the stack holds was opened by a start tag, which starts with its own '<' not
    # followed by '/' or '!': with no more of those than MAX_DEPTH, nesting cannot pass it.  (The
    # two-byte counts cost twice the one-byte count: only taken when that one is not enough.)
    if tags <= MAX_DEPTH:
        return _shallow_structure_problem(data)
    # The two-byte counts cost twice the one-byte count (0.35 ms each on a 440 KB page): not taken when
    # they cannot be enough in practice (end tags and comments two '<' of three), the pass over every tag
    # then answers (the same verdict either way).
    if tags <= 3 * MAX_DEPTH:
        starts = tags - data.count(b"</")
        if starts <= MAX_DEPTH or starts - data.count(b"<!") <= MAX_DEPTH:
            return _shallow_structure_problem(data)
    return _exact_structure_problem(data)


def _shallow_structure_problem(data: bytes) -> str | None:
    """:func:`_exact_structure_problem` for a page that cannot nest too deep: only attributes to count.

    The regular expression passes over everything that needs no look in one call; this loop sees only
    the tags it stops at (raw-text elements, SVG/MathML, plaintext, more than MAX_ATTRIBUTES attributes)
    and reads each as the exact pass does, so the verdict and its message are the same.
    """
    foreign = 0
    long_attributes = 2 * MAX_ATTRIBUTES
    size = len(data)
    pos = _plain_end(data, 0, foreign)
    while pos < size:
        if data.startswith(b"<!--", pos):  # a comment with more '-' in it than the run reads
            pos = _plain_end(data, _comment_end(data, pos), foreign)
            continue
        match = _MARKUP.match(data, pos)
        assert match is not None and match.group(2) is not None  # else the run stops at a tag only
        pos = match.end()
        start, end = match.span(3)
        if end - start > long_attributes:
            attributes = _ONE_ATTRIBUTE.finditer(data, start, end)
            if sum(1 for _ in islice(attributes, MAX_ATTRIBUTES + 1)) > MAX_ATTRIBUTES:
                return f"an element has more than {MAX_ATTRIBUTES} attributes (at byte {match.start()})"
        name = match.group(2).lower()
        closing = bool(match.group(1))
        if name in _FOREIGN_ROOTS and not match.group(4).endswith(b"/"):
            foreign = max(0, foreign - 1) if closing else foreign + 1
        if not closing:
            if name in _RAW_TEXT and not foreign:
                end_tag = _RAW_TEXT_END[name].search(data, pos)
                pos = size if end_tag is None else end_tag.start()
            elif name == b"plaintext":
                break  # the rest of the page is text
        pos = _plain_end(data, pos, foreign)
    return None


_COMMENT_CLOSE = re.compile(rb"--!?>")


def _comment_end(data: bytes, pos: int) -> int:
    """Where the comment that starts at ``pos`` ends, as _MARKUP reads it (its first '-->' or '--!>', a '>'
    or '->' right after '<!--', or the page's end), found by a search that jumps from one '--' to the next."""
    after = pos + 4
    if data.startswith(b">", after):
        return after + 1
    if data.startswith(b"->", after):
        return after + 2
    close = _COMMENT_CLOSE.search(data, after)
    return len(data) if close is None else close.end()


def _plain_end(data: bytes, pos: int, foreign: int) -> int:
    """Where the markup that needs no look, from ``pos``, ends (the run may be empty: it always matches);
    ``foreign``: how many SVG/MathML elements are open there."""
    run = (_PLAIN_RUN if foreign else _HTML_RUN).match(data, pos)
    return pos if run is None else run.end()


_NO_STACK = _VOID | _SELF_CLOSING_KIN
# Start tags that need more than a look at the stack (their content, SVG/MathML, the self-closing slash).
_SPECIAL_START = _RAW_TEXT | _FOREIGN_ROOTS | _FOREIGN_SELF_CLOSING | {b"plaintext"}


def _exact_structure_problem(data: bytes) -> str | None:
    """Elements nested too deep or with too many attributes, found in one linear pass over every tag.

    One ``finditer`` over the tags (restarted after each raw-text element, whose content is text), and
    for the common tag two set lookups: a whole real page (4,000-9,000 tags) takes this pass.
    """
    depth = deepest = foreign = 0
    # An attribute takes at least two bytes (a separator or a closing quote, and a name).
    long_attributes = 2 * MAX_ATTRIBUTES
    size = len(data)
    pos = 0
    while pos < size:
        for match in _MARKUP.finditer(data, pos):
            name = match[2]
            if name is None:
                continue  # a comment, doctype or bogus comment: no stack growth
            start, end = match.span(3)
            if end - start > long_attributes:
                attributes = _ONE_ATTRIBUTE.finditer(data, start, end)
                if sum(1 for _ in islice(attributes, MAX_ATTRIBUTES + 1)) > MAX_ATTRIBUTES:
                    return f"an element has more than {MAX_ATTRIBUTES} attributes (at byte {match.start()})"
            name = name.lower()
            if match[1]:  # an end tag
                if name in _FOREIGN_ROOTS and not match[4].endswith(b"/"):
                    foreign = max(0, foreign - 1)
                if depth and name not in _NO_STACK:
                    depth -= 1
                continue
            if name in _NO_STACK:
                continue
            if name in _SPECIAL_START:
                self_closing = match[4].endswith(b"/")
                if name in _FOREIGN_ROOTS and not self_closing:
                    foreign += 1
                if name in _RAW_TEXT and not foreign:
                    end_tag = _RAW_TEXT_END[name].search(data, match.end())
                    pos = size if end_tag is None else end_tag.start()
                    break  # its content is text: no stack growth; read on from its end tag
                if name == b"plaintext":
                    return None  # the rest of the page is text
                if name in _FOREIGN_SELF_CLOSING and self_closing:
                    continue
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return f"elements nest more than {MAX_DEPTH} deep (at byte {match.start()})"
        else:
            return None
    return None
