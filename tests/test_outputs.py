"""Files the tool writes (:mod:`crawler.archive.outputs`): temporaries, what an output may replace, paths read from a
catalog, leftovers of killed runs, WACZ entry names, CSV cells, Parquet row groups."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.archive.outputs import TEMPORARY, replacing, sweep_temporaries
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import origin_args

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    archive = tmp_path_factory.mktemp("outputs") / "archive"
    with Mirror(articles=4, seed=7) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    yield archive


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# -- 10: temporaries are new files with unpredictable names, never a planted link ---------------------------


def _writers(tmp: Path) -> dict[str, Callable[[Path], None]]:
    from crawler.archive.catalog import atomic_write
    from crawler.archive.cdxj import write_index
    from crawler.replay.sinks import JsonlSink
    from crawler.replay.spill import write_spill

    def jsonl(path: Path) -> None:
        sink = JsonlSink(path)
        sink.add((("a", "1", 1, 0), '{"x": 1}\n'))
        sink.close()

    return {
        "atomic_write": lambda path: atomic_write(path, b"new\n"),
        "index": lambda path: write_index(path.parent, path.name.removesuffix(".cdxj"), []),
        "replay --jsonl": jsonl,
        "spill": lambda path: write_spill(path, [[1, 2]]),
        "replacing": lambda path: _replacing(path),
    }


def _replacing(path: Path) -> None:
    with replacing(path) as handle:
        handle.write(b"new\n")


@pytest.mark.parametrize("writer", ["atomic_write", "index", "replay --jsonl", "spill", "replacing"])
def test_no_writer_follows_a_link_planted_at_a_temporary_name(tmp_path: Path, writer: str) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    out = tmp_path / "out" / "x.cdxj"
    out.parent.mkdir()
    # Every name an earlier version would have used, and a few guesses at the new ones.
    for name in (f".{out.name}.{os.getpid()}.tmp", f".{out.name}.crawler-{os.getpid()}-aaaaaaaa.tmp"):
        (out.parent / name).symlink_to(victim)
    _writers(tmp_path)[writer](out)
    assert victim.read_bytes() == b"precious\n"
    assert out.is_file() and not out.is_symlink()
    made = [p.name for p in out.parent.iterdir() if not p.is_symlink() and p != out]
    assert made == []  # no temporary left


def test_temporary_names_are_new_each_time_and_recognisable(tmp_path: Path) -> None:
    seen = set()
    for _ in range(5):
        with replacing(tmp_path / "a.csv") as handle:
            name = Path(handle.name).name
            assert TEMPORARY.match(name) and f"crawler-{os.getpid()}-" in name
            seen.add(name)
    assert len(seen) == 5


def test_a_summary_that_cannot_be_written_is_exit_1(crawled: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    summary = tmp_path / "no" / "such" / "summary.json"
    code, _, err = run(capsys, "replay", "--archive", str(crawled), "--jsonl", str(tmp_path / "r.jsonl"),
                       "--processes", "1", "--summary", str(summary), "--no-progress")
    assert code == 1 and f"cannot write {summary}" in err and "Traceback" not in err
    assert (tmp_path / "r.jsonl").is_file()


def test_a_summary_replaces_a_link_not_its_target(crawled: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious\n")
    summary = tmp_path / "summary.json"
    summary.symlink_to(victim)
    code, _, err = run(capsys, "replay", "--archive", str(crawled), "--jsonl", str(tmp_path / "r.jsonl"),
                       "--processes", "1", "--summary", str(summary), "--no-progress")
    assert code == 0, err
    assert victim.read_bytes() == b"precious\n" and json.loads(summary.read_text(encoding="utf-8"))["files"] >= 1


# -- 14: an output replaces a regular file only, and never an archive's own files ---------------------------


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"special-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "link-to-fifo":
        os.mkfifo(tmp_path / "fifo-target")
        path.symlink_to(tmp_path / "fifo-target")
    elif kind == "device":
        path = Path("/dev/null")
    return path


@pytest.mark.parametrize("kind", ["fifo", "dir", "link-to-fifo", "device"])
@pytest.mark.parametrize("command", [
    ["export", "--format", "csv", "-o"], ["report", "-o"], ["replay", "--processes", "1", "--jsonl"],
    ["replay", "--processes", "1", "--jsonl", "-", "--summary"],
])
def test_outputs_refuse_what_is_not_a_regular_file(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   kind: str, command: list[str]) -> None:
    if kind == "dir" and command[-1] == "--jsonl":
        pytest.skip("--jsonl DIR is the partitioned output")
    target = _special(tmp_path, kind)
    code, _, err = run(capsys, *command, str(target), "--archive", str(crawled))
    assert code == 2 and str(target) in err and "not a regular file" in err and "Traceback" not in err
    assert target.exists() and not target.is_file()


def test_wacz_refuses_a_fifo(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "x.wacz"
    os.mkfifo(target)
    code, _, err = run(capsys, "wacz", "-o", str(target), "--archive", str(crawled))
    assert code == 2 and "a FIFO" in err and not target.is_file()


MANAGED = ["catalog.sqlite", "catalog.sqlite-wal", "warc/x.wacz", "text/x.csv", "indexes/a.cdxj", "runs/r.jsonl",
           "journal/j.jsonl", ".crawler.lock", "text/hue/new/deep.csv"]


@pytest.mark.parametrize("where", MANAGED)
def test_outputs_refuse_an_archives_own_files(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              where: str) -> None:
    catalog = digest(crawled / "catalog.sqlite")
    target = crawled / where
    suffix = Path(where).suffix
    commands = [["export", "--format", "csv", "-o", str(target)], ["report", "-o", str(target)],
                ["replay", "--processes", "1", "--jsonl", str(target)],
                ["replay", "--processes", "1", "--jsonl", "-", "--summary", str(target)]]
    if suffix == ".wacz":
        commands.append(["wacz", "-o", str(target)])
    for command in commands:
        code, _, err = run(capsys, *command, "--archive", str(crawled))
        assert code == 2 and str(target) in err and "archive" in err and "Traceback" not in err, command
    assert digest(crawled / "catalog.sqlite") == catalog
    # Through a link to the archive, too.
    link = tmp_path / "link"
    link.symlink_to(crawled)
    code, _, err = run(capsys, "export", "--format", "csv", "-o", str(link / where), "--archive", str(crawled))
    assert code == 2 and "archive" in err


def test_replay_out_refuses_an_archive(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p: digest(p) for p in (crawled / "text").rglob("*.txt")}
    for out in (crawled, crawled / "text", crawled / "warc"):
        code, _, err = run(capsys, "replay", "--archive", str(crawled), "--processes", "1", "--out", str(out))
        assert code == 2 and str(out) in err, err
    for option in ("--parquet", "--state"):
        code, _, err = run(capsys, "replay", "--archive", str(crawled), "--processes", "1", "--jsonl", "-",
                           option, str(crawled / "indexes"))
        assert code == 2 and option in err
    assert {p: digest(p) for p in (crawled / "text").rglob("*.txt")} == before
    # A new directory beside it is fine, and so is a report written at the archive's top.
    assert main(["replay", "--archive", str(crawled), "--processes", "1", "--out", str(tmp_path / "o")]) == 0
    assert main(["report", "--archive", str(crawled), "-o", str(tmp_path / "report.html")]) == 0


# -- 16: every path read from a catalog stays inside the archive --------------------------------------------


def _archive_naming(tmp_path: Path, text_path: str) -> Path:
    archive = tmp_path / "a"
    with Store(archive) as s:
        s.commit([SnapshotRow("hue", "1", 1, "https://huengaynay.vn/a-1.html", "2024-05-02T10:00:00+07:00", "T",
                              text_path, "0" * 64, "w.warc.gz", 0, "2024-05-02T03:00:00+00:00", "1", "{}")])
    return archive


OUTSIDE = ["/etc/hostname", "../secret.txt", "text/../../secret.txt", "text/link/x.txt", "text/x-link.txt",
           "text\\..\\..\\secret.txt"]


def _plant(crawled: Path, tmp_path: Path, text_path: str) -> Path:
    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (archive / "text" / "link").symlink_to(tmp_path)
    (tmp_path / "x.txt").write_text("secret", encoding="utf-8")
    (archive / "text" / "x-link.txt").symlink_to(tmp_path / "secret.txt")
    with Store(archive) as s:
        s.db.execute("UPDATE snapshots SET text_path=? WHERE rowid=(SELECT max(rowid) FROM snapshots)", (text_path,))
        s.db.commit()
    return archive


@pytest.mark.parametrize("text_path", OUTSIDE)
def test_readers_refuse_a_catalog_path_outside_the_archive(crawled: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str], text_path: str) -> None:
    archive = _plant(crawled, tmp_path, text_path)
    package = tmp_path / "p.wacz"
    code, out, err = run(capsys, "wacz", "-o", str(package), "--archive", str(archive))
    assert code == 1 and ("outside the archive" in err or "symbolic link" in err), err
    assert not package.exists()
    code, out, err = run(capsys, "export", "-o", "-", "--format", "jsonl", "--archive", str(archive))
    assert code == 1 and "secret" not in out and ("outside the archive" in err or "symbolic link" in err)
    code, out, err = run(capsys, "verify", "--archive", str(archive), "--quick")
    assert code == 1 and ("outside the archive" in out or "symbolic link" in out), out


@pytest.mark.parametrize("warc_file", ["../../secret.warc.gz", "/etc/hostname", "sub/../x.warc.gz"])
def test_verify_refuses_a_warc_file_outside(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            warc_file: str) -> None:
    archive = tmp_path / "a"
    (archive / "text").mkdir(parents=True)
    (archive / "text" / "t.txt").write_text("x", encoding="utf-8")
    with Store(archive) as s:
        s.commit([SnapshotRow("hue", "1", 1, "https://huengaynay.vn/a-1.html", "2024-05-02T10:00:00+07:00", "T",
                              "text/t.txt", "0" * 64, warc_file, 0, "2024-05-02T03:00:00+00:00", "1", "{}")])
    code, out, _ = run(capsys, "verify", "--archive", str(archive), "--quick")
    assert code == 1 and "outside the archive" in out


def test_recovery_never_removes_a_file_a_journal_names_outside(tmp_path: Path) -> None:
    from crawler.archive.recovery import replay_journals

    archive = tmp_path / "a"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    with Store(archive) as store:
        (archive / "journal").mkdir()
        row = SnapshotRow("hue", "1", 1, "https://huengaynay.vn/a-1.html", "2024-05-02T10:00:00+07:00", "T",
                          "../victim.txt", "0" * 64, "w.warc.gz", 0, "2024-05-02T03:00:00+00:00", "1", "{}")
        (archive / "journal" / "1.jsonl").write_text(row.as_json() + "\n", encoding="utf-8")
        done = replay_journals(store)
    assert victim.read_text(encoding="utf-8") == "precious"
    assert any("outside the archive" in item.what for item in done)


# -- 26: temporaries of killed runs are removed; a live one's never ---------------------------------------


WRITER = """
import sys, time
from pathlib import Path
from crawler.cli import _interrupt_on_sigterm
from crawler.archive.outputs import replacing
_interrupt_on_sigterm()
try:
    with replacing(Path(sys.argv[1])) as handle:
        handle.write(b"x" * 100000)
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)
except KeyboardInterrupt:
    sys.exit(130)
