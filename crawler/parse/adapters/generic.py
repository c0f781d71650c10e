"""The ``generic`` adapter: any news article page, with no per-site selectors.

What it reads, in order of trust (``rules`` names the one that answered for each field):

- **metadata the page states**: JSON-LD (``NewsArticle``/``Article`` headline, ``datePublished``,
  ``author``; ``BreadcrumbList``), ``og:``/``article:`` metas, ``link[rel=canonical]``;
- **what a reader sees**: the ``<h1>`` that matches the stated headline, a date-with-time element
  near it (a "today" date in the page header is passed over), an element marked as a breadcrumb,
  a lead marked ``sapo``/``lead``/``summary``/``desc``;
- **the main text by content density**: every paragraph's own text (links left out) scores its
  parent fully and its grandparent and great-grandparent in part; the element with the highest
  score, weighed by how little of its text is links, is the body (:mod:`.density`).  Inside it,
  chrome (share bars, related lists, tags, comments, source boxes: :mod:`.marks`) is skipped.

The snapshot follows FORMAT.md as the family adapters do: the date line is always
``DD/MM/YYYY - HH:MM``; a lead equal to the first body paragraph is printed once; a machine-cut
copy of the lead (stopping mid-word) is dropped; an author shown only in the header is printed as
the byline after the body, once.  Every article says ``rules["template"] == "generic"``: the
family adapters fall back to this one when their selectors miss, so a redesign shows as a shift of
templates in the run summary and in ``crawler report``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters.base import (
    BYLINE_RE,
    HOME_LABELS,
    SEPARATORS,
    base_href,
    canonical_url,
    cut_at_share_label,
    failure,
    json_ld,
    meta_content,
    node_text,
    parse_html,
    parse_listing_links,
    slugs_from_links,
)
from crawler.parse.adapters.blocks import extract_blocks
from crawler.parse.adapters.density import densest
from crawler.parse.adapters.marks import (
    AUTHOR_BIT,
    CHROME_BIT,
    CHROME_TAGS,
    DATE_BIT,
    KICKER_BIT,
    SAPO_BIT,
    describe,
    flags_of,
    in_chrome,
    in_link,
    is_chrome,
)
from crawler.parse.normalize import VN_TZ, clean_line, find_vn_datetime

TEMPLATE = "generic"
# Lines that are chrome wherever they sit (FORMAT.md: source boxes, share-button labels, placeholders).
CHROME_LINE = re.compile(
    r"^(?:Nguồn\s*:?.{0,80}|Link gốc.*|Link bài gốc.*|Copy Link|Sao chép liên kết|Chia sẻ Facebook|"
    r"Theo dõi .{1,60} trên.*|Bút danh|In bài viết|In|Tags?\s*:.*|Từ khóa\s*:.*|Tin liên quan|"
    r"Xem thêm|Đọc thêm|Bình luận|Gửi bình luận|Trở về đầu trang)$",
    re.IGNORECASE,
)
# A byline-like last line: a name or a credit, short, no sentence punctuation inside.
SHORT_CREDIT = re.compile(r"^(?:Theo\s+\S.{0,60}|[^.!?…]{2,60})$")
SENTENCE_END = ("." , "!", "?", "…", "”", '"', ")", ":")


class GenericAdapter:
    """Reads any article page by its metadata and its text density; no per-site selectors."""

    def __init__(self, source: SourceConfig) -> None:
        self.source = source

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return parse_listing_links(self.source, html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        return self.parse_tree(parse_html(html), url)

    def parse_tree(self, tree: LexborHTMLParser, url: str) -> Article | ExtractionFailure:
        """:meth:`parse_article` on a page parsed already (the family adapters' fallback)."""
        rules: dict[str, str] = {"template": TEMPLATE}
        article_id = self.source.article_id(url)
        if article_id is None:
            return failure(self.source, url, "article_id", "the URL is not an article URL of the source")
        rules["article_id"] = "url:article_url_pattern"
        ld = _news_object(json_ld(tree))
        order = {node.mem_id: i for i, node in enumerate(tree.css("*"))}
        marked = _marked(tree)
        dated = _dated(marked)

        title_node, title, rules["title"] = _title(tree, ld)
        if not title:
            return failure(self.source, url, "title", "no <h1>, no JSON-LD headline and no og:title")
        title_at = order.get(title_node.mem_id, 0) if title_node is not None else 0

        date = _date(tree, ld, order, title_at, dated)
        if date is None:
            return failure(self.source, url, "date", "no date with a time near the title, in JSON-LD or metas")
        published, rules["date"] = date

        body_node = densest(tree)
        if body_node is None:
            return failure(self.source, url, "body", "no element holds paragraphs of text")
        rules["body"] = "density:" + describe(body_node)
        sapo, sapo_nodes = _sapo(tree, ld, body_node, rules, marked)
        author, author_nodes = _header_author(tree, ld, marked)
        skip_ids = {n.mem_id for n in (title_node, *(d[0] for d in dated), *sapo_nodes, *author_nodes)
                    if n is not None}
        body = extract_blocks(body_node, base_url=base_href(tree, url),
                              skip_ids=skip_ids, skip=is_chrome)
        blocks = list(body.blocks)
        if cut_at_share_label(blocks):
            rules["end"] = "text:share-label"
        captions = {body.blocks[i] for i in body.caption_indexes if i < len(body.blocks)}
        blocks = [b for b in blocks if not CHROME_LINE.match(b) and b != title and find_vn_datetime(b) != published
                  and any(c.isalnum() for c in b)]

        kicker = _kicker(tree, title_node, rules, marked)
        blocks = _drop_lead_copies(blocks, sapo, captions)
        if sapo is not None and blocks and blocks[0] == sapo:
            del blocks[0]  # FORMAT.md: a lead equal to the first body paragraph is printed once
            rules["sapo_once"] = "text:lead-equals-first-paragraph"
        if not blocks:
            return failure(self.source, url, "body", "the densest element has no text besides title and lead")

        byline: str | None = None
        if len(blocks) > 1 and (BYLINE_RE.match(blocks[-1]) or _same_name(blocks[-1], author)):
            byline = blocks.pop()  # never the only block: an article has a body
            rules["byline"] = "text:last-line"
        if author and not (byline and _same_name(byline, author)) and not any(_same_name(b, author)
                                                                             for b in blocks[-2:]):
            if byline is not None:
                blocks.append(byline)
            byline = author
            rules["byline"] = "header:author"
        crumbs, links = _breadcrumb(tree, ld, title, rules, order, title_at)
        canonical, rules["canonical_url"] = canonical_url(tree, url)
        if canonical == url:
            named = tree.css_first('meta[name="canonical"]')
            if named is not None and (named.attributes.get("content") or "").startswith("http"):
                canonical, rules["canonical_url"] = str(named.attributes.get("content")), "meta:canonical"
        return Article(
            source=self.source.key,
            article_id=article_id,
            url=url,
            canonical_url=canonical,
            breadcrumb=crumbs,
            category_slugs=slugs_from_links(links),
            published=published,
            kicker=kicker,
            title=title,
            sapo=sapo,
            body=tuple(blocks),
            byline=byline,
            images=tuple(body.images),
            rules=rules,
        )


def _news_object(items: list[dict[str, object]]) -> dict[str, object]:
    """The page's NewsArticle / Article JSON-LD object (``@graph`` looked into), or {}."""
    pending = list(items)
    while pending:
        item = pending.pop(0)
        graph = item.get("@graph")
        if isinstance(graph, list):
            pending.extend(g for g in graph if isinstance(g, dict))
        kind = item.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k in ("NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting") for k in kinds):
            return item
    return {}


