"""Deterministic article generator: (seed, source, index) -> :class:`ArticleSpec`.

Part of the offline mirror.  Two independent random streams per article keep
listings cheap: ``"{seed}:{source}:{i}:head"`` decides what a listing shows
(title, sapo, kicker) and ``"{seed}:{source}:{i}:body"`` the body, so a listing
page never generates bodies.  Both results sit in small LRU caches; memory stays
bounded whatever the number of articles.

The seed articles (index :data:`~crawler.mirror.catalog.SEED`) come from
:mod:`crawler.mirror.seeds` instead.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from crawler.mirror import text_bank as tb
from crawler.mirror.catalog import SEED, Catalog
from crawler.mirror.family_sources import FAMILY_TEMPLATE
from crawler.mirror.seeds import seed_spec
from crawler.mirror.spec import (
    ArticleSpec,
    Category,
    DataTable,
    Element,
    Figure,
    FigureLayout,
    Heading,
    HeadingStyle,
    ItemList,
    Noise,
    Para,
    ParaStyle,
    Related,
    Template,
)

# Lead prefixes: "(CTO) - " on Cần Thơ's 2026 home page ("(CT) - " in 2021), "TTH.VN - " in Huế's 2022
# sample, "HNN.VN - " on Huế ngày nay (2025-).
SAPO_PREFIX: dict[Template, str] = {"baocantho": "(CTO) - ", "baoangiang": "", "hue-vdoc": "TTH.VN - ",
                                    "hue-a": "TTH.VN - ", "hue-dnn": "HNN.VN - ",
                                    "mediatech": "", "javaplatform": "", "onecms": ""}
FIGURE_LAYOUTS: dict[Template, tuple[FigureLayout, ...]] = {
    "baocantho": ("ct-table", "note", "note"),
    "baoangiang": ("note",),
    "hue-vdoc": ("hue-table", "note"),
    "hue-a": ("hue-table",),
    "hue-dnn": ("hue-table",),  # the DNN news module: the image in a table row, the caption in the next
    "mediatech": ("wp-caption",),  # div.wp-caption > img + p.wp-caption-text (baotayninh 88701)
    "javaplatform": ("jp-table",),  # the old CMS's table: image row, caption row (phuyen 64112)
    "onecms": ("hue-table",),  # table.image with td.image_desc (baodanang 3102163)
}
PARA_STYLES: tuple[ParaStyle, ...] = ("plain", "plain", "plain", "nbsp", "inline", "newline")
HEADING_STYLES: dict[Template, tuple[HeadingStyle, ...]] = {
    "baocantho": ("strong", "strong", "h2", "h3"),
    "baoangiang": ("strong", "h3"),
    "hue-vdoc": ("strong",),
    "hue-a": ("strong",),
    "hue-dnn": ("strong", "h2", "h3"),
    "mediatech": ("strong",),
    "javaplatform": ("strong",),
    "onecms": ("strong", "h2"),
}


def slugify(title: str) -> str:
    """VDOC-style slug: ASCII-folded, lower case, each non-alphanumeric run -> ``-``.

    A title ending in punctuation gives a slug ending in ``-``, as on the real site
    (e.g. ``…-tho-o--a136049.html``).
    """
    folded = unicodedata.normalize("NFD", title.replace("đ", "d").replace("Đ", "D").replace("Ð", "D"))
    ascii_text = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).lstrip("-")


def _image_base(template: Template, when: datetime) -> str:
    """Where the site keeps body images (VDOC: /image/fckeditor/..., Huế: file.<host>/data2/...)."""
    day = when.strftime("%Y/%Y%m%d")
    if template == "baocantho":
        return f"https://baocantho.com.vn/image/fckeditor/upload/{day}/images/"
    if template == "baoangiang":
        return f"https://images.baoangiang.com.vn/image/fckeditor/upload/{day}/images/"
    if template == "mediatech":  # as on the 2026 home page
        return f"https://media.baotayninh.vn/upload/image/{when:%Y%m}/medium/"
    if template == "javaplatform":  # the platform's file store, on the paper's own host
        return f"https://baodongnai.com.vn/file/e7837c02876411cd0187645a2551379f/{when:%m%Y}/"
    if template == "onecms":
        return f"https://bna.1cdn.vn/{when:%Y/%m/%d}/"
    if template == "hue-dnn":  # as on the 2026 home page
        return f"https://file.huengaynay.vn/data/0/images/{when:%Y/%m/%d}/upload_{when:%H%M}/"
    if template == "hue-vdoc":  # VDOC paths, already on the new file host (SITES.md)
        return f"https://file.huengaynay.vn/data2/image/news/{when:%Y/%m/%d}/"
    return f"https://file.baothuathienhue.vn/data2/image/{when:%Y/%m/%d}/upload_{when:%H%M}/"


@dataclass(frozen=True, slots=True)
class Headline:
    """What listings and feeds show about an article."""

    index: int
    article_id: str
    url: str
    host: str
    path: str
    template: Template
    dnn_path: str | None  # Huế: the article's path on huengaynay.vn (every era answers there), else None
    category: Category
    published: datetime
    title: str
    sapo: str | None


class Generator:
    """Builds headlines and full article specs for the catalogs it is given."""

    def __init__(self, catalogs: dict[str, Catalog], seed: int) -> None:
        self.catalogs = catalogs
        self.seed = seed
        self.headline = lru_cache(maxsize=4096)(self._headline)
        self.article = lru_cache(maxsize=512)(self._article)

    def template(self, source: str, index: int) -> Template:
        family: Template | None = FAMILY_TEMPLATE.get(source)  # type: ignore[assignment]
        if family is not None:
            return family
        if source != "hue":
            return "baocantho" if source == "baocantho" else "baoangiang"
        era = self.catalogs[source].era(index)
        return "hue-vdoc" if era == "vdoc" else "hue-a" if era == "path" else "hue-dnn"

    def path(self, template: Template, category: Category, slug: str, article_id: str) -> str:
        """The path an article was published under.

        VDOC (Huế's VDOC era too): ``/<slug>-a<ID>.html``; Huế since: ``/<cate>/<sub>/<slug>-<ID>.html``.
        """
        if template in ("baocantho", "baoangiang", "hue-vdoc"):
            return f"/{slug}-a{article_id}.html"
        if template in ("mediatech", "onecms"):
            return f"/{slug}-{article_id}.html"
        if template == "javaplatform":
            raise ValueError("a Java-platform path needs the month: see Generator._headline")
        return f"{category.path}{slug}-{article_id}.html"

    def _headline(self, source: str, index: int) -> Headline:
        catalog = self.catalogs[source]
        if index == SEED:
            spec = seed_spec(source)
            host = catalog.host(SEED)
            path = spec.url.split(host, 1)[1]
            slug = path.lstrip("/").removesuffix(f"-a{spec.article_id}.html")
            dnn = self.path("hue-dnn", spec.category, slug, spec.article_id) if source == "hue" else None
            return Headline(SEED, spec.article_id, spec.url, host, path, spec.template, dnn, spec.category,
                            spec.published, spec.title, spec.sapo)
        info = catalog.info
        rng = random.Random(f"{self.seed}:{source}:{index}:head")
        template = self.template(source, index)
        title = tb.title(rng, info.places)
        sapo: str | None = None
        if rng.random() < {"baocantho": 0.75, "baoangiang": 0.9}.get(source, 0.95):
            sapo = SAPO_PREFIX[template] + tb.paragraph(rng, info.places, info.date_style)
        article_id = catalog.article_id(index)
        category = info.leaves[catalog.leaf(index)]
        host = catalog.host(index)
        if template == "javaplatform":  # /<cate>[/<sub>]/<YYYYMM>/<slug>-<7 hex>/
            path = f"{category.path}{catalog.published(index):%Y%m}/{slugify(title).strip('-')}-{article_id}/"
        else:
            path = self.path(template, category, slugify(title), article_id)
        dnn = self.path("hue-dnn", category, slugify(title), article_id) if source == "hue" else None
        return Headline(index, article_id, f"https://{host}{path}", host, path, template, dnn, category,
                        catalog.published(index), title, sapo)

    def _article(self, source: str, index: int) -> ArticleSpec:
        if index == SEED:
            return seed_spec(source)
        head = self.headline(source, index)
        info = self.catalogs[source].info
        rng = random.Random(f"{self.seed}:{source}:{index}:body")
        template = head.template
        kicker = rng.choice(tb.KICKERS) if rng.random() < 0.2 else None
        if template in ("mediatech", "javaplatform", "onecms"):
            kicker = None  # the families' pages seen show none (a category label is not a kicker)
        body = self._body(rng, template, info.places, info.date_style, _image_base(template, head.published))
        byline = self._byline(rng, template)
        related = tuple(
            Related(h.url, h.title)
            for h in (self.headline(source, j) for j in self._related_indices(source, index, rng))
        )
        tags = tuple(rng.sample(tb.TAGS, rng.randint(2, 4))) if source != "baocantho" else ()
        title_break = None
        if template == "baocantho" and rng.random() < 0.5:
            spaces = [n for n, c in enumerate(head.title) if c == " "]
            title_break = spaces[len(spaces) // 2] if spaces else None
        return ArticleSpec(
            source=source, article_id=head.article_id, url=head.url, template=template,
            category=head.category, show_breadcrumb=not (source == "baocantho" and rng.random() < 0.05),
            published=head.published, kicker=kicker, title=head.title, sapo=head.sapo, body=body,
            byline=byline, tags=tags, related=related, title_break=title_break,
        )

    def _related_indices(self, source: str, index: int, rng: random.Random) -> list[int]:
        """Older articles only, so a page never changes when newer ones are published."""
        picks = sorted({index - d for d in (1, 2, 3, rng.randint(4, 12)) if index - d >= 0}, reverse=True)
        if len(picks) < 3 and self.catalogs[source].seed_id is not None:
            picks.append(SEED)
        return picks

    def _body(
        self, rng: random.Random, template: Template, places: tuple[str, ...], style: str, image_base: str
    ) -> tuple[Element, ...]:
        out: list[Element] = []
        layouts = FIGURE_LAYOUTS[template]
        n = rng.randint(4, 10)
        k = 0
        while k < n:
            if (k == 0 and rng.random() < 0.6) or (k > 0 and rng.random() < 0.15):
                layout = rng.choice(layouts)
                caption = tb.caption(rng, places) if rng.random() < 0.9 else None
                image = f"{image_base}{rng.getrandbits(40):010x}.jpg"
                if layout == "ct-table":
                    tail = tb.paragraph(rng, places, style) if rng.random() < 0.8 else None
                    out.append(Figure(image, caption, layout, tail))
                    k += 1
                    continue
                out.append(Figure(image, caption, layout))
            if k > 1 and rng.random() < 0.15:
                out.append(Heading(rng.choice(tb.SUBHEADINGS), rng.choice(HEADING_STYLES[template])))
            lines: tuple[str, ...] = (tb.paragraph(rng, places, style),)
            if rng.random() < 0.06:
                lines += (tb.paragraph(rng, places, style),)
            para_style: ParaStyle = rng.choice(PARA_STYLES)
            if rng.random() < 0.03:
                para_style = "nfd"
            out.append(Para(lines, para_style))
            if rng.random() < 0.08:
                out.append(ItemList(tuple(rng.sample(tb.LIST_ITEMS, rng.randint(2, 5)))))
            if template != "baocantho" and rng.random() < 0.05:
                rows = [("Chỉ tiêu", "Kế hoạch", "Thực hiện")]
                rows += [(tb.cap(rng.choice(tb.TOPICS)), f"{rng.randint(50, 900)}", f"{tb.number(rng)}%")
                         for _ in range(rng.randint(2, 4))]
                out.append(DataTable(tuple(rows)))
            if k == 1 and template in ("baocantho", "baoangiang", "hue-vdoc"):
                out.append(Noise("ad"))
            elif rng.random() < 0.12:
                out.append(Noise(rng.choice(("comment", "script", "empty"))))
            k += 1
        return tuple(out)

    def _byline(self, rng: random.Random, template: Template) -> tuple[str, ...]:
        if rng.random() < 0.12:
            return ()
        if template in ("mediatech", "javaplatform", "onecms"):  # one line, as on the real pages
            name, wire = tb.short_name(rng), rng.choice(tb.WIRE_SOURCES)
            if template == "mediatech":  # "Tạ Nguyên/Báo Tin tức"
                return rng.choice([(name,), (f"{name}/{wire}",)])
            if template == "javaplatform":  # "Theo DTO"
                return rng.choice([(name.upper(),), (f"Theo {wire}",)])
            return (name,)  # OneCMS: the header's author
        if template.startswith("hue"):
            name, other = tb.short_name(rng), tb.short_name(rng)
            return rng.choice([(f"Bài, ảnh: {name}",), (f"Bài: {name}",), (f"Tin, ảnh: {name}",),
                               (f"Bài và ảnh: {name}",), (f"Bài: {name}", f"Ảnh: {other}")])
        name, other = tb.short_name(rng).upper(), tb.short_name(rng).upper()
        wire = rng.choice(tb.WIRE_SOURCES)
        if template == "baoangiang":
            return rng.choice([(name,), (f"Theo {wire}",), (f"Bài, ảnh: {name}",), (f"Bài: {name}", f"Ảnh: {other}")])
        return rng.choice([(f"Bài, ảnh: {name}",), (f"Tin, ảnh: {name}",), (f"Bài: {name}", f"Ảnh: {other}"),
                           (name,), (f"{name} (Theo {wire})",)])
