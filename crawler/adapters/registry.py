"""The adapters by short name: the one place that knows every adapter class.

``sources.yaml`` names an adapter per source (``adapter: vdoc``); :func:`get_adapter` binds that
adapter to its source. The contract adapters follow is :class:`crawler.adapters.base.Adapter`;
the base module knows none of its implementations. Adding an adapter: a module beside ``vdoc.py``,
a line in :data:`ADAPTERS`, and its name in :data:`crawler.config.KNOWN_ADAPTERS` (which the
configuration checks before any adapter is imported; a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Callable

from crawler.adapters.base import Adapter
from crawler.adapters.hue import HueAdapter
from crawler.adapters.mediatech import MediatechAdapter
from crawler.adapters.onecms import OnecmsAdapter
from crawler.adapters.vdoc import VdocAdapter
from crawler.config import SourceConfig

ADAPTERS: dict[str, Callable[[SourceConfig], Adapter]] = {
    "vdoc": VdocAdapter, "hue": HueAdapter, "mediatech": MediatechAdapter, "onecms": OnecmsAdapter,
}


def get_adapter(source: SourceConfig) -> Adapter:
    """The adapter named by ``source.adapter``, bound to the source."""
    return ADAPTERS[source.adapter](source)
