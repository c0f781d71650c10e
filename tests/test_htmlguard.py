"""The HTML guard: linear in the page whatever its shape, and it refuses what lexbor is slow on.

The guard runs before every parse (crawl, ``fetch``, ``parse``, ``replay``), so its own cost must
not grow faster than the page: a page of 60,000 unclosed ``<a `` took its previous regular
expression 500 s.  Linearity is measured as the time ratio for four times the size (linear: ~4, quadratic: ~16;
best of several interleaved runs, at sizes where a quadratic guard takes far more than 10 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from crawler.cli import main
from crawler.parse.htmlguard import MAX_ATTRIBUTES, MAX_DEPTH, MAX_PARSE_BYTES, MAX_TAGS, complexity_problem
from tests.conftest import FIXTURES


def _distinct(prefix: bytes, n: int, filler: bytes = b"") -> bytes:
    return b"".join(prefix % i + filler for i in range(n))


# n is the number of repeated units; every shape stays under both caps (size, '<' count) at 2n.
SHAPES: dict[str, Callable[[int], bytes]] = {
    "unclosed <a ": lambda n: b"<body>" + (b"<a " + b"x" * 55) * n,
    "unclosed <a with distinct names": lambda n: b"<body>" + _distinct(b"<a x%d ", n, b"y" * 48),
    "unclosed end tags": lambda n: b"<body>" + (b"</a x" + b" y" * 25) * n,
    "unclosed quote": lambda n: b"<body>" + b'<a x="' + (b"<b c " + b"y" * 50) * n,
    "unclosed single quotes": lambda n: b"<body>" + (b"<a x='" + b"y" * 52) * n,
    "unclosed comment": lambda n: b"<body><!--" + (b"<a " + b"y" * 55) * n,
    "many comments": lambda n: b"<body>" + (b"<!--a " + b"-" * 50) * n,
    "unclosed bogus comments": lambda n: b"<body>" + (b"<!x " + b"y" * 50) * n,
    "unclosed processing instructions": lambda n: b"<body>" + (b"<?x " + b"y" * 50) * n,
    "unclosed script": lambda n: b"<body><script>" + (b"<a " + b"y" * 55) * n,
    "deep nesting": lambda n: b"<body>" + b"<div>" * (n // 30) + b"<i>" * n + b"y" * (50 * n),
    "long attribute list": lambda n: b"<body>" + b"<i " + _distinct(b"a%d=\"x\" ", 7 * n, b"") + b">",
    "attributes on many elements": lambda n: b"<body>" + _distinct(b"<i a b c d e f g h %d>", n, b"y" * 30),
    "text with '<'": lambda n: b"<body>" + (b"< a 3 " + b"y" * 50) * n,
    # stops of the bulk pass over every tag (issue 22): each one is read by the exact steps, then the bulk goes on
    "many foreign self-closing tags": lambda n: b"<body>" + (b"<path/>" + b"y" * 50) * n,
    "many SVG elements": lambda n: b"<body>" + (b"<svg></svg>" + b"y" * 100) * (n // 2),
    "many self-closed SVG elements": lambda n: b"<body>" + (b"<svg/>" + b"y" * 50) * n,
    "an SVG element left open": lambda n: b"<body><svg>" + (b"<path/>" + b"y" * 50) * n,
    "distinct tag names": lambda n: b"<body>" + _distinct(b"<x%d>", n, b"y" * 50),
    "distinct end tags": lambda n: b"<body>" + _distinct(b"</x%d>", n, b"y" * 50),
}
SMALL = 12_000  # x4 = 48,000 '<' at most, under MAX_TAGS; a quadratic guard takes minutes here


def _per_call(data: bytes) -> float:
    """Seconds per guard call, the call repeated for at least 20 ms (timer resolution)."""
    calls, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < 0.02 or calls == 0:
        complexity_problem(data)
        calls += 1
    return elapsed / calls


@pytest.mark.parametrize("shape", SHAPES)
def test_the_guard_is_linear_in_the_page(shape: str) -> None:
    small, big = SHAPES[shape](SMALL), SHAPES[shape](4 * SMALL)
    assert len(big) <= MAX_PARSE_BYTES and big.count(b"<") <= MAX_TAGS, "the shape must reach the scan"
    assert len(big) >= 3.8 * len(small)
    rounds = [(_per_call(small), _per_call(big)) for _ in range(5)]  # interleaved: the machine's load drifts
    ratio = min(b for _, b in rounds) / min(s for s, _ in rounds)
    assert ratio < 10, f"{shape}: 4x the page took {ratio:.1f}x the time (quadratic: 16x)"


@pytest.mark.parametrize("shape", SHAPES)
def test_what_the_guard_lets_through_lexbor_parses_quickly(shape: str) -> None:
    """At the largest size the guard reads, a page it passes parses in well under the worker deadline."""
    n = 4 * SMALL
    while len(SHAPES[shape](n)) < 0.9 * MAX_PARSE_BYTES and SHAPES[shape](2 * n).count(b"<") <= MAX_TAGS:
        n *= 2
    data = SHAPES[shape](n)[:MAX_PARSE_BYTES]
    if complexity_problem(data) is not None:
        return  # refused: lexbor never sees it
    start = time.perf_counter()
    assert LexborHTMLParser(data).body is not None
    assert time.perf_counter() - start < 3


@pytest.mark.parametrize("count", [MAX_ATTRIBUTES + 1, 5 * MAX_ATTRIBUTES, 60_000])
@pytest.mark.parametrize("shape", [
    b"<a %s>",  # a closed start tag
    b"<a %s",  # unclosed: the parser reads it to the end of the page as one tag
    b"</a %s>",  # an end tag's attributes are read (and dropped) all the same
    b"<svg><path %s/>",
])
def test_an_element_with_too_many_attributes_is_refused(shape: bytes, count: int) -> None:
    attributes = b" ".join(b"x%d='v'" % i if i % 2 else b"y%d" % i for i in range(count))
    problem = complexity_problem(b"<body>" + shape.replace(b"%s", attributes) + b" <p>after")
    assert problem is not None and "attributes" in problem


@pytest.mark.parametrize("page", [
    # quoted values hold '<', '>', spaces and '=': one attribute each
    b"<a " + b" ".join(b'd%d="a > b < c = d e f g"' % i for i in range(MAX_ATTRIBUTES)) + b">",
    b"<a data-x='" + b"<b c d> " * 10_000 + b"'>text</a>",
    # an unclosed quote swallows the rest of the page as one value
    b'<a x="' + b"<b " * 20_000,
    # a comment holds anything
    b"<!--" + b"<a " * 20_000 + b"-->",
    b"<script>" + b"document.write('<div a b c d>');" * 3_000 + b"</script>",
    # an unquoted value holds quotes
    b"<a x=a\"b y='c " + b"z" * 10_000 + b">",
])
def test_what_is_inside_a_value_a_comment_or_a_script_is_not_counted(page: bytes) -> None:
    assert complexity_problem(b"<body>" + page + b"<p>after") is None


@pytest.mark.parametrize("page", [
    b"<div>" * (MAX_DEPTH + 1),
    b"<svg>" + b"<g>" * (MAX_DEPTH + 1),
    b"<svg><style>" + b"<g>" * (MAX_DEPTH + 1),  # in SVG, <style> holds elements, not text
    b"<script></script>" + b"<span>" * (MAX_DEPTH + 1),
    b"<!-- a -->" * 3 + b"<b>" * (MAX_DEPTH + 1),
])
def test_deep_nesting_is_refused_however_few_tags(page: bytes) -> None:
    problem = complexity_problem(b"<body>" + page)
    assert problem is not None and "nest" in problem


@pytest.mark.parametrize("path", sorted((FIXTURES / "real").glob("*.html")), ids=lambda p: p.name)
def test_real_pages_pass(path: Path) -> None:
    assert complexity_problem(path.read_bytes()) is None


def test_parse_refuses_an_unclosed_tag_bomb_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "bomb.html"
    page.write_bytes(SHAPES["unclosed <a "](59_000))
    start = time.perf_counter()
    code = main(["parse", str(page), "--url", "https://baocantho.com.vn/x-a1.html"])
    assert time.perf_counter() - start < 5
    assert code == 1
    assert "attributes" in capsys.readouterr().err


# -- the fast pass (issue 22): the same verdicts as the pass over every tag, at a fraction of its cost ---------------

_TOKENS = [
    b"<", b"</", b">", b"/>", b" ", b"\n", b"=", b'"', b"'", b"/", b"x", b"<!--", b"-->", b"--!>", b"<!", b"<?",
    b"<div", b"<a", b"<p", b"<br", b"</div", b"</a", b"<script", b"</script", b"<SCRIPT", b"</ScRiPt", b"<style",
    b"</style", b"<title", b"</title", b"<textarea", b"</textarea", b"<svg", b"</svg", b"<math", b"</math",
    b"<plaintext", b"<path", b"<xmp", b"</xmp", b"<iframe", b"</iframe", b"<scripts", b"<svgx", b"\xc3\xa9",
    b"-", b"--", b"->", b"!", b"<!---", b"</script\t", b"</STYLE/", b"</title ", b"<title", b"</noembed", b"<noframes",
    b' a="1"', b" b='2'", b" c=3", b" d", b" e = \"x > y\"",
    b"<i" + b" a" * MAX_ATTRIBUTES + b">",  # at the limit
    b"<i" + b" a" * (MAX_ATTRIBUTES + 1) + b">",  # one over
    b"<i" + b' a=">"' * (MAX_ATTRIBUTES + 1),  # one over, unclosed
    b"<svg" + b" a" * (MAX_ATTRIBUTES + 1) + b"/>",
    b"</b" + b" a" * (MAX_ATTRIBUTES + 1) + b">",
]


def _exact(data: bytes) -> str | None:
    from crawler.parse import htmlguard

    return htmlguard._exact_structure_problem(data)


def _reference(data: bytes) -> str | None:
    """The pass over every tag as it was before issue 22 (one ``search`` a tag, every check in order, the
    comment read by a lazy '.*?'), kept here as the oracle of the faster one."""
    import re
    from itertools import islice

    from crawler.parse import htmlguard as g

    markup = re.compile(g._MARKUP.pattern.replace(g._COMMENT_REST, rb"(?:-?>|.*?(?:--!?>|\Z))"), re.DOTALL)
    depth = deepest = foreign = 0
    pos = 0
    while (match := markup.search(data, pos)) is not None:
        pos = match.end()
        name = match.group(2)
        if name is None:
            continue
        start, end = match.span(3)
        if end - start > 2 * MAX_ATTRIBUTES:
            attributes = g._ONE_ATTRIBUTE.finditer(data, start, end)
            if sum(1 for _ in islice(attributes, MAX_ATTRIBUTES + 1)) > MAX_ATTRIBUTES:
                return f"an element has more than {MAX_ATTRIBUTES} attributes (at byte {match.start()})"
        name = name.lower()
        closing = bool(match.group(1))
        self_closing = match.group(4).endswith(b"/")
        if name in g._FOREIGN_ROOTS and not self_closing:
            foreign = max(0, foreign - 1) if closing else foreign + 1
        if closing:
            if name not in g._VOID and name not in g._SELF_CLOSING_KIN:
                depth = max(0, depth - 1)
            continue
        if name in g._RAW_TEXT and not foreign:
            end_tag = g._RAW_TEXT_END[name].search(data, pos)
            pos = len(data) if end_tag is None else end_tag.start()
            continue
        if name == b"plaintext":
            break
        if name in g._VOID or name in g._SELF_CLOSING_KIN:
            continue
        if name in g._FOREIGN_SELF_CLOSING and self_closing:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_DEPTH:
                return f"elements nest more than {MAX_DEPTH} deep (at byte {match.start()})"
    return None


_DEEP = [b"<div>" * (MAX_DEPTH - 3), b"<div>", b"<div/>", b"</div>", b"<b>", b"<path/>", b"<svg><path/>",
         b"<td>", b"<br>", b"<p>", b"<li>", b"</p>", b"</br>", b"<option>", b"<math>", b"</math>"]


@given(st.lists(st.sampled_from(_TOKENS + _DEEP), max_size=40))
@settings(max_examples=400, deadline=None)
def test_the_pass_over_every_tag_agrees_with_the_reference(tokens: list[bytes]) -> None:
    """The exact pass (one finditer, restarted after raw text; two set lookups a common tag) and the guard
    give the reference's verdicts, nesting near MAX_DEPTH included."""
    data = b"".join(tokens)
    expected = _reference(data)
    assert _exact(data) == expected
    assert complexity_problem(data) == expected


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.htm*")), ids=lambda p: p.name)
def test_every_fixture_page_gets_the_reference_verdict(path: Path) -> None:
    data = path.read_bytes()
    expected = _reference(data)
    assert _exact(data) == expected
    assert complexity_problem(data) == expected


