"""``crawler failed``: a header line naming its columns, ``--json`` with the same keys (JSON Lines), and
a reader that goes away (``| head -1``) ends it quietly with exit 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.cli import main

COLUMNS = ["source", "article_id", "url", "attempts", "retried", "next_try", "last_error"]
ODD = ["tab\there", "line\u2028sep", "nel\x85x", "plain"]


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    with Store(tmp_path) as store:
        for n, odd in enumerate(ODD):
            store.fail("hue", str(n), f"https://huengaynay.vn/x/bai-{n}.html?q={odd}", f"HTTP 404 {odd}",
                       permanent=n % 2 == 0)
    return tmp_path


def test_tsv_has_a_header_and_the_same_columns_as_json(archive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["failed", "--archive", str(archive)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == COLUMNS
    rows = [line.split("\t") for line in lines[1:]]
    assert len(rows) == len(ODD) and all(len(row) == len(COLUMNS) for row in rows)
    assert main(["failed", "--archive", str(archive), "--json"]) == 0
    out = capsys.readouterr().out
    assert "\u2028" not in out and "\x85" not in out and out.count("\n") == len(ODD)  # escaped, as every JSON Lines
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == len(ODD)
    by_id = {record["article_id"]: record for record in records}
    for row in rows:
        record = by_id[row[1]]
        assert list(record) == COLUMNS
        assert row[0] == record["source"] and row[3] == str(record["attempts"]) and row[4] == record["retried"]
        assert row[5] == (record["next_try"] or "")
    assert {r["retried"] for r in records} == {"on schedule", "next run"}
    assert {r["url"] for r in records} == {f"https://huengaynay.vn/x/bai-{n}.html?q={odd}" for n, odd in enumerate(ODD)}


def test_empty_still_has_its_header(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(tmp_path):
        pass
    assert main(["failed", "--archive", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["\t".join(COLUMNS)] and "0 articles" in err
    assert main(["failed", "--archive", str(tmp_path), "--json"]) == 0
    assert capsys.readouterr().out == ""


def test_header_is_documented() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("`crawler failed [--archive DIR] [--source KEY] [--json]` lists"):][:600]
    positions = [section.index(f"`{column}`") for column in COLUMNS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("json_lines", [False, True])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, json_lines: bool) -> None:
    with Store(tmp_path) as store:  # more output than a pipe holds
        for n in range(800):
            store.fail("hue", str(n), f"https://huengaynay.vn/x/bai-{n}.html", "HTTP 404 " + "x" * 200,
                       permanent=True)
    read, write = os.pipe()
    argv = [sys.executable, "-m", "crawler", "failed", "--archive", str(tmp_path), *(["--json"] if json_lines else [])]
    with subprocess.Popen(argv, stdout=write, stderr=subprocess.PIPE) as proc:
        os.close(write)
        os.read(read, 10)
        os.close(read)  # `| head -c 10`
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert err in (b"", b"failed: 800 articles not archived after failing\n"), err
