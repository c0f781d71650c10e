"""The structured description of one mirror article: what a page says, before any markup.

Part of the offline mirror.  :mod:`crawler.mirror.generator` builds an
:class:`ArticleSpec`; the page templates turn it into HTML; and
:mod:`crawler.mirror.snapshot` turns the *same* description into the FORMAT.md text
the crawler should produce.  The expected text is therefore never derived from the
rendered HTML: the spec is the oracle.

Body elements and the snapshot blocks each one stands for:

============  ==============================================================
``Para``      one block per entry of ``lines`` (``<br>`` between them)
``Heading``   one block (``<p><strong>``, ``<h2>`` or ``<h3>``)
``ItemList``  one block per item
``Figure``    the caption (if any), then ``tail`` (if any): for the old Cần Thơ
              table-inside-``<p>`` layout the text after ``</table>``
``DataTable`` one block per non-empty cell, row by row
``Noise``     nothing: ad slot, HTML comment, script, empty ``<p>&nbsp;</p>``
============  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

FigureLayout = Literal["ct-table", "note", "hue-table", "figure", "wp-caption", "jp-table"]
HeadingStyle = Literal["strong", "h2", "h3"]
NoiseKind = Literal["ad", "comment", "script", "empty"]
ParaStyle = Literal["plain", "nbsp", "inline", "nfd", "newline"]
# "hue-vdoc": Huế's VDOC era (baothuathienhue.vn/<slug>-a<ID>.html); "hue-a": the 2022-2024 category-path
# pages of baothuathienhue.vn (markup a guess); "hue-dnn": DotNetNuke on huengaynay.vn (2025-).
# "mediatech", "javaplatform", "onecms": one paper of each CMS family (crawler.mirror.family_sources).
Template = Literal["baocantho", "baoangiang", "hue-vdoc", "hue-a", "hue-dnn", "mediatech", "javaplatform", "onecms"]


@dataclass(frozen=True, slots=True)
class Para:
    """A paragraph; ``lines`` are separated by ``<br>``.  ``style`` only changes the markup."""

    lines: tuple[str, ...]
    style: ParaStyle = "plain"


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    style: HeadingStyle = "strong"


@dataclass(frozen=True, slots=True)
class ItemList:
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """An image with an optional caption.  ``tail`` is only used by the ``ct-table`` layout."""

    image: str
    caption: str | None
    layout: FigureLayout
    tail: str | None = None


@dataclass(frozen=True, slots=True)
class DataTable:
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Noise:
    kind: NoiseKind


Element = Para | Heading | ItemList | Figure | DataTable | Noise


@dataclass(frozen=True, slots=True)
class Category:
    """A leaf of a site's category tree: ``sub`` is None for a category without children."""

    slug: str
    name: str
    sub: str | None = None
    sub_name: str | None = None

    @property
    def path(self) -> str:
        return f"/{self.slug}/{self.sub}/" if self.sub else f"/{self.slug}/"

    @property
    def leaf_slug(self) -> str:
        return self.sub or self.slug


@dataclass(frozen=True, slots=True)
class Related:
    """A link to another article, as shown in related-news boxes and sidebars."""

    url: str
    title: str


@dataclass(frozen=True, slots=True)
class ArticleSpec:
    """Everything a page shows about one article, plus where it lives.

    ``url`` is the absolute URL on the real (primary) host; the server rewrites real
    origins to mirror origins on the way out.  ``title`` and the other texts are
    clean (NFC, single spaces); the templates add the raw-page noise.
    """

    source: str
    article_id: str
    url: str
    template: Template
    category: Category
    show_breadcrumb: bool
    published: datetime
    kicker: str | None
    title: str
    sapo: str | None
    body: tuple[Element, ...]
    byline: tuple[str, ...]
    tags: tuple[str, ...] = ()
    related: tuple[Related, ...] = ()
    title_break: int | None = None  # index of the space the raw <h1> replaces by a newline

    @property
    def date_line(self) -> str:
        return self.published.strftime("%d/%m/%Y - %H:%M")

    @property
    def raw_title(self) -> str:
        """The title as the page's markup carries it (maybe with a raw newline)."""
        if self.title_break is None:
            return self.title
        return self.title[: self.title_break] + "\n" + self.title[self.title_break + 1 :]

    @property
    def images(self) -> tuple[Figure, ...]:
        return tuple(e for e in self.body if isinstance(e, Figure))
