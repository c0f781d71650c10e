"""Hypothesis: thousands of mutated pages, feeds and sitemaps give documented results or errors only.

Documented outcomes: an adapter returns an Article or an ExtractionFailure; a listing
parse returns a ListingPage; feed and sitemap parsers return entries or raise
XMLFormatError (UnsafeXMLError for entity declarations); the normalizer returns
canonical text.  Anything else (a crash, a hang, a path outside the archive) fails.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.archive.snapshots import snapshot_relpath
from crawler.config import Sources, load_sources
from crawler.discovery import XMLFormatError, parse_feed, parse_sitemap
from crawler.errors import ArchiveError
from crawler.models import Article, ExtractionFailure, ListingPage
from crawler.parse.adapters import get_adapter
from crawler.parse.normalize import SHARE_LABEL, canonical_blocks, clean_line, decode_html, render_snapshot

from .conftest import FIXTURES, ROOT

SOURCES: Sources = load_sources(ROOT / "sources.yaml")
PAGES = [
    ("https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html",
     (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()),
    ("https://baoangiang.com.vn/ly-do-khong-nen-ngoay-tai-thuong-xuyen-a367201.html",
     (FIXTURES / "real" / "baoangiang-a367201.html").read_bytes()),
    ("https://baocantho.com.vn/khac-phuc-a136049.html", (FIXTURES / "seeds" / "seed-baocantho.html").read_bytes()),
    ("https://baothuathienhue.vn/chinh-tri-xa-hoi/theo-dong-thoi-su/huy-dong-106825.html",
     (FIXTURES / "seeds" / "seed-hue.html").read_bytes()),
]
FUZZ = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SNIPPETS = [b"<", b">", b"</p>", b"<p>", b"<table>", b"</div>", b"<br>", b"&nbsp;", b"<!--", b"-->", b"\x00",
            b"\xff\xfe", b"\xe1\xba", b"<script>", b"</h1>", b"<h1>", b"Chia s\xe1\xba\xbb b\xc3\xa0i vi\xe1\xba\xbft",
            b"09/03/2022 - 19:50", b"99/99/9999 - 99:99", b"<span class=pubdate>", b"<div id=newscontents>",
            b"TTH.VN - ", b"B\xc3\xa0i, \xe1\xba\xa3nh: ", b"<p align=right>", b"<img src='x'>", b"\r\n"]


def mutate(data: bytes, rng: random.Random, edits: int) -> bytes:
    buf = bytearray(data)
    for _ in range(edits):
        op = rng.randrange(4)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:  # delete a span
            del buf[pos : pos + rng.randrange(1, 400)]
        elif op == 1:  # insert a markup or text snippet
            buf[pos:pos] = rng.choice(SNIPPETS)
        elif op == 2 and buf:  # flip bytes
            for i in range(pos, min(len(buf), pos + rng.randrange(1, 8))):
                buf[i] = rng.randrange(256)
        else:  # duplicate a span elsewhere
            start = rng.randrange(len(buf) + 1)
            buf[pos:pos] = buf[start : start + rng.randrange(1, 300)]
    return bytes(buf)


def check_article(result: object) -> None:
    assert isinstance(result, Article | ExtractionFailure), type(result)
    if isinstance(result, ExtractionFailure):
        assert result.field in ("title", "date", "body", "article_id")
        return
    text = render_snapshot(result)
    blocks = text.split("\n\n")
    assert blocks[-1] == SHARE_LABEL
    assert canonical_blocks(text) == blocks
    assert result.title and result.body
    snapshot_relpath(result.source, result.article_id, result.published)  # a safe path, or ArchiveError


@FUZZ
@given(page=st.integers(0, len(PAGES) - 1), seed=st.integers(0, 2**32), edits=st.integers(1, 40))
def test_mutated_article_pages(page: int, seed: int, edits: int) -> None:
    url, data = PAGES[page]
    adapter = get_adapter(SOURCES.for_url(url))
    mutated = mutate(data, random.Random(seed), edits)
    try:
        check_article(adapter.parse_article(mutated, url))
    except ArchiveError:
        pass  # an unsafe id refused for a file name: documented
    listing = adapter.parse_listing(mutated, url)
    assert isinstance(listing, ListingPage)
    assert all(SOURCES.for_url(u) is adapter.source for u in listing.article_urls)


@FUZZ
@given(html=st.text(max_size=3000), host=st.sampled_from(["baocantho.com.vn", "huengaynay.vn", "baoangiang.com.vn"]))
def test_arbitrary_text_as_a_page(html: str, host: str) -> None:
    url = f"https://{host}/a/b-a12345.html" if host != "huengaynay.vn" else f"https://{host}/a/b-12345.html"
    adapter = get_adapter(SOURCES.for_url(url))
    check_article(adapter.parse_article(html, url))


RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><item><title>A</title>'
       b"<link>https://baocantho.com.vn/a-a1.html</link><pubDate>Sat, 21 Nov 2026 08:00:00 +0700</pubDate>"
       b"</item><item><guid>https://baocantho.com.vn/b-a2.html</guid></item></channel></rss>")
SITEMAP = (b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
           b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url><loc>https://h.vn/a-1.html</loc>'
           b"<lastmod>2026-01-01</lastmod><news:news><news:publication_date>2026-11-20T10:00:00+07:00"
           b"</news:publication_date></news:news></url></urlset>")
XML_SNIPPETS = [b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;", b"<![CDATA[", b"]]>", b"<item>", b"</item>", b"<loc>",
                b"</loc>", b"<sitemap>", b"&lt;", b"\x00", b"<?xml version='1.0'?>", b"<!ENTITY e SYSTEM 'file:///'>"]


@FUZZ
@given(seed=st.integers(0, 2**32), edits=st.integers(1, 20), which=st.sampled_from(["feed", "sitemap"]))
def test_mutated_feeds_and_sitemaps(seed: int, edits: int, which: str) -> None:
    rng = random.Random(seed)
    data = RSS if which == "feed" else SITEMAP
    buf = bytearray(mutate(data, rng, edits))
    for _ in range(rng.randrange(3)):
        pos = rng.randrange(len(buf) + 1)
        buf[pos:pos] = rng.choice(XML_SNIPPETS)
    try:
        if which == "feed":
            entries = parse_feed(bytes(buf), "https://baocantho.com.vn/rss/home.rss")
            assert all(e.url.startswith(("http://", "https://")) for e in entries)
        else:
            result = parse_sitemap(bytes(buf), "https://h.vn/sitemap.xml")
            assert all(u.url.startswith(("http://", "https://")) for u in result.urls)
    except XMLFormatError:
        pass


@FUZZ
@given(text=st.text(max_size=2000))
def test_normalizer_output_is_canonical(text: str) -> None:
    line = clean_line(text)
    assert line == line.strip() and "  " not in line and "\n" not in line and "\u00a0" not in line
    assert clean_line(line) == line
    blocks = canonical_blocks(text)
    assert canonical_blocks("\n\n".join(blocks)) == blocks
    assert all(block and block == clean_line(block) for block in blocks)


@FUZZ
@given(data=st.binary(max_size=3000), content_type=st.sampled_from(
    [None, "text/html", "text/html; charset=utf-8", "text/html; charset=windows-1258", "text/html; charset=bogus",
     "text/html; charset=iso-8859-1"]))
def test_decode_never_raises(data: bytes, content_type: str | None) -> None:
    assert isinstance(decode_html(data, content_type), str)


@settings(max_examples=300, deadline=None)
@given(article_id=st.text(max_size=80))
def test_no_path_traversal_through_ids(article_id: str) -> None:
    from datetime import datetime, timedelta, timezone

    try:
        rel = snapshot_relpath("baocantho", article_id, datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=7))))
    except ArchiveError:
        return
    assert ".." not in rel.parts and not rel.is_absolute() and len(rel.parts) == 5
    assert Path("/archive", rel).resolve().is_relative_to("/archive/text/baocantho")
