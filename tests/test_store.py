"""Snapshot store: layout, atomic writes, versions, unsafe ids."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.errors import ArchiveError
from crawler.models import Article, WarcLocation
from crawler.store import Store, snapshot_relpath

VN = timezone(timedelta(hours=7))
ARTICLE = Article(
    source="baocantho", article_id="216001", url="https://baocantho.com.vn/x-a216001.html",
    canonical_url="https://baocantho.com.vn/x-a216001.html", breadcrumb=("Thời sự",), category_slugs=("thoi-su",),
    published=datetime(2026, 1, 31, 23, 30, tzinfo=VN), kicker=None, title="T", sapo=None, body=("B",),
    byline=None,
)
LOC = WarcLocation("baocantho-x.warc.gz", 1234)


def test_save_layout_metadata_and_catalog(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        record = store.save(ARTICLE, "snapshot text", LOC, datetime.now(UTC))
        assert record.created and record.version == 1
        assert record.text_path == tmp_path / "text/baocantho/2026/01/216001.txt"
        assert record.text_path.read_bytes() == b"snapshot text"
        meta = json.loads(record.meta_path.read_text(encoding="utf-8"))
        assert meta["warc_file"] == "baocantho-x.warc.gz" and meta["warc_offset"] == 1234
        assert meta["published"] == "2026-01-31T23:30:00+07:00"
        assert meta["sha256"] == record.sha256 and meta["extractor_version"]
        assert store.has_article("baocantho", "216001") and not store.has_article("baocantho", "1")
        again = store.save(ARTICLE, "snapshot text", LOC, datetime.now(UTC))
        assert not again.created and again.version == 1
        changed = store.save(replace(ARTICLE, title="T2"), "changed text", LOC, datetime.now(UTC))
        assert changed.created and changed.version == 2 and changed.text_path.name == "216001.v2.txt"
        assert record.text_path.read_bytes() == b"snapshot text"  # the old version is kept
        assert store.count() == 1
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", ".hidden", "x" * 65, "1\x00"])
def test_unsafe_ids_never_become_paths(bad: str) -> None:
    with pytest.raises(ArchiveError, match="unsafe"):
        snapshot_relpath("baocantho", bad, ARTICLE.published)
