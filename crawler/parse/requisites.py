"""The page requisites an HTML page or a stylesheet names: stylesheets, fonts and images (no scripts).

Pure functions over bytes (no network), for :mod:`crawler.crawl.requisites`:

- :func:`html_requisites`: ``<link rel="stylesheet">`` (not ``preload``, ``alternate`` or print-only
  sheets), ``<img src>`` and the first URL of ``srcset``, ``<link rel="icon">``, and the ``url(…)`` and
  ``@import`` of ``<style>`` blocks and ``style=""`` attributes, resolved against the page's
  ``<base href>`` as a browser does;
- :func:`css_requisites`: a stylesheet's ``@import`` and ``url(…)`` (fonts of ``@font-face``, background
  images), resolved against the stylesheet's own URL; ``data:`` URLs are not requisites.

Each list is in document order, once per URL, canonical (:func:`crawler.net.urls.absolute`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.net.urls import absolute
from crawler.parse.adapters.base import base_href, parse_html

MAX_CSS_BYTES = 2_000_000  # a stylesheet is read up to this many bytes for its URLs

_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)


def css_requisites(css: bytes | str, url: str) -> list[str]:
    """The URLs a stylesheet at ``url`` names (``@import`` and ``url(…)``), in order, once each."""
    text = css.decode("utf-8", "replace") if isinstance(css, bytes) else css
    text = _CSS_COMMENT.sub(" ", text[:MAX_CSS_BYTES])
    found: list[tuple[int, str]] = []
    for pattern in (_CSS_URL, _CSS_IMPORT):
        for match in pattern.finditer(text):
            found.append((match.start(), next(g for g in match.groups() if g is not None)))
    return _unique(url, (href for _, href in sorted(found)))


def html_requisites(html: bytes | str, url: str) -> list[str]:
    """The stylesheets, images and icons an HTML page at ``url`` needs to be shown, in order, once each."""
    tree = parse_html(html)
    base = base_href(tree, url)
    hrefs: list[str] = []
    for node in tree.css("link[href], img, style, [style]"):
        tag = node.tag
        attrs = node.attributes
        if tag == "link":
            rel = (attrs.get("rel") or "").lower().split()
            media = (attrs.get("media") or "all").lower()
            if ("stylesheet" in rel and "alternate" not in rel and media.strip() != "print") or "icon" in rel:
                hrefs.append(attrs.get("href") or "")
        elif tag == "img":
            src = attrs.get("src") or ""
            srcset = (attrs.get("srcset") or "").strip()
            hrefs.append(src if src else srcset.split(",")[0].split()[0] if srcset else "")
        elif tag == "style":
            hrefs.extend(_raw_css_urls(node.text()))
        if tag != "style" and attrs.get("style"):
            hrefs.extend(_raw_css_urls(attrs.get("style") or ""))
    return _unique(base, hrefs)


def _raw_css_urls(text: str) -> list[str]:
    text = _CSS_COMMENT.sub(" ", text)
    found = [(m.start(), next(g for g in m.groups() if g is not None)) for p in (_CSS_URL, _CSS_IMPORT)
             for m in p.finditer(text)]
    return [href for _, href in sorted(found)]


def _unique(base: str, hrefs: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for href in hrefs:
        if not href.strip() or href.strip().startswith("data:"):
            continue
        resolved = absolute(base, href)
        if resolved is not None:
            out.setdefault(resolved, None)
    return list(out)
