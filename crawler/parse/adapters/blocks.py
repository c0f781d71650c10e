"""HTML subtree -> text blocks (FORMAT.md block rules), images and their captions.

Sans-io and iterative (a page nested ten thousand levels deep does not hit the
recursion limit).  Block-level elements and ``<br>`` end a line; everything in
:data:`SKIP_TAGS` and every HTML comment is left out.  A ``<table>`` inside a
``<p>`` (the old VDOC caption layout) works whether or not the HTML5 parser has
split the paragraph: a table is a block either way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.models import Image
from crawler.net.urls import absolute
from crawler.parse.normalize import clean_line

BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "div", "dl",
        "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th",
        "thead", "tr", "ul",
    }
)  # fmt: skip
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "iframe", "form", "input", "button", "select", "textarea", "svg",
        "video", "audio", "object", "embed", "template", "head", "link", "meta", "title", "map", "canvas",
    }
)  # fmt: skip
# An image's caption is the first block that ends inside the nearest of these around it.
CAPTION_CONTAINERS = frozenset({"table", "figure", "p", "div"})


@dataclass(slots=True)
class BodyText:
    """Blocks (cleaned, non-empty, no consecutive duplicates), images, and which blocks are captions."""

    blocks: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    caption_indexes: set[int] = field(default_factory=set)


def extract_blocks(
    root: LexborNode,
    *,
    base_url: str = "",
    skip: Callable[[LexborNode], bool] | None = None,
    skip_ids: Collection[int] = (),
) -> BodyText:
    """Walk ``root`` in document order and return its text blocks and images.

    Elements below ``root`` for which ``skip`` says True, or whose ``mem_id`` is in ``skip_ids`` (the
    cheaper form: no Python call per element), are left out with everything inside them.
    """
    out = BodyText()
    line: list[str] = []
    # Pending image: (index in out.images, mem_id of its caption container).
    pending: list[tuple[int, int]] = []
    open_ids: list[int] = []  # mem_ids of the elements we are inside (a stack)

    def flush() -> None:
        """End the current line (callers check that there is one: most block boundaries have none)."""
        text = clean_line("".join(line) if len(line) > 1 else line[0])
        line.clear()
        if not text:
            return
        if not out.blocks or out.blocks[-1] != text:
            out.blocks.append(text)
        index = len(out.blocks) - 1
        while pending:
            image_index, container = pending.pop(0)
            if container in open_ids:
                image = out.images[image_index]
                if image.caption is None:
                    out.images[image_index] = Image(image.url, text)
                    out.caption_indexes.add(index)

    # Iterative pre-order walk over child/next links (no lists of children, no recursion): ``inside``
    # holds the elements entered and not yet left, root first, and ``inside_block`` whether each is a
    # block (so that leaving one asks lexbor nothing).  Every element entered is pushed on ``open_ids``
    # and popped when left, in the same order.
    inside: list[LexborNode] = []
    inside_block: list[bool] = []
    node: LexborNode | None = root
    append = line.append
    while node is not None:
        kind = _KINDS_BY_ID.get(node.tag_id)
        if kind is None:
            tag = node.tag or ""
            kind = _KINDS.get(tag) or _kind(tag)
        if kind is _TEXT:
            if node.is_empty_text_node:  # ASCII white space only (or nothing): not read before any text
                if line and (text := node.text_content):
                    append(text)
            else:
                text = node.text_content
                if text and (line or not text.isspace()):  # white space before any text never counts
                    append(text)
        elif kind is _SKIP:
            pass  # comments, doctype, scripts, forms...
        elif inside and ((skip_ids and (mem_id := node.mem_id) in skip_ids) or (skip is not None and skip(node))):
            pass
        elif kind is _BR:
            if line:
                flush()
        elif kind is _IMG:
            src = _image_source(node)
            src = absolute(base_url, src) if src and base_url else src
            if src:
                out.images.append(Image(src))
                container = _caption_container(node, open_ids)
                if container is not None:
                    pending.append((len(out.images) - 1, container))
        else:
            block = kind is _BLOCK
            if block and line:
                flush()
            if not (inside and skip_ids):  # else read by the skip test above
                mem_id = node.mem_id
            open_ids.append(mem_id)
            child = node.child
            if child is not None:
                inside.append(node)
                inside_block.append(block)
                node = child
                continue
            # an empty element: entered and left at once
            if block and line:
                flush()
            open_ids.pop()
            if pending:  # leaving a caption container without a caption: forget the pending image
                pending[:] = [p for p in pending if p[1] != mem_id]
        if not inside:
            break  # the root itself was text, skipped or empty
        following = node.next
        while following is None:
            node = inside.pop()
            if inside_block.pop() and line:
                flush()
            mem_id = open_ids.pop()
            if pending:
                pending[:] = [p for p in pending if p[1] != mem_id]
            if not inside:
                break
            following = node.next
        node = following
    if line:
        flush()
    return out


# What the walk does with a node, by its tag name (:func:`_kind`; the names lexbor gives, looked up once).
_TEXT, _SKIP, _BR, _IMG, _BLOCK, _INLINE = "text", "skip", "br", "img", "block", "inline"


def _kind(tag: str) -> str:
    if tag == "-text":
        return _TEXT
    if tag[:1] in ("-", "!") or tag in SKIP_TAGS:
        return _SKIP
    if tag == "br":
        return _BR
    if tag == "img":
        return _IMG
    return _BLOCK if tag in BLOCK_TAGS else _INLINE


# Every name of :data:`BLOCK_TAGS`, :data:`SKIP_TAGS` and the special nodes; any other name is asked of :func:`_kind`.
_KINDS = {tag: _kind(tag) for tag in (*BLOCK_TAGS, *SKIP_TAGS, "-text", "-comment", "-document", "-doctype", "br",
                                      "img", "a", "span", "b", "i", "em", "strong", "u", "sup", "sub", "font",
                                      "small", "label", "time", "")}


def _kinds_by_id() -> dict[int, str]:
    """:data:`_KINDS` by lexbor's tag ids (a number is cheaper to ask a node for than its name): the names lexbor
    knows (their ids are small and the same in every document), read off a page holding each; a name lexbor does
    not know gets an id of its document, looked up by name in the walk."""
    names = [name for name in _KINDS if name and name[0] not in "-!"]
    table = "<table><caption>t</caption><thead><tr><th>t</th></tr></thead><tbody><tr><td>t</td></tr></tbody><tfoot>"
    probe = LexborHTMLParser(f"<!doctype html><p><!--c--></p>{table}</tfoot></table>"
                             + "".join(f"<{name}>t</{name}>" for name in names))
    root = probe.root
    nodes: list[LexborNode | None] = [None] if root is None else [root.parent, root.prev, *root.traverse(True)]
    found: dict[int, str] = {}
    for node in nodes:
        if node is not None and node.tag in _KINDS and node.tag_id < _STATIC_IDS:
            found[node.tag_id] = _KINDS[node.tag or ""]
    return found


_STATIC_IDS = 1 << 16  # lexbor's own tags are numbered from 0 up (a few hundred); a page's own ones far above
_KINDS_BY_ID = _kinds_by_id()


def _image_source(node: LexborNode) -> str | None:
    attrs = node.attributes
    for name in ("data-src", "data-original", "src"):
        value = attrs.get(name)
        if value and not value.startswith("data:"):
            return value.strip()
    return None


def _caption_container(node: LexborNode, open_ids: list[int]) -> int | None:
    parent = node.parent
    depth = 0
    while parent is not None and depth < 8:
        if parent.tag in CAPTION_CONTAINERS and parent.mem_id in open_ids:
            if parent.tag in ("table", "figure"):
                return parent.mem_id
            classes = (parent.attributes.get("class") or "").split()
            if parent.tag == "p" and ("note" in classes or _has_only_image_then_text(parent)):
                return parent.mem_id
            if parent.tag == "div" and "wp-caption" in classes:  # WordPress-style <div class="wp-caption">
                return parent.mem_id
        parent = parent.parent
        depth += 1
    return None


def _has_only_image_then_text(p: LexborNode) -> bool:
    """``<p><img><br>caption</p>``: the p opens with the image."""
    child = p.child
    while child is not None and child.tag == "-text" and not (child.text_content or "").strip():
        child = child.next
    return child is not None and child.tag in ("img", "a")
