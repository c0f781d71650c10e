"""The archive a newcomer just made: after ``crawler demo`` every reading command finds it.

The rule (README, "Which archive"): ``--archive``, else ``$CRAWLER_ARCHIVE``, else ``./archive``, else
``./archive/demo`` when only the demo made one (said on stderr); with none of them a one-line refusal naming
``--archive``.  The demo prints a short first line and three next commands that work as printed.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import main

READERS = [
    ["search", "tin"],
    ["export", "-o", "-", "--format", "jsonl"],
    ["stats"],
    ["report", "-o", "report.html"],
    ["failed"],
    ["verify", "--quick"],
    ["index", "--search"],
    ["wacz", "-o", "demo.wacz"],
    ["replay", "--jsonl", "replayed.jsonl", "--processes", "1"],
]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A directory where `crawler demo` ran with its defaults; its standard output."""
    where = tmp_path_factory.mktemp("newcomer")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(where)
        mp.delenv("CRAWLER_ARCHIVE", raising=False)
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["demo", "--articles", "3"]) == 0
    assert (where / "archive" / "demo" / "catalog.sqlite").is_file()
    yield where, out.getvalue()


def test_the_demo_speaks_briefly_and_says_what_next(demo_dir: tuple[Path, str]) -> None:
    _, out = demo_dir
    lines = out.splitlines()
    assert len(lines[0]) <= 100, lines[0]
    assert "http://" not in lines[0]
    steps = [line for line in lines if line.startswith(("next:", "      crawler"))]
    assert len(steps) == 3 and steps[0].startswith("next: crawler ")
    assert all(len(line) <= 100 for line in steps)


def test_the_next_commands_work_as_printed(demo_dir: tuple[Path, str], monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    where, out = demo_dir
    monkeypatch.chdir(where)
    monkeypatch.delenv("CRAWLER_ARCHIVE", raising=False)
    steps = [line[5:].split("#")[0].strip() for line in out.splitlines() if line.startswith(("next:", "      crawler"))]
    for step in steps:
        argv = shlex.split(step)
        assert argv[0] == "crawler"
        assert main(argv[1:]) == 0, step
        captured = capsys.readouterr()
        assert "archive/demo" in captured.err  # said which archive it read
        if argv[1] == "search":
            assert captured.out.startswith("1. "), captured


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_every_reader_finds_the_demo_archive(demo_dir: tuple[Path, str], argv: list[str], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    where, _ = demo_dir
    work = tmp_path / "w"
    shutil.copytree(where / "archive", work / "archive")
    monkeypatch.chdir(work)
    monkeypatch.delenv("CRAWLER_ARCHIVE", raising=False)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "reading archive/demo (the demo's archive; --archive DIR for another)" in err


@pytest.mark.parametrize("argv", READERS, ids=lambda a: a[0])
def test_no_archive_anywhere_is_one_line_naming_archive(argv: list[str], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRAWLER_ARCHIVE", raising=False)
    (tmp_path / "archive" / "demo").mkdir(parents=True)  # directories, but no catalog in either
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("crawler: no archive in ./archive")
    assert "--archive DIR" in err and "crawler demo" in err


def test_archive_beats_the_demo_and_the_environment_beats_both(demo_dir: tuple[Path, str], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    where, _ = demo_dir
    shutil.copytree(where / "archive" / "demo", tmp_path / "archive")  # a real ./archive ...
    shutil.copytree(where / "archive" / "demo", tmp_path / "archive" / "demo")  # ... and the demo's inside
    shutil.copytree(where / "archive" / "demo", tmp_path / "elsewhere")
    (tmp_path / "archive" / "report.html").unlink(missing_ok=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRAWLER_ARCHIVE", raising=False)
    assert main(["verify", "--quick"]) == 0
    assert "verify: archive:" in capsys.readouterr().err  # ./archive, silently: it is the documented default
    monkeypatch.setenv("CRAWLER_ARCHIVE", str(tmp_path / "elsewhere"))
    assert main(["verify", "--quick"]) == 0
    assert f"verify: {tmp_path / 'elsewhere'}:" in capsys.readouterr().err
    monkeypatch.setenv("CRAWLER_ARCHIVE", str(tmp_path / "nothing-here"))
    assert main(["stats"]) == 1
    err = capsys.readouterr().err
    assert "nothing-here" in err and "--archive" in err and err.count("\n") == 1
    assert main(["stats", "--archive", str(tmp_path / "elsewhere")]) == 0  # the option beats the environment


def test_an_explicit_archive_without_catalog_says_how(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["search", "x"], ["export", "-o", "-", "--format", "csv"], ["stats"], ["failed"], ["verify"],
                 ["wacz", "-o", "x.wacz"]):
        assert main([*argv, "--archive", str(tmp_path)]) == 1
        said = "".join(capsys.readouterr())  # verify prints its problems on stdout
        assert "--archive" in said and "not an archive" in said, (argv, said)
