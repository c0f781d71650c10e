"""The guard gives what it gave before it was made fast (issue 22): the same verdict and the same message, byte
offsets included, as the module as it was (tests/htmlguard_reference.py, house at b1bbf21, verbatim), on every real
page (articles and home pages), every mirror page, systematic edits of them (comments with many '-', '--!>',
unclosed comments, quotes and tags at many positions, SVG/MathML with self-closing children, plaintext, raw-text
elements of mixed case, '</>', doctypes, processing instructions, tags of 255-300 attributes, quoted values
holding '<' and '>', attribute names holding quotes and '=', nesting 1,999-2,001 deep of several kinds), and
hypothesis-drawn markup from those tokens.  A mutated guard fails the comparison (the test can fail).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from functools import cache
from itertools import accumulate, pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.parse import htmlguard
from crawler.parse.htmlguard import MAX_ATTRIBUTES, MAX_DEPTH

from . import htmlguard_reference as reference
from .parse_corpus import REAL, mirror_pages

Guard = Callable[[bytes], "str | None"]


@cache
def _pages() -> tuple[tuple[str, bytes], ...]:
    real = [(path.name, path.read_bytes()) for path in sorted(REAL.glob("*.html"))]
    mirror = [(page.name, page.content) for page in mirror_pages(6, (3,))]
    return tuple(real + mirror)


def _attributes(count: int, shape: bytes = b" a%d") -> bytes:
    return b"".join(shape % i for i in range(count))


# Snippets injected into pages: each changes how the tokenizer reads what follows, or sits at a limit.
INJECTIONS: list[bytes] = [
    b"<!-- [excerpt] ----- a - b -- c --->", b"<!--" + b"-" * 40 + b"-->", b"<!-- a --!> b -->", b"<!-->",
    b"<!--->", b"<!---->", b"<!-- unclosed ", b"<!--- x ---", b"<!-- a -- b ->",
    b"<a href='x", b'<a title="y', b"<a ", b"<div class=x", b"</div", b"<",
    b"<svg><path d='M0'/><circle r=1 /><g><rect/></g><script>x</script></svg>",
    b"<math><mi>x</mi><mspace/><none/></math>", b"<svg/>", b"<SVG><STYLE><b></STYLE></SVG>", b"<svg>",
    b"<plaintext>", b"<PlainText x=1>",
    b"<script>a</b>", b"<SCRIPT>if (a<b) x('</scr'+'ipt>');</SCRIPT>", b"<Style>a>b{}</sTyLe >",
    b"<title><b>t</TITLE\t>", b"<textarea></textarea/>", b"<xmp>", b"<iframe><i></iframe>", b"<noembed>",
    b"<noframes></noframes>", b"<scripts>", b"</script>",
    b"</>", b"</ 3>", b"<!doctype html>", b"<!DOCTYPE", b"<?xml version='1.0'?>", b"<?php echo 1 ",
    b"<i" + _attributes(MAX_ATTRIBUTES - 1) + b">", b"<i" + _attributes(MAX_ATTRIBUTES) + b">",
    b"<i" + _attributes(MAX_ATTRIBUTES + 1) + b">", b"<i" + _attributes(300) + b">",
    b"</b" + _attributes(MAX_ATTRIBUTES + 1) + b">", b"<i" + _attributes(MAX_ATTRIBUTES + 1, b' a%d="x"'),
    b"<svg><path" + _attributes(MAX_ATTRIBUTES + 1) + b"/></svg>",
    b"<script" + _attributes(MAX_ATTRIBUTES + 1) + b"></script>",
    b"<a title='<b> > <i>'>", b'<a title="</script>">', b"<a x=a\"b y='c>", b"<a \"x\"=1 '=2 =3 a==b>",
    b"<a x = \"1\" y= '2' z =3>", b"<br/><br /><p/><li/>",
]

# Nesting near MAX_DEPTH, of several kinds of element (what the stack counts and what it does not).
NESTING: list[bytes] = [
    tag * depth + tail
    for tag in (b"<div>", b"<span class=x>", b"<b>", b"<li>", b"<p>", b"<td>", b"<img>", b"<br>", b"<div/>",
                b"<svg>", b"<g>", b"<path/>", b"<Section id='a'>", b"<option>")
    for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1)
    for tail in (b"", b"</div>" * 3 + b"<i>")
]


def _positions(size: int, count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return sorted({0, size, *(rng.randrange(size + 1) for _ in range(count))})


def _edits(data: bytes, seed: int) -> Iterator[bytes]:
    """``data`` with each injection at a few positions (at '<', inside tags and text, at both ends)."""
    marks = [m.start() for m in re.finditer(rb"<", data)]
    rng = random.Random(seed)
    for index, snippet in enumerate(INJECTIONS):
        spots = _positions(len(data), 2, seed * 1000 + index)
        if marks:
            spots.append(rng.choice(marks))
        for spot in spots:
            yield data[:spot] + snippet + data[spot:]


def _mismatches(guard: Guard, pages: tuple[tuple[str, bytes, str | None], ...], *, first: bool = False) -> list[str]:
    """Where ``guard`` disagrees with the reference verdicts of ``pages`` (all of them, or the ``first`` one)."""
    found = []
    for label, data, expected in pages:
        got = guard(data)
        if expected != got:
            found.append(f"{label}: expected {expected!r}, got {got!r}")
            if first:
                break
    return found


@cache
def _judged(which: str) -> tuple[tuple[str, bytes, str | None], ...]:
    """The pages of ``_corpus()`` or ``_synthetic()`` with the reference's verdicts (worked out once per session)."""
    pages = _corpus() if which == "corpus" else _synthetic()
    return tuple((label, data, reference.complexity_problem(data)) for label, data in pages)


