"""The CMS families the provincial papers sit on: how to recognise each, and what a new paper of it needs.

SITES.md ("The provincial papers beyond the seeds") is the evidence: one row per family, with the
markers a page of the family carries, the adapter that reads it, the shape of its article URLs and
its pagination.  :func:`recognise` names the family of a saved or fetched page (``crawler sources
--suggest``); a page of no known family gets the ``generic`` adapter.  Pure: bytes in, a row out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Family:
    """One CMS family: its name, the adapter that reads it, its markers and the shape of its URLs."""

    name: str
    adapter: str
    markers: tuple[re.Pattern[bytes], ...]  # any one found in the page's bytes says "this family"
    article_url_pattern: str | list[dict[str, str]]  # as sources.yaml writes it (a dict names an id shape)
    pagination: str
    note: str = ""


def _markers(*patterns: str) -> tuple[re.Pattern[bytes], ...]:
    return tuple(re.compile(p.encode(), re.IGNORECASE) for p in patterns)


FAMILIES: tuple[Family, ...] = (
    Family("vdoc", "vdoc", _markers(r"vdoc\.com\.vn", r"/static/templates/version1/homepage/"),
           r"^/[^/]+-a(?P<id>[0-9]+)\.html$", "query:p"),
    Family("mediatech", "mediatech",
           _markers(r'<meta\s+name="author"\s+content="MEDIATECH"', r"/themes/frontend/[a-z0-9_-]+/"),
           r"^/[^/]+-(?P<id>[0-9]{5,})\.html$", "query:page"),
    Family("java-platform", "javaplatform",
           _markers(r"ff8080815e5b41fb015e5b817a510004", r"/common/v[12]/"),
           [{"pattern": r"^/(?:[a-z0-9-]+/)*[a-z0-9-]+?/?(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])/[^/]+-"
                        r"(?P<id>[0-9a-fA-F]{7})/?$", "id": "hex"}], "none"),
    Family("onecms", "onecms", _markers(r"\.1cdn\.vn/", r"sc-longform-header"),
           r"^/[^/]+-(?P<id>[0-9]{6,8})\.html$", "query:page"),
    Family("dotnetnuke", "hue", _markers(r"dnn_ctr[0-9]", r"DnnModule-", r"/Portals/_default/"),
           r"^/(?!video/|topic/|tim-kiem)(?:[a-z0-9-]+/){1,2}[a-z0-9-]+-(?P<id>[0-9]{4,})\.html$", "path:p",
           "the DotNetNuke news module is read as Huế's (adapter hue; SITES.md: its article page is unverified)"),
    Family("bbg", "bbg", _markers(r"-postid[0-9]+\.bbg"),
           r"^/(?:[^/]+/)*[^/]*-postid(?P<id>[0-9]+)\.bbg$", "none",
           "Bắc Ninh's own CMS: its article markup has not been seen (articles are read by text anchors)"),
)
UNKNOWN = Family("unknown", "generic", (), r"^/[^/]+-(?P<id>[0-9]{4,})\.html$", "query:page",
                 "no known CMS family recognised: the generic adapter, and an article URL pattern to check by hand")


def recognise(html: bytes) -> Family:
    """The family whose markers the page carries (the first in :data:`FAMILIES` order), else :data:`UNKNOWN`."""
    for family in FAMILIES:
        if any(marker.search(html) for marker in family.markers):
            return family
    return UNKNOWN