"""


def _start_writer(target: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "writing\n"
    return proc


def _temporaries(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if TEMPORARY.match(p.name))


def test_kill_9_leaves_a_temporary_the_next_command_removes(crawled: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.csv"
    killed = _start_writer(out)
    live = _start_writer(tmp_path / "b.csv")
    try:
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        assert killed.stdout is not None
        killed.stdout.close()
        assert len(_temporaries(tmp_path)) == 2  # the killed one's is left by the kill
        # An unrelated file of the old temporary shape is not ours: kept.
        (tmp_path / ".notes.1.tmp").write_text("mine", encoding="utf-8")
        code, _, err = run(capsys, "export", "-o", str(out), "--archive", str(crawled))
        assert code == 0, err
        left = _temporaries(tmp_path)
        assert ".notes.1.tmp" in left and len(left) == 2
        assert next(n for n in left if n != ".notes.1.tmp").startswith(f".b.csv.crawler-{live.pid}-")
    finally:
        live.kill()
        live.wait(10)
        assert live.stdout is not None
        live.stdout.close()
    assert sweep_temporaries(tmp_path, legacy=False)  # now dead
    assert not any("crawler-" in n for n in _temporaries(tmp_path))


def test_sigterm_removes_the_temporary(tmp_path: Path) -> None:
    proc = _start_writer(tmp_path / "a.csv")
    assert _temporaries(tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 130
    assert proc.stdout is not None
    proc.stdout.close()
    assert list(tmp_path.iterdir()) == []


def test_a_crawl_removes_temporaries_of_dead_processes_in_the_archive(tmp_path: Path) -> None:
    from crawler.config import load_sources
    from crawler.crawl.archiver import Archive

    archive = tmp_path / "a"
    Store(archive).close()
    (archive / "runs").mkdir()
    (archive / "indexes").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True).stdout.strip()
    stale = [archive / f".catalog.sqlite.crawler-{dead}-abcdefgh.tmp", archive / "runs" / f".r.json.{dead}.tmp",
             archive / "indexes" / f".x.cdxj.crawler-{dead}-zzzzzzzz.tmp"]
    live = archive / "runs" / f".r.json.crawler-{os.getpid()}-abcdefgh.tmp"
    for path in [*stale, live]:
        path.write_bytes(b"partial")
    with Archive(archive, load_sources(None)) as opened:
        assert {item.path for item in opened.recovered} >= set(stale)
    assert not any(p.exists() for p in stale) and live.exists()


# -- 30: WACZ entry names a validator accepts; what we write is checked ------------------------------------


@pytest.mark.parametrize("name", ["a\nb.warc.gz", "a\\b.warc.gz", "a\x1b[31mb.warc.gz", "a b.warc.gz",
                                  "Ünï.warc.gz", "-x.warc.gz"])
def test_wacz_refuses_a_warc_name_a_package_cannot_hold(crawled: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str], name: str) -> None:
    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    first = sorted((archive / "warc").glob("*.warc.gz"))[0]
    shutil.copy(first, archive / "warc" / name)
    package = tmp_path / "p.wacz"
    code, _, err = run(capsys, "wacz", "-o", str(package), "--archive", str(archive))
    assert code == 1 and "cannot hold" in err and err.count("\n") == 1
    assert not package.exists() and not _temporaries(tmp_path)


def test_what_wacz_writes_passes_wacz_validate(crawled: Path, tmp_path: Path) -> None:
    package = tmp_path / "p.wacz"
    assert main(["wacz", "-o", str(package), "--archive", str(crawled)]) == 0
    result = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(package)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_invalid_package_is_not_written(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.archive.wacz

    monkeypatch.setattr(crawler.archive.wacz, "check_entry_name", lambda name: None)
    monkeypatch.setattr(crawler.archive.wacz, "resource", lambda path, writer: {"name": "Bad Name", "path": path,
                                                                         "hash": writer.digest, "bytes": writer.size})
    package = tmp_path / "p.wacz"
    package.write_bytes(b"old")
    code, _, err = run(capsys, "wacz", "-o", str(package), "--archive", str(crawled))
    assert code == 1 and "would not be valid" in err and package.read_bytes() == b"old"


# -- 12: CSV formula injection -------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u00a0@x", "\n+1",
            "＝1"]


def _archive_with_titles(tmp_path: Path, titles: list[str]) -> Path:
    archive = tmp_path / "a"
    rows = []
    for n, title in enumerate(titles, 1):
        rel = f"text/hue/2024/05/{n}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(title, encoding="utf-8")
        rows.append(SnapshotRow("hue", str(n), 1, f"https://huengaynay.vn/a-{n}.html", "2024-05-02T10:00:00+07:00",
                                title, rel, "0" * 64, "w.warc.gz", 0, "2024-05-02T03:00:00+00:00", "1",
                                json.dumps({"sapo": title, "byline": "Phóng viên"})))
    with Store(archive) as s:
        s.commit(rows)
    return archive


def test_csv_cells_that_look_like_formulas_are_neutralised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    titles = [*FORMULAS, "Bình thường", "Giá 5-10%", "a=b"]
    archive = _archive_with_titles(tmp_path, titles)
    code, out, _ = run(capsys, "export", "-o", "-", "--format", "csv", "--archive", str(archive))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    by_id = {r["article_id"]: r for r in rows}
    for n, title in enumerate(titles, 1):
        expected = "'" + title if title in FORMULAS else title
        for column in ("title", "text", "sapo"):
            assert by_id[str(n)][column] == expected, (column, title)
    code, out, _ = run(capsys, "export", "-o", "-", "--format", "csv", "--csv-raw", "--archive", str(archive))
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [r["title"] for r in sorted(rows, key=lambda r: int(r["article_id"]))] == titles


# -- 18: Parquet row groups bounded by bytes ------------------------------------------------------------------


def test_parquet_row_groups_are_bounded_by_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    import crawler.use.export

    monkeypatch.setattr(crawler.use.export, "PARQUET_GROUP_BYTES", 1 << 20, raising=False)
    archive = _archive_with_titles(tmp_path, [f"Bài {n} " + "chữ " * 100_000 for n in range(8)])
    out = tmp_path / "a.parquet"
    code, _, err = run(capsys, "export", "-o", str(out), "--archive", str(archive))
    assert code == 0, err
    meta = pq.ParquetFile(out).metadata
    assert meta.num_rows == 8 and meta.num_row_groups >= 4
    started = time.monotonic()
    assert pq.read_table(out).num_rows == 8 and time.monotonic() - started < 30