def _fold(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()


def _title(tree: LexborHTMLParser, ld: dict[str, object]) -> tuple[LexborNode | None, str, str]:
    stated = [clean_line(str(v)) for v in (ld.get("headline"), ld.get("name"), meta_content(tree, "og:title"))
              if isinstance(v, str) and v.strip()]
    heads = [(node, node_text(node)) for node in tree.css("h1")]
    heads = [(node, text) for node, text in heads if text]
    for claim in stated:
        for node, text in heads:
            if _fold(text) == _fold(claim) or (len(text) > 15 and _fold(claim).startswith(_fold(text))):
                return node, text, "h1=stated-headline"
    if heads:
        node, text = max(heads, key=lambda h: len(h[1]))
        return node, text, "h1:longest"
    if stated:
        return None, stated[0], "json-ld/og:title"
    return None, "", "none"


def _marked(tree: LexborHTMLParser) -> list[tuple[LexborNode, int]]:
    """Every ``<time>`` and every element with a class or id, in document order, with its flags (:mod:`.marks`)."""
    found = []
    for node in tree.css("time, [class], [id]"):
        attrs = node.attributes
        found.append((node, flags_of(f"{attrs.get('class') or ''} {attrs.get('id') or ''}")))
    return found


def _dated(marked: list[tuple[LexborNode, int]]) -> list[tuple[LexborNode, datetime]]:
    """:func:`_date_nodes` with the date each one holds."""
    found = []
    for node, flags in marked:
        if flags & DATE_BIT or node.tag == "time":
            text = node.text(deep=True, separator=" ") or ""
            if len(text) < 120 and (value := find_vn_datetime(clean_line(text))) is not None:
                found.append((node, value))
    return found


def _date_nodes(tree: LexborHTMLParser) -> list[LexborNode]:
    """Elements that look like a date line: ``<time>`` or a date/time class or id, innermost first."""
    return [node for node, _ in _dated(_marked(tree))]


def _date(tree: LexborHTMLParser, ld: dict[str, object], order: dict[int, int],
          title_at: int, dated: list[tuple[LexborNode, datetime]] | None = None) -> tuple[datetime, str] | None:
    """The date line: the date element nearest the title (before or after it: a header's "today" and the
    teasers' dates are farther), the one that agrees with the stated date when the page states one."""
    stated = _stated_date(tree, ld)
    candidates = []
    for node, value in _dated(_marked(tree)) if dated is None else dated:
        if in_chrome(node) or in_link(node):
            continue
        candidates.append((abs(order.get(node.mem_id, 0) - title_at), value, node))
    candidates.sort(key=lambda c: c[0])
    if stated is not None:
        for _, value, node in candidates:
            if value.date() == stated[0].date():
                return value, f"css:{describe(node)} (= {stated[1]})"
    if candidates:
        return candidates[0][1], f"css:{describe(candidates[0][2])} (nearest the title)"
    if stated is not None:
        return stated
    return _date_by_text(tree, order, title_at)


def _date_by_text(tree: LexborHTMLParser, order: dict[int, int], title_at: int) -> tuple[datetime, str] | None:
    """Any short element within 60 elements of the title whose text holds a date with a time."""
    best: tuple[int, datetime, LexborNode] | None = None
    for node in tree.css("span, div, p, time, em, i, small, td, li"):
        distance = abs(order.get(node.mem_id, 0) - title_at)
        if distance > 60 or (best is not None and distance >= best[0]) or in_chrome(node) or in_link(node):
            continue
        text = clean_line(node.text(deep=True, separator=" ") or "")
        value = find_vn_datetime(text) if len(text) < 80 else None
        if value is not None:
            best = (distance, value, node)
    return (best[1], f"text:{describe(best[2])} (a date near the title)") if best is not None else None


def _stated_date(tree: LexborHTMLParser, ld: dict[str, object]) -> tuple[datetime, str] | None:
    for value, rule in ((ld.get("datePublished"), "json-ld:datePublished"),
                        (meta_content(tree, "article:published_time"), "meta:article:published_time")):
        if isinstance(value, str) and "T" in value:
            try:
                parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                continue
            return (parsed.astimezone(VN_TZ) if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)), rule
    return None


