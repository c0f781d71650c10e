"""Response body -> article: charset, the parse-time guard, and the source's adapter (pure, no I/O).

Used alike by the archive worker (crawl, fetch), ``crawler parse`` and ``crawler replay``, so
that every entry point gets the same snapshot from the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters import Adapter, get_adapter
from crawler.parse.htmlguard import complexity_problem
from crawler.parse.normalize import choose_charset, decode_html


def parse_response(adapter: Adapter, content: bytes, content_type: str | None, url: str) -> Article | ExtractionFailure:
    """Run the adapter on a response body, decoded per its header charset, meta tag or detection.

    A page the parser would take too long over (:mod:`crawler.parse.htmlguard`) is a failure of the
    ``html`` field.  UTF-8 bodies are handed over as bytes (the HTML parser reads them natively);
    others as text.

    The article id is the URL's (:meth:`~crawler.config.SourceConfig.article_id`, validated where the
    URL entered): a page whose own id field (``#txtnewsid``, or whatever the adapter read) names
    another id is a failure of the ``article_id`` field (:func:`id_mismatch`), never that other article.
    """
    problem = complexity_problem(content)
    if problem is not None:
        return ExtractionFailure(source=adapter.source.key, url=url, field="html", reason=problem)
    if choose_charset(content, content_type) == "utf-8":
        parsed = adapter.parse_article(content, url)
    else:
        parsed = adapter.parse_article(decode_html(content, content_type), url)
    if isinstance(parsed, Article):
        mismatch = id_mismatch(parsed, adapter.source.article_id(url))
        if mismatch is not None:
            return mismatch
    return parsed


def id_mismatch(article: Article, url_id: str | None) -> ExtractionFailure | None:
    """A failure when ``article`` (parsed from a page) names another id than ``url_id``, its URL's; else None.

    ``url_id`` None (a URL with no id of the source's shape) leaves the page's id alone: nothing contradicts it.
    """
    if url_id is None or article.article_id == url_id:
        return None
    rule = article.rules.get("article_id", "the page")
    return ExtractionFailure(source=article.source, url=article.url, field="article_id", reason=(
        f"id mismatch: the page names article {article.article_id} ({rule}) but its URL names {url_id}; "
        f"not stored as another article"))


def parse_listing_response(adapter: Adapter, content: bytes, content_type: str | None, url: str) -> ListingPage:
    """The adapter's reading of a listing page, decoded as :func:`parse_response` decodes an article."""
    if choose_charset(content, content_type) == "utf-8":
        return adapter.parse_listing(content, url)
    return adapter.parse_listing(decode_html(content, content_type), url)


class Extraction:
    """Adapters for a set of sources (built once each), and the archive directory they serve."""

    def __init__(self, root: Path, sources: Iterable[SourceConfig]) -> None:
        self.root = root
        self.sources = {source.key: source for source in sources}
        self._adapters: dict[tuple[str, str | None], Adapter] = {}

    def adapter(self, key: str, extra_host: str | None = None) -> Adapter:
        """The source's adapter; ``extra_host``: a host the article URL redirected to, outside the source."""
        adapter = self._adapters.get((key, extra_host))
        if adapter is None:
            source = self.sources[key]
            if extra_host is not None:
                source = replace(source, hosts=(*source.hosts, extra_host))
            adapter = self._adapters[(key, extra_host)] = get_adapter(source)
        return adapter
