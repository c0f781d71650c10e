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

A page that could nest too deep is read in bulk (:func:`_bulk_structure_problem`, issue 22); the
module as it was is tests/htmlguard_reference.py, and tests/test_htmlguard_same.py checks the same
verdict and message on every real and mirror page and many edits of them.
"""

from __future__ import annotations

import re
from itertools import accumulate, islice
from operator import sub

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

def _spelled(name: bytes) -> bytes:
    """``name`` in any case, spelled with classes (``[sS][vV][gG]``): a class is the cheap first test of a branch."""
    return b"".join(b"[%c%c]" % (c, c ^ 32) for c in name)


def _one_of(names: frozenset[bytes] | set[bytes]) -> bytes:
    """Any of ``names``, any case, grouped by their first letter (one class test rejects a whole group)."""
    groups: dict[bytes, list[bytes]] = {}
    for name in names:
        groups.setdefault(name[:1].lower(), []).append(name[1:])
    return rb"(?:" + b"|".join(
        _spelled(first) + rb"(?:" + b"|".join(_spelled(rest) for rest in sorted(tails, key=lambda t: (-len(t), t)))
        + rb")" for first, tails in sorted(groups.items())) + rb")"


def _letters_but(initials: set[int]) -> bytes:
    return b"[" + bytes(c for c in range(256) if bytes([c]).isalpha() and c not in initials) + b"]"


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


# _PLAIN_RUN outside SVG and MathML, where more needs no look (issue 22: a stop costs a few µs of Python):
# - every end tag (outside foreign content, an end tag changes nothing the pass counts);
# - the raw-text elements with their text, read as the exact pass reads them (to the first end tag of
#   their name, any case, then a white space, '/' or '>'; to the page's end without one);
# - a comment to its first '-->' or '--!>' (or the page's end) when it holds at most 4 other '-': the
#   bytes between them in one step each.  A bounded greedy repeat (Python 3.11.2 gets a possessive repeat
#   of a group wrong, and an unbounded greedy one keeps a backtracking frame per '-': 500 MB for a 4 MB
#   comment of '-'); a comment with more stops the run, and the loop reads it with _MARKUP.
# It stops at <svg>, <math>, <plaintext>, such a comment, and a tag of more than MAX_ATTRIBUTES attributes.
# '<' is matched once, and the branches after it start with a byte class (a cheap test each); a start tag
# whose first letter begins no special name needs no look-ahead (that look on every tag: a third of the time).
_RUN_SPECIAL = _RAW_TEXT | _FOREIGN_ROOTS | {b"plaintext"}
# After '<': a raw-text element's start tag and its text, up to its end tag (not included) or the page's end.
_RAW_TEXT_ELEMENTS = b"".join(rb"|" + _spelled(name) + rb"(?=" + _NAME_END + rb")" + _TAG_REST + rb"(?:[^<]++|<(?!/"
                              + _spelled(name) + rb"[\t\n\f\r />]))*" for name in sorted(_RAW_TEXT))
_HTML_RUN = re.compile(
    rb"[^<]*+(?:<(?:"  # text, then each token and the text after it
    + _letters_but({c for name in _RUN_SPECIAL for c in (name[0], name[0] ^ 32)}) + _TAG_REST +
    rb"|(?!" + _one_of(_RUN_SPECIAL) + _NAME_END + rb")[A-Za-z]" + _TAG_REST +
    rb"|/[A-Za-z]" + _TAG_REST + _RAW_TEXT_ELEMENTS +
    rb"|!--(?:-?>|[^-]*+(?:-(?!-!?>)[^-]*+){0,4}(?:--!?>|\Z))"
    rb"|(?:!(?!--)|[?]|/(?![A-Za-z]))[^>]*+(?:>|\Z)"  # doctype, bogus comment, '</>' (a comment is not one)
    rb"|(?![A-Za-z!?/])"  # a '<' that starts no markup is text
    rb")[^<]*+)*",  # greedy, as _PLAIN_RUN
    re.DOTALL,
)


def _structure_problem(data: bytes, tags: int) -> str | None:
    """Elements nested too deep or with too many attributes, found in one linear pass (``tags``: the '<' count)."""
    # Every element the stack holds was opened by a start tag, which starts with its own '<' followed
    # by a letter: with no more of those than MAX_DEPTH, nesting cannot pass it.  (Counting those costs
    # twice the one-byte count: only taken when that one is not enough.)
    if tags <= MAX_DEPTH:
        return _shallow_structure_problem(data)
    # Not counted when they cannot be few enough in practice (start tags are about half the '<' of a real
    # page: 2,386-2,830 of 4,792-5,436 on the home pages we hold): the pass over every tag (in bulk) then
    # answers (the same verdict either way).  One count of '<' and a letter, not the two counts of '</' and
    # '<!' it replaces (0.3 ms each on a 330 KB page; issue 22).
    if tags <= 2 * MAX_DEPTH and len(_START_TAG_OPENING.findall(data)) <= MAX_DEPTH:
        return _shallow_structure_problem(data)
    return _bulk_structure_problem(data)


_START_TAG_OPENING = re.compile(rb"<[A-Za-z]")


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
        if end - start > long_attributes and (problem := _attributes_problem(data, match)) is not None:
            return problem
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


def _attributes_problem(data: bytes, match: re.Match[bytes]) -> str | None:
    """Why the tag ``match`` (of _MARKUP) must not be parsed: more than MAX_ATTRIBUTES attributes; else None."""
    start, end = match.span(3)
    if sum(1 for _ in islice(_ONE_ATTRIBUTE.finditer(data, start, end), MAX_ATTRIBUTES + 1)) > MAX_ATTRIBUTES:
        return f"an element has more than {MAX_ATTRIBUTES} attributes (at byte {match.start()})"
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
    """Elements nested too deep or with too many attributes, found in one linear pass over every tag
    (:func:`_exact_pass` over the whole page).  :func:`_bulk_structure_problem` gives its verdicts at a fraction
    of its cost; this pass gives the message (the byte of the tag) when that one finds a problem."""
    return _exact_pass(data, 0, 0, to_the_end=True)[0]


# -- the pass over every tag in bulk (issue 22) ----------------------------------------------------------------------

_SPECIAL_INITIALS = {c for name in _SPECIAL_START for c in (name[0], name[0] ^ 32)}
# One token of the pass over every tag, as _MARKUP reads it from where the last ended (``findall``: a search, so the
# text between tokens is passed over the same way), raw-text elements with their text (outside SVG and MathML, which
# stop this pass).  The one group says what the token does to the stack of open elements:
# - b'' for a comment, a doctype or bogus comment, a raw-text element (nothing);
# - the name of a start tag ('/name' for an end tag) that is neither raw text, SVG/MathML, plaintext nor a foreign
#   self-closing name (those start tags take a look at their slash and what follows);
# - for every other tag, and one of more than MAX_ATTRIBUTES attributes: its name, then the rest of the page (the
#   match takes it all: ``findall`` stops there, and the group's length says where the tag starts).
_TOKEN_EFFECTS = re.compile(
    rb"<(?:!--" + _COMMENT_REST +
    rb"|(?:[!?]|/(?![A-Za-z]))[^>]*+(?:>|\Z)" + _RAW_TEXT_ELEMENTS +
    rb"|(/[A-Za-z][^\t\n\f\r />]*+"
    rb"|(?:" + _letters_but(_SPECIAL_INITIALS) + rb"|(?!" + _one_of(_SPECIAL_START) + _NAME_END + rb")[A-Za-z])"
    rb"[^\t\n\f\r />]*+"
    rb"|/?[A-Za-z].*)"
    rb"(?:" + _ATTRIBUTE + rb"){0,%d}+[\t\n\f\r /]*+(?:>|\Z))" % MAX_ATTRIBUTES,
    re.DOTALL,
)
_STOP = 2  # a token the bulk pass does not read (see _TOKEN_EFFECTS): the pass over every tag reads it
_NOT_A_NAME = re.compile(rb"[\t\n\f\r />]")


class _Effects(dict[bytes, int]):
    """What a token (as _TOKEN_EFFECTS gives it) does to the depth: +1, -1, 0, or _STOP; a cache by spelling."""

    def __missing__(self, key: bytes) -> int:
        closing = key.startswith(b"/")
        name = key[1:] if closing else key
        if _NOT_A_NAME.search(name) is not None or (not closing and name.lower() in _SPECIAL_START):
            return _STOP
        effect = 0 if name.lower() in _NO_STACK else -1 if closing else 1
        if len(key) <= 32 and len(self) < 4096:  # made-up names cost a call each, not memory
            self[key] = effect
        return effect


_EFFECTS = _Effects({b"": 0})
# After this many stops the pass over every tag reads the rest (each stop copies the rest of the page once).
_MAX_STOPS = 16


def _bulk_structure_problem(data: bytes) -> str | None:
    """:func:`_exact_structure_problem` in bulk: one ``findall`` gives each token's effect on the stack (+1, -1,
    0), and the depth after every token comes from their running sums (C loops, not a Python step a tag).  The
    tags it does not read (SVG/MathML and what is in them, plaintext, a foreign self-closing name, too many
    attributes) are read by the exact steps, from the depth there, until the page is out of SVG/MathML.  A page
    nested too deep is read again by the exact pass, which gives the message (the byte of the tag)."""
    size = len(data)
    pos = depth = 0
    for _ in range(_MAX_STOPS):
        keys = _TOKEN_EFFECTS.findall(data, pos)
        effects = list(map(_EFFECTS.__getitem__, keys))
        if not effects or effects[-1] != _STOP:
            if depth + effects.count(1) <= MAX_DEPTH:
                return None
            levels = list(accumulate(effects, initial=depth))
            return None if not _too_deep(levels) else _exact_structure_problem(data)
        effects.pop()
        levels = list(accumulate(effects, initial=depth))
        if depth + effects.count(1) > MAX_DEPTH and _too_deep(levels):  # (else it cannot be)
            return _exact_structure_problem(data)
        depth = levels[-1] - min(0, min(levels))
        problem, pos, depth = _exact_pass(data, size - len(keys[-1]) - 1, depth, to_the_end=False)
        if problem is not None or pos >= size:
            return problem
    return _exact_pass(data, pos, depth, to_the_end=True)[0]


def _too_deep(levels: list[int]) -> bool:
    """Whether the stack passes MAX_DEPTH (``levels``: as :func:`_deepest` reads them).  No depth is more than
    the highest sum less the lowest (or 0): when that is not too deep, nothing is (two C loops, not more)."""
    if max(levels) - min(0, min(levels)) <= MAX_DEPTH:
        return False
    return _deepest(levels) > MAX_DEPTH


def _deepest(levels: list[int]) -> int:
    """The deepest the stack gets, ``levels`` (Q) being the depth before the first token then the running sums
    of the effects: Q[i] - min(0, Q[0..i]) at its largest (an end tag at depth 0 changes nothing).  From the first
    lowest sum L < 0 on that is max(Q[there:]) - L; before it, the same question on the shorter list (C loops
    while the page has few such lows, then one map)."""
    deepest, end = 0, len(levels)
    for _ in range(8):
        if end == 0:
            return deepest
        head = levels[:end]
        low = min(head)
        if low >= 0:  # no end tag met an empty stack here: the sums are the depths
            return max(deepest, max(head))
        end = head.index(low)
        deepest = max(deepest, max(head[end:]) - low)
    lowest = accumulate(levels[:end], min, initial=0)
    next(lowest)
    return max(deepest, int(max(map(sub, levels[:end], lowest), default=0)))


def _exact_pass(data: bytes, pos: int, depth: int, *, to_the_end: bool) -> tuple[str | None, int, int]:
    """The pass over every tag (a Python step a tag: the stack of open elements followed as the tree builder
    grows it) from ``pos`` (outside SVG/MathML, ``depth`` elements open), to the end of the page or (``to_the_end``
    false) to the end of the first token after which no SVG/MathML is open.  Gives (the problem or None, where it
    stopped (the page's size: nothing left to read), the depth there)."""
    foreign = 0
    long_attributes = 2 * MAX_ATTRIBUTES
    size = len(data)
    while pos < size:
        match = _MARKUP.search(data, pos)
        if match is None:
            return None, size, depth
        pos = match.end()
        name = match[2]
        if name is not None:
            start, end = match.span(3)
            if end - start > long_attributes and (problem := _attributes_problem(data, match)) is not None:
                return problem, size, depth
            name = name.lower()
            if match[1]:  # an end tag
                if name in _FOREIGN_ROOTS and not match[4].endswith(b"/"):
                    foreign = max(0, foreign - 1)
                if depth and name not in _NO_STACK:
                    depth -= 1
            elif name not in _NO_STACK:
                opens = True
                if name in _SPECIAL_START:
                    self_closing = match[4].endswith(b"/")
                    if name in _FOREIGN_ROOTS and not self_closing:
                        foreign += 1
                    if name in _RAW_TEXT and not foreign:
                        end_tag = _RAW_TEXT_END[name].search(data, pos)
                        pos = size if end_tag is None else end_tag.start()
                        opens = False
                    elif name == b"plaintext":
                        return None, size, depth  # the rest of the page is text
                    elif name in _FOREIGN_SELF_CLOSING and self_closing:
                        opens = False
                if opens:
                    depth += 1
                    if depth > MAX_DEPTH:
                        return f"elements nest more than {MAX_DEPTH} deep (at byte {match.start()})", size, depth
        if not foreign and not to_the_end:
            return None, pos, depth
    return None, size, depth
