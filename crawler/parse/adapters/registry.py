"""The adapters by short name: the one place that knows every adapter class.

``sources.yaml`` names an adapter per source (``adapter: vdoc``); :func:`get_adapter` binds that
adapter to its source. The contract adapters follow is :class:`crawler.parse.adapters.base.Adapter`;
the base module knows none of its implementations. Adding an adapter: a module beside ``vdoc.py``,
a line in :data:`ADAPTERS`, and its name in :data:`crawler.config.KNOWN_ADAPTERS` (which the
configuration checks before any adapter is imported; a test keeps the two equal).

Every family adapter is bound with the ``generic`` adapter behind it (:class:`WithGenericFallback`):
a page its selectors and text anchors cannot read is read by content density and says
``rules["template"] == "generic"`` (with the family kept in ``rules["family"]``), so a redesign shows
as a shift of templates in the run summary and in ``crawler report``, not as a collapse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from crawler.config import SourceConfig
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters.base import Adapter
from crawler.parse.adapters.bbg import BbgAdapter
from crawler.parse.adapters.generic import GenericAdapter
from crawler.parse.adapters.hue import HueAdapter
from crawler.parse.adapters.javaplatform import JavaplatformAdapter
from crawler.parse.adapters.mediatech import MediatechAdapter
from crawler.parse.adapters.onecms import OnecmsAdapter
from crawler.parse.adapters.vdoc import VdocAdapter

ADAPTERS: dict[str, Callable[[SourceConfig], Adapter]] = {
    "vdoc": VdocAdapter, "hue": HueAdapter, "mediatech": MediatechAdapter, "onecms": OnecmsAdapter,
    "javaplatform": JavaplatformAdapter, "bbg": BbgAdapter, "generic": GenericAdapter,
}


class WithGenericFallback:
    """A family adapter, and the generic adapter for the pages it cannot read."""

    def __init__(self, family: Adapter, source: SourceConfig) -> None:
        self.family = family
        self.source = source
        self.generic = GenericAdapter(source)

    def parse_listing(self, html: bytes | str, url: str) -> ListingPage:
        return self.family.parse_listing(html, url)

    def parse_article(self, html: bytes | str, url: str) -> Article | ExtractionFailure:
        result = self.family.parse_article(html, url)
        if isinstance(result, Article):
            return result
        fallback = self.generic.parse_article(html, url)
        if not isinstance(fallback, Article):
            return result
        rules = {**fallback.rules, "family": self.source.adapter, "family_miss": f"{result.field}: {result.reason}"}
        return replace(fallback, rules=rules)


def get_adapter(source: SourceConfig) -> Adapter:
    """The adapter named by ``source.adapter``, bound to the source (with the generic one behind it)."""
    adapter = ADAPTERS[source.adapter](source)
    return adapter if source.adapter == "generic" else WithGenericFallback(adapter, source)
