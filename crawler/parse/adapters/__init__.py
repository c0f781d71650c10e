"""Per-source adapters: sans-io page parsers, looked up by short name (``vdoc``, ``hue``, ``javaplatform``, ``bbg``)."""

from crawler.parse.adapters.base import Adapter
from crawler.parse.adapters.registry import ADAPTERS, get_adapter

__all__ = ["ADAPTERS", "Adapter", "get_adapter"]
