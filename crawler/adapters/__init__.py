"""Per-source adapters: sans-io page parsers, looked up by short name (``vdoc``, ``hue``)."""

from crawler.adapters.base import Adapter, get_adapter

__all__ = ["Adapter", "get_adapter"]
