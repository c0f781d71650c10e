"""Replay with a WARC file's CDXJ index (issue 22): records the index shows are of no wanted host are
skipped unread, and everything else comes out exactly as without the index."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from crawler.archive.cdxj import INDEX_DIR, entry_of, index_warc, write_index
from crawler.config import load_sources
from crawler.replay.engine import FileResult, FileTask, ReplayConfig, index_of, replay_file

from .replay_samples import UNRELATED, collection, gz, unrelated_record, write, zst

SOURCES = load_sources(None)
CONFIGS = {
    "all": ReplayConfig(SOURCES),
    "--source hue": ReplayConfig(SOURCES, only_sources=frozenset({"hue"})),
    "--host": ReplayConfig(SOURCES, only_hosts=frozenset({"baoangiang.com.vn", "unrelated.example"})),
    "no sources": ReplayConfig(SOURCES, only_sources=frozenset({"nope"})),
}


def facts(result: FileResult) -> tuple[object, ...]:
    return (result.rows, result.records, result.articles, result.not_article, dict(result.skipped_hosts),
            result.filtered, dict(result.host_hits), result.failures, result.problems, dict(result.templates),
            dict(result.rules))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample collection's files that hold no garbage (an index of a damaged file is not written)."""
    root = tmp_path_factory.mktemp("coll")
    (root / "made").mkdir()
    made = collection(root / "made")
    archive = root / "archive"
    (archive / "warc").mkdir(parents=True)
    out = []
    for path in made["files"]:  # type: ignore[attr-defined]
        if path.name.startswith("a-") or path.name.endswith(".zst"):
            continue  # garbage, and zstd (index_warc reads gzip and plain files; zstd: indexed_members)
        target = archive / "warc" / path.name
        shutil.copy(path, target)
        out.append(target)
    return out


def indexed(path: Path) -> None:
    write_index(path.parent.parent / INDEX_DIR, path.name, index_warc(path))


def indexed_members(path: Path, records: list[bytes], members: list[bytes]) -> None:
    """The index of a file written from ``members`` (each one packed record of ``records``)."""
    entries, at = [], 0
    for raw, member in zip(records, members, strict=True):
        entry = entry_of(raw, at, len(member))
        if entry is not None:
            entries.append(entry)
        at += len(member)
    write_index(path.parent.parent / INDEX_DIR, path.name, entries)


@pytest.mark.parametrize("config", list(CONFIGS))
def test_the_index_changes_no_result(files: list[Path], config: str) -> None:
    for path in files:
        without = replay_file(FileTask(str(path)), CONFIGS[config])
        indexed(path)
        assert index_of(path) is not None
        assert facts(replay_file(FileTask(str(path)), CONFIGS[config])) == facts(without), path.name
        index_of(path).unlink()  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "pack"), [("x.warc.gz", gz), ("x.warc", lambda b: b), ("x.warc.zst", zst)])
def test_unrelated_records_the_index_names_are_never_read(files: list[Path], tmp_path: Path, name: str,
                                                          pack: Callable[[bytes], bytes]) -> None:
    """Damage the unrelated records after indexing: with the index nothing notices (they are not read);
    without it, the reader reports them."""
    records = [*_records_of(files[0]), *(unrelated_record(n, date="2024-03-01T00:00:00Z") for n in range(10, 13))]
    members = [pack(r) for r in records]
    (tmp_path / "warc").mkdir()
    warc = write(tmp_path / "warc" / name, members)
    indexed_members(warc, records, members)
    config = CONFIGS["all"]
    clean = replay_file(FileTask(str(warc)), config)
    assert clean.articles == 3 and not clean.problems
    data = bytearray()
    for raw, member in zip(records, members, strict=True):
        if any(host.encode() in raw for host in UNRELATED):
            member = member[:12] + b"\xff" * (len(member) - 24) + member[-12:]
        data += member
    warc.write_bytes(bytes(data))
    with_index = replay_file(FileTask(str(warc)), config)
    assert facts(with_index) == facts(clean)
    assert sum(with_index.skipped_hosts.values()) == 5
    index_of(warc).unlink()  # type: ignore[union-attr]
    assert replay_file(FileTask(str(warc)), config).problems  # read, the damage shows


def test_records_appended_after_indexing_are_read(files: list[Path], tmp_path: Path) -> None:
    source = files[-1]
    warc = tmp_path / "warc" / source.name
    warc.parent.mkdir()
    warc.write_bytes(source.read_bytes())
    indexed(warc)
    extra = gz(unrelated_record(9, date="2024-03-01T00:00:00Z"))
    with open(warc, "ab") as handle:
        handle.write(b"".join(gz(m) for m in _records_of(files[0])) + extra)
    with_index = replay_file(FileTask(str(warc)), CONFIGS["all"])
    index_of(warc).unlink()  # type: ignore[union-attr]
    without = replay_file(FileTask(str(warc)), CONFIGS["all"])
    assert facts(with_index) == facts(without) and with_index.articles > replay_file(
        FileTask(str(source)), CONFIGS["all"]).articles


def _records_of(path: Path) -> list[bytes]:
    """The uncompressed records of a plain WARC file (b-coll.warc)."""
    data = path.read_bytes()
    starts = [i for i in range(len(data))
              if data.startswith(b"WARC/1.", i) and (i == 0 or data[i - 4:i] == b"\r\n\r\n")]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


@pytest.mark.parametrize("damage", ["past the end", "not json", "empty", "negative"])
def test_an_index_that_does_not_fit_the_file_is_not_used(files: list[Path], tmp_path: Path, damage: str) -> None:
    warc = tmp_path / "warc" / files[-1].name
    warc.parent.mkdir()
    warc.write_bytes(files[-1].read_bytes())
    indexed(warc)
    index = index_of(warc)
    assert index is not None
    text = index.read_text()
    index.write_text({"past the end": text.replace('"offset": "0"', '"offset": "99999999"'),
                      "not json": text.replace("{", "[", 1),
                      "empty": "",
                      "negative": text.replace('"offset": "0"', '"offset": "-5"')}[damage])
    with_bad_index = replay_file(FileTask(str(warc)), CONFIGS["all"])
    index.unlink()
    assert facts(with_bad_index) == facts(replay_file(FileTask(str(warc)), CONFIGS["all"]))


def test_a_byte_range_task_ignores_the_index(files: list[Path]) -> None:
    path = files[-1]
    indexed(path)
    try:
        task = replace(FileTask(str(path)), start=0, end=1)
        assert replay_file(task, CONFIGS["all"]).records == 1
    finally:
        index_of(path).unlink()  # type: ignore[union-attr]
