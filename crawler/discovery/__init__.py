"""Discovery: bytes + URL -> candidate article URLs (feeds, sitemaps); pure, no I/O."""

from crawler.discovery.feeds import FeedEntry, parse_feed
from crawler.discovery.sitemaps import SitemapResult, parse_sitemap
from crawler.discovery.xmlsafe import UnsafeXMLError, XMLFormatError

__all__ = ["FeedEntry", "SitemapResult", "UnsafeXMLError", "XMLFormatError", "parse_feed", "parse_sitemap"]
