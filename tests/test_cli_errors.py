"""Bad input and a hostile environment give one line and an exit code, never a traceback or a hang.

Usage errors (a value out of range, an unknown flag, not a URL) print the subcommand's usage
and exit 2 before any work starts; environment errors (read-only file system, another user's
archive, a lock path that is not a file) name the path and the cause and exit 1.  Tests that
need root (a read-only tmpfs mount, running as ``nobody``) are skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import origin_args

IS_ROOT = os.geteuid() == 0
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def run_cli(*args: str, cwd: Path | None = None, prefix: list[str] | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), sys.executable, "-m", "crawler", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, check=False)


def assert_one_line(stderr: str, *expected: str) -> None:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    for text in expected:
        assert text in lines[0], stderr


# -- usage: every numeric option is range-checked --------------------------------------------------

BAD_VALUES = [
    ("fetch", ["https://baocantho.com.vn/x-a1.html"], "--timeout", ["0", "-1", "nan", "inf", "-inf", "1e9", "x"]),
    ("crawl", [], "--timeout", ["0", "-1", "nan", "inf", "3601", ""]),
    ("crawl", [], "--delay", ["inf", "nan", "-1", "1e6", "-0.5", "one"]),
    ("crawl", [], "--warc-size", ["0", "-5", "1000", "1048575", "2T", "1.5", "10X", "nan"]),
    ("crawl", [], "--concurrency", ["0", "-1", "1001", str(10**30), "1.5", "many"]),
    ("crawl", [], "--host-concurrency", ["0", "-2", "65", str(10**30), "2.0"]),
    ("crawl", [], "--max-articles", ["0", "-1", str(10**30), "1e3"]),
    ("crawl", [], "--since", ["garbage", "2026-13-45", "yesterday", ""]),
    ("crawl", [], "--workers", ["-1", "99999", "٣", "some"]),
    ("mirror", [], "--port", ["0", "-1", "65536", "99999", "65533", "http"]),
    ("mirror", [], "--articles", ["0", "-5", str(10**9)]),
    ("demo", [], "--articles", ["0", "-5", str(10**9)]),
]


@pytest.mark.parametrize(("command", "positional", "option", "value"),
                         [(c, p, o, v) for c, p, o, values in BAD_VALUES for v in values])
def test_out_of_range_values_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str,
                                              positional: list[str], option: str, value: str) -> None:
    archive = tmp_path / "archive"
    extra = ["--archive", str(archive)] if command in ("fetch", "crawl", "demo") else []
    with pytest.raises(SystemExit) as exc:
        main([command, *positional, *extra, f"{option}={value}"])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"usage: crawler {command} ")
    assert err.strip().splitlines()[-1].startswith(f"crawler {command}: error: argument {option}: ")
    assert not archive.exists()


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--warc-size", "1048576", 1 << 20), ("--warc-size", "500M", 500_000_000), ("--warc-size", "512MiB", 512 << 20),
    ("--warc-size", "2g", 2_000_000_000), ("--warc-size", "1.5GB", 1_500_000_000),
    ("--delay", "0", 0.0), ("--delay", "0.25", 0.25), ("--timeout", "0.5", 0.5), ("--concurrency", "1000", 1000),
])
def test_values_in_range_are_accepted(option: str, value: str, expected: object) -> None:
    from crawler.cli import build_parser

    args = build_parser().parse_args(["crawl", option, value])
    assert getattr(args, option[2:].replace("-", "_")) == expected


@pytest.mark.parametrize("argv", [
    ["crawl", "--bogus"], ["fetch", "https://baocantho.com.vn/x-a1.html", "--refrsh"], ["verify", "--quik"],
    ["replay", "--bogus", "x"], ["mirror", "--prot", "8000"], ["demo", "-x"], ["parse", "--url", "http://x.vn/", "f",
                                                                            "--extra"],
])
def test_unknown_flags_print_the_subcommands_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: crawler {argv[0]} ")
    assert f"crawler {argv[0]}: error: unrecognized arguments: " in err


def test_empty_and_undecodable_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["crawl", "--archive", ""], ["verify", "--archive", " "], ["replay", "--out", ""],
                 ["fetch", "https://baocantho.com.vn/\udcff-a1.html", "--archive", str(tmp_path / "a")]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert "an empty path" in err or "not valid UTF-8" in err
    assert list(tmp_path.iterdir()) == []


def test_parse_of_a_huge_or_endless_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--url", "https://baocantho.com.vn/x-a1.html", "/dev/zero"]) == 1
    assert_one_line(capsys.readouterr().err, "/dev/zero is larger than")


def test_exit_codes_through_a_process(tmp_path: Path) -> None:
    result = run_cli("crawl", "--bogus", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("usage: crawler crawl ")
    result = run_cli("crawl", "--delay", "inf", cwd=tmp_path)
    assert result.returncode == 2 and "argument --delay" in result.stderr
    result = run_cli("fetch", "not-a-url", cwd=tmp_path)
    assert result.returncode == 2 and "not an http(s) URL: 'not-a-url'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_archive_and_sources_of_the_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regular = tmp_path / "file"
    regular.write_text("x", encoding="utf-8")
    for command in (["crawl"], ["verify"], ["fetch", "https://baocantho.com.vn/x-a1.html"], ["replay", "--out", "o"],
                    ["demo"]):
        with pytest.raises(SystemExit) as exc:
            main([*command, "--archive", str(regular)])
        assert exc.value.code == 2
        assert f"{regular} exists and is not a directory" in capsys.readouterr().err
    assert regular.read_text(encoding="utf-8") == "x"
    for sources in (tmp_path, Path("/dev/null")):
        assert main(["crawl", "--archive", str(tmp_path / "a"), "--sources", str(sources)]) == 2
        assert_one_line(capsys.readouterr().err, f"sources file {sources} is not a regular file")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(("yaml_text", "expected"), [
    (b"sources:\n  s1: {name: B\xe1o}\n", "line 2: not UTF-8 text"),
    (b"sources: {}\nsources: {}\n", "line 2: duplicate key 'sources'"),
    (b"sources:\n  s1:\n    adapter: vdoc\n    hosts: ['::1:8080']\n", "'::1:8080': an IPv6 address needs brackets"),
])
def test_bad_sources_file_is_one_line_exit_2(tmp_path: Path, yaml_text: bytes, expected: str) -> None:
    (tmp_path / "sources.yaml").write_bytes(yaml_text)  # ./sources.yaml is the default
    for command in (["crawl"], ["fetch", "https://baocantho.com.vn/x-a1.html"], ["demo", "--articles", "1"]):
        result = run_cli(*command, "--archive", "a", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert_one_line(result.stderr, expected)
    assert not (tmp_path / "a").exists()


def test_mirror_port_in_use_is_an_environment_error(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        if port > 65529:
            pytest.skip("the kernel gave a port too high for a block of 7")
        assert main(["mirror", "--port", str(port)]) == 1
    assert_one_line(capsys.readouterr().err, "cannot listen on 127.0.0.1")


@pytest.mark.parametrize("name", ["warc", "text", "runs", "orphans", "catalog.sqlite"])
def test_archive_parts_of_the_wrong_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    with Mirror(articles=1, seed=2) as m:
        url = m.article_url("baocantho", m.article_ids("baocantho")[-1])
        for command in (["fetch", url], ["crawl", "--delay", "0", "--quiet", "--no-progress", "--source", "baocantho"]):
            archive = tmp_path / command[0]
            archive.mkdir(exist_ok=True)
            part = archive / name
            if name == "catalog.sqlite":
                part.mkdir(exist_ok=True)
            else:
                part.write_bytes(b"x")
            assert main([*command, "--archive", str(archive), *origin_args(m)]) == 1
            assert_one_line(capsys.readouterr().err, str(part))
            assert not (archive / "warc").is_dir() or not list((archive / "warc").iterdir())


# -- the lock path ---------------------------------------------------------------------------------


def test_lock_path_that_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".crawler.lock").mkdir()
    assert main(["crawl", "--archive", str(tmp_path), "--quiet"]) == 1
    assert_one_line(capsys.readouterr().err, f"lock file {tmp_path / '.crawler.lock'} is a directory")
    assert main(["fetch", "https://baocantho.com.vn/x-a1.html", "--archive", str(tmp_path)]) == 1
    assert_one_line(capsys.readouterr().err, "is a directory")
    assert main(["verify", "--archive", str(tmp_path)]) == 1  # no catalog: reported before the lock
    assert sorted(p.name for p in tmp_path.iterdir()) == [".crawler.lock"]


def test_lock_symlink_is_not_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    (archive / ".crawler.lock").symlink_to(victim)
    assert main(["crawl", "--archive", str(archive), "--quiet"]) == 1
    assert_one_line(capsys.readouterr().err, "is a symbolic link; refusing to follow it")
    assert main(["fetch", "https://baocantho.com.vn/x-a1.html", "--archive", str(archive)]) == 1
    assert_one_line(capsys.readouterr().err, "is a symbolic link")
    assert victim.read_text(encoding="utf-8") == "precious\n"
    dangling = tmp_path / "archive2"
    dangling.mkdir()
    (dangling / ".crawler.lock").symlink_to(tmp_path / "created-by-the-crawler")
    assert main(["crawl", "--archive", str(dangling), "--quiet"]) == 1
    capsys.readouterr()
    assert not (tmp_path / "created-by-the-crawler").exists()


# -- read-only file system and another user's archive (root only) -------------------------------------


@pytest.fixture(scope="module")
def small_archive() -> Iterator[Path]:
    """An archive of a few mirrored articles, in a directory every user may enter."""
    base = Path(tempfile.mkdtemp(prefix="crawler-env-"))
    base.chmod(0o755)
    archive = base / "archive"
    try:
        with Mirror(articles=2, seed=3) as m:
            code = main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                         "--no-progress", "--source", "baocantho"])
            assert code == 0
        yield archive
    finally:
        shutil.rmtree(base, ignore_errors=True)


def snapshot_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def readonly_copy(small_archive: Path, tmp_path: Path) -> Iterator[Path]:
    """A copy of the archive on a tmpfs mounted read-only (``None``-free: skipped when not root)."""
    if not IS_ROOT:
        pytest.skip("mounting a read-only tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        shutil.copytree(small_archive, mount / "archive")
        (mount / "archive" / ".crawler.lock").unlink(missing_ok=True)  # as on media written elsewhere
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "archive"
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_read_only_file_system(readonly_copy: Path, tmp_path: Path) -> None:
    before = snapshot_of(readonly_copy)
    url = "https://baocantho.com.vn/x-a1.html"
    for command in (["crawl", "--quiet"], ["fetch", url]):
        result = run_cli(*command, "--archive", str(readonly_copy), cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert_one_line(result.stderr, f"cannot write archive {readonly_copy}: Read-only file system")
    result = run_cli("crawl", "--archive", str(readonly_copy / "new"), cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line(result.stderr, f"cannot write archive {readonly_copy / 'new'}: Read-only file system")
    # Reading works: verify (no lock file there, none can be made) and replay to elsewhere.
    result = run_cli("verify", "--archive", str(readonly_copy), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().endswith(": OK") and "snapshots" in result.stderr
    result = run_cli("replay", "--archive", str(readonly_copy), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_cli("replay", "--archive", str(readonly_copy), "--out", str(readonly_copy / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert_one_line(result.stderr, "Read-only file system")
    assert snapshot_of(readonly_copy) == before


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    if not IS_ROOT:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=320k", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_fetch_until_the_disk_is_full(small_tmpfs: Path) -> None:
    archive = small_tmpfs / "archive"
    archived: dict[Path, bytes] = {}
    failures: list[str] = []
    with Mirror(articles=40, seed=6) as m:
        for article_id in m.article_ids("baoangiang"):
            result = run_cli("fetch", m.article_url("baoangiang", article_id), "--archive", str(archive),
                             *origin_args(m))
            if result.returncode == 0:
                path = Path(result.stdout.strip())
                archived[path] = path.read_bytes()
                continue
            assert result.returncode == 1
            assert_one_line(result.stderr)
            assert "No space left on device" in result.stderr or "disk is full" in result.stderr, result.stderr
            failures.append(result.stderr)
            if len(failures) == 3:
                break
        assert archived and len(failures) == 3
        for path, data in archived.items():
            assert path.read_bytes() == data
        # With space again, the next run recovers what the full disk cut short, and all verifies clean.
        subprocess.run(["mount", "-o", "remount,size=8m", str(small_tmpfs)], check=True)
        first = next(iter(archived))
        again = run_cli("fetch", m.article_url("baoangiang", first.stem), "--archive", str(archive), *origin_args(m))
        assert again.returncode == 0 and f"already archived: {first}" in again.stderr, again.stderr
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    for path, data in archived.items():
        assert path.read_bytes() == data


def _as_nobody_works() -> bool:
    if not IS_ROOT or shutil.which("setpriv") is None:
        return False
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import crawler.cli"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.parametrize("mode", [0o755, 0o700])
def test_another_users_archive(small_archive: Path, mode: int) -> None:
    if not _as_nobody_works():
        pytest.skip("running as nobody needs root, setpriv and a python nobody may run")
    work = Path(tempfile.mkdtemp(prefix="crawler-nobody-"))
    try:
        work.chmod(0o777)
        archive = work / "archive"
        shutil.copytree(small_archive, archive)
        archive.chmod(mode)
        before = snapshot_of(archive)
        url = "https://baocantho.com.vn/x-a1.html"
        for command in (["crawl", "--quiet"], ["fetch", url]):
            result = run_cli(*command, "--archive", str(archive), cwd=work, prefix=NOBODY)
            assert result.returncode == 1, result.stderr
            assert_one_line(result.stderr, f"cannot write archive {archive}: Permission denied")
        verify = run_cli("verify", "--archive", str(archive), cwd=work, prefix=NOBODY)
        replay = run_cli("replay", "--archive", str(archive), "--jsonl", "-", cwd=work, prefix=NOBODY)
        if mode == 0o755:  # readable: verify and replay work without writing anything
            assert verify.returncode == 0, verify.stderr
            assert verify.stderr.strip().endswith(": OK")
            assert replay.returncode == 0, replay.stderr
            assert replay.stdout.count("\n") == len(list((archive / "text").rglob("*.txt")))
        else:
            for result in (verify, replay):
                assert result.returncode == 1
                assert_one_line(result.stderr, f"cannot read archive {archive}: Permission denied")
        assert snapshot_of(archive) == before
        assert sorted(os.listdir(archive)) == sorted(os.listdir(small_archive))  # no -wal/-shm left behind
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize("command", [
    ["fetch", "https://baocantho.com.vn/x-a1.html", "--origin=baocantho.com.vn=http://127.0.0.1:9"],
    ["fetch", "https://baocantho.com.vn/x-a1.html", "--refresh"],
    ["index"],
    ["verify"],
    ["wacz", "-o", "{tmp}/x.wacz"],
])
def test_every_command_meeting_a_running_crawl_exits_75_in_one_line(
        tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from crawler.archive.lock import ArchiveLock
    from crawler.config import load_sources
    from crawler.crawl.archiver import Archive

    archive = tmp_path / "archive"
    with Archive(archive, load_sources()):
        pass
    with ArchiveLock(archive):  # a crawl writing the archive
        code = main([*(part.replace("{tmp}", str(tmp_path)) for part in command), "--archive", str(archive)])
    err = capsys.readouterr().err
    assert code == 75, err
    assert_one_line(err, "crawler: ", f"(pid {os.getpid()})", "try again")


# -- user input that used to end in a traceback -------------------------------------------------------

@pytest.mark.parametrize("command", [["search", "tin"], ["export", "-o", "{tmp}/x.jsonl"]])
@pytest.mark.parametrize(("flag", "value"), [
    ("--until", "9999-12-31"), ("--until", "9999-12-31T23:59:59-12:00"), ("--since", "0001-01-01"),
    ("--since", "0001-01-01T00:00:00+14:00"), ("--until", "0001-01-01"),
])
def test_dates_at_the_ends_of_the_calendar_are_usage_errors(tmp_path: Path, command: list[str], flag: str,
                                                              value: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    with pytest.raises(SystemExit) as exc:
        main([*args, "--archive", str(tmp_path), flag, value])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"argument {flag}: date out of range" in err


@pytest.mark.parametrize("pattern", [r"-a(?P<id>\\d{99999999999})", r"(?P<id>a{1,99999999999999999999})",
                                     r"(?P<id>x){4294967296}", "(?P<id>" + "(" * 5_000 + "x" + ")" * 5_000 + ")",
                                     r"(?P<id>[[x]\\d+)(?P<id>y)"])
@pytest.mark.parametrize("as_list", [False, True])
def test_a_regex_in_sources_yaml_that_python_cannot_compile_is_one_line(tmp_path: Path, pattern: str,
                                                                         as_list: bool) -> None:
    value = f'["-a(?P<id>\\\\d+)", "{pattern}"]' if as_list else f'"{pattern}"'
    config = tmp_path / "sources.yaml"
    config.write_text("sources:\n  s1:\n    adapter: vdoc\n    hosts: [s.vn]\n    base_url: https://s.vn/\n"
                      f"    article_url_pattern: {value}\n", encoding="utf-8")
    result = run_cli("sources", "--sources", str(config))
    assert result.returncode == 2, result.stderr[-500:]
    assert_one_line(result.stderr, "article_url_pattern", "invalid regular expression")


def test_file_names_and_arguments_that_are_not_utf8(tmp_path: Path) -> None:
    odd = os.fsdecode(b"\xff\xfe-\x1b[2J")
    page = tmp_path / f"{odd}.html"
    page.write_bytes((Path(__file__).parent / "fixtures" / "real" / "baocantho-a80443.html").read_bytes())
    env_args: list[tuple[list[str], int]] = [
        (["parse", str(page), "--url", "https://baocantho.com.vn/chong-mu-loa-a80443.html"], 0),
        (["parse", str(tmp_path / f"missing{odd}.html"), "--url", "https://baocantho.com.vn/x-a1.html"], 1),
        (["sources", "--sources", str(tmp_path / f"{odd}.yaml")], 2),
        (["search", odd, "--archive", str(tmp_path / odd)], 1),
        (["verify", "--archive", str(tmp_path / odd)], 1),
        (["export", "--archive", str(tmp_path / odd), "-o", str(tmp_path / f"{odd}.jsonl")], 1),
        (["failed", "--archive", str(tmp_path / odd), "--source", odd], 1),
    ]
    for args, code in env_args:
        result = subprocess.run([sys.executable, "-m", "crawler", *args], capture_output=True, timeout=60,
                                check=False)
        err = result.stderr.decode("utf-8")  # what crawler prints is UTF-8 text, whatever the arguments
        assert "Traceback" not in err and "\x1b" not in err, (args, err)
        assert result.returncode == code or (code and result.returncode in (1, 2)), (args, err)
        if code:
            assert len(err.strip().splitlines()) == 1, (args, err)


# -- a search query that starts with '-' (a negative query) reads as an option --------------------------


def search_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path, *args: str) -> str:
    """The last line of what ``crawler search ARGS`` says when argparse refuses it (exit 2, usage first)."""
    with pytest.raises(SystemExit) as exc:
        main(["search", "--archive", str(tmp_path / "none"), *args])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: crawler search ")
    assert not (tmp_path / "none").exists()
    return err.strip().splitlines()[-1]


@pytest.mark.parametrize(("args", "hint"), [
    (["-thơ"], "crawler search -- '-thơ'"),
    (["-tinh", "-kinh"], "crawler search -- '-tinh -kinh'"),
    (["--limit", "3", "-thơ"], "crawler search -- '-thơ'"),
    (["-thơ", "--json"], "crawler search -- '-thơ'"),
    (["tinh", "-thơ"], "crawler search 'tinh -thơ'"),
    (["tinh", "-thơ", "--json"], "crawler search 'tinh -thơ'"),
    (["-x'y"], """crawler search -- '-x'"'"'y'"""),  # quoted for the shell (shlex.quote)
])
def test_a_query_word_read_as_an_option_is_named_with_the_way_to_type_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], hint: str) -> None:
    line = search_usage_error(capsys, tmp_path, *args)
    assert line.startswith("crawler search: error: ")
    assert "reads as an option" in line and line.endswith(hint)


def test_an_unknown_option_of_search_is_still_an_unknown_option(capsys: pytest.CaptureFixture[str],
                                                                 tmp_path: Path) -> None:
    assert search_usage_error(capsys, tmp_path, "tinh", "--limt", "3") == \
        "crawler search: error: unrecognized arguments: --limt 3; did you mean --limit?"
    assert search_usage_error(capsys, tmp_path) == "crawler search: error: the following arguments are required: query"


@pytest.mark.parametrize("args", [["search", "--", "tinh", "--json"], ["search", "--", "-thơ", "--limit", "3"],
                                  ["search", "--", "-thơ", "--limit=3"]])
def test_an_option_after_double_dash_is_said_to_be_read_as_an_argument(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str]) -> None:
    line = search_usage_error(capsys, tmp_path, *args[1:])
    assert "comes after --, which makes it an argument: give the options before --" in line
    assert "did you mean" not in line
