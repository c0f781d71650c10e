"""Feeds, sitemaps and robots.txt: parsing, and refusing unsafe XML."""

from __future__ import annotations

import gzip

import pytest

from crawler.discovery import UnsafeXMLError, XMLFormatError, parse_feed, parse_sitemap
from crawler.net.robots import Robots, agent_token

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>B\xc3\xa1o</title>
<item><title>A</title><link>https://baocantho.com.vn/a-a2.html</link>
<pubDate>Sat, 21 Nov 2026 08:00:00 +0700</pubDate></item>
<item><title>B</title><guid>https://baocantho.com.vn/b-a1.html</guid></item>
</channel></rss>"""

ATOM = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" href="/x-123.html"/>
<updated>2026-11-21T08:00:00Z</updated></entry></feed>"""


def test_rss_and_atom() -> None:
    entries = parse_feed(RSS, "https://baocantho.com.vn/rss/home.rss")
    assert [e.url for e in entries] == ["https://baocantho.com.vn/a-a2.html", "https://baocantho.com.vn/b-a1.html"]
    assert entries[0].published is not None and entries[0].published.isoformat() == "2026-11-21T08:00:00+07:00"
    assert entries[1].published is None
    atom = parse_feed(ATOM, "https://huengaynay.vn/rss/x.rss")
    assert atom[0].url == "https://huengaynay.vn/x-123.html"


def test_sitemap_index_news_and_gzip() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>https://h.vn/s1.xml.gz</loc></sitemap></sitemapindex>"""
    assert parse_sitemap(index, "https://h.vn/sitemap.xml").sitemaps == ["https://h.vn/s1.xml.gz"]
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://h.vn/a-1.html</loc><lastmod>2026-01-01</lastmod>
      <news:news><news:publication_date>2026-11-20T10:00:00+07:00</news:publication_date></news:news></url>
      <url><loc> https://h.vn/b-2.html </loc></url></urlset>"""
    result = parse_sitemap(gzip.compress(news), "https://h.vn/s1.xml.gz")
    assert [u.url for u in result.urls] == ["https://h.vn/a-1.html", "https://h.vn/b-2.html"]
    first = result.urls[0].published
    assert first is not None and first.isoformat() == "2026-11-20T10:00:00+07:00"


BOMB = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<rss><channel><item><link>&lol2;</link></item></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset><url><loc>&xxe;</loc></url></urlset>"""


@pytest.mark.parametrize("data", [BOMB, XXE])
def test_entities_are_refused(data: bytes) -> None:
    with pytest.raises(UnsafeXMLError):
        parse_feed(data, "https://h.vn/f")
    with pytest.raises(UnsafeXMLError):
        parse_sitemap(data, "https://h.vn/s")


@pytest.mark.parametrize("data", [b"", b"<html><body>not xml", b"<rss><channel>", b"<urlset/>" * 2, b"\x1f\x8bxx"])
def test_malformed_xml_is_a_format_error(data: bytes) -> None:
    with pytest.raises(XMLFormatError):
        parse_sitemap(data, "https://h.vn/s")


def test_gzip_bomb_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.discovery import xmlsafe

    monkeypatch.setattr(xmlsafe, "MAX_XML_BYTES", 1000)
    with pytest.raises(XMLFormatError, match="exceeds"):
        xmlsafe.maybe_gunzip(gzip.compress(b"<urlset>" + b" " * 10_000 + b"</urlset>"), 1000)


def test_robots() -> None:
    agent = agent_token("crawler/0.1.0 (+https://example.org)")
    assert agent == "crawler"
    robots = Robots.parse("User-agent: *\nDisallow: /print/\nCrawl-delay: 3\nSitemap: https://h.vn/sm.xml\n"
                          "User-agent: crawler\nDisallow: /tim-kiem\nCrawl-delay: 2\n", agent)
    assert not robots.allowed("https://h.vn/tim-kiem?q=x")
    assert robots.allowed("https://h.vn/print/x")  # our group replaces the * group
    assert robots.crawl_delay == 2.0
    assert robots.sitemaps == ["https://h.vn/sm.xml"]
    assert Robots.allow_all().allowed("https://h.vn/anything") and Robots.allow_all().crawl_delay is None
