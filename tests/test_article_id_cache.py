"""``SourceConfig.article_id`` answers from a cache per URL and rules (issue 22: CPU per page of a crawl).

The answer must be the rule's, for every source and URL, and one source's answer never another's: the
cache is keyed by the fields the rule reads (hosts, aliases, patterns, id shapes).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.config import SourceConfig, _compiled, load_sources
from crawler.net.urls import host_key, valid_article_id
from tests.conftest import ROOT

SOURCES = load_sources(ROOT / "sources.yaml")
MIRRORED = SOURCES.with_origins({s.hosts[0]: f"http://127.0.0.1:{8000 + n}" for n, s in enumerate(SOURCES)})
ALL = [*SOURCES, *MIRRORED]


def plain_article_id(source: SourceConfig, url: str) -> str | None:
    """The rule as it was written before the cache."""
    key = host_key(url)
    if not (bool(key) and (key in source.hosts or (bool(source.aliases) and key in source.aliases))):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    path, query = parts.path, parts.query
    shapes = source.article_id_shapes
    for n, (pattern, wants_query) in enumerate(_compiled(source.article_url_patterns)):
        match = pattern.search(f"{path}?{query}" if wants_query else path)
        if match is not None:
            shape, prefix = shapes[n] if n < len(shapes) else ("decimal", "")
            return valid_article_id(match.group("id"), shape, prefix)
    return None


ORIGINS = ["https://" + h for s in SOURCES for h in s.hosts] + ["http://127.0.0.1:8000", "http://127.0.0.1:8001",
                                                                "https://other.vn", "http://[::1"]
PATHS = ["/a-a123.html", "/x-123.html", "/tin-tuc/abc-1234567.htm", "/amp.aspx?newid=42", "/?id=7", "/0123.html",
         "/news/x-post999.html", "/a/b/c-99999999999999999999.html", "/-ab12cd.html", "/", ""]


@settings(max_examples=500)
@given(st.sampled_from(ALL), st.sampled_from(ORIGINS),
       st.one_of(st.sampled_from(PATHS), st.text(max_size=30).map(lambda t: "/" + t)))
def test_the_cached_article_id_is_the_rules(source: SourceConfig, origin: str, path: str) -> None:
    url = origin + path
    expected = plain_article_id(source, url)
    assert source.article_id(url) == expected
    assert source.article_id(url) == expected  # answered from the cache
    for other in ALL:  # the same URL under every other source's rules: their own answers
        assert other.article_id(url) == plain_article_id(other, url)
