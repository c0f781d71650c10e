"""``crawler sources``: listing, effective politeness, --check (and start pages fetched from the mirror)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from crawler.cli import main
from crawler.config import load_sources
from crawler.mirror import Mirror
from tests.conftest import ROOT, origin_args


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["sources", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_lists_every_source(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--sources", str(ROOT / "sources.yaml"))
    assert code == 0
    for source in load_sources(ROOT / "sources.yaml"):
        assert f"{source.key}: {source.name} (adapter {source.adapter})" in out
        for url in (*source.hosts, *source.start_pages, *source.feeds, *source.sitemaps):
            assert url in out


def write_sources(tmp_path: Path, change: dict[str, object]) -> Path:
    data = yaml.safe_load((ROOT / "sources.yaml").read_text(encoding="utf-8"))
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_effective_politeness_follows_the_precedence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_sources(tmp_path, {"defaults.politeness": {"delay": 3.0, "timeout": 12},
                                    "sources.hue.politeness": {"delay": 0.5, "concurrency": 4}})
    code, out, _ = run(capsys, "--sources", str(path), "--json")
    assert code == 0
    got = {s["key"]: s["politeness"] for s in json.loads(out)["sources"]}
    assert got["hue"] == {"delay": 0.5, "concurrency": 4, "timeout": 12.0, "respect_robots": True}
    assert got["baocantho"]["delay"] == 3.0 and got["baocantho"]["timeout"] == 12.0
    code, out, _ = run(capsys, "--sources", str(path), "--json", "--delay", "7", "--host-concurrency", "9")
    got = {s["key"]: s["politeness"] for s in json.loads(out)["sources"]}
    assert {p["delay"] for p in got.values()} == {7.0} and {p["concurrency"] for p in got.values()} == {9}
    code, out, _ = run(capsys, "--sources", str(path), "--source", "hue")
    assert out.startswith("hue: ") and "baocantho" not in out
    assert "0.5 s between requests to a host, 4 in flight per host, timeout 12 s" in out


@pytest.mark.parametrize(("change", "message"), [
    ({"sources.hue.politeness": {"delay": 99}}, "source 'hue', key 'politeness.delay'"),
    ({"sources.baocantho.adapter": "nosuch"}, "source 'baocantho', key 'adapter'"),
    ({"sources.baocantho.start_pages": ["https://elsewhere.example/"]}, "key 'start_pages'"),
])
def test_check_refuses_an_invalid_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       change: dict[str, object], message: str) -> None:
    code, out, err = run(capsys, "--sources", str(write_sources(tmp_path, change)), "--check")
    assert code == 2 and message in err and out == "" and err.count("\n") == 1


def test_check_a_valid_file_without_fetching(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--check", "--sources", str(ROOT / "sources.yaml"))
    count = len(load_sources(ROOT / "sources.yaml"))
    assert code == 0 and f"{count} sources valid" in err and "answered" not in err
    assert run(capsys, "--fetch")[0] == 2


def test_check_fetches_the_start_pages_from_the_mirror(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Mirror(articles=4, seed=2) as m:
        code, out, err = run(capsys, "--check", "--delay", "0", "--json", *origin_args(m))
        assert code == 0, err
        data = json.loads(out)
        # --origin: the pages of the sources the mirror serves are checked there (not the others' real sites).
        served = [s for s in data["sources"] if set(s["hosts"]) & set(m.origins)]
        assert {s["key"] for s in served} == {"baocantho", "hue", "baoangiang"}
        checks = [c for s in served for c in s["checks"]]
        others = [c for s in data["sources"] if s not in served for c in s["checks"]]
        assert all(c["detail"].startswith("not checked") for c in others)
        pages = sum(len(s["start_pages"]) + len(s["feeds"]) for s in served)
        assert len(checks) == pages and all(c["ok"] for c in checks) and data["ok"] is True
        # The sources the mirror does not serve are not fetched (their hosts have no --origin).
        served = sum(len(s["start_pages"]) + len(s["feeds"]) for s in data["sources"] if s["key"] in m.sources)
        assert f"{served} of {served} start pages and feeds answered" in err
        # A start page the site does not have: exit 2, naming it.
        path = write_sources(tmp_path, {"sources.baocantho.start_pages": ["/", "/khong-co-muc-nay/"]})
        code, _, err = run(capsys, "--check", "--delay", "0", "--sources", str(path), *origin_args(m))
        assert code == 2
        assert "baocantho: https://baocantho.com.vn/khong-co-muc-nay/: HTTP 404" in err
        # Hosts without --origin are not fetched (they would be the real sites).
        only = [a for a in origin_args(m) if "baocantho" in a]
        code, out, err = run(capsys, "--check", "--delay", "0", "--json", *only)
        data = json.loads(out)
        assert code == 0
        assert all(c["detail"].startswith("not checked") for s in data["sources"] if s["key"] != "baocantho"
                   for c in s["checks"])
