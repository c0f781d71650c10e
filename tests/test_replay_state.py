"""The replay job's saved state is data, read back as untrusted input.

Whoever can write a state directory (a shared file system in the cluster setup) must not be
able to run code as the user who resumes the job, nor make the job read or write a file
outside the state directory; a damaged state file is named and redone, never a job stuck
forever.  Also: write failures name their file, and ``--host`` matching nothing says so.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.cli import main

from .replay_samples import Page, articles, gz, page_record, write

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    return articles(per_source=2)


@pytest.fixture
def warcs(pages: list[Page], tmp_path: Path) -> list[str]:
    half = len(pages) // 2
    (tmp_path / "in").mkdir()
    return [str(write(tmp_path / "in" / "a.warc.gz", [gz(page_record(p)) for p in pages[:half]])),
            str(write(tmp_path / "in" / "b.warc.gz", [gz(page_record(p)) for p in pages[half:]]))]


def replay(capsys: pytest.CaptureFixture[str], tmp_path: Path, warcs: list[str], *extra: str) -> tuple[int, str]:
    code = main(["replay", *warcs, "--out", str(tmp_path / "out"), "--jsonl", str(tmp_path / "rows.jsonl"),
                 "--state", str(tmp_path / "state"), "--processes", "1", "--no-progress", *extra])
    return code, capsys.readouterr().err


def outputs(tmp_path: Path) -> dict[str, bytes]:
    out = tmp_path / "out"
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    files["rows.jsonl"] = (tmp_path / "rows.jsonl").read_bytes()
    return files


def manifest_lines(state: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (state / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]


def rewrite_manifest(state: Path, lines: list[dict[str, object]]) -> None:
    (state / "manifest.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


class Exploit:
    """A pickle that creates a file when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (os.system, (f"touch {self.marker}",))


def plant_pickles(state: Path, marker: Path) -> list[Path]:
    """Malicious pickles wherever an older crawler kept pickled state (spill, runs, sorted runs)."""
    planted = []
    for rel in ("spill/{key}.pkl", "parts/src=2024-01/000.pkl", "sorted/src=2024-01.pkl"):
        keys = [str(e["key"]) for e in manifest_lines(state)[1:]] if "{key}" in rel else [""]
        for key in keys:
            path = state / rel.format(key=key)
            path.parent.mkdir(parents=True, exist_ok=True)
            exploit = pickle.dumps(Exploit(marker))
            # An older spill ended with the offset of its pickled index: here, the exploit.
            path.write_bytes(exploit + (0).to_bytes(8, "little") if key else exploit)
            planted.append(path)
    return planted


# -- item 3: no pickle is ever loaded from the state directory ---------------------------------------------


