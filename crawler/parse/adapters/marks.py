"""What an element's class and id words say it is: chrome, page furniture, a date, a lead, a kicker, an author.

Part of the ``generic`` adapter (:mod:`.generic`), which reads pages with no per-site selectors: it
asks these questions of every element it looks at.  Each class/id string is matched against the
regular expressions once and the answers kept as bits (:func:`flags_of`): the same strings repeat
within a page and across a site's pages.  Pure: nodes in, answers out.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborNode

# What the class/id words of an element say, as bits (:func:`flags_of`): each is one regular expression's
# answer, asked once per distinct class/id string (they repeat within a page and across a site's pages).
CHROME_BIT, FURNITURE_BIT, DATE_BIT, SAPO_BIT, KICKER_BIT, AUTHOR_BIT = 1, 2, 4, 8, 16, 32


# Class or id words of page chrome inside an article column (matched as whole words of the attribute).
CHROME = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|related|relate|lienquan|tinlienquan|tags?|keywords?|comments?|"
    r"breadcrumbs?|banner|ads|adv|advert|advertisement|sidebar|menu|nav|footer|print|rating|poll|"
    r"subscribe|newsletter|widget|readmore|more-news|other-news|box-news|author-page|source|nguon|"
    r"audio|text_to_audio|toolbar|hidden|d-none|oneads|zone)(?:$|[\s_-])",
    re.IGNORECASE,
)


# Class words of page furniture around (not inside) an article: a date or lead there is not the article's.
FURNITURE = re.compile(r"(?:^|[\s_-])(?:menu|nav|navbar|header-top|top-bar|topbar|footer|sidebar)(?:$|[\s_-])",
                       re.IGNORECASE)
CHROME_TAGS = frozenset({"nav", "aside", "footer", "header", "form", "button", "ins"})
DATE_MARK = re.compile(r"date|time|publish|posted|ngay|thoigian", re.IGNORECASE)
SAPO_MARK = re.compile(r"(?:^|[\s_-])(?:sapo|lead|summary|desc|description|intro|excerpt|chapeau|tomtat)"
                       r"(?:$|[\s_-])", re.IGNORECASE)
KICKER_MARK = re.compile(r"kicker|supertitle|super-title|pre-title|overtitle", re.IGNORECASE)
AUTHOR_MARK = re.compile(r"(?:^|[\s_-])(?:author|tacgia|byline|writer)(?:$|[\s_-])", re.IGNORECASE)


def in_link(node: LexborNode) -> bool:
    """Inside a link, or beside one in a teaser (a date of another article)."""
    parent: LexborNode | None = node
    for _ in range(3):
        if parent is None:
            return False
        if parent.tag == "a":
            return True
        parent = parent.parent
    return False


def marks_of(node: LexborNode) -> str:
    attrs = node.attributes
    return f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
_FLAG_RULES = ((CHROME_BIT, CHROME), (FURNITURE_BIT, FURNITURE), (DATE_BIT, DATE_MARK), (SAPO_BIT, SAPO_MARK),
               (KICKER_BIT, KICKER_MARK), (AUTHOR_BIT, AUTHOR_MARK))
_FLAGS: dict[str, int] = {" ": 0}
_FLAGS_KEPT = 20_000  # distinct class/id strings remembered (then forgotten all at once: bounded memory)


def flags_of(marks: str) -> int:
    """The bits of :data:`_FLAG_RULES` whose expression ``marks`` (an element's ``"class id"``) matches."""
    flags = _FLAGS.get(marks)
    if flags is None:
        flags = 0
        for bit, rule in _FLAG_RULES:
            if rule.search(marks) is not None:
                flags |= bit
        if len(_FLAGS) >= _FLAGS_KEPT:
            _FLAGS.clear()
        _FLAGS[marks] = flags
    return flags


def node_flags(node: LexborNode) -> int:
    attrs = node.attributes
    if not attrs:
        return 0
    return flags_of(f"{attrs.get('class') or ''} {attrs.get('id') or ''}")


def is_chrome(node: LexborNode) -> bool:
    return node.tag in CHROME_TAGS or bool(node_flags(node) & CHROME_BIT)


def in_chrome(node: LexborNode, depth: int = 6) -> bool:
    """Inside page furniture: a header, menu or footer element, or a menu/header class close above."""
    parent = node.parent
    level = 0
    while parent is not None and level < depth:
        if parent.tag in ("header", "nav", "footer", "aside"):
            return True
        if level < 3 and node_flags(parent) & FURNITURE_BIT:
            return True
        parent = parent.parent
        level += 1
    return False


def describe(node: LexborNode) -> str:
    ident = node.attributes.get("id")
    classes = (node.attributes.get("class") or "").split()
    return f"{node.tag}" + (f"#{ident}" if ident else "") + "".join(f".{c}" for c in classes[:2])
