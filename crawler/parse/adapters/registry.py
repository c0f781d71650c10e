"""The adapters by short name: the one place that knows every adapter class.

``sources.yaml`` names an adapter per source (``adapter: vdoc``); :func:`get_adapter` binds that
adapter to its source. The contract adapters follow is :class:`crawler.parse.adapters.base.Adapter`;
the base module knows none of its implementations. Adding an adapter: a module beside ``vdoc.py``,
a line in :data:`ADAPTERS`, and its name in :data:`crawler.config.KNOWN_ADAPTERS` (which the
configuration checks before any adapter is imported; a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Callable

from crawler.config import SourceConfig
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


def get_adapter(source: SourceConfig) -> Adapter:
    """The adapter named by ``source.adapter``, bound to the source."""
    return ADAPTERS[source.adapter](source)