_SAPO_TAGS = frozenset({"p", "div", "h2", "span"})


def _sapo(tree: LexborHTMLParser, ld: dict[str, object], body: LexborNode, rules: dict[str, str],
          flagged: list[tuple[LexborNode, int]] | None = None) -> tuple[str | None, list[LexborNode]]:
    """The lead (an element marked as one: the full one, a machine-cut copy stops mid-word), and the
    marked elements (printed once, as the lead, not again in the body)."""
    marked = []
    for node, flags in _marked(tree) if flagged is None else flagged:
        if (flags & SAPO_BIT and node.tag in _SAPO_TAGS and not in_chrome(node)
                and not (flags & CHROME_BIT or node.tag in CHROME_TAGS)):
            text = node_text(node)
            if 30 <= len(text) <= 1500:
                marked.append((node, text))
    if marked:
        ended = [m for m in marked if m[1].endswith(SENTENCE_END)]
        node, text = (ended or marked)[0]
        rules["sapo"] = f"css:{describe(node)}"
        return text, [m[0] for m in marked]
    description = clean_line(str(ld.get("description") or meta_content(tree, "og:description", "description") or ""))
    if len(description) >= 30 and not description.endswith(("...", "…")):
        for block in extract_blocks(body).blocks[:3]:
            if block == description:
                rules["sapo"] = "meta:description (= first paragraph)"
                return description, []
    return None, []


def _kicker(tree: LexborHTMLParser, title: LexborNode | None, rules: dict[str, str],
            flagged: list[tuple[LexborNode, int]] | None = None) -> str | None:
    for node, flags in _marked(tree) if flagged is None else flagged:
        if flags & KICKER_BIT and (text := node_text(node)):
            rules["kicker"] = f"css:{describe(node)}"
            return text
    return None


def _drop_lead_copies(blocks: list[str], sapo: str | None, captions: set[str]) -> list[str]:
    """Without machine-cut copies of the lead: a block that the lead and the text after it start
    with, which is none of them (``<div class="sapo">`` beside ``<p class="sapo">`` on Mediatech)."""
    if sapo is None:
        return blocks
    out = []
    for i, block in enumerate(blocks):
        if block != sapo and len(block) > len(sapo) and block.startswith(sapo[: min(len(sapo), 40)]):
            following = " ".join([sapo, *(b for b in blocks[i + 1:i + 40] if b not in captions and b != sapo)])
            if following.startswith(block) or following.startswith(block.rsplit(" ", 1)[0]):
                continue
        out.append(block)
    return out


