"""``crawler wacz --captured-since/--captured-until`` cuts the archive by record, not by WARC file (issue 21):
an archive of two runs on two days, packed for one day, holds that day's captures only (with their requests,
and the originals their revisits need), its index and pages too; the package passes ``wacz validate`` and
``warcio check`` when they are installed."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import crawler.net.fetcher as fetcher
from crawler.archive.cdxj import record_fields, warc_records
from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import origin_args

DAY_ONE = datetime(2026, 3, 1, 16, 59, 0, tzinfo=UTC)  # 23:59 in Vietnam
DAY_TWO = datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)  # 09:00 in Vietnam
DAY_THREE = datetime(2026, 3, 5, 2, 0, 0, tzinfo=UTC)


def _clock(days: list[datetime], calls_per_day: int) -> type[datetime]:
    """A ``datetime`` whose ``now`` (the fetcher's capture time, injected) runs from ``days[0]`` and jumps to the
    next day after ``calls_per_day`` calls: one run, hence one WARC file, that straddles two days."""
    real = datetime.now(UTC)
    calls = [0]

    class Shifted(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Shifted:  # type: ignore[override]
            calls[0] += 1
            start = days[min((calls[0] - 1) // calls_per_day, len(days) - 1)]
            moment = start + (datetime.now(UTC) - real)
            return moment if tz is None else moment.astimezone(tz)  # type: ignore[arg-type,return-value]

    return Shifted


def _crawl(archive: Path, articles: int, days: list[datetime], monkeypatch: pytest.MonkeyPatch, *extra: str) -> None:
    with Mirror(articles=articles, seed=5) as m, monkeypatch.context() as patch:
        patch.setattr(fetcher, "datetime", _clock(days, 12))
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--no-progress", "--quiet",
                     "--source", "baocantho", *extra]) == 0


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run one (3 articles) starts on day one and ends on day two, in one WARC file; run two, on day three
    (``--refresh``): 3 more articles, the first three revisited (same payload, originals in run one)."""
    archive = tmp_path_factory.mktemp("two-days") / "archive"
    with pytest.MonkeyPatch.context() as monkeypatch:
        _crawl(archive, 3, [DAY_ONE, DAY_TWO], monkeypatch)
        _crawl(archive, 6, [DAY_THREE], monkeypatch, "--refresh")
    days = {f.stem: {_stamp(fields.get("warc-date", ""))[:8] for _o, fields in _record_list(f)}
            for f in (archive / "warc").glob("*.warc.gz")}
    assert {"20260301", "20260302"} <= set().union(*days.values())
    assert any({"20260301", "20260302"} <= found for found in days.values()), days  # a file straddles
    yield archive


def _stamp(warc_date: str) -> str:
    return warc_date[:19].replace("-", "").replace(":", "").replace("T", "")


def _package(path: Path) -> tuple[dict[str, bytes], list[str], list[dict[str, object]]]:
    with zipfile.ZipFile(path) as package:
        files = {n: package.read(n) for n in package.namelist()}
    names = list(files)
    index_data = files["indexes/index.cdx"] if "indexes/index.cdx" in names else \
        gzip.decompress(files["indexes/index.cdx.gz"])
    index = [line for line in index_data.decode().splitlines() if line.strip()]
    pages = [json.loads(line) for line in files["pages/pages.jsonl"].decode().splitlines()[1:]]
    return files, index, pages


def _record_list(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [(offset, record_fields(data)) for offset, _length, data in warc_records(path)]


@pytest.mark.parametrize("window, day", [
    (["--captured-since", "2026-03-03"], DAY_THREE),
    (["--captured-since", "2026-03-05", "--captured-until", "2026-03-05"], DAY_THREE),
    (["--captured-until", "2026-03-01"], DAY_ONE),
    (["--captured-since", "2026-03-01T23:00:00", "--captured-until", "2026-03-01T23:59:59"], DAY_ONE),
    (["--captured-since", "2026-03-02", "--captured-until", "2026-03-02"], DAY_TWO),
    (["--captured-since", "2026-03-02T09:00:00", "--captured-until", "2026-03-04"], DAY_TWO),
])
def test_a_capture_window_packs_the_records_captured_in_it(two_days: Path, tmp_path: Path, window: list[str],
                                                           day: datetime) -> None:
    out = tmp_path / "slice.wacz"
    assert main(["wacz", "--archive", str(two_days), "-o", str(out), *window]) == 0
    files, index, pages = _package(out)
    day_stamp = day.strftime("%Y%m%d")  # in UTC, as WARC-Date; the windows are in Vietnamese time
    # The packed WARC files (the file of run one straddles days one and two).
    records: list[dict[str, str]] = []
    for name, data in files.items():
        if not name.startswith("archive/") or name == "archive/aliases.warc.gz":
            continue
        packed = tmp_path / name.removeprefix("archive/")
        packed.write_bytes(data)
        for offset, fields in _record_list(packed):
            fields["offset"] = str(offset)
            fields["file"] = packed.name
            records.append(fields)
    # What the day's revisits refer to: (target URI, date) (and a record id when written).
    revisits = [f for f in records if f["warc-type"] == "revisit" and _stamp(f["warc-date"]).startswith(day_stamp)]
    referred = {(f["warc-refers-to-target-uri"], _stamp(f["warc-refers-to-date"])) for f in revisits}
    outside = [f for f in records if f["warc-type"] != "warcinfo" and not _stamp(f["warc-date"]).startswith(day_stamp)]
    # Every record is of the day, but the originals that the day's revisits refer to (decision 0017).
    assert all(f["warc-type"] == "response" for f in outside), [(f["warc-type"], f["warc-date"]) for f in outside]
    assert {(f["warc-target-uri"], _stamp(f["warc-date"])) for f in outside} <= referred
    # ... and each of those is there.
    present = {(f["warc-target-uri"], _stamp(f["warc-date"])) for f in records if f["warc-type"] == "response"}
    assert referred <= present
    captures = [f for f in records if f["warc-type"] in ("response", "revisit")]
    assert captures and any(_stamp(f["warc-date"]).startswith(day_stamp) for f in captures)
    # Each capture of the day has its request.
    requests = {f.get("warc-concurrent-to") for f in records if f["warc-type"] == "request"}
    assert all(f["warc-record-id"] in requests for f in captures if f not in outside)
    # The index: lines of the day, and those of the originals (their file and offset).
    original_places = {(f["file"], f["offset"]) for f in outside}
    for line in index:
        _key, stamp, data = line.split(" ", 2)
        fields = json.loads(data)
        if fields["filename"] == "aliases.warc.gz":
            continue
        assert stamp.startswith(day_stamp) or (fields["filename"], fields["offset"]) in original_places, line
    # Every revisit of the day replays: it has its index line (a 304's too: its original is in the package).
    revisit_lines = [line for line in index if '"warc/revisit"' in line and line.split(" ")[1].startswith(day_stamp)]
    assert len(revisit_lines) == len(revisits)
    assert all('"status": "200"' in line for line in revisit_lines)
    # The archive itself: every capture of the day is in the package (nothing of the day lost).
    day_captures = 0
    for warc in sorted((two_days / "warc").glob("*.warc.gz")):
        day_captures += sum(1 for _o, f in _record_list(warc) if f["warc-type"] in ("response", "revisit")
                            and _stamp(f["warc-date"]).startswith(day_stamp))
    assert sum(1 for f in captures if f not in outside) == day_captures
    # Pages: the articles whose version was captured that day, all of them.
    assert all(str(p["ts"]).replace("-", "").startswith(day_stamp) for p in pages)
    import sqlite3

    with sqlite3.connect(two_days / "catalog.sqlite") as db:
        fetched = [str(r[0]) for r in db.execute("SELECT fetched_at FROM snapshots")]
    assert len(pages) == sum(1 for f in fetched if f.replace("-", "").startswith(day_stamp))


def test_a_sliced_package_passes_the_tools(two_days: Path, tmp_path: Path) -> None:
    out = tmp_path / "day-two.wacz"
    assert main(["wacz", "--archive", str(two_days), "-o", str(out), "--captured-since", "2026-03-02"]) == 0
    if _has("wacz"):
        result = subprocess.run([sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())",
                                 "validate", "-f", str(out)], capture_output=True, text=True)
        assert result.returncode == 0 and "Validation succeeded" in result.stdout, result.stdout + result.stderr
    if _has("warcio"):
        with zipfile.ZipFile(out) as package:
            names = [n for n in package.namelist() if n.startswith("archive/")]
            for name in names:
                (tmp_path / Path(name).name).write_bytes(package.read(name))
        result = subprocess.run([sys.executable, "-m", "warcio.cli", "check", "-v",
                                 *(str(tmp_path / Path(n).name) for n in names)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    # Copied by byte range: each packed record is one of the archive's gzip members, byte for byte.
    members = set()
    for warc in (two_days / "warc").glob("*.warc.gz"):
        data = warc.read_bytes()
        members.update(data[o:o + n] for o, n, _ in warc_records(warc))
    with zipfile.ZipFile(out) as package:
        for name in package.namelist():
            if name.startswith("archive/") and name != "archive/aliases.warc.gz":
                packed = tmp_path / ("m-" + Path(name).name)
                packed.write_bytes(package.read(name))
                data = packed.read_bytes()
                assert all(data[o:o + n] in members for o, n, _ in warc_records(packed))


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_publication_and_capture_windows_combine(two_days: Path, tmp_path: Path) -> None:
    import sqlite3

    with sqlite3.connect(two_days / "catalog.sqlite") as db:
        rows = [(str(r[0]), str(r[1]), str(r[2])) for r in db.execute(
            "SELECT source || '-' || article_id, published, fetched_at FROM snapshots")]
    day_two = [r for r in rows if r[2].startswith("2026-03-05")]  # captured on day three
    assert len(day_two) >= 2
    middle = sorted(r[1][:10] for r in day_two)[len(day_two) // 2]
    out = tmp_path / "both.wacz"
    assert main(["wacz", "--archive", str(two_days), "-o", str(out), "--captured-since", "2026-03-05",
                 "--since", middle]) == 0  # Vietnamese time: 2026-03-04T17:00Z
    _files, _index, pages = _package(out)
    expected = {r[0] for r in day_two if r[1][:10] >= middle}
    assert {str(p["id"]) for p in pages} == expected


def test_a_window_with_no_capture_writes_nothing(two_days: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "none.wacz"
    assert main(["wacz", "--archive", str(two_days), "-o", str(out), "--captured-since", "2026-03-03",
                 "--captured-until", "2026-03-04"]) == 1
    assert "no WARC file in the slice" in capsys.readouterr().err
    assert not out.exists()



@pytest.mark.parametrize("damage", ["truncate", "garble"])
def test_a_damaged_warc_file_is_named_and_nothing_is_written(two_days: Path, tmp_path: Path, damage: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(two_days, archive)
    victim = sorted((archive / "warc").glob("*.warc.gz"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[:len(data) // 2] if damage == "truncate" else
                       data[:len(data) // 2] + bytes(64) + data[len(data) // 2 + 64:])
    out = tmp_path / "x.wacz"
    assert main(["wacz", "--archive", str(archive), "-o", str(out), "--captured-since", "2026-03-01"]) == 1
    err = capsys.readouterr().err
    assert victim.name in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
