"""What a command imports before it does its work (issue 22: speed where users feel it).

A reading command (``crawler search``, ``crawler export``, ``crawler stats``) used to import the whole project's
libraries before it read a byte: the YAML parser, the HTML parser, the terminal library, the e-mail package.
About half of a ``crawler search`` command's CPU time was those imports (BENCHMARKS §13).  These tests keep each
library out of the commands that do not use it: each runs in a fresh interpreter (``sys.modules`` of this
process has everything), and fails naming the modules that came in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.cli import main
from crawler.mirror import Mirror
from tests.conftest import origin_args

# Libraries (and our modules) a command loads only when it uses them.
YAML = "yaml"
HTML = "selectolax"
TERMINAL = "rich"
EMAIL = "email.utils"
PARSE = "crawler.parse.normalize"
SEARCH = "crawler.use.search"
CATALOG = "crawler.archive.catalog"
ARROW = "pyarrow"
HEAVY = (YAML, HTML, TERMINAL, EMAIL, PARSE, SEARCH, CATALOG, ARROW)

PROBE = r"""
import json, sys
from crawler.cli import build_parser, main
args = json.loads(sys.argv[1])
if args:
    try:
        code = main(args)
    except SystemExit as stop:  # --version, --help
        code = stop.code or 0
else:
    build_parser()
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.__stderr__)
"""


def loaded(*args: str, cwd: Path | None = None) -> tuple[int, set[str]]:
    """Run ``crawler ARGS`` in a fresh interpreter: its exit code, and the modules it had imported at the end."""
    run = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True,
                         timeout=120, check=False, cwd=cwd)
    last = run.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    return int(result["code"]), set(result["modules"])


def came_in(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` (packages or modules) are among ``modules``."""
    return [name for name in names if name in modules or any(m.startswith(name + ".") for m in modules)]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("startup") / "archive"
    with Mirror(articles=2, seed=5) as m:
        assert main(["crawl", "--archive", str(root), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    yield root


def test_building_the_command_line_imports_no_library_a_command_may_not_need() -> None:
    code, modules = loaded()
    assert code == 0
    assert came_in(modules, HEAVY) == []


@pytest.mark.parametrize("args", [["--version"], ["search", "--help"], ["export", "--help"]])
def test_help_and_version_import_nothing_heavy(args: list[str]) -> None:
    code, modules = loaded(*args)
    assert code == 0
    assert came_in(modules, HEAVY) == []


def test_search_imports_no_yaml_html_parser_or_email(archive: Path) -> None:
    code, modules = loaded("search", "--archive", str(archive), "--json", "a")
    assert code == 0
    assert came_in(modules, (YAML, HTML, EMAIL, PARSE, ARROW)) == []
    assert SEARCH in modules  # the probe ran the search itself


def test_export_imports_no_yaml_html_parser_terminal_or_email(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    code, modules = loaded("export", "--archive", str(archive), "-o", str(out))
    assert code == 0
    assert out.read_text(encoding="utf-8").count("\n") >= 2
    assert came_in(modules, (YAML, HTML, TERMINAL, EMAIL, PARSE, SEARCH, ARROW)) == []


SOURCE = """sources:
  x:
    name: X
    adapter: vdoc
    hosts: [example.vn]
    base_url: https://example.vn/
    article_url_pattern: '-a(?P<id>[0-9]+)\\.html$'
    options:
      selectors:
        title: ["{title}"]
"""


@pytest.mark.parametrize(("title", "code", "message"), [
    ("h1.title", 0, ""),
    ("h1[", 2, "invalid CSS selector 'h1['"),  # still checked by lexbor, imported when a selector is
])
def test_a_sources_file_is_still_read_and_its_selectors_checked(tmp_path: Path, title: str, code: int,
                                                                message: str) -> None:
    """The libraries come in when used: sources.yaml is read by YAML and its selectors tried on lexbor."""
    (tmp_path / "sources.yaml").write_text(SOURCE.format(title=title), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "crawler", "sources", "--sources", str(tmp_path / "sources.yaml")],
                         capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert run.returncode == code, run.stderr
    assert message in run.stderr
    got, modules = loaded("sources", "--sources", str(tmp_path / "sources.yaml"), cwd=tmp_path)
    assert got == code
    assert YAML in modules and HTML in modules


# What the crawl process of a run with archive worker processes leaves to them: parsing (the article
# adapters, the extraction), and what only a retry uses (tenacity, and the asyncio it imports).
WORKERS_ONLY = ("crawler.parse.adapters", "crawler.parse.extraction", "crawler.parse.requisites",
                "crawler.crawl.archive_worker", "tenacity", "asyncio")


@pytest.mark.parametrize("workers", ["1", "0"])
def test_a_crawl_with_worker_processes_does_not_import_the_parsers_in_the_crawl_process(
        tmp_path: Path, workers: str) -> None:
    """Their modules were a tenth of the crawl process's start-up CPU (issue 22: CPU per page of a crawl).
    With ``--workers 0`` the crawl process parses, and imports them."""
    with Mirror(articles=3, seed=7) as m:
        code, modules = loaded("crawl", "--archive", str(tmp_path / "archive"), *origin_args(m), "--delay", "0",
                               "--quiet", "--no-progress", "--workers", workers, cwd=tmp_path)
    assert code == 0
    if workers == "0":
        assert "crawler.crawl.archive_worker" in modules and "crawler.parse.adapters" in modules
    else:
        assert came_in(modules, WORKERS_ONLY) == []
        assert came_in(modules, (TERMINAL,)) == []  # no progress bars (--no-progress): no rich
        assert "crawler.crawl.worker_pool" in modules  # the probe ran the crawl itself
