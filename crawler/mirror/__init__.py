"""The offline mirror: a replica of the news portals served on 127.0.0.1 for tests and demos.

No machine here reaches the internet, so integration tests and ``crawler demo``
crawl this mirror instead.  It serves four hosts, each on its own port:
``baocantho.com.vn`` (source ``baocantho``), ``baoangiang.com.vn`` (``baoangiang``),
``baothuathienhue.vn`` and ``huengaynay.vn`` (both ``hue``).  It models the real sites as
their home pages showed them on 2026-05-16 (``tests/fixtures/real/*-home-2026-05.html``):
the same menus, teaser markup and link shapes, and Huế's three CMS eras (VDOC and category
paths on ``baothuathienhue.vn``, DotNetNuke on ``huengaynay.vn``; see :mod:`crawler.mirror.site`
for which host serves what, and the choice about the old host's redirects).

Every link in a served page points at the mirror origin of its host, so a browser or a
crawler given the mirror's URLs stays on the mirror; a request whose ``Host`` header names
the real host (a client connecting in the real site's place) gets the real URLs instead.

::

    with Mirror(articles=60, seed=1) as mirror:
        url = mirror.article_url("baocantho", mirror.article_ids("baocantho")[0])
        expected = mirror.expected_snapshot("baocantho", "136049")

Modules, in the order a request meets them::

    server.py     sockets: HTTP/1.1 parser, keep-alive, request log (background thread)
    faults.py     the fault-injection seam the server consults per request
    responses.py  HTTP semantics: validators, 304, gzip, chunked framing
    site.py       routing: (host, target) -> Page, page cache, origin rewriting
    listings.py, feeds.py, templates_vdoc.py, templates_hue.py, html_body.py   markup
    chrome.py     headers, menus and footers after the real 2026 home pages
    generator.py  (seed, source, index) -> ArticleSpec, from text_bank.py
    catalog.py    per-source arithmetic: ids, dates, categories, listings
    sources.py    hosts, category trees, id ranges
    spec.py       the structured article description
    snapshot.py   ArticleSpec -> FORMAT.md text (the oracle)
    seeds.py      the two hand-written seed pages (data/seed-*.html, data/seed-*.json)
    export.py     static export for nginx (benchmarks)
"""

from crawler.mirror.mirror import Mirror, serve
from crawler.mirror.server import RequestLogEntry
from crawler.mirror.snapshot import canonical_blocks

__all__ = ["Mirror", "RequestLogEntry", "canonical_blocks", "serve"]