@given(st.lists(st.sampled_from(_TOKENS), max_size=60))
@settings(max_examples=600, deadline=None)
def test_the_fast_pass_agrees_with_the_pass_over_every_tag(tokens: list[bytes]) -> None:
    data = b"".join(tokens)
    assert complexity_problem(data) == _exact(data)


@pytest.mark.parametrize("page", [
    b"<body><script>" + b"<i" + b" a" * 300 + b"></script><p>",  # inside a script: text
    b"<body><SCRIPT>" + b"<i" + b" a" * 300 + b"></sCrIpT ><p>",
    b"<body><svg><script>" + b"<i" + b" a" * 300 + b"></script></svg>",  # in SVG, <script> holds elements
    b"<body><svg/><style>" + b"<i" + b" a" * 300 + b"></style>",  # a self-closed <svg/> is no SVG
    b"<body><math></math><style>" + b"<i" + b" a" * 300 + b"></style>",
    b"<body><!-- " + b"<i" + b" a" * 300 + b"> -->",
    b"<body><!-- unclosed " + b"<i" + b" a" * 300 + b">",
    b"<body><plaintext>" + b"<i" + b" a" * 300 + b">",
    b"<body><scripts>" + b"<i" + b" a" * 300 + b">",  # not a raw-text element
    b"<body><p title='" + b"<i" + b" a" * 300 + b">'>",  # inside a quoted value
    b"<body>" + b"<i" + b" a" * MAX_ATTRIBUTES + b"><i" + b" a" * (MAX_ATTRIBUTES + 1) + b">",
    b"<body>" + b"<div>" * (MAX_DEPTH - 5) + b"<i" + b" a" * 300,
])
def test_the_fast_pass_reads_raw_text_svg_and_attributes_as_the_exact_pass(page: bytes) -> None:
    assert complexity_problem(page) == _exact(page)


