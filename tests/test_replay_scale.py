"""Replay at collection scale: the same results in one process, a process pool and on Dask; resume after kill -9.

The collection (tests/replay_samples.collection) has four files in three formats, an
article with three versions whose captures lie in three files out of file order,
re-captures, unrelated hosts and a damaged stretch.  One 2-worker Dask LocalCluster is
started for the module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.replay.job_map import TEST_DELAY_ENV

from .replay_samples import collection, gz, http_response, record, write

# Dask's own warnings (closing clusters, lost workers) are not what these tests look at.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning",
                                        "ignore::UserWarning", "ignore::RuntimeWarning")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    distributed = pytest.importorskip("dask.distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        yield str(cluster.scheduler_address)
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def coll(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    return collection(tmp_path_factory.mktemp("collection"))


def files_of(coll: dict[str, object]) -> list[str]:
    return [str(p) for p in coll["files"]]  # type: ignore[attr-defined]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".replay" not in p.parts}


def parquet_rows(root: Path) -> dict[str, list[dict[str, object]]]:
    import pyarrow.parquet as pq

    return {p.relative_to(root).as_posix(): pq.read_table(p).to_pylist() for p in sorted(root.rglob("*.parquet"))}


def run(capsys: pytest.CaptureFixture[str], target: Path, *args: str) -> tuple[int, str]:
    code = main(["replay", *args, "--out", str(target / "out"), "--jsonl", f"{target / 'jsonl'}/",
                 "--parquet", str(target / "parquet"), "--summary", str(target / "summary.json")])
    return code, capsys.readouterr().err


def test_one_process_pool_and_dask_give_identical_results(coll: dict[str, object], dask_address: str,
                                                          tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = files_of(coll)
    ways = {
        "one": ["--processes", "1"],
        "pool": ["--processes", "2"],
        "dask": ["--dask", dask_address],
        "dask-local": ["--dask", "local", "--processes", "2"],
    }
    results = {}
    for name, args in ways.items():
        code, err = run(capsys, tmp_path / name, *files, *args)
        assert code == 5, err  # the garbage stretch in a-coll.warc.gz
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        for volatile in ("seconds", "state", "pool_restarts"):
            summary.pop(volatile)
        results[name] = (tree(tmp_path / name / "out"), tree(tmp_path / name / "jsonl"),
                         parquet_rows(tmp_path / name / "parquet"), summary)
    reference = results["one"]
    for name, result in results.items():
        assert result[0] == reference[0], name
        assert result[1] == reference[1], name
        assert result[2] == reference[2], name
        assert result[3] == reference[3], name

    texts, jsonl, parquet, summary = reference
    source, article_id = coll["revised"]  # type: ignore[misc]
    assert any(k.startswith(f"text/{source}/") for k in texts)
    versions = sorted(k for k in texts if f"/{article_id}." in k)
    assert [k.rsplit("/", 1)[1] for k in versions] == [f"{article_id}.txt", f"{article_id}.v2.txt",
                                                       f"{article_id}.v3.txt"]
    first, second, third = (texts[k] for k in versions)
    assert first == third != second  # v3 is the v1 text captured again after the revision
    rows = [json.loads(line) for data in jsonl.values() for line in data.decode().splitlines()]
    assert len(rows) == summary["versions"] == coll["articles"] + 2  # type: ignore[operator]
    assert sum(len(r) for r in parquet.values()) == len(rows)
    assert summary["skipped_records"] == coll["unrelated"]
    assert set(summary["skipped_hosts"]) == {"news.example.org", "other-paper.test", "blog.example.net"}
    assert len(summary["bad_records"]) == 1 and "a-coll.warc.gz" in summary["bad_records"][0]["file"]
    assert summary["per_file"][files[0]]["problems"] == summary["bad_records"]
    assert sum(summary["templates"].values()) == summary["articles"]
    assert summary["rules"]
    # The re-capture dated earlier than the first capture (in a later file) is version 1's source.
    early_source, early_id = coll["early"]  # type: ignore[misc]
    [early] = [r for r in rows if (r["source"], r["article_id"]) == (early_source, early_id)]
    assert (early["warc_file"], early["version"]) == ("c-coll.warc.zst", 1)


def test_single_jsonl_stream_is_in_warc_order(coll: dict[str, object], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    files = files_of(coll)
    outputs = []
    for processes in ("1", "2"):
        target = tmp_path / f"all-{processes}.jsonl"
        code = main(["replay", *files, "--jsonl", str(target), "--processes", processes])
        assert code == 5, capsys.readouterr().err
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    rows = [json.loads(line) for line in outputs[0].decode().splitlines()]
    dates = [r["warc_date"].replace("Z", "").ljust(26, "0") for r in rows]
    assert dates == sorted(dates)
    capsys.readouterr()
    assert main(["replay", *files, "--jsonl", "-", "--processes", "1"]) == 5
    assert capsys.readouterr().out.encode() == outputs[0]


def test_source_and_host_filters(coll: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = files_of(coll)
    assert main(["replay", *files, "--jsonl", "-", "--source", "hue", "--processes", "1"]) == 5
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and {r["source"] for r in rows} == {"hue"}
    assert main(["replay", *files, "--jsonl", "-", "--host", "www.baoangiang.com.vn", "--processes", "1"]) == 5
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and {r["source"] for r in rows} == {"baoangiang"}
    assert main(["replay", *files, "--jsonl", "-", "--source", "nope"]) == 2
    assert "no source named 'nope'" in capsys.readouterr().err


def test_unrelated_hosts_are_skipped_before_their_payload_is_decoded(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    bomb = gz(b"\0" * 50_000_000)  # 50 MB of zeros, content-encoded gzip twice below
    hostile = record("https://unrelated.example/a.html", http_response(gz(bomb), [("Content-Encoding", "gzip, gzip")]))
    broken = record("https://unrelated.example/b.html", http_response(b"\x1f\x8bnot gzip", [("Content-Encoding",
                                                                                              "gzip")]))
    warc = write(tmp_path / "u.warc.gz", [gz(hostile), gz(broken)])
    started = time.monotonic()
    assert main(["replay", str(warc), "--jsonl", "-", "--processes", "1"]) == 0
    err = capsys.readouterr().err
    assert time.monotonic() - started < 5
    assert "2 records of 1 unrelated hosts skipped" in err and "0 bad records" in err


def test_without_the_scale_extra_the_message_says_what_to_install(coll: dict[str, object], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails as when not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main(["replay", *files_of(coll), "--out", str(tmp_path / "o"), "--dask", "local"]) == 1
    assert "--dask needs the 'scale' extra: pip install 'crawler[scale]'" in capsys.readouterr().err
    assert main(["replay", *files_of(coll), "--parquet", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err  # pyarrow is in the base install: no extra to name, the package to reinstall
    assert "--parquet needs pyarrow, a dependency of crawler that is missing here: pip install pyarrow" in err
    assert "scale" not in err


def test_rerun_skips_finished_files(coll: dict[str, object], tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    files = files_of(coll)
    code, _ = run(capsys, tmp_path / "r", *files, "--processes", "1")
    first = tree(tmp_path / "r" / "out"), tree(tmp_path / "r" / "jsonl")
    code, err = run(capsys, tmp_path / "r", *files, "--processes", "1")
    assert code == 5
    assert "4 WARC files (4 done by an earlier run)" in err
    assert (tree(tmp_path / "r" / "out"), tree(tmp_path / "r" / "jsonl")) == first


# -- kill -9 --------------------------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def finished_inputs(state: Path) -> int:
    try:
        return sum(1 for line in (state / "manifest.jsonl").read_text().splitlines() if '"key"' in line)
    except FileNotFoundError:
        return 0


def start_replay(files: list[str], out: Path, delay: float) -> subprocess.Popen[bytes]:
    env = {**os.environ, TEST_DELAY_ENV: str(delay)}
    return subprocess.Popen([sys.executable, "-m", "crawler", "replay", *files, "--out", str(out / "out"),
                             "--jsonl", f"{out / 'jsonl'}/", "--processes", "2", "--no-progress"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(predicate: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def reference(coll: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], ...]:
    target = tmp_path_factory.mktemp("reference")
    code = main(["replay", *files_of(coll), "--out", str(target / "out"), "--jsonl", f"{target / 'jsonl'}/",
                 "--processes", "1"])
    assert code == 5
    return tree(target / "out"), tree(target / "jsonl")


def test_kill_9_of_the_client_then_rerun(coll: dict[str, object], reference: tuple[dict[str, bytes], ...],
                                         tmp_path: Path) -> None:
    files = files_of(coll)
    proc = start_replay(files, tmp_path, delay=0.6)
    state = tmp_path / "out" / ".replay"
    wait_for(lambda: finished_inputs(state) >= 1 or proc.poll() is not None)
    assert proc.poll() is None, "the job ended before it could be killed"
    workers = descendants(proc.pid)
    assert workers
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    wait_for(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), timeout=10)  # no orphans
    assert finished_inputs(state) < len(files)

    rerun = subprocess.run([sys.executable, "-m", "crawler", "replay", *files, "--out", str(tmp_path / "out"),
                            "--jsonl", f"{tmp_path / 'jsonl'}/", "--processes", "2"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 5, rerun.stderr
    assert "done by an earlier run" in rerun.stderr
    assert (tree(tmp_path / "out"), tree(tmp_path / "jsonl")) == reference


def test_kill_9_of_a_worker(coll: dict[str, object], reference: tuple[dict[str, bytes], ...], tmp_path: Path) -> None:
    files = files_of(coll)
    proc = start_replay(files, tmp_path, delay=0.6)
    wait_for(lambda: len(pool_workers(proc.pid)) >= 2 or proc.poll() is not None)
    time.sleep(0.2)
    workers = pool_workers(proc.pid)
    assert workers, "no worker to kill"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 5, err
    assert (tree(tmp_path / "out"), tree(tmp_path / "jsonl")) == reference
    summary = json.loads((tmp_path / "out" / ".replay" / "summary.json").read_text())
    assert summary["pool_restarts"] >= 1


def pool_workers(pid: int) -> list[int]:
    out = []
    for child in descendants(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                out.append(child)
        except OSError:
            continue
    return out


def test_a_state_of_another_configuration_is_dropped(coll: dict[str, object], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    files = files_of(coll)
    assert run(capsys, tmp_path / "c", *files, "--processes", "1", "--source", "hue")[0] == 5
    code, err = run(capsys, tmp_path / "c", *files, "--processes", "1")
    assert code == 5
    assert "state of another configuration dropped; started over" in err
    assert "done by an earlier run" not in err
    assert {p.split("/")[1] for p in tree(tmp_path / "c" / "out")} == {"baocantho", "baoangiang", "hue"}


def test_progress_on_a_terminal(coll: dict[str, object], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.config import load_sources
    from crawler.replay.engine import FileTask, ReplayConfig
    from crawler.replay.job import run_job
    from crawler.replay.job_options import JobOptions, Outputs

    options = JobOptions([FileTask(f) for f in files_of(coll)], Outputs(out=tmp_path / "o"), processes=1,
                         progress=True)
    summary = run_job(options, ReplayConfig(load_sources(ROOT / "sources.yaml")))
    err = capsys.readouterr().err
    assert summary.files == 4
    assert "4/4 files" in err and f"{summary.records} records" in err and "records/s" in err and "ETA" in err


def test_kill_9_of_a_dask_worker(coll: dict[str, object], reference: tuple[dict[str, bytes], ...], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setenv(TEST_DELAY_ENV, "0.6")  # inherited by the workers started below
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    result: dict[str, int] = {}
    try:
        with distributed.Client(cluster) as client:
            pids = sorted(client.run(os.getpid).values())
        args = ["replay", *files_of(coll), "--out", str(tmp_path / "out"), "--jsonl", f"{tmp_path / 'jsonl'}/",
                "--dask", str(cluster.scheduler_address)]
        job = threading.Thread(target=lambda: result.setdefault("code", main(args)))
        job.start()
        wait_for(lambda: finished_inputs(tmp_path / "out" / ".replay") >= 1 or not job.is_alive())
        assert job.is_alive(), "the job ended before a worker could be killed"
        os.kill(pids[0], signal.SIGKILL)
        job.join(120)
    finally:
        cluster.close()
    assert result.get("code") == 5, capsys.readouterr().err
    assert (tree(tmp_path / "out"), tree(tmp_path / "jsonl")) == reference
