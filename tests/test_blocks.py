"""extract_blocks: the walk every adapter reads text with (issue 22: elements to skip given as ids)."""

from __future__ import annotations

from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.parse.adapters.blocks import extract_blocks

from .conftest import FIXTURES

PAGE = """<div id=root><p>One <b>two</b></p><div class=ad><p>Ad text</p><img src=/ad.png></div>
<figure><img src=/a.png><figcaption>Caption <i>here</i></figcaption></figure>
<p class=share>Share</p><ul><li>Item<br>two</li><li class=ad>x</li></ul><p></p><p>End</p></div>"""


def _root(html: str) -> tuple[LexborHTMLParser, LexborNode]:
    tree = LexborHTMLParser(html)
    root = tree.css_first("#root")
    assert root is not None
    return tree, root


@pytest.mark.parametrize("selector", [".ad", ".share", "figure", "b", "li", "p", ".ad, .share, i"])
def test_skip_ids_leave_out_what_skip_leaves_out(selector: str) -> None:
    _tree, root = _root(PAGE)  # the tree lives while its nodes are read
    ids = {node.mem_id for node in root.css(selector)}
    by_ids = extract_blocks(root, base_url="https://x.vn/", skip_ids=ids)
    by_call = extract_blocks(root, base_url="https://x.vn/", skip=lambda n: n.mem_id in ids)
    assert (by_ids.blocks, by_ids.images, by_ids.caption_indexes) == (
        by_call.blocks, by_call.images, by_call.caption_indexes)
    assert not any("Ad text" in block for block in by_ids.blocks) or selector not in (".ad", ".ad, .share, i")


def test_skip_ids_and_skip_together_leave_out_either() -> None:
    _tree, root = _root(PAGE)  # the tree lives while its nodes are read
    ids = {node.mem_id for node in root.css(".ad")}
    body = extract_blocks(root, skip_ids=ids, skip=lambda n: n.tag == "figure")
    assert body.blocks == ["One two", "Share", "Item", "two", "End"]
    assert body.images == []


def test_the_root_is_never_skipped() -> None:
    _tree, root = _root(PAGE)  # the tree lives while its nodes are read
    assert extract_blocks(root, skip_ids={root.mem_id}).blocks[0] == "One two"


@pytest.mark.parametrize("path", sorted((FIXTURES / "real").glob("*.html")), ids=lambda p: p.name)
def test_skip_ids_equal_skip_on_real_pages(path: Path) -> None:
    tree = LexborHTMLParser(path.read_bytes())
    body = tree.body
    assert body is not None
    ids = {node.mem_id for node in body.css("nav, aside, footer, .ads, [class*=related], header")}
    by_ids = extract_blocks(body, skip_ids=ids)
    by_call = extract_blocks(body, skip=lambda n: n.mem_id in ids)
    assert by_ids.blocks == by_call.blocks and by_ids.images == by_call.images
