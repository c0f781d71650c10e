"""The mirror's page requisites: the stylesheet its pages link, the font and background image it names.

Part of the offline mirror.  Every path ending in ``.css`` on a portal's host or file host
(``/static/templates/version1/homepage/css/bootstrap.min.css`` behind the VDOC pages' ``<base
href>``, DotNetNuke's ``/Resources/Shared/stylesheets/dnndefault/7.0.0/default.css``) serves one
stylesheet per host, which names, relative to itself, a web font (``fonts/site.woff2``, served
as a few bytes of ``font/woff2``) and a background image (``images/bg-header.png``, a generated
PNG: :mod:`crawler.mirror.images`), so that ``crawl --requisites`` has the three kinds of
requisite to archive and a replay tool a page that looks styled.  Same path, same bytes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from crawler.mirror.images import image_page
from crawler.mirror.responses import Page

CSS = "text/css; charset=utf-8"
FONT = "font/woff2"
_CSS_PATH = re.compile(r"^/[A-Za-z0-9_./-]+\.css$")
_FONT_PATH = re.compile(r"^/[A-Za-z0-9_./-]+\.woff2?$")
_BACKGROUND_PATH = re.compile(r"^/[A-Za-z0-9_./-]*/images/bg-[a-z-]+\.png$")
_LAST_MODIFIED = datetime(2024, 1, 1, tzinfo=UTC)
# The portals' own pictures (logos, icons, thumbnails: /image/news/…/213057.webp, /file/<hex>/logo.png): the
# pages and stylesheets link them, so ``--requisites`` asks for them; served as generated images.
_SITE_IMAGE = re.compile(r"^/[A-Za-z0-9_./%-]+\.(?:png|jpe?g|gif|webp|svg|ico)$", re.IGNORECASE)

_STYLESHEET = """@charset "utf-8";
/* {host}: the mirror's stylesheet */
@font-face {{ font-family: "SiteSans"; src: url("fonts/site.woff2") format("woff2"); font-display: swap; }}
html {{ background: #efe9dc; }}
body {{ font-family: "SiteSans", Georgia, serif; color: #1d1d1d; background: #fffdf8; max-width: 1080px;
  margin: 0 auto; padding: 0 24px 40px; border-left: 6px solid {accent}; line-height: 1.6; }}
header, .wapperheader, .header, #dnn_HeaderPane {{ display: block; min-height: 56px; color: #fff;
  background: {accent} url("images/bg-header.png") repeat-x; }}
header a, .wapperheader a {{ color: #fff; }}
a {{ color: {accent}; text-decoration: none; }}
h1, .title, .article-title {{ font-size: 30px; line-height: 1.25; color: {accent}; margin: 18px 0; }}
.sapo, .detail-sapo, .article-sapo {{ font-weight: bold; font-size: 18px; }}
img {{ max-width: 100%; border: 1px solid #ccc; }}
footer, .footer {{ border-top: 4px solid {accent}; margin-top: 32px; padding-top: 12px; color: #555; }}
"""


def is_static_target(target: str) -> bool:
    """Whether a request target names a stylesheet or a font of the mirror."""
    path = target.split("?", 1)[0]
    return any(p.match(path) is not None for p in (_CSS_PATH, _FONT_PATH, _BACKGROUND_PATH))


def is_site_image(target: str) -> bool:
    """Whether a request target names a picture of a portal's own host (a logo, an icon, a thumbnail)."""
    return _SITE_IMAGE.match(target.split("?", 1)[0]) is not None


def static_page(host: str, target: str) -> Page:
    """The stylesheet (one per host), the font or the background image at ``target`` on ``host``."""
    path = target.split("?", 1)[0]
    if _BACKGROUND_PATH.match(path):
        return image_page(path)
    if _CSS_PATH.match(path):
        accent = "#" + hashlib.sha256(host.encode()).hexdigest()[:6]
        return Page(200, _STYLESHEET.format(host=host, accent=accent).encode("utf-8"), CSS, _LAST_MODIFIED)
    # Not a real font: the woff2 signature and bytes of the path (a browser rejects it and uses the fallback).
    return Page(200, b"wOF2" + hashlib.sha256(path.encode()).digest() * 8, FONT, _LAST_MODIFIED)
