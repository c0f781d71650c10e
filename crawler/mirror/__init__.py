"""The offline mirror: a replica of the news portals served on 127.0.0.1 for tests and demos.

No machine here reaches the internet, so integration tests and ``crawler demo``
crawl this mirror instead.  It serves four hosts, each on its own port:
``baocantho.com.vn`` (source ``baocantho``), ``baoangiang.com.vn`` (``baoangiang``),
``baothuathienhue.vn`` and ``huengaynay.vn`` (both ``hue``).  Every link in a served
page points at the mirror origin of its host, so a crawler stays on the mirror.

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
    generator.py  (seed, source, index) -> ArticleSpec, from text_bank.py
    catalog.py    per-source arithmetic: ids, dates, categories, listings
    sources.py    hosts, category trees, id ranges
    spec.py       the structured article description
    snapshot.py   ArticleSpec -> FORMAT.md text (the oracle)
    seeds.py      the two hand-written seed pages (data/seed-*.html, data/seed-*.json)
"""

from crawler.mirror.mirror import Mirror, serve
from crawler.mirror.server import RequestLogEntry
from crawler.mirror.snapshot import canonical_blocks

__all__ = ["Mirror", "RequestLogEntry", "canonical_blocks", "serve"]