_OVER = b"<i" + b" a" * (MAX_ATTRIBUTES + 1) + b">"  # a tag the guard refuses wherever it is read as one


@pytest.mark.parametrize("page", [
    *(b"<body><!--" + b"-x" * dashes + b"-->" + _OVER for dashes in range(8)),  # the run, then the loop
    *(b"<body><!--" + b"-x" * dashes + _OVER + b"-->" for dashes in range(8)),  # inside: not counted
    *(b"<body><!--" + b"-" * dashes + b">" + _OVER for dashes in range(8)),  # '<!-->', '<!--->', '<!---->', ...
    *(b"<body><!--" + b"-x" * dashes + b"--!>" + _OVER for dashes in (0, 3, 6)),
    *(b"<body><!--" + b"-x" * dashes + _OVER for dashes in (0, 3, 6)),  # unclosed: the rest is the comment
    b"<body><!-- a -- b --- c ---->" + _OVER,
    b"<body><!-- a -- b ->" + _OVER + b"-->",
    b"<body><!-- <b title='-->'> -->" + _OVER,  # a quote in a comment is text
    b"<body><title>" + _OVER + b"</TITLE\t>" + _OVER,
    b"<body><title>" + _OVER + b"</titles>" + _OVER + b"</title>",  # not its end tag
    b"<body><textarea a='</textarea>'>" + _OVER + b"</textarea>",  # its end tag is the first '</textarea>'
    b"<body><style/>" + _OVER + b"</style/>",
    b"<body><script>" + _OVER,  # unclosed: the rest is text
    b"<body></svg></script></math>" + _OVER,  # end tags outside foreign content change nothing
    b"<body></p" + b" a" * (MAX_ATTRIBUTES + 1) + b">",  # an end tag's attributes count too
    b"<body><script" + b" a" * (MAX_ATTRIBUTES + 1) + b"></script>",
    b"<body><svg><script>" + _OVER + b"</script></svg><script>" + _OVER + b"</script>",
    b"<body><math><style>" + _OVER + b"</style></math>",
    b"<!doctype html><!x " + _OVER + b"><?php " + _OVER,  # bogus comments end at the first '>'
])
def test_the_fast_pass_reads_comments_raw_text_and_end_tags_as_the_exact_pass(page: bytes) -> None:
    assert complexity_problem(page) == _exact(page)


