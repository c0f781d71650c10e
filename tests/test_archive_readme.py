"""archive/README.md describes what the code writes: every top-level entry of a real (demo) archive, every
name the code manages, every catalog table, and the shapes of the files in each directory."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from crawler.archive.catalog import CATALOG
from crawler.archive.outputs import MANAGED_DIRS, MANAGED_FILES, TEMPORARY
from tests.conftest import ROOT

README = ROOT / "archive" / "README.md"


def layout() -> dict[str, str]:
    """The names the README's "Layout" block lists at the top level: name -> its description."""
    text = README.read_text(encoding="utf-8")
    block = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    names: dict[str, str] = {}
    for line in block.splitlines():
        found = re.match(r"    (\S+)(.*)", line)
        if found:
            names[found.group(1)] = found.group(2).strip()
    return names


def documented(entry: Path) -> bool:
    names = layout()
    if entry.is_dir():
        return entry.name + "/" in names
    if TEMPORARY.match(entry.name):
        return ".<name>.crawler-<pid>-<random>.tmp" in names
    return entry.name in names


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crawler.cli.demo import run_demo

    archive = tmp_path_factory.mktemp("readme") / "demo"
    for articles in (2, 3):  # two runs: a grown mirror, a changed article is a second version
        assert run_demo(archive=archive, sources_path=None, articles=articles, seed=2) == 0
    return archive


def test_every_top_level_entry_of_a_demo_archive_is_documented(demo_archive: Path) -> None:
    entries = sorted(demo_archive.iterdir())
    assert {"catalog.sqlite", "warc", "indexes", "text", "runs"} <= {e.name for e in entries}
    undocumented = [e.name for e in entries if not documented(e)]
    assert undocumented == [], f"archive/README.md does not describe {undocumented}"


def test_every_name_the_code_manages_is_documented_and_nothing_else() -> None:
    names = layout()
    expected = {f"{d}/" for d in MANAGED_DIRS} | set(MANAGED_FILES) | {CATALOG, f"{CATALOG}-wal", f"{CATALOG}-shm",
                                                                      ".<name>.crawler-<pid>-<random>.tmp"}
    assert set(names) == expected  # a stale entry (the old metadata .json files) or a missing one fails


def test_every_catalog_table_is_documented(demo_archive: Path) -> None:
    text = README.read_text(encoding="utf-8").split("## The catalog", 1)[1]
    with sqlite3.connect(f"file:{demo_archive / CATALOG}?mode=ro", uri=True) as db:
        tables = [str(name) for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    virtual = {t for t in tables if any(t.startswith(v + "_") for v in tables if v != t)}  # FTS5 shadow tables
    missing = [t for t in tables if t not in virtual and not t.startswith("sqlite_") and f"`{t}`" not in text]
    assert missing == []


FILE_SHAPES = {
    "warc": re.compile(r"[a-z0-9_-]+-\d{20}-\d{5}\.warc\.gz"),
    "indexes": re.compile(r"[a-z0-9_-]+-\d{20}-\d{5}\.warc\.gz\.cdxj"),
    "runs": re.compile(r"\d{8}T\d{12}Z\.json"),
    "text": re.compile(r"[a-z0-9_-]+/\d{4}/\d{2}/[0-9A-Za-z_-]+(\.v[2-9]\d*)?\.txt"),
}


@pytest.mark.parametrize("directory", sorted(FILE_SHAPES))
def test_files_have_the_documented_shapes(demo_archive: Path, directory: str) -> None:
    files = [p.relative_to(demo_archive / directory).as_posix()
             for p in (demo_archive / directory).rglob("*") if p.is_file()]
    assert files
    odd = [f for f in files if not FILE_SHAPES[directory].fullmatch(f)]
    assert odd == []
    if directory == "indexes":  # one index per WARC file
        assert {f.removesuffix(".cdxj") for f in files} == {p.name for p in (demo_archive / "warc").iterdir()}
    if directory == "text":  # no metadata file beside a snapshot any more: the catalog holds it
        assert not list((demo_archive / "text").rglob("*.json"))
