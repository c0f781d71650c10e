"""``crawler stats`` within the terminal's width: the whole table when it fits, else the columns split
over several tables beside the source, else one block per source; no line wider than ``$COLUMNS``, no
header cut, whatever the columns are."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from crawler.archive.catalog import Store
from crawler.cli import main
from crawler.mirror import Mirror
from crawler.terminal import fitted
from tests.conftest import origin_args

HEADERS = ["source", "articles", "new today", "new 7 d", "last article", "last run new/failed/extr.",
           "frontier wait/retry/failed", "templates (last day)"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, Path]]:
    path = tmp_path_factory.mktemp("stats") / "archive"
    with Mirror(articles=4, seed=3) as m:
        assert main(["crawl", "--archive", str(path), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
        with Store(path) as store:  # a long reason: the frontier's figures do not change the layout
            store.fail("hue", "123456", "https://huengaynay.vn/x/bai-123456.html", "HTTP 404 Not Found",
                       permanent=True)
        yield m, path


def stats(archive: Path, columns: int | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "crawler", "stats", "--archive", str(archive)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("columns", [40, 60, 80, 100, 120, 160, 200])
def test_stats_fits_the_width(archive: tuple[Mirror, Path], columns: int) -> None:
    m, path = archive
    result = stats(path, columns)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    too_wide = [line for line in lines if cell_len(line) > columns]
    assert not too_wide, too_wide
    for header in HEADERS:  # each header whole on one line
        assert any(header in line for line in lines), (header, columns)
    for key in m.sources:
        assert any(f" {key} " in f" {line} " for line in lines), key
    assert any(line.startswith("runs: median") for line in lines)
    if columns >= 200:  # room for the whole table: one line per source, every figure on it
        hue = next(line for line in lines if " hue " in line)
        assert f" {len(m.article_ids('hue'))} " in hue and "0 / 0 / 1" in hue and "%" in hue
        assert sum(1 for line in lines if "source" in line and "configured source" not in line) == 1


def test_a_pipe_gets_one_row_per_source(archive: tuple[Mirror, Path]) -> None:
    """Not a terminal and no $COLUMNS: the whole table, one line per source, for grep and awk."""
    m, path = archive
    result = stats(path, None)
    lines = result.stdout.splitlines()
    for key in m.sources:
        (line,) = [line for line in lines if f" {key} " in line]
        assert f" {len(m.article_ids(key))} " in line and "just now" in line and "%" in line
    assert sum(1 for line in lines if all(header in line for header in HEADERS)) == 1


def test_narrow_layouts_keep_every_figure(archive: tuple[Mirror, Path]) -> None:
    """The split and the per-source layouts show the same cells as the wide one."""
    _, path = archive
    wide = stats(path, 300).stdout
    cells = {cell.strip() for line in wide.splitlines() for cell in line.split("│")[1:-1]} - {""}
    assert len(cells) > 10
    for columns in (40, 80, 120):
        text = " ".join(stats(path, columns).stdout.split())  # a value wrapped at 40 columns reads the same
        missing = [cell for cell in cells if cell not in text]
        assert not missing, (columns, missing)


def render(table: Table, width: int) -> list[str]:
    console = Console(width=width, color_system=None, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    with console.file:
        for part in fitted(table, console, width):
            console.print(part)
    return console.export_text().splitlines()


words = st.text(alphabet="abcdefghij /%()", min_size=1, max_size=24).map(str.strip).filter(bool)


@settings(max_examples=60, deadline=None)
@given(headers=st.lists(words, min_size=2, max_size=12, unique=True),
       cells=st.lists(st.text(alphabet="xyz 0123456789,%-", max_size=60), min_size=1, max_size=40),
       width=st.integers(40, 240))
def test_any_columns_fit(headers: list[str], cells: list[str], width: int) -> None:
    """A new column (say near-duplicates) needs no change in the layout: any headers, any cells."""
    table = Table(title="t")
    for header in headers:
        table.add_column(header)
    for n in range(3):
        table.add_row(f"key{n}", *(cells[(n + i) % len(cells)] for i in range(len(headers) - 1)))
    lines = render(table, width)
    assert all(cell_len(line) <= width for line in lines)
    for header in headers:
        assert any(header in line for line in lines), header
    for n in range(3):
        assert any(f"key{n}" in line for line in lines)


def test_sources_without_data_are_one_line_under_the_table(archive: tuple[Mirror, Path]) -> None:
    """The demo's archive used to show a row of zeros and "never" for each of the 18 configured papers; the
    sources this archive holds nothing of are named once, under the table (a source a run tried stays a row)."""
    from crawler.config import load_sources

    m, path = archive
    configured = [s.key for s in load_sources(None)]
    empty = [key for key in configured if key not in m.sources]
    assert empty  # the repository's sources.yaml has papers the mirror archive does not hold
    lines = stats(path, None).stdout.splitlines()  # a pipe: the note on one line (a terminal wraps it)
    (note,) = [line for line in lines if "with nothing in this archive" in line]
    assert note.startswith(f"{len(empty)} configured sources with nothing in this archive: ")
    for key in empty:
        assert key in note and not any(f" {key} " in f" {line} " for line in lines if line is not note), key
    for key in m.sources:
        assert key not in note
