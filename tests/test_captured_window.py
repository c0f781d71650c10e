"""``--captured-since``/``--captured-until`` in ``crawler export`` and ``crawler search`` (issue 21: one meaning
per date flag): the capture time of the version shown (``fetched_at``), parsed as ``wacz``'s and ``--since``'s
(a day counts whole in Vietnamese time, an ISO time to the second, both ends included), combined with the
publication window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main

# (article id, version, published (Vietnamese time), fetched_at (UTC, as the catalog writes it))
ROWS = [
    ("1", 1, "2024-05-01T08:00:00+07:00", "2026-03-01T16:30:00+00:00"),  # 2026-03-01 23:30 in Vietnam
    ("2", 1, "2025-06-01T08:00:00+07:00", "2026-03-01T17:30:00.250000+00:00"),  # 2026-03-02 00:30
    ("3", 1, "2025-01-10T08:00:00+07:00", "2026-02-20T02:00:00+00:00"),
    ("3", 2, "2025-01-10T08:00:00+07:00", "2026-03-05T02:00:00+00:00"),  # a new version, later
    ("4", 1, "2023-03-01T08:00:00+07:00", "2026-03-02T16:59:59.500000+00:00"),  # 2026-03-02 23:59:59.5
    ("5", 1, "2026-01-01T08:00:00+07:00", "2026-03-02T17:00:00+00:00"),  # 2026-03-03 00:00:00 exactly
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archive = tmp_path_factory.mktemp("captured") / "archive"
    rows = []
    for article_id, version, published, fetched in ROWS:
        suffix = "" if version == 1 else f".v{version}"
        rel = f"text/hue/{published[:4]}/{published[5:7]}/{article_id}{suffix}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(f"tin tức số {article_id}", encoding="utf-8")
        meta = {"source": "hue", "article_id": article_id, "version": version, "title": f"Tin {article_id}",
                "sapo": None, "body": [f"tin tức số {article_id}"], "published": published, "text_path": rel}
        rows.append(SnapshotRow("hue", article_id, version, f"https://huengaynay.vn/a-{article_id}.html", published,
                                f"Tin {article_id}", rel, "0" * 64, "w.warc.gz", 0, fetched, "1",
                                json.dumps(meta, ensure_ascii=False)))
    with Store(archive) as s:
        s.commit(rows)
    return archive


def shown(archive: Path, command: str, capsys: pytest.CaptureFixture[str], *args: str) -> set[tuple[str, int]]:
    capsys.readouterr()
    if command == "export":
        code = main(["export", "--archive", str(archive), "-o", "-", "--format", "jsonl", *args])
        out, err = capsys.readouterr()
        assert code == 0, err
        return {(str(r["article_id"]), int(r["version"])) for r in map(json.loads, out.splitlines())}
    code = main(["search", "tin", "--archive", str(archive), "--json", "--limit", "100", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return {(str(h["article_id"]), int(h["version"])) for h in json.loads(out)["hits"]}


@pytest.mark.parametrize("command", ["export", "search"])
@pytest.mark.parametrize("args, expected", [
    ([], {("1", 1), ("2", 1), ("3", 2), ("4", 1), ("5", 1)}),
    (["--captured-since", "2026-03-02"], {("2", 1), ("3", 2), ("4", 1), ("5", 1)}),  # Vietnamese days
    (["--captured-until", "2026-03-01"], {("1", 1)}),  # 3's latest version was captured later
    (["--captured-since", "2026-03-02", "--captured-until", "2026-03-02"], {("2", 1), ("4", 1)}),  # 5: next day
    (["--captured-until", "2026-03-02T23:59:59"], {("1", 1), ("2", 1), ("4", 1)}),  # to the second, included
    (["--captured-until", "2026-03-02T23:59:58"], {("1", 1), ("2", 1)}),
    (["--captured-since", "2026-03-03T00:00:00+07:00"], {("3", 2), ("5", 1)}),  # the start is included
    (["--captured-since", "2026-03-01T17:30:00Z", "--captured-until", "2026-03-01T17:30:00Z"], {("2", 1)}),
    (["--captured-until", "2026-02-28", "--all-versions"], {("3", 1)}),  # each version by its own capture
    (["--captured-since", "2026-03-02", "--all-versions"], {("2", 1), ("3", 2), ("4", 1), ("5", 1)}),
    # With the publication window: both apply.
    (["--captured-since", "2026-03-02", "--since", "2025-01-01"], {("2", 1), ("3", 2), ("5", 1)}),
    (["--captured-since", "2026-03-02", "--until", "2025-01-10"], {("3", 2), ("4", 1)}),
    (["--since", "2026-01-01", "--captured-until", "2026-03-02"], set()),
])
def test_capture_window(archive: Path, capsys: pytest.CaptureFixture[str], command: str, args: list[str],
                        expected: set[tuple[str, int]]) -> None:
    assert shown(archive, command, capsys, *args) == expected


@pytest.mark.parametrize("command", ["export", "search"])
@pytest.mark.parametrize("args, message", [
    (["--captured-until", "yesterday"], "not a date"),
    (["--captured-since", "2026-13-01"], "not a date"),
    (["--captured-since", "2026-03-05", "--captured-until", "2026-03-01"], "before --captured-since"),
    (["--captured-since", "2026-03-05T10:00:00", "--captured-until", "2026-03-05T09:59:58"], "before --captured"),
])
def test_capture_window_usage_errors(archive: Path, capsys: pytest.CaptureFixture[str], command: str,
                                     args: list[str], message: str) -> None:
    head = ["export", "-o", "-", "--format", "jsonl"] if command == "export" else ["search", "tin"]
    capsys.readouterr()
    try:
        code = main([*head, "--archive", str(archive), *args])
    except SystemExit as exit_info:
        code = int(str(exit_info.code))
    out, err = capsys.readouterr()
    assert code == 2 and message in err and out == "" and "Traceback" not in err


@pytest.mark.parametrize("command", ["export", "search", "wacz"])
def test_help_names_the_capture_options(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--captured-since DATE" in text and "--captured-until DATE" in text
    assert "published" in text and "captured" in text


def test_the_readme_uses_options_its_commands_have() -> None:
    """Every ``--option`` of a ``crawler COMMAND …`` example in README.md is one COMMAND accepts (issue 21: the
    README's `wacz --since` example meant another date than the option did; a renamed option must not leave a
    dead example behind)."""
    import argparse
    import re

    from crawler.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    seen = 0
    for example in re.findall(r"crawler ([a-z]+)((?: +[^`|\n#]*)?)", readme):
        command, rest = example
        if command not in sub.choices:
            continue
        known = {s for action in sub.choices[command]._actions for s in action.option_strings}
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", rest):
            seen += 1
            assert option in known, f"README: `crawler {command}{rest}`: {command} has no {option}"
    assert seen > 20
