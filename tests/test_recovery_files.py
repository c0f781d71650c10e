"""Start-up recovery never writes through a link, never blocks on a special file, never overwrites an orphan."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from crawler.archive.catalog import Store
from crawler.archive.recovery import reconcile, recover_warcs
from crawler.archive.snapshots import metadata, snapshot_relpath
from crawler.models import Article, WarcLocation

VN = timezone(timedelta(hours=7))
ARTICLE = Article(
    source="baocantho", article_id="5", url="https://baocantho.com.vn/x-a5.html",
    canonical_url="https://baocantho.com.vn/x-a5.html", breadcrumb=("Thời sự",), category_slugs=("thoi-su",),
    published=datetime(2026, 1, 31, 23, 30, tzinfo=VN), kicker=None, title="T", sapo=None, body=("B",), byline=None,
)


def finishes(work: Callable[[], object], seconds: float = 10) -> object:
    """Run ``work`` in a thread; fail (rather than hang the suite) if it blocks."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as err:  # handed to the test's thread
            result.append(err)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def reconcile_at(archive: Path) -> object:
    with Store(archive) as store:  # opened in the thread that uses it
        return reconcile(store)


def test_an_open_warc_that_is_a_link_is_left_alone(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.warc.gz"
    elsewhere.write_bytes(b"\x1f\x8b" + b"not a complete member" * 10)
    warc = tmp_path / "warc"
    warc.mkdir()
    (warc / "s-1-00000.warc.gz.open").symlink_to(elsewhere)
    os.mkfifo(warc / "s-2-00000.warc.gz.open")
    done = finishes(lambda: recover_warcs(warc))
    assert isinstance(done, list) and len(done) == 2
    assert all("not a regular file; left alone" in item.what for item in done)
    assert elsewhere.read_bytes() == b"\x1f\x8b" + b"not a complete member" * 10
    assert (warc / "s-1-00000.warc.gz.open").is_symlink()


def test_special_files_among_snapshots_go_to_orphans_without_blocking(tmp_path: Path) -> None:
    month = tmp_path / "text" / "baocantho" / "2026" / "01"
    month.mkdir(parents=True)
    os.mkfifo(month / "1.txt")
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    (month / "2.txt").symlink_to(victim)
    done = finishes(lambda: reconcile_at(tmp_path))
    assert isinstance(done, list)
    assert sorted(item.path.name for item in done) == ["1.txt", "2.txt"]
    assert all("not a regular file" in item.what for item in done)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert not list(month.iterdir())


def test_a_second_orphan_of_the_same_name_keeps_the_first(tmp_path: Path) -> None:
    month = tmp_path / "text" / "baocantho" / "2026" / "01"
    orphans = tmp_path / "orphans" / "baocantho" / "2026" / "01"
    with Store(tmp_path) as store:
        for round_ in ("first", "second"):
            month.mkdir(parents=True, exist_ok=True)
            (month / "5.txt").write_text(round_, encoding="utf-8")
            meta = {"sha256": "wrong", "text_path": "text/baocantho/2026/01/5.txt"}
            (month / "5.json").write_text(json.dumps(meta), encoding="utf-8")
            reconcile(store)
    assert sorted(p.name for p in orphans.iterdir()) == ["5.json", "5.orphan1.json", "5.orphan1.txt", "5.txt"]
    assert (orphans / "5.txt").read_text(encoding="utf-8") == "first"
    assert (orphans / "5.orphan1.txt").read_text(encoding="utf-8") == "second"


def legacy_snapshot(root: Path) -> Path:
    """A snapshot as schema 1 wrote it: the text and a .json of its metadata beside it. Returns the .json."""
    rel = snapshot_relpath(ARTICLE.source, ARTICLE.article_id, ARTICLE.published)
    data = b"text"
    meta = metadata(ARTICLE, sha256=hashlib.sha256(data).hexdigest(), location=WarcLocation("w.warc.gz", 0),
                    fetched_at=datetime.now(UTC), version=1, text_path=rel.as_posix())
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(data)
    (root / rel).with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return (root / rel).with_suffix(".json")


def test_a_row_is_still_rolled_forward(tmp_path: Path) -> None:
    legacy_snapshot(tmp_path)
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copytree(tmp_path / "text", copy / "text")
    (copy / "warc").mkdir()
    (copy / "warc" / "w.warc.gz").write_bytes(b"x" * 10)
    with Store(copy) as store:
        done = reconcile(store)
        assert [item.what for item in done] == ["added the catalog row a crash left out"]
        assert store.has_article("baocantho", "5")


def test_incomplete_metadata_is_orphaned_not_a_crash_at_every_start(tmp_path: Path) -> None:
    meta_path = legacy_snapshot(tmp_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "w.warc.gz").write_bytes(b"x" * 10)
    for broken in ({k: v for k, v in meta.items() if k != "title"}, {**meta, "version": "1"},
                   {**meta, "source": None}, {**meta, "warc_offset": True}):
        copy = tmp_path / f"copy{len(list(tmp_path.glob('copy*')))}"
        shutil.copytree(tmp_path / "text", copy / "text")
        shutil.copytree(tmp_path / "warc", copy / "warc")
        copy_meta = copy / meta_path.relative_to(tmp_path)
        copy_meta.write_text(json.dumps(broken), encoding="utf-8")
        with Store(copy) as store:
            done = reconcile(store)
            assert [item.what for item in done] == [
                "moved a snapshot without a catalog row to orphans/ (its metadata is incomplete)"]
            assert not store.has_article("baocantho", "5")