def _header_author(tree: LexborHTMLParser, ld: dict[str, object], flagged: list[tuple[LexborNode, int]] | None = None
                   ) -> tuple[str | None, list[LexborNode]]:
    """The author the page shows with the article (not a CMS, a login or the paper's name), and the
    elements that show it (printed once, as the byline)."""
    site = _fold(meta_content(tree, "og:site_name") or "")
    nodes, names = [], []
    for node, flags in _marked(tree) if flagged is None else flagged:
        if flags & AUTHOR_BIT and not flags & CHROME_BIT and not in_chrome(node):
            lines = [line.strip(" •·|-–—:") for line in extract_blocks(node).blocks]
            text = "\n".join(line for line in lines if line)
            if text and len(text) <= 80 and not CHROME_LINE.match(text):
                nodes.append(node)
                names.append(text)
    if names:
        return names[0], nodes
    author = ld.get("author")
    for item in author if isinstance(author, list) else [author]:
        name = item.get("name") if isinstance(item, dict) else item
        kind = item.get("@type") if isinstance(item, dict) else "Person"
        if isinstance(name, str) and _person_like(name) and kind != "Organization" and _fold(name) != site:
            return clean_line(name), []
    return None, []


def _person_like(name: str) -> bool:
    """A name as printed (``Thu Phương``, ``DIỄM LỆ``), not a login (``longantv``) or a CMS (``MEDIATECH``)."""
    name = name.strip()
    return (" " in name and len(name) <= 60 and not name.isascii()) or (" " in name and name[:1].isupper())


def _inside(node: LexborNode, container: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == container.mem_id:
            return True
        parent = parent.parent
    return False


def _same_name(line: str, author: str | None) -> bool:
    if not author:
        return False
    a, b = _fold(line), _fold(author)
    return a == b or (len(b) >= 4 and a.endswith(b) and len(a) - len(b) <= 12)


def _breadcrumb(tree: LexborHTMLParser, ld: dict[str, object], title: str, rules: dict[str, str],
                order: dict[int, int], title_at: int) -> tuple[tuple[str, ...], list[LexborNode]]:
    """An element marked as a breadcrumb; else a heading or category box before the title made of
    one to four section links only (VDOC's ``div.titlecate h1``); else JSON-LD's BreadcrumbList."""
    for node in tree.css('[class*="breadcrumb"], [id*="breadcrumb"], nav[aria-label="breadcrumb"]'):
        links = node.css("a") or node.css("li")
        crumbs = _crumbs(node_text(n) for n in links)
        if crumbs and crumbs[-1] == title:
            crumbs = crumbs[:-1]
        if crumbs:
            rules["breadcrumb"] = f"css:{describe(node)}"
            return crumbs, [n for n in links if n.tag == "a"]
    nearest: tuple[int, LexborNode, list[LexborNode]] | None = None
    for node in tree.css('h1, h2, h3, h4, [class*="cate"]'):
        at = order.get(node.mem_id, 0)
        if at >= title_at or in_chrome(node) or (nearest is not None and at <= nearest[0]):
            continue
        links = node.css("a")
        texts = [node_text(a) for a in links]
        if 1 <= len(links) <= 4 and all(0 < len(x) <= 40 for x in texts) and _fold(" ".join(texts)) == _fold(
                node_text(node)):
            nearest = (at, node, links)
    if nearest is not None and title_at - nearest[0] < 400:
        crumbs = _crumbs(node_text(a) for a in nearest[2])
        if crumbs:
            rules["breadcrumb"] = f"layout:{describe(nearest[1])} (section links before the title)"
            return crumbs, nearest[2]
    for item in json_ld(tree):
        elements = item.get("itemListElement")
        if item.get("@type") != "BreadcrumbList" or not isinstance(elements, list):
            continue
        ranked = sorted((e for e in elements if isinstance(e, dict)), key=_position)
        names = []
        for element in ranked:
            inner = element.get("item")
            name = element.get("name") or (inner.get("name") if isinstance(inner, dict) else None)
            if isinstance(name, str):
                names.append(clean_line(name))
        crumbs = _crumbs(names)
        if crumbs and crumbs[-1] == title:
            crumbs = crumbs[:-1]
        if crumbs:
            rules["breadcrumb"] = "json-ld:BreadcrumbList"
            return crumbs, []
    return (), []


def _position(element: dict[str, object]) -> int:
    position = str(element.get("position") or "0")
    return int(position) if position.isdigit() and len(position) < 6 else 0


def _crumbs(texts: Iterable[str]) -> tuple[str, ...]:
    items: list[str] = []
    for text in texts:
        if not text or text.lower() in HOME_LABELS or text in SEPARATORS:
            continue
        items.append(text)
    return tuple(dict.fromkeys(items))
