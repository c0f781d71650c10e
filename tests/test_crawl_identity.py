"""An article's id comes from its URL: a page that names another id is no other article (issue 17, item 4),
and an old URL that redirects to an archived article is not fetched again every run (item 20)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from crawler.cli import main
from crawler.config import Sources
from crawler.models import Article, ExtractionFailure
from crawler.parse.adapters import get_adapter
from crawler.parse.extraction import parse_response

from .conftest import FIXTURES, one_source_config, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
REAL = "https://baocantho.com.vn/chong-mu-loa-bang-thuoc-nho-mat-thay-vi-tiem-thuoc-a80443.html"


def claiming(page: bytes, article_id: str, *, title: bytes | None = None) -> bytes:
    """The fixture page with its own id field (#txtnewsid) naming ``article_id``."""
    page = page.replace(b'id="txtnewsid" value="80443"', b'id="txtnewsid" value="' + article_id.encode() + b'"')
    assert article_id == "80443" or b'value="80443"' not in page
    if title is not None:
        page = page.replace("Chống mù lòa bằng thuốc".encode(), title)
    return page


class _Site(BaseHTTPRequestHandler):
    """``/`` lists ``links``; ``pages`` maps a path to its body; ``redirects`` a path to a Location."""

    links: ClassVar[list[str]] = []
    pages: ClassVar[dict[str, bytes]] = {}
    redirects: ClassVar[dict[str, str]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        cls = type(self)
        cls.requests.append(self.path)
        if self.path == "/":
            send_html(self, "".join(f'<a href="{link}">x</a>' for link in cls.links).encode())
        elif self.path in cls.redirects:
            self.send_response(301)
            self.send_header("Location", cls.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path in cls.pages:
            send_html(self, cls.pages[self.path])
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Path]:
    _Site.links, _Site.pages, _Site.redirects, _Site.requests = [], {}, {}, []
    with serving(_Site) as port:
        yield one_source_config(tmp_path / "sources.yaml", "site", port)


def crawl(config: Path, archive: Path) -> int:
    return main(["crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--quiet"])


def catalog(archive: Path) -> list[tuple[str, int, str]]:
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        return [(str(a), int(v), str(u)) for a, v, u in
                db.execute("SELECT article_id, version, url FROM snapshots ORDER BY article_id, version")]


def frontier(archive: Path) -> dict[str, str]:
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        return {str(a): str(e) for a, e in db.execute("SELECT article_id, last_error FROM frontier")}


# -- item 4: the id hijack ---------------------------------------------------------------------------------------


def test_a_page_claiming_an_archived_id_is_not_a_new_version_of_it(site: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    _Site.links = ["/chong-mu-loa-a80443.html"]
    _Site.pages = {"/chong-mu-loa-a80443.html": ARTICLE,
                   "/gia-mao-a80444.html": claiming(ARTICLE, "80443", title="Tin giả".encode())}
    assert crawl(site, archive) == 0
    _Site.links.append("/gia-mao-a80444.html")
    crawl(site, archive)
    # 80443 keeps its one version; the claiming page is nobody's version.
    assert [(a, v) for a, v, _u in catalog(archive)] == [("80443", 1)]
    failed = frontier(archive)
    assert set(failed) == {"80444"} and "80443" in failed["80444"] and "80444" in failed["80444"]
    for _ in range(3):  # later cron runs: the claiming URL waits its turn (retry schedule), not fetched each run
        crawl(site, archive)
    assert _Site.requests.count("/gia-mao-a80444.html") == 1
    assert [(a, v) for a, v, _u in catalog(archive)] == [("80443", 1)]


def test_two_pages_naming_each_other_do_not_swap(site: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    _Site.links = ["/mot-a80443.html", "/hai-a80444.html", "/ba-a80445.html"]
    _Site.pages = {"/mot-a80443.html": claiming(ARTICLE, "80444"), "/hai-a80444.html": claiming(ARTICLE, "80443"),
                   "/ba-a80445.html": claiming(ARTICLE, "80445")}
    crawl(site, archive)
    assert [(a, u.rsplit("/", 1)[1]) for a, _v, u in catalog(archive)] == [("80445", "ba-a80445.html")]
    failed = frontier(archive)
    assert set(failed) == {"80443", "80444"}
    assert "mismatch" in failed["80443"] and "80444" in failed["80443"]
    err = capsys.readouterr().err
    assert "hai-a80444.html" in err  # named among the failures


@pytest.mark.parametrize("claim", ["80444", "80442", "1", "216002"])
def test_the_page_id_field_never_overrides_the_url_in_any_entry_point(sources: Sources, claim: str) -> None:
    """parse, fetch, crawl and replay all go through parse_response: one rule for all."""
    adapter = get_adapter(sources.get("baocantho"))
    parsed = parse_response(adapter, claiming(ARTICLE, claim), "text/html; charset=utf-8", REAL)
    assert isinstance(parsed, ExtractionFailure), parsed
    assert parsed.field == "article_id" and claim in parsed.reason and "80443" in parsed.reason
    agreeing = parse_response(adapter, ARTICLE, "text/html; charset=utf-8", REAL)
    assert isinstance(agreeing, Article) and agreeing.article_id == "80443"


@pytest.mark.parametrize("field", ["canonical", "og:url", "json-ld"])
def test_other_identity_fields_naming_another_article_do_not_move_it(sources: Sources, field: str) -> None:
    other = "https://baocantho.com.vn/bai-khac-a99999.html"
    page = ARTICLE
    if field == "canonical":
        link = b'<link rel="canonical" href="'
        page = page.replace(link + REAL.encode(), link + other.encode())
    elif field == "og:url":
        page = page.replace(b'content="' + REAL.encode(), b'content="' + other.encode())
    else:
        page = page.replace(b"</head>", b'<script type="application/ld+json">{"@type": "NewsArticle", '
                            b'"identifier": "99999", "url": "' + other.encode() + b'", "mainEntityOfPage": "'
                            + other.encode() + b'"}</script></head>', 1)
    assert page != ARTICLE
    parsed = parse_response(get_adapter(sources.get("baocantho")), page, "text/html; charset=utf-8", REAL)
    assert isinstance(parsed, Article) and parsed.article_id == "80443"


def test_parse_says_the_page_names_another_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_bytes(claiming(ARTICLE, "80444"))
    assert main(["parse", "--url", REAL, str(page)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "80444" in err[0] and "80443" in err[0]


# -- item 20: redirects remembered -------------------------------------------------------------------------------


@pytest.mark.parametrize("listed", [["/cu-a80444.html"], ["/cu-a80444.html", "/chong-mu-loa-a80443.html"],
                                    ["/chong-mu-loa-a80443.html", "/cu-a80444.html", "/cu-hon-a80400.html"]])
def test_an_old_url_redirecting_to_an_archived_article_is_not_fetched_again(site: Path, tmp_path: Path,
                                                                           listed: list[str]) -> None:
    archive = tmp_path / "archive"
    _Site.links = listed
    _Site.pages = {"/chong-mu-loa-a80443.html": ARTICLE}
    _Site.redirects = {"/cu-a80444.html": "/chong-mu-loa-a80443.html", "/cu-hon-a80400.html": "/cu-a80444.html"}
    assert crawl(site, archive) == 0
    assert [a for a, _v, _u in catalog(archive)] == ["80443"]
    first = list(_Site.requests)
    for _ in range(3):
        assert crawl(site, archive) == 0
    later = _Site.requests[len(first):]
    assert [p for p in later if p.endswith(".html")] == [], later  # neither the old URLs nor the target again
    assert frontier(archive) == {}
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((archive / "runs").glob("*.json"))]
    assert all(r["sources"]["site"]["discovered"] == 0 for r in runs[1:])