def _corpus() -> Iterator[tuple[str, bytes]]:
    for name, data in _pages():
        yield name, data
    for name, data in _pages()[:40]:
        for number, edited in enumerate(_edits(data, len(data))):
            yield f"{name} edit {number}", edited
    yield from _synthetic()


_OVER = b"<i" + _attributes(MAX_ATTRIBUTES + 1) + b">"


def _synthetic() -> Iterator[tuple[str, bytes]]:
    body = b"<!doctype html><html><head><title>t</title></head><body>"
    for number, page in enumerate(NESTING):
        yield f"nesting {number}", body + page
        yield f"nesting {number} + comment", body + b"<!-- a ------ b -->" + page
        for snippet in INJECTIONS[::3]:
            yield f"nesting {number} after {snippet[:20]!r}", body + snippet + page
    for snippet in INJECTIONS:
        yield f"alone {snippet[:30]!r}", snippet
        yield f"twice {snippet[:30]!r}", b"<body>" + snippet + b"<p>x</p>" + snippet + INJECTIONS[42]
    for dashes in range(0, 12, 3):  # comments with many '-' (the loop reads them) closed by '--!>'
        yield f"comment of {dashes} '-'", b"<body><!-- " + b"- " * dashes + b"--!>" + _OVER + b"-->"
    # end tags at depth 0 between deep runs: the highest sum less the lowest passes MAX_DEPTH, the depth may not
    for last in (MAX_DEPTH - 100, MAX_DEPTH, MAX_DEPTH + 1):
        yield f"lows then {last} deep", (b"<body>" + b"<b>" * 1000 + b"</b>" * 2500 + b"<i>" * last
                                         + b"<svg><path/></svg>" + b"<p>x")
    # more than 3 x MAX_DEPTH '<' (the pass over every tag), then what changes how the rest is read
    for many in (b"<br>" * (3 * MAX_DEPTH + 1), b"<div>" * (MAX_DEPTH // 2) + b"</div>" * (3 * MAX_DEPTH)):
        for snippet in (b"<Title>x</TITLE>", b"<sCrIpT>x</Script >", b"<textarea>x</TEXTAREA/>", b"<!-- a --!>",
                        b"<!-- a ------ b --!>", b"<plaintext>", b"<svg><path/>", b"<p>"):
            yield f"many tags then {snippet!r}", b"<body>" + many + snippet + _OVER + b"<b>" * (MAX_DEPTH + 1)


def test_every_page_and_its_edits_get_the_reference_verdict() -> None:
    assert _mismatches(htmlguard.complexity_problem, _judged("corpus")) == []


def test_the_corpus_holds_every_kind_of_verdict() -> None:
    """Refusals of every kind, at several byte offsets, and passes: a comparison of Nones only would prove little."""
    verdicts = [verdict for _, _, verdict in _judged("corpus")]
    assert verdicts.count(None) > 100
    nests = {v for v in verdicts if v and "nest" in v}
    attributes = {v for v in verdicts if v and "attributes" in v}
    assert len(nests) > 10 and len(attributes) > 20


def test_str_pages_get_the_reference_verdict() -> None:
    for name, data in _pages()[:20]:
        text = data.decode("utf-8", "surrogateescape")
        assert htmlguard.complexity_problem(text) == reference.complexity_problem(text), name


_TOKENS = sorted({*INJECTIONS[:42], b"<div>", b"</div>", b"<p>", b"<li>", b"x", b" ", b"-", b"--", b">", b"'", b'"',
                  b"=", b"/", b"\xc3\xa9", b"<b", b"</b>", b"<i>", b"<svg>", b"</svg>", b"<math>", b"</math>"})
_DEEP = [b"<div>" * (MAX_DEPTH - 2), b"<b>" * 3, b"</b>", b"<li>" * 5, b"<svg>" * 3]


@given(st.lists(st.sampled_from(_TOKENS + _DEEP + INJECTIONS[42:]), max_size=30))
@settings(max_examples=500, deadline=None)
def test_drawn_markup_gets_the_reference_verdict(tokens: list[bytes]) -> None:
    data = b"".join(tokens)
    assert htmlguard.complexity_problem(data) == reference.complexity_problem(data)


# -- the comparison can fail: guards with one rule changed disagree with the reference on the corpus ---------------

def _mutated(change: Callable[[pytest.MonkeyPatch], None]) -> Guard:
    def guard(data: bytes) -> str | None:
        with pytest.MonkeyPatch.context() as patch:
            change(patch)
            return htmlguard.complexity_problem(data)
    return guard


def _replaced(name: str, old: bytes, new: bytes) -> Callable[[pytest.MonkeyPatch], None]:
    """Set the module's compiled pattern ``name`` to one with ``old`` replaced by ``new``."""
    pattern: re.Pattern[bytes] = getattr(htmlguard, name)
    assert old in pattern.pattern
    mutated = re.compile(pattern.pattern.replace(old, new), pattern.flags)
    return lambda patch: patch.setattr(htmlguard, name, mutated)


def _li_grows_the_stack(patch: pytest.MonkeyPatch) -> None:
    patch.setattr(htmlguard, "_NO_STACK", htmlguard._NO_STACK - {b"li"})
    if hasattr(htmlguard, "_Effects"):  # the bulk pass's cache of effects by name
        patch.setattr(htmlguard, "_EFFECTS", htmlguard._Effects({b"": 0}))


MUTATIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "li grows the stack": _li_grows_the_stack,
    "path/ opens an element": lambda p: p.setattr(htmlguard, "_FOREIGN_SELF_CLOSING", frozenset()),
    "the run ends a title at its lower-case end tag only": _replaced(
        "_HTML_RUN", rb"<(?!/[tT][iI][tT][lL][eE][\t\n\f\r />])", rb"<(?!/title[\t\n\f\r />])"),
    "a comment ends at '-->' only": lambda p: p.setattr(htmlguard, "_COMMENT_CLOSE", re.compile(rb"-->")),
    "plaintext is an element": lambda p: p.setattr(htmlguard, "_SPECIAL_START", htmlguard._SPECIAL_START - {
        b"plaintext"}),
    "the run ends a short comment at '-->' only": _replaced(
        "_HTML_RUN", rb"(?:-(?!-!?>)[^-]*+){0,4}(?:--!?>|\Z))", rb"(?:-(?!->)[^-]*+){0,4}(?:-->|\Z))"),
}
if hasattr(htmlguard, "_TOKEN_EFFECTS"):
    MUTATIONS["the bulk pass ends a comment at '-->' only"] = _replaced(
        "_TOKEN_EFFECTS", rb"(?:--!?>|\Z)|.*?(?:--!?>|\Z))", rb"(?:-->|\Z)|.*?(?:-->|\Z))")
    MUTATIONS["the bulk pass ends a title at its lower-case end tag only"] = _replaced(
        "_TOKEN_EFFECTS", rb"<(?!/[tT][iI][tT][lL][eE][\t\n\f\r />])", rb"<(?!/title[\t\n\f\r />])")
    MUTATIONS["the bulk pass reads an end tag's attributes unbounded"] = _replaced(
        "_TOKEN_EFFECTS", rb"|(/[A-Za-z][^\t\n\f\r />]*+", rb"|(/[A-Za-z][^\t\n\f\r />]*+(?:[^>]*)")


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_mutated_guard_fails_the_comparison(mutation: str) -> None:
    assert _mismatches(_mutated(MUTATIONS[mutation]), _judged("synthetic"), first=True) != []


def test_the_reference_is_the_module_as_it_was() -> None:
    """The reference file is the module verbatim (but for its two-line header): its own tests keep it honest."""
    text = Path(reference.__file__).read_text(encoding="utf-8")
    assert text.startswith("# The parse-time guard as it was on house at b1bbf21")
    assert "def _exact_structure_problem" in text and "_HTML_RUN = re.compile" in text


# -- the bulk pass over every tag: used on the big pages, and a bounded number of stops -------------------------------

def _findall_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    pattern = htmlguard._TOKEN_EFFECTS

    class Counting:
        def findall(self, data: bytes, pos: int = 0) -> list[bytes]:
            calls.append(pos)
            return pattern.findall(data, pos)

    monkeypatch.setattr(htmlguard, "_TOKEN_EFFECTS", Counting())
    return calls


@pytest.mark.parametrize("name", ["baoangiang-home-2026-05", "baotayninh-home-2026-05", "baobacninhtv-home-2026-05"])
def test_the_big_real_pages_take_the_bulk_pass(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages of more than 3 x MAX_DEPTH '<' are read in bulk; those with SVG (icons) stop there and go on."""
    data = (REAL / f"{name}.html").read_bytes()
    calls = _findall_calls(monkeypatch)
    assert htmlguard.complexity_problem(data) is None
    with_svg = b"<svg" in data
    assert len(calls) == (4 if with_svg else 1)  # three icons: three stops, and the rest after the last


@pytest.mark.parametrize("page", [
    b"<body>" + b"<b>x</b>" * MAX_DEPTH + b"<svg></svg>y" * 100,
    b"<body>" + b"<b>x</b>" * MAX_DEPTH + b"<path/>y" * 100 + b"<div>" * (MAX_DEPTH + 1),
    b"<body>" + b"<b>x</b>" * MAX_DEPTH + b"<svg><g>" * 20 + b"<div>" * (MAX_DEPTH - 100),
    b"<body>" + b"<div>" * (MAX_DEPTH - 50) + b"<svg></svg>" * 30 + b"<i>" * 51,
    b"<body>" + b"<div>" * (MAX_DEPTH - 50) + b"<svg/>" * 20 + b"<i>" * 30,
])
def test_the_bulk_pass_stops_a_bounded_number_of_times(page: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each stop costs a copy of the rest of the page: after _MAX_STOPS the exact steps read the rest."""
    expected = reference.complexity_problem(page)
    calls = _findall_calls(monkeypatch)
    assert htmlguard.complexity_problem(page) == expected
    assert 1 <= len(calls) <= htmlguard._MAX_STOPS


def test_the_cache_of_effects_stays_small() -> None:
    """The bulk pass caches each name's effect: made-up names (many, or long) must not grow it without bound."""
    page = b"<body><" + b"z" * 100_000 + b">" + b"".join(b"<x%d>y</x%d>" % (i, i) for i in range(6_000))
    assert htmlguard.complexity_problem(page) == reference.complexity_problem(page)
    assert len(htmlguard._EFFECTS) <= 4096
    assert max(map(len, htmlguard._EFFECTS)) <= 32


def _deepest_step_by_step(levels: list[int]) -> int:
    depth = deepest = levels[0]
    for before, after in pairwise(levels):
        depth = max(0, depth + after - before)  # an end tag at depth 0 changes nothing
        deepest = max(deepest, depth)
    return deepest


@given(st.integers(0, 5), st.lists(st.sampled_from([-1, -1, 0, 1, 1]), max_size=80))
@settings(max_examples=1_000, deadline=None)
def test_the_deepest_from_prefix_sums_is_the_step_by_step_one(start: int, effects: list[int]) -> None:
    """The bulk pass's depth (running sums, their running minimum, a few lows then one map) is the stack's."""
    levels = list(accumulate(effects, initial=start))
    assert htmlguard._deepest(levels) == _deepest_step_by_step(levels)


def test_the_deepest_of_a_staircase_of_lows() -> None:
    """Many new lows (end tags at depth 0 between elements): past the few cheap steps, the one map answers."""
    for effects in ([1, -1, -1] * 3000, [1] * 40 + [1, -1, -1] * 3000 + [1] * 30, [1, 1, -1, -1, -1] * 1000):
        levels = list(accumulate(effects, initial=0))
        assert htmlguard._deepest(levels) == _deepest_step_by_step(levels)


@pytest.mark.parametrize(("effects", "deep"), [
    ([1] * 1000 + [-1] * 2500 + [1] * 1900, False),  # highest less lowest: 2,500; the stack: 1,900
    ([1] * 1000 + [-1] * 2500 + [1] * 2001, True),
    ([-1] * 3000 + [1] * 2000, False),
    ([-1] * 3000 + [1] * 2001, True),
    ([1] * 2001, True),
    ([1, -1] * 5000, False),
])
def test_too_deep_is_the_deepest_against_the_limit(effects: list[int], deep: bool) -> None:
    levels = list(accumulate(effects, initial=0))
    assert htmlguard._too_deep(levels) is deep
    assert (_deepest_step_by_step(levels) > MAX_DEPTH) is deep
