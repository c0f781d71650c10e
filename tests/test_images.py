"""``crawl --images`` / ``images: true``: an article's images, politely, in the WARC only, once per archive."""

from __future__ import annotations

import gzip
import json
import sqlite3
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.cli import main
from crawler.config import load_sources, parse_sources
from crawler.crawl.images import Images
from crawler.errors import ConfigError
from crawler.mirror import Mirror
from crawler.mirror.images import image_page, is_image_target
from tests.conftest import ROOT, origin_args

IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def crawl(m: Mirror, archive: Path, *extra: str) -> int:
    return main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--no-progress", "--quiet",
                 *extra])


def image_urls(archive: Path) -> dict[str, list[str]]:
    """Image URLs of every archived article (latest version), by article URL, from the catalog's metadata."""
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        rows = db.execute("SELECT url, meta FROM snapshots").fetchall()
    return {url: [image["url"] for image in json.loads(meta)["images"]] for url, meta in rows}


def records(archive: Path) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(type, URL, WARC fields, HTTP payload as sent: maybe gzip-encoded) of every record."""
    out = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                out.append((record.rec_type, record.rec_headers.get_header("WARC-Target-URI"),
                            dict(record.rec_headers.headers), record.raw_stream.read()))
    return out


def decoded(body: bytes) -> bytes:
    return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


def image_requests(m: Mirror, since: int = 0) -> list[str]:
    return [f"https://{e.real_host}{e.path}" for e in m.request_log[since:] if is_image_target(e.path)]


def run_figures(archive: Path) -> dict[str, dict[str, int]]:
    runs = sorted((archive / "runs").glob("*.json"))
    return json.loads(runs[-1].read_text(encoding="utf-8"))["sources"]  # type: ignore[no-any-return]


def test_mirror_serves_small_valid_images() -> None:
    png, jpeg = image_page("/a/b.png"), image_page("/a/b.jpg")
    assert png.body.startswith(b"\x89PNG\r\n\x1a\n") and png.content_type == "image/png"
    assert jpeg.body.startswith(b"\xff\xd8") and jpeg.body.endswith(b"\xff\xd9") and jpeg.content_type == "image/jpeg"
    assert len(png.body) < 1000 and len(jpeg.body) < 1000
    assert image_page("/a/c.jpg").body != jpeg.body and image_page("/a/b.jpg").body == jpeg.body
    with Mirror(articles=2, seed=5) as m:
        for host in ("images.baoangiang.com.vn", "file.huengaynay.vn", "file.baothuathienhue.vn", "baocantho.com.vn"):
            path = "/image/fckeditor/upload/2026/x.jpg" if host == "baocantho.com.vn" else "/data/x.jpg"
            with urllib.request.urlopen(m.origins[host] + path, timeout=10) as response:
                assert response.headers["Content-Type"] == "image/jpeg"
                assert response.read().startswith(b"\xff\xd8")


def test_crawl_with_images_archives_each_image_once(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=4, seed=2) as m:
        assert crawl(m, archive) == 0
        assert image_requests(m) == []  # text-only users: nothing changes
        assert not [u for t, u, _, _ in records(archive) if t == "response" and is_image_target(urlsplit(u).path)]
        mark = len(m.request_log)
        assert crawl(m, archive, "--images", "--refresh") == 0
        wanted = {url for urls in image_urls(archive).values() for url in urls}
        assert wanted, "the mirror's articles have images"
        fetched = image_requests(m, mark)
        assert sorted(fetched) == sorted(wanted)  # each once, on the newspapers' own (file) hosts
        responses = {u: body for t, u, _, body in records(archive) if t == "response" and u in wanted}
        assert set(responses) == wanted
        assert all(decoded(body)[:2] == b"\xff\xd8" or decoded(body)[:4] == b"\x89PNG" for body in responses.values())
        figures = run_figures(archive)
        assert sum(f["images"] for f in figures.values()) == len(wanted)
        assert sum(f["image_bytes"] for f in figures.values()) == sum(map(len, responses.values()))
        # Images are in the WARC only: no snapshot, no catalog row.
        with sqlite3.connect(archive / "catalog.sqlite") as db:
            urls = {str(row[0]) for row in db.execute("SELECT url FROM snapshots")}
        assert not urls & wanted
        # Once per archive: another run with images fetches none of them again ...
        mark = len(m.request_log)
        assert crawl(m, archive, "--images") == 0
        assert image_requests(m, mark) == []
        # ... and a --refresh fetches them again, unchanged: identical-payload revisits.
        mark = len(m.request_log)
        assert crawl(m, archive, "--images", "--refresh") == 0
        assert sorted(image_requests(m, mark)) == sorted(wanted)
    revisits = {u for t, u, f, _ in records(archive) if t == "revisit" and f.get("WARC-Profile") == IDENTICAL}
    assert wanted <= revisits
    assert main(["verify", "--archive", str(archive)]) == 0


def test_image_caps(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    with Mirror(articles=4, seed=2) as m:
        assert crawl(m, archive, "--images", "--images-per-article", "1") == 0
        per_article = image_urls(archive)
        assert sorted(image_requests(m)) == sorted(urls[0] for urls in per_article.values() if urls)
        other = tmp_path / "other"
        mark = len(m.request_log)
        assert crawl(m, other, "--images", "--max-images", "3") == 0
        assert len(image_requests(m, mark)) == 3
        figures = run_figures(other)
        assert sum(f["images"] for f in figures.values()) == 3
        assert sum(f["images_capped"] for f in figures.values()) > 0


def test_images_true_in_a_source_block(tmp_path: Path) -> None:
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8").replace(
        "  baoangiang:\n    name: Báo An Giang\n", "  baoangiang:\n    name: Báo An Giang\n    images: true\n")
    config = tmp_path / "sources.yaml"
    config.write_text(text, encoding="utf-8")
    sources = load_sources(config)
    assert sources.get("baoangiang").images and not sources.get("baocantho").images
    archive = tmp_path / "archive"
    with Mirror(articles=3, seed=4) as m:
        assert main(["crawl", "--archive", str(archive), "--sources", str(config), *origin_args(m), "--delay", "0",
                     "--no-progress", "--quiet"]) == 0
        hosts = {url.split("/")[2] for url in image_requests(m)}
    assert hosts == {"images.baoangiang.com.vn"}


@pytest.mark.parametrize("value", ["yes", 1, None, []])
def test_images_key_must_be_a_boolean(value: object) -> None:
    block = {"adapter": "vdoc", "hosts": ["a.vn"], "base_url": "https://a.vn/",
             "article_url_pattern": "^/[^/]+-a(?P<id>[0-9]+)\\.html$", "images": value}
    with pytest.raises(ConfigError, match="images"):
        parse_sources({"sources": {"a": block}})


def test_only_the_newspapers_own_hosts_serve_images() -> None:
    source = load_sources(ROOT / "sources.yaml").get("hue")
    allowed = Images._allowed
    assert allowed(source, "https://file.huengaynay.vn/data/x.jpg")
    assert allowed(source, "https://huengaynay.vn/x.jpg")
    assert allowed(source, "https://file.baothuathienhue.vn/x.png")
    assert not allowed(source, "https://cdn.example.com/x.jpg")
    assert not allowed(source, "https://evilhuengaynay.vn/x.jpg")
    assert not allowed(source, "data:image/png;base64,AAAA")
    assert not allowed(source, "ftp://huengaynay.vn/x.jpg")
