"""Replay with a WARC file's CDXJ index (issue 22): records the index shows are of no wanted host are
skipped unread, and everything else comes out exactly as without the index."""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.archive.cdxj import INDEX_DIR, entry_of, index_warc, write_index
from crawler.config import load_sources
from crawler.replay import index_spans
from crawler.replay.engine import FileResult, FileTask, ReplayConfig, replay_file
from crawler.replay.index_spans import index_of, spans_to_read

from .replay_samples import UNRELATED, collection, gz, http_response, record, unrelated_record, write, zst

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


def _indexed_file(tmp_path: Path, name: str, pack: Callable[[bytes], bytes], records: list[bytes]) -> Path:
    """``warc/<name>`` of ``records``, each packed by ``pack``, with its index."""
    members = [pack(r) for r in records]
    (tmp_path / "warc").mkdir(parents=True)
    warc = write(tmp_path / "warc" / name, members)
    indexed_members(warc, records, members)
    return warc


def _damage_unrelated(warc: Path, pack: Callable[[bytes], bytes], records: list[bytes]) -> None:
    """Rewrite ``warc`` (of ``records``, packed by ``pack``) with its unrelated records' members damaged."""
    data = bytearray()
    for raw in records:
        member = pack(raw)
        if any(host.encode() in raw for host in UNRELATED):
            member = member[:12] + b"\xff" * (len(member) - 24) + member[-12:]
        data += member
    warc.write_bytes(bytes(data))


def _damaged_unrelated(tmp_path: Path, name: str, pack: Callable[[bytes], bytes], records: list[bytes]) -> Path:
    """An indexed file of ``records`` whose unrelated records are then damaged."""
    warc = _indexed_file(tmp_path, name, pack, records)
    _damage_unrelated(warc, pack, records)
    return warc


@pytest.mark.parametrize(("name", "pack"), [("x.warc.gz", gz), ("x.warc", lambda b: b), ("x.warc.zst", zst)])
@pytest.mark.parametrize("read_through", [None, 0])
def test_a_short_stretch_of_unrelated_records_is_read_through(files: list[Path], tmp_path: Path, name: str,
                                                               pack: Callable[[bytes], bytes], read_through: int | None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Unrelated records between wanted ones, shorter than READ_THROUGH_BYTES: read (cheaper than a new
    range), so damage done to them after indexing shows; with the threshold at 0 they are jumped."""
    if read_through is not None:
        monkeypatch.setattr(index_spans, "READ_THROUGH_BYTES", read_through)
    own = _records_of(files[0])
    records = [own[0], unrelated_record(20, date="2024-03-01T00:00:00Z"), *own[1:3],
               unrelated_record(21, date="2024-03-01T00:00:00Z"), unrelated_record(22, date="2024-03-01T00:00:00Z"),
               *own[3:]]
    clean = _indexed_file(tmp_path / "clean", name, pack, records)
    with_index = replay_file(FileTask(str(clean)), CONFIGS["all"])
    index_of(clean).unlink()  # type: ignore[union-attr]
    assert facts(with_index) == facts(replay_file(FileTask(str(clean)), CONFIGS["all"]))
    warc = _damaged_unrelated(tmp_path, name, pack, records)
    damaged = replay_file(FileTask(str(warc)), CONFIGS["all"])
    assert bool(damaged.problems) == (read_through is None)  # read through, the damage shows


@pytest.mark.parametrize(("name", "pack"), [("x.warc.gz", gz), ("x.warc", lambda b: b), ("x.warc.zst", zst)])
def test_unrelated_records_the_index_names_are_never_read(files: list[Path], tmp_path: Path, name: str,
                                                          pack: Callable[[bytes], bytes],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Damage the unrelated records after indexing: with the index nothing notices (they are not read);
    without it, the reader reports them.  Every stretch counts as long here (READ_THROUGH_BYTES 0); the
    stretches below are ~1 KiB, read through at the default."""
    monkeypatch.setattr(index_spans, "READ_THROUGH_BYTES", 0)
    records = [*_records_of(files[0]), *(unrelated_record(n, date="2024-03-01T00:00:00Z") for n in range(10, 13))]
    warc = _indexed_file(tmp_path, name, pack, records)
    config = CONFIGS["all"]
    clean = replay_file(FileTask(str(warc)), config)
    assert clean.articles == 3 and not clean.problems
    _damage_unrelated(warc, pack, records)
    with_index = replay_file(FileTask(str(warc)), config)
    assert facts(with_index) == facts(clean)
    assert sum(with_index.skipped_hosts.values()) == 5
    index_of(warc).unlink()  # type: ignore[union-attr]
    assert replay_file(FileTask(str(warc)), config).problems  # read, the damage shows


def test_a_long_stretch_between_wanted_records_is_jumped(files: list[Path], tmp_path: Path) -> None:
    """At the default threshold: an unrelated record of ~100 KiB compressed between two wanted ones is not
    read (its damage goes unnoticed); without the index it is."""
    own = _records_of(files[0])
    big = record("https://news.example.org/big.html", http_response(random.Random(1).randbytes(100_000)),
                 date="2024-03-01T00:00:00Z")
    small = unrelated_record(30, date="2024-03-01T00:00:00Z")
    warc = _damaged_unrelated(tmp_path, "x.warc.gz", gz, [own[0], big, small, *own[1:]])
    with_index = replay_file(FileTask(str(warc)), CONFIGS["all"])
    assert not with_index.problems and with_index.articles == 3
    assert sum(with_index.skipped_hosts.values()) == 2 + 2  # the two of files[0] too
    index_of(warc).unlink()  # type: ignore[union-attr]
    without = replay_file(FileTask(str(warc)), CONFIGS["all"])
    assert without.problems  # read, the damage shows


_ENTRIES = st.lists(st.tuples(st.integers(1, 200_000), st.sampled_from(["wanted", "unwanted", "other"])),
                    min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(_ENTRIES, st.integers(0, 300_000), st.integers(0, 1000))
def test_spans_cover_every_record_once(shape: list[tuple[int, str]], read_through: int, extra: int) -> None:
    """Every record lies in exactly one range, except unwanted responses jumped over, each in a stretch of at
    least ``read_through`` bytes (or at the end); ranges are sorted and disjoint; past the last indexed
    record the file is read."""
    entries, at = [], 0
    for length, kind in shape:
        entries.append((at, length, f"https://h/{at}/{kind}", kind != "other"))
        at += length
    size = at + extra
    spans, jumped = spans_to_read(entries, size, lambda url: url.endswith("/unwanted"), read_through)
    ends = [size if end is None else end for _, end in spans]
    assert all(a < b for (a, _), b in zip(spans, ends, strict=True))
    assert all(b <= a for b, (a, _) in zip(ends, spans[1:], strict=False))
    assert (spans[-1][1] is None) == (extra > 0) if spans else extra == 0
    for offset, _, url, _ in entries:
        inside = sum(a <= offset < b for (a, _), b in zip(spans, ends, strict=True))
        assert inside == (0 if url in jumped else 1), (url, spans, jumped)
        assert url.endswith("/unwanted") or url not in jumped
    for a, b in zip([0, *ends], [s for s, _ in spans] + [at], strict=True):  # each gap between ranges
        gap = [e for e in entries if a <= e[0] < b]
        if gap and b < at:
            assert b - gap[0][0] >= read_through


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
