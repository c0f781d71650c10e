"""``crawl --origin``: the sources whose hosts are remapped are crawled, not the live sites of the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.cli import main
from crawler.mirror import Mirror

from .conftest import origin_args


def test_crawl_with_origins_crawls_the_sources_they_serve_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The shipped configuration has sources the mirror does not serve (baotayninh, baonghean, ...):
    # pointing the crawl at a mirror must not send it to their real sites (no DNS, no "fetched nothing").
    with Mirror(articles=2, seed=3) as m:
        cantho = [arg for arg in origin_args(m) if arg.startswith("--origin=baocantho.com.vn=")]
        code = main(["crawl", "--archive", str(tmp_path / "one"), *cantho, "--delay", "0", "--quiet",
                     "--no-progress"])
        err = capsys.readouterr().err
        assert code == 0, err[-2000:]
        with Store(tmp_path / "one") as store:
            assert {row[0] for row in store.db.execute("SELECT DISTINCT source FROM snapshots")} == {"baocantho"}
        # Every host the mirror serves: its sources, and none other.
        code = main(["crawl", "--archive", str(tmp_path / "all"), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"])
        err = capsys.readouterr().err
        assert code == 0, err[-2000:]
        assert "baotayninh" not in err and "cannot resolve" not in err
