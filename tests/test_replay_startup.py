"""Issue 22: ``crawler replay`` starts without the crawl's libraries (its start-up is paid by every replay).

trio (the crawl's event loop, reached through the politeness limits the configuration checks) and warcio
(reached through the WARC reading module, whose replay part needs only the body decoding) are imported by
the commands that use them, not by a replay.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.replay_samples import Page, articles, gz, page_record, warcinfo, write

NOT_FOR_REPLAY = ("trio", "warcio", "httpx2")

SCRIPT = f"""
import json, sys
from crawler.cli import main
code = main(sys.argv[1:])
modules = sorted(m for m in sys.modules if m.split(".")[0] in {NOT_FOR_REPLAY!r})
print(json.dumps(dict(code=code, modules=modules)), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    return articles(per_source=1)


@pytest.mark.parametrize("reader", ["auto", "python"])
@pytest.mark.parametrize("output", ["jsonl-dir", "jsonl-stdout", "out"])
def test_replay_imports_no_crawl_library(reader: str, output: str, pages: list[Page], tmp_path: Path) -> None:
    warc = write(tmp_path / "coll-00000.warc.gz", [gz(warcinfo()), *(gz(page_record(p)) for p in pages)])
    target = {"jsonl-dir": ["--jsonl", f"{tmp_path / 'rows'}/"], "jsonl-stdout": ["--jsonl", "-"],
              "out": ["--out", str(tmp_path / "archive")]}[output]
    run = subprocess.run([sys.executable, "-c", SCRIPT, "replay", str(warc), *target, "--reader", reader,
                          "--processes", "1", "--no-progress"], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).parent.parent)
    report = json.loads(run.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, run.stderr
    assert report["modules"] == [], report
    if output == "jsonl-stdout":
        assert {json.loads(line)["article_id"] for line in run.stdout.splitlines()} == {p.article_id for p in pages}


def test_the_commands_that_read_warcs_with_warcio_still_do(pages: list[Page], tmp_path: Path) -> None:
    from crawler.archive.warc_reading import check_file, iter_responses, read_response_at, read_warcinfo

    warc = write(tmp_path / "a.warc.gz", [gz(warcinfo("hue")), *(gz(page_record(p)) for p in pages)])
    responses = list(iter_responses(warc))
    assert [r.url for r in responses] == [p.url for p in pages]
    assert read_response_at(warc, responses[1].offset).url == pages[1].url
    assert read_warcinfo(warc)["x-crawler-source"] == "hue"
    assert check_file(warc) == []
    (tmp_path / "b.warc.gz").write_bytes(warc.read_bytes()[:-40])
    assert check_file(tmp_path / "b.warc.gz") != []
