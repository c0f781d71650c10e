"""The command line as a whole: every option explains itself, dates are ``DATE`` everywhere, a mistyped
command or option gets a suggestion, and ``parse -`` reads the page from stdin."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import argtypes, build_parser, main

from .conftest import FIXTURES


def commands() -> Iterator[tuple[str, argparse.ArgumentParser]]:
    parser = build_parser()
    yield "crawler", parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from ((f"crawler {name}", sub) for name, sub in action.choices.items())


def arguments() -> Iterator[tuple[str, argparse.Action]]:
    for name, parser in commands():
        for action in parser._actions:
            if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                yield name, action


def test_the_tree_is_all_there() -> None:
    names = {name for name, _ in commands()}
    assert {"crawler crawl", "crawler failed", "crawler parse", "crawler stats", "crawler export"} <= names
    assert sum(1 for _ in arguments()) > 100


def test_every_option_has_help() -> None:
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}" for name, action in arguments()
               if not (action.help or "").strip() or action.help == argparse.SUPPRESS]
    assert not missing, missing


def test_dates_are_one_metavar() -> None:
    dated = [(name, action) for name, action in arguments()
             if action.type in (argtypes.date, argtypes.until)
             or any(word in action.dest for word in ("since", "until"))]
    assert len(dated) >= 5
    wrong = [f"{name} {action.option_strings[0]}: {action.metavar}" for name, action in dated
             if action.metavar != "DATE"]
    assert not wrong, wrong


@pytest.mark.parametrize(("typed", "meant"), [("serch", "search"), ("crawll", "crawl"), ("exprot", "export"),
                                               ("stat", "stats"), ("fialed", "failed"), ("relpay", "replay")])
def test_a_mistyped_command_gets_a_suggestion(typed: str, meant: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main([typed, "--archive", "x"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"did you mean {meant!r}?" in err and f"{typed!r}" in err
    assert err.count("\n") <= 2  # usage, then the one error line


def test_a_command_nothing_like_any_gets_the_list(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["zzzzqqq"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "did you mean" not in err and "crawl" in err and "zzzzqqq" in err


@pytest.mark.parametrize(("argv", "meant"), [
    (["crawl", "--sinse", "2024-01-01"], "--since"),
    (["fetch", "https://baocantho.com.vn/x-a1.html", "--refrsh"], "--refresh"),
    (["export", "-o", "-", "--fromat", "csv"], "--format"),
    (["crawl", "--no-progres", "--max-artciles", "3"], "--max-articles"),
    (["stats", "--jsno"], "--json"),
])
def test_a_mistyped_option_gets_a_suggestion(argv: list[str], meant: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"crawler {argv[0]}: error: unrecognized arguments: " in err
    assert f"did you mean {meant}?" in err


PAGE = FIXTURES / "real" / "baocantho-a80443.html"
URL = "https://baocantho.com.vn/chong-mu-loa-a80443.html"


def run(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "crawler", *args], input=stdin, capture_output=True, timeout=60,
                          check=False)


def test_parse_reads_stdin() -> None:
    from_file = run("parse", "--url", URL, str(PAGE), stdin=b"")
    assert from_file.returncode == 0, from_file.stderr
    from_stdin = run("parse", "--url", URL, "-", stdin=PAGE.read_bytes())
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert from_stdin.stdout == from_file.stdout and len(from_stdin.stdout) > 500
    as_json = run("parse", "--url", URL, "--json", "-", stdin=PAGE.read_bytes())
    assert as_json.returncode == 0 and b'"title"' in as_json.stdout


def test_parse_stdin_refusals(tmp_path: Path) -> None:
    empty = run("parse", "--url", URL, "-", stdin=b"")
    assert empty.returncode == 1
    assert empty.stderr.decode().strip().splitlines()[-1].startswith("crawler:") and b"Traceback" not in empty.stderr
    big = run("parse", "--url", URL, "-", stdin=b"<p>" + b"x" * (21 * 1024 * 1024))
    assert big.returncode == 1 and b"stdin is larger than" in big.stderr
    no_url = run("parse", "-", stdin=PAGE.read_bytes())
    assert no_url.returncode == 2
    assert no_url.stderr.decode().strip().splitlines()[-1] == \
        "crawler parse: error: the following arguments are required: --url"
