"""Safe XML parsing for feeds and sitemaps: no DTD entities, no external entities, bounded size.

Expat is told to refuse any entity declaration and any external entity reference
(the defusedxml approach), so a "billion laughs" or an XXE document is an
:class:`UnsafeXMLError`, never an expansion or a file read.
"""

from __future__ import annotations

import zlib
from xml.etree import ElementTree
from xml.parsers import expat

from crawler.errors import CrawlerError

MAX_XML_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit for one file


class XMLFormatError(CrawlerError):
    """The bytes are not well-formed XML."""


class UnsafeXMLError(XMLFormatError):
    """The document declares entities or refers to external ones: refused."""


def _refuse_entity(*_args: object) -> None:
    raise UnsafeXMLError("XML entity declarations are refused (entity expansion / external entity attack)")


def _refuse_external(*_args: object) -> bool:
    raise UnsafeXMLError("XML external entity references are refused")


def maybe_gunzip(data: bytes, limit: int = MAX_XML_BYTES) -> bytes:
    """Sitemaps are often served as ``.xml.gz``: decompress with a size cap (gzip bombs stop here)."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as err:
        raise XMLFormatError(f"invalid gzip data: {err}") from err
    if len(out) > limit:
        raise XMLFormatError(f"decompressed XML exceeds {limit} bytes")
    return out


def parse_xml(data: bytes) -> ElementTree.Element:
    """Parse untrusted XML bytes into an element tree, refusing entities."""
    data = maybe_gunzip(data)
    if len(data) > MAX_XML_BYTES:
        raise XMLFormatError(f"XML document exceeds {MAX_XML_BYTES} bytes")
    builder = ElementTree.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.StartElementHandler = lambda name, attrs: builder.start(
        _qualify(name), {_qualify(k): v for k, v in attrs.items()}
    )
    parser.EndElementHandler = lambda name: builder.end(_qualify(name))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data.lstrip(), True)
        return builder.close()
    except expat.ExpatError as err:
        raise XMLFormatError(f"not well-formed XML: {err}") from err
    except AssertionError as err:  # TreeBuilder on a document with no root element
        raise XMLFormatError("not well-formed XML: no root element") from err


def _qualify(name: str) -> str:
    """expat's ``namespace}local`` -> ElementTree's ``{namespace}local``."""
    return "{" + name if "}" in name else name


def local(tag: str) -> str:
    """``{namespace}name`` -> ``name``."""
    return tag.rsplit("}", 1)[-1]


__all__ = ["MAX_XML_BYTES", "UnsafeXMLError", "XMLFormatError", "local", "maybe_gunzip", "parse_xml"]
