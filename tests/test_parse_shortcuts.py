"""The parse path's shortcuts read what the long ways read (issue 22: speed with byte-identical output).

Each shortcut is checked against the plain reading it replaces, on hand-made hostile trees and on
generated ones: ``node_text`` of an element with one text node (no block walk), and the Huế
adapter's "links before the title" (one selector query and a binary search, not a Python walk over
every node).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parse.adapters.base import node_text
from crawler.parse.adapters.blocks import extract_blocks
from crawler.parse.adapters.hue import _preceding_links
from crawler.parse.normalize import clean_line


def walked_text(node: LexborNode) -> str:
    """node_text the long way: every block of the element, joined and cleaned."""
    return clean_line(" ".join(extract_blocks(node).blocks))


def walked_links(title: LexborNode) -> list[tuple[LexborNode, str]]:
    """The links before the title the long way: every node of the body in document order."""
    body = title.parser.body
    if body is None:
        return []
    found = []
    for node in body.traverse():
        if node.mem_id == title.mem_id:
            break
        href = node.attributes.get("href") if node.tag == "a" else None
        if href:
            found.append((node, href))
    return found


def same_links(got: list[tuple[LexborNode, str]], want: list[tuple[LexborNode, str]]) -> bool:
    return [(n.mem_id, h) for n, h in got] == [(n.mem_id, h) for n, h in want]


TEXTS = ["", " ", "\u00a0", "  Tin  tức \n", "Cafe\u0301", "a\u200bb", "\ufeffx", "\t\n", "Hà Nội", "x  y"]
TAGS = ["a", "span", "h1", "p", "div", "script", "style", "textarea", "title", "b", "li", "td", "button", "noscript"]

HOSTILE_TEXT = [
    "<a href='/x'>  Kinh   tế </a>",
    "<span>\u00a0</span>",
    "<h1>Cafe\u0301 <!-- c --></h1>",
    "<p>a\u200bb</p>",
    "<script>var x = 1;</script>",
    "<textarea>  typed  </textarea>",
    "<button>Gửi</button>",
    "<div>\n</div>",
    "<b>\ufeffBOM</b>",
    "<td>cell</td>",
    "<span>one<br>two</span>",
    "<a><img src=x.jpg></a>",
]


@pytest.mark.parametrize("html", HOSTILE_TEXT)
def test_node_text_of_every_element_is_the_walked_text(html: str) -> None:
    tree = LexborHTMLParser(f"<html><body><table><tr>{html}</tr></table>{html}</body></html>")
    for node in tree.root.traverse():
        assert node_text(node) == walked_text(node), node.html


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TAGS), st.sampled_from(TEXTS)), min_size=1, max_size=6))
def test_node_text_of_generated_elements_is_the_walked_text(parts: list[tuple[str, str]]) -> None:
    html = "".join(f"<{tag}>{text}</{tag}>" for tag, text in parts)
    tree = LexborHTMLParser(f"<body>{html}<div>{html}</div></body>")
    for node in tree.root.traverse(include_text=True):
        assert node_text(node) == walked_text(node), node.html


HOSTILE_LINKS = [
    # links before, inside and after the title; the title inside a link; empty and bare hrefs
    '<a href="/a/">A</a><div><a href="/b/">B</a><h1 id="t">T <a href="/in">in</a></h1></div><a href="/after">x</a>',
    '<a href="/wrap/"><h1 id="t">T</h1></a><a href="/after">x</a>',
    '<a href="">empty</a><a href>bare</a><a>none</a><h1 id="t">T</h1>',
    '<h1 id="t">T</h1><a href="/after">x</a>',
    '<ul><li><a href="/1/">1</a></li><li><a href="/2/">2</a></li></ul>'
    '<div><div><div><h1 id="t">T</h1></div></div></div>',
    '<svg><a href="/svg/">s</a></svg><a href="/k/"><b>K</b></a><h1 id="t">T</h1>',
    '<table><tr><td><a href="/cell/">c</a></td><td><h1 id="t">T</h1></td></tr></table><a href="/x/">x</a>',
    '<a href="/a"><a href="/nested">n</a></a><p><h1 id="t">T</h1></p>',
]


@pytest.mark.parametrize("html", HOSTILE_LINKS)
def test_links_before_the_title_are_those_of_a_walk(html: str) -> None:
    tree = LexborHTMLParser(f"<html><head><title>x</title></head><body>{html}</body></html>")
    title = tree.css_first("#t")
    assert title is not None
    assert same_links(_preceding_links(title), walked_links(title))


def test_a_title_outside_the_body_has_every_body_link_before_it() -> None:
    tree = LexborHTMLParser('<html><head><title>x</title></head><body><a href="/a/">A</a></body></html>')
    title = tree.css_first("title")
    assert title is not None
    assert [h for _, h in _preceding_links(title)] == ["/a/"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(["<div>", "</div>", "<p>", "<a href='/l/'>", "</a>", "<h1>T</h1>", "<span>",
                                 "</span>", "<a href=''>", "<li>", "<table><tr><td>", "</td></tr></table>"]),
                min_size=1, max_size=20))
def test_links_before_every_title_of_generated_pages_are_those_of_a_walk(parts: list[str]) -> None:
    tree = LexborHTMLParser("<body>" + "".join(parts) + "<a href='/end/'>e</a></body>")
    for title in tree.css("h1"):
        assert same_links(_preceding_links(title), walked_links(title))


@pytest.mark.parametrize("href", [
    "/kinh-te/", "/kinh-te", "https://huengaynay.vn/kinh-te/", "/kinh-\tte/", "\n/kinh-te/", "/kinh-te/\r",
    " /kinh-te/", "/kinh-te///",
])
def test_category_links_before_the_title_are_read_whatever_the_href_spelling(href: str) -> None:
    """The breadcrumb anchor's quick look at an href (does it hold the category's path?) lets through
    every spelling urlsplit reads as that path: tabs and newlines inside, space before, slashes after."""
    from crawler.config import load_sources
    from crawler.parse.adapters.hue import HueAdapter

    adapter = HueAdapter(load_sources(None).get("hue"))
    url = "https://huengaynay.vn/kinh-te/thong-tin-thi-truong/bai-viet-155008.html"
    html = (f'<body><div class="menu"><a href="/">Trang chủ</a><a href="{href}">Kinh tế</a>'
            f'<a href="/the-thao/">Thể thao</a></div><h1>Tiêu đề</h1><p>Thân bài.</p></body>')
    tree = LexborHTMLParser(html)
    title = tree.css_first("h1")
    assert title is not None
    rules: dict[str, str] = {}
    crumbs, _links = adapter._breadcrumb(tree, title, url, rules)
    assert crumbs == ("Kinh tế",)
    assert rules["breadcrumb"] == "text:category links before the title"
