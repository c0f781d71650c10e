"""Parsing: a page's bytes and URL -> an :class:`~crawler.models.Article` or a listing (sans-io).

Owns: the adapters, one per CMS family, looked up by short name (:mod:`.adapters`), the
response-to-article step with its charset choice and parse-time guard (:mod:`.extraction`,
:mod:`.htmlguard`), and the snapshot format of FORMAT.md (:mod:`.normalize`).
May import: :mod:`crawler.config`, :mod:`crawler.net` (URL helpers only), the base; never the
archive, the crawl or anything that does I/O (a test keeps the adapters sans-io).
Offers: :func:`~crawler.parse.adapters.get_adapter`, :func:`~crawler.parse.extraction.parse_response`,
:func:`~crawler.parse.normalize.render_snapshot`.
"""
