"""The two hand-made seed articles: their structured description and their page.

Part of the offline mirror.  ``data/seed-<source>.json`` is the structured
description (the oracle for :func:`crawler.mirror.snapshot.snapshot`), rebuilt by
hand from the sample snapshots in ``shared/seeds/``; ``data/seed-<source>.html`` is
the page in the site's markup, also written by hand, with real absolute URLs
(``https://baocantho.com.vn/...``) that the server rewrites to mirror origins.

The seed URLs (paths on the real host, id 136049 and 106825):

- ``baocantho``: ``baocantho.com.vn``
  ``/khac-phuc-tinh-trang-tren-nong-duoi-lanh-tren-quyet-liet-duoi-tho-o--a136049.html``
- ``hue``: ``baothuathienhue.vn``
  ``/huy-dong-suc-manh-xa-hoi-va-cac-tang-lop-nhan-dan-trong-thuc-hien-nghi-quyet-a106825.html``:
  March 2022, Huế's VDOC era (SITES.md), so a VDOC page in the layout a public scraper of
  that era implies (``#colcate1``, the date in ``#clear span``, the lead a plain ``<p>``, the
  body in ``#newscontents``, ``#txtnewsid``); on ``huengaynay.vn`` the same article answers
  under ``/chinh-tri-xa-hoi/theo-dong-thoi-su/<slug>-106825.html`` in the DotNetNuke template.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, cast

from crawler.mirror.spec import (
    ArticleSpec,
    Category,
    DataTable,
    Element,
    Figure,
    Heading,
    ItemList,
    Noise,
    Para,
    Template,
)

SEED_SOURCES = ("baocantho", "hue")


def _data(name: str) -> bytes:
    return resources.files("crawler.mirror").joinpath("data").joinpath(name).read_bytes()


def _element(raw: dict[str, Any]) -> Element:
    kind = raw["type"]
    if kind == "para":
        return Para(tuple(raw["lines"]), raw.get("style", "plain"))
    if kind == "heading":
        return Heading(raw["text"], raw.get("style", "strong"))
    if kind == "list":
        return ItemList(tuple(raw["items"]))
    if kind == "figure":
        return Figure(raw["image"], raw.get("caption"), raw["layout"], raw.get("tail"))
    if kind == "table":
        return DataTable(tuple(tuple(row) for row in raw["rows"]))
    if kind == "noise":
        return Noise(raw["kind"])
    raise ValueError(f"unknown seed element type {kind!r}")


@cache
def seed_spec(source: str) -> ArticleSpec:
    """The structured description of a source's seed article (KeyError if it has none)."""
    if source not in SEED_SOURCES:
        raise KeyError(source)
    raw = json.loads(_data(f"seed-{source}.json"))
    cat = raw["category"]
    return ArticleSpec(
        source=raw["source"],
        article_id=raw["article_id"],
        url=raw["url"],
        template=cast(Template, raw["template"]),
        category=Category(cat["slug"], cat["name"], cat.get("sub"), cat.get("sub_name")),
        show_breadcrumb=raw["show_breadcrumb"],
        published=datetime.fromisoformat(raw["published"]),
        kicker=raw.get("kicker"),
        title=raw["title"],
        sapo=raw.get("sapo"),
        body=tuple(_element(e) for e in raw["body"]),
        byline=tuple(raw["byline"]),
    )


@cache
def seed_page(source: str) -> bytes:
    """The hand-written HTML of a source's seed article, with real absolute URLs."""
    if source not in SEED_SOURCES:
        raise KeyError(source)
    return _data(f"seed-{source}.html")
