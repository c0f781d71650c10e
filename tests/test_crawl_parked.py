"""A site that answers but lists nothing is flagged like one that cannot be reached (issue 17, item 6).

A parked domain ("this domain is for sale"), a PDF or an empty page as the home page, a redesign
whose links no pattern matches: every start page answers 200, no article is listed, nothing is
archived.  That run ends with exit 4 and one line naming the source and why, even with --quiet;
``expect_articles: false`` (a frozen archive source) switches the check off.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from crawler.cli import main

from .conftest import FIXTURES, one_source_config, send_html, serving

ARTICLE = (FIXTURES / "real" / "baocantho-a80443.html").read_bytes()
PARKED = (b"<html><head><title>example.vn is for sale</title></head><body><h1>This domain is for sale!</h1>"
          b'<a href="https://sedo.com/search/details/?domain=example.vn">Buy now</a>'
          b'<a href="/lander?x=1">Related searches</a></body></html>')

HOMES: dict[str, tuple[bytes, str]] = {
    "parked": (PARKED, "text/html; charset=utf-8"),
    "pdf": (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n", "application/pdf"),
    "empty": (b"", "text/html"),
    "redesigned": (b'<a href="/news/2026/05/chong-mu-loa.html">a</a><a href="/tin/80443">b</a>', "text/html"),
    "other-hosts": (b'<a href="https://elsewhere.vn/x-a80443.html">a</a>', "text/html"),
    "json": (b'{"articles": ["/x-a80443.html"]}', "application/json"),
}


class _Site(BaseHTTPRequestHandler):
    home: ClassVar[tuple[bytes, str]] = (b"", "text/html")
    article_down: ClassVar[bool] = False

    def do_GET(self) -> None:
        if self.path in ("/", "/p2"):
            send_html(self, *type(self).home)
        elif self.path == "/chong-mu-loa-a80443.html" and type(self).article_down:
            self.send_error(404)
        elif self.path == "/chong-mu-loa-a80443.html":
            send_html(self, ARTICLE)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    _Site.article_down = False
    with serving(_Site) as port:
        yield port


def crawl(config: Path, archive: Path) -> int:
    return main(["crawl", "--sources", str(config), "--archive", str(archive), "--no-progress", "--quiet"])


@pytest.mark.parametrize("kind", sorted(HOMES))
def test_start_pages_that_list_no_article_end_the_run_with_exit_4(port: int, tmp_path: Path, kind: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _Site.home = HOMES[kind]
    config = one_source_config(tmp_path / "sources.yaml", "site", port, 'start_pages: ["/", "/p2"]')
    assert crawl(config, tmp_path / "a") == 4
    err = capsys.readouterr().err
    (line,) = [x for x in err.splitlines() if x.startswith("crawler: site")]
    # A PDF (any binary) is no listing at all: the start page itself fails, saying what it is.
    why = "not HTML: PDF" if kind == "pdf" else "list no article"
    assert why in line and (kind == "pdf" or "parked or redesigned?" in line), err
    (record,) = (json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "a" / "runs").glob("*.json"))
    assert why in record["unreachable"]["site"]
    assert record["sources"]["site"]["listed"] == 0


def test_a_frozen_archive_source_can_switch_the_check_off(port: int, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _Site.home = HOMES["parked"]
    config = one_source_config(tmp_path / "sources.yaml", "site", port, "expect_articles: false")
    assert crawl(config, tmp_path / "a") == 0
    assert capsys.readouterr().err == ""


def test_a_home_page_listing_only_archived_articles_is_fine(port: int, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    _Site.home = (b'<a href="/chong-mu-loa-a80443.html">a</a>', "text/html")
    config = one_source_config(tmp_path / "sources.yaml", "site", port)
    for _ in range(3):  # the first run archives it; later runs find nothing new, and that is no problem
        assert crawl(config, tmp_path / "a") == 0
    assert capsys.readouterr().err == ""


def test_an_article_archived_from_the_frontier_is_enough(port: int, tmp_path: Path) -> None:
    """A redesign mid-way: the article discovered before is still archived: not "nothing"."""
    _Site.home = (b'<a href="/chong-mu-loa-a80443.html">a</a>', "text/html")
    config = one_source_config(tmp_path / "sources.yaml", "site", port)
    _Site.article_down = True
    crawl(config, tmp_path / "a")  # discovered, failed: it waits in the frontier
    _Site.home, _Site.article_down = HOMES["parked"], False
    with sqlite3.connect(tmp_path / "a" / "catalog.sqlite") as db:  # its turn has come
        db.execute("UPDATE frontier SET next_try = NULL")
    assert crawl(config, tmp_path / "a") == 0


def test_the_check_is_validated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = one_source_config(tmp_path / "sources.yaml", "site", 1, "expect_articles: maybe")
    assert main(["sources", "--sources", str(config)]) == 2
    assert "expect_articles" in capsys.readouterr().err