def test_the_state_holds_no_pickle(warcs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    state = tmp_path / "state"
    for path in state.rglob("*"):
        if path.is_file():
            assert not path.name.endswith(".pkl"), path
            assert path.read_bytes()[:1] != b"\x80", f"{path} looks like a pickle"
    header = manifest_lines(state)[0]
    assert header["schema"] == 2 and header["format"] == "crawler-replay-state"


def test_a_malicious_pickle_in_the_state_never_runs(warcs: list[str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    reference = outputs(tmp_path)
    state, marker = tmp_path / "state", tmp_path / "PWNED"
    plant_pickles(state, marker)
    # Every manifest entry now names its pickle, as an older crawler's manifest would.
    lines = manifest_lines(state)
    rewrite_manifest(state, [lines[0], *({**e, "spill": f"{e['key']}.pkl"} for e in lines[1:])])
    code, err = replay(capsys, tmp_path, warcs)
    assert not marker.exists()
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "pickle" in err or "not a spill file" in err
    assert outputs(tmp_path) == reference  # nothing was lost


def test_state_of_an_older_crawler_is_refused_with_what_to_do(warcs: list[str], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    state, marker = tmp_path / "state", tmp_path / "PWNED"
    state.mkdir()
    old_header = {"fingerprint": "0" * 32, "buckets": 64}  # an old manifest: no schema
    (state / "manifest.jsonl").write_text(json.dumps(old_header) + "\n", encoding="utf-8")
    (state / "spill").mkdir()
    (state / "spill" / f"{'a' * 24}.pkl").write_bytes(pickle.dumps(Exploit(marker)))
    code, err = replay(capsys, tmp_path, warcs)
    assert not marker.exists()
    assert code == 1, err
    assert err.count("\n") == 1
    assert str(state) in err and "remove" in err and "older" in err
    assert (state / "spill" / f"{'a' * 24}.pkl").exists()  # refused, not deleted behind the user's back


HOSTILE_SPILLS = ["../../etc/passwd", "/etc/passwd", "../manifest.jsonl", "sub/../../x.json", "link.jsonl",
                  "..", "", "spill\n.jsonl"]


@pytest.mark.parametrize("name", HOSTILE_SPILLS)
def test_a_spill_outside_the_state_directory_is_refused(name: str, warcs: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    state = tmp_path / "state"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you\n")
    (state / "spill" / "link.jsonl").symlink_to(secret)
    lines = manifest_lines(state)
    rewrite_manifest(state, [lines[0], {**lines[1], "spill": name}, *lines[2:]])
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert str(state / "manifest.jsonl") in err and "spill" in err
    assert "not for you" not in (tmp_path / "rows.jsonl").read_text()


def test_a_spill_that_is_a_symlink_is_refused(warcs: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    state = tmp_path / "state"
    entry = manifest_lines(state)[1]
    spill = state / "spill" / str(entry["spill"])
    elsewhere = tmp_path / "elsewhere.jsonl"
    spill.rename(elsewhere)
    spill.symlink_to(elsewhere)  # the right name, but a link out of the state directory
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 1, err
    assert err.count("\n") == 1 and "symbolic link" in err and str(spill) in err


def test_a_spill_directory_that_is_a_symlink_is_refused(warcs: list[str], tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    state = tmp_path / "state"
    (state / "spill").rename(tmp_path / "spill-elsewhere")
    (state / "spill").symlink_to(tmp_path / "spill-elsewhere")
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 1, err
    assert err.count("\n") == 1 and "symbolic link" in err


@pytest.mark.parametrize("field, value", [
    ("source", "../../escape"), ("article_id", "../../../../tmp/x"), ("article_id", "/etc/x"),
    ("published", "not a date"), ("order", "nope"), ("json_head", '{"a": 1}\n{"b": 2'), ("text", 5),
])
def test_spill_rows_are_validated(field: str, value: object, warcs: list[str], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.replay.spill import ROW_FIELDS, read_spill_bucket, write_spill

    assert replay(capsys, tmp_path, warcs)[0] == 0
    state = tmp_path / "state"
    entry = manifest_lines(state)[1]
    spill = state / "spill" / str(entry["spill"])
    count = int(str(manifest_lines(state)[0]["buckets"]))
    buckets: list[list[object]] = [list(read_spill_bucket(spill, b, count)) for b in range(count)]
    row = next(r for b in buckets for r in b)
    hostile = [value if name == field else getattr(row, name) for name in ROW_FIELDS]
    tampered = [[hostile if r is row else r for r in b] for b in buckets]
    digest = write_spill(spill, tampered)
    lines = manifest_lines(state)
    rewrite_manifest(state, [lines[0], {**lines[1], "spill_sha256": digest}, *lines[2:]])
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 1, err
    assert err.count("\n") == 1 and str(spill) in err and "Traceback" not in err
    assert not list(tmp_path.rglob("x")) and not (tmp_path.parent / "escape").exists()
    # The damaged spill was removed: the next run replays its input again and succeeds.
    assert replay(capsys, tmp_path, warcs)[0] == 0


# -- item 27: a damaged state file is named and redone -----------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x20
    path.write_bytes(bytes(data))


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff garbage \x80\x81" * 40)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


@pytest.mark.parametrize("damage", [_truncate, _flip, _garbage, _empty, _directory])
def test_a_damaged_spill_is_named_and_its_input_redone(damage: object, warcs: list[str], tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    reference = outputs(tmp_path)
    state = tmp_path / "state"
    spill = state / "spill" / str(manifest_lines(state)[1]["spill"])
    damage(spill)  # type: ignore[operator]
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 0, err
    assert str(spill) in err and "replayed again" in err
    assert "(1 done by an earlier run)" in err
    assert outputs(tmp_path) == reference
    code, err = replay(capsys, tmp_path, warcs)  # and the state is whole again
    assert code == 0 and "(2 done by an earlier run)" in err and "replayed again" not in err


@pytest.mark.parametrize("mangle", [
    lambda e: {**e, "counts": {"records": "many"}},
    lambda e: {**e, "failures": "x"},
    lambda e: {**e, "problems": [{"file": 1}]},
    lambda e: {**e, "size": "big"},
    lambda e: {**e, "key": "../x"},
    lambda e: [1, 2, 3],
])
def test_a_damaged_manifest_entry_is_named_and_redone(mangle: object, warcs: list[str], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert replay(capsys, tmp_path, warcs)[0] == 0
    reference = outputs(tmp_path)
    state = tmp_path / "state"
    lines = manifest_lines(state)
    rewrite_manifest(state, [lines[0], mangle(lines[1]), *lines[2:]])  # type: ignore[operator]
    code, err = replay(capsys, tmp_path, warcs)
    assert code == 0, err
    assert str(state / "manifest.jsonl") in err and "replayed again" in err
    assert outputs(tmp_path) == reference


# -- item 34: write failures name the file; --host matching nothing says so ---------------------------------


def _limited(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.parametrize("limit", [100, 3_000, 9_000])
def test_a_write_that_fails_names_its_file_and_cause(limit: int, warcs: list[str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "crawler", "replay", *warcs, "--jsonl", f"{tmp_path / 'parts'}/",
         "--out", str(tmp_path / "out"), "--state", str(tmp_path / "state"), "--processes", "1", "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, preexec_fn=lambda: _limited(limit))
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "File too large" in proc.stderr
    assert f"cannot write {tmp_path}" in proc.stderr, proc.stderr


@pytest.mark.parametrize("hosts", [["nothing.example.org"], ["www.baoangiang.com.vn", "nothing.example.org"],
                                   ["BAOCANTHO.com.vn.", "nothing.example.org"]])
def test_a_host_that_matches_nothing_is_said_and_exits_2(hosts: list[str], warcs: list[str], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, err = replay(capsys, tmp_path, warcs, *(x for h in hosts for x in ("--host", h)))
    assert code == 2, err
    assert "--host nothing.example.org matched no response record" in err
    for host in hosts[:-1]:
        assert f"--host {host} matched" not in err


def test_a_host_that_matches_is_not_reported(warcs: list[str], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, err = replay(capsys, tmp_path, warcs, "--host", "baocantho.com.vn")
    assert code == 0, err
    assert "matched no" not in err


@pytest.mark.parametrize("host", ["127.1", "", "x y", "2130706433"])
def test_a_host_that_names_no_host_is_refused_before_the_job(host: str, warcs: list[str], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, err = replay(capsys, tmp_path, warcs, "--host", host)
    assert code == 2, err
    assert err.count("\n") == 1 and f"--host {host!r}" in err
    assert not (tmp_path / "state").exists()