def test_the_html_run_reads_raw_text_end_tags_and_comments_without_a_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Outside SVG and MathML the fast pass reads scripts, styles, titles, end tags and comments in its one
    regular expression: the loop (a few µs of Python a stop) looks at no token of such a page (issue 22)."""
    from crawler.parse import htmlguard

    looked: list[int] = []
    markup = htmlguard._MARKUP

    class Counting:
        def match(self, data: bytes, pos: int) -> object:
            looked.append(pos)
            return markup.match(data, pos)

    page = (b"<!DOCTYPE html><html><head><title>T</title><style>a>b{}</style>"
            b"<script>if (a</b) x('<div>');</script></head><body><!-- a-b-c --><p class='x'>t</p>"
            b"<SCRIPT type=x>y</script ><textarea>a<b</textarea><iframe></iframe></body></html>")
    monkeypatch.setattr(htmlguard, "_MARKUP", Counting())
    assert htmlguard._shallow_structure_problem(page) is None
    assert looked == []


_OTHER_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if Path(p).is_file()), None)


@pytest.mark.skipif(_OTHER_PYTHON is None, reason="no second Python 3 interpreter on this machine")
def test_the_fast_pass_agrees_under_the_systems_python_too() -> None:
    """Python 3.11.0-3.11.2 ended a possessive repeat of the fast pass's alternation inside a token (the
    replay of another user's archive, run by the system's 3.11.2, met it): the module needs only the
    standard library, so any other Python 3.11+ on the machine checks it on the real pages and token soup."""
    import subprocess

    script = f"""
import random, sys
from pathlib import Path
sys.path.insert(0, {str(Path(complexity_problem.__code__.co_filename).parent)!r})
if sys.version_info < (3, 11):
    sys.exit(0)
import htmlguard as g
pages = [p.read_bytes() for p in Path({str(FIXTURES)!r}).rglob("*.htm*")]
random.seed(7)
tokens = [b"<", b"</", b">", b" ", b"=", b'"', b"x", b"<!--", b"-->", b"<div", b"</div", b"<script", b"</script",
          b"<title", b"</title", b"<svg", b"</svg", b' a="1"', b"<i" + b" a" * 257 + b">", b"-", b"--!>", b"!"]
pages += [b"".join(random.choice(tokens) for _ in range(random.randint(0, 40))) for _ in range(2000)]
bad = [i for i, page in enumerate(pages) if g._shallow_structure_problem(page) != g._exact_structure_problem(page)
       or g._bulk_structure_problem(page) != g._exact_structure_problem(page)]
print(sys.version.split()[0], len(pages), bad[:5])
sys.exit(1 if bad else 0)
"""
    result = subprocess.run([str(_OTHER_PYTHON), "-c", script], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
