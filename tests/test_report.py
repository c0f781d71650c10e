"""``crawler report`` and ``crawler stats`` on an archive crawled from the offline mirror; the report is
opened in headless Chromium when the machine has it (Debian's ``chromium``)."""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.archive.catalog import Store
from crawler.archive.lock import ArchiveLock
from crawler.archive.reading import read_archive
from crawler.cli import main
from crawler.config import load_sources
from crawler.mirror import Mirror
from crawler.use.health import collect
from crawler.use.report import CHART_KINDS
from tests.conftest import ROOT, origin_args

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, Path]]:
    archive = tmp_path_factory.mktemp("report") / "archive"
    with Mirror(articles=6, seed=9) as m:
        for limit in ("3", "100"):  # two runs: the second archives the rest
            assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                         "--no-progress", "--max-articles", limit]) == 0
        with Store(archive) as store:  # one article that keeps failing, one waiting
            store.fail("hue", "123456", "https://huengaynay.vn/x/bai-123456.html", "HTTP 404 Not Found",
                       permanent=True)
            store.enqueue_many("baocantho", [("99999", "https://baocantho.com.vn/cho-a99999.html")])
        (archive / "runs" / "20990101T000000000000Z.json").write_text("{not json", encoding="utf-8")
        yield m, archive


def test_figures(crawled: tuple[Mirror, Path]) -> None:
    m, archive = crawled
    with read_archive(archive) as store:
        health = collect(store, days=7)
    by_key = {s.key: s for s in health.sources}
    assert set(by_key) == set(m.sources)
    for key in m.sources:
        s = by_key[key]
        assert s.articles == len(m.article_ids(key)) == sum(int(d["new"]) for d in s.per_day)
        assert sum(int(t["pages"]) for t in s.templates) == s.articles
        assert {str(r["field"]) for r in s.rules} <= {"title", "date", "body", "sapo", "byline"}
        for name in {str(r["field"]) for r in s.rules}:
            assert sum(int(r["pages"]) for r in s.rules if r["field"] == name) <= s.articles
        assert len(s.runs) == 2 and sum(r.new for r in s.runs) == s.articles
        assert s.last_article is not None and (archive / s.last_article["text_path"]).is_file()
    assert len(health.runs) == 2 and all(r.exit_code == 0 and r.seconds > 0 for r in health.runs)
    assert by_key["hue"].failed_count == 1 and by_key["hue"].failed[0].last_error == "HTTP 404 Not Found"
    assert by_key["baocantho"].frontier_waiting == 1
    assert len(health.unreadable_runs) == 1 and health.unreadable_runs[0].startswith("20990101T")
    # The window: runs and days before it are left out, totals are not.
    with read_archive(archive) as store:
        later = collect(store, days=1, now=datetime.now(UTC) + timedelta(days=3))
    assert later.runs == [] and all(s.per_day == [] and s.articles for s in later.sources)


def test_report_is_one_self_contained_file(crawled: tuple[Mirror, Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    out = tmp_path / "report.html"
    assert main(["report", "--archive", str(archive), "-o", str(out)]) == 0
    # Only the sources the archive holds something of; the other configured ones are named in one line.
    assert f"report: {out} ({len(m.sources)} sources with data, 2 runs in 30 days)" in capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert "<script src" not in page and "<link" not in page and "@import" not in page  # nothing to fetch
    for key in m.sources:
        for kind in CHART_KINDS:
            assert f'id="chart-{key}-{kind}"' in page
    assert "https://huengaynay.vn/x/bai-123456.html" in page and "HTTP 404 Not Found" in page
    assert "20990101T000000000000Z.json" in page  # the unreadable run file is named
    specs = page.split('<script type="application/json" class="spec"')[1:]
    assert len(specs) == 1 + len(m.sources) * len(CHART_KINDS)
    others = {s.key for s in load_sources(ROOT / "sources.yaml")} - set(m.sources)
    assert others and all(f'id="source-{key}"' not in page for key in others)
    note = page.split('<section id="summary">', 1)[1].split("</section>", 1)[0]
    assert f"{len(others)} configured sources with nothing in this archive" in note
    assert all(key in note for key in others)
    for spec in specs:
        data = json.loads(spec.split(">", 1)[1].split("</script>", 1)[0])
        assert "data" in data or "spec" in data


def test_a_title_cannot_break_out_of_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_search import row

    hostile = '</script><script>alert(1)</script><b>"'
    with Store(tmp_path) as store:
        store.commit([row("1", hostile, None, ["x"])])
        store.fail("baocantho", "2", 'https://baocantho.com.vn/"><script>x</script>-a2.html', hostile,
                   permanent=True)
    assert main(["report", "--archive", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in page and "<script>x</script>" not in page
    assert page.count("</script>") == page.count("<script")


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of a PNG: enough to tell a blank image."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def chromium(*args: str, profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--virtual-time-budget=15000", *args],
        capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_report_renders_in_chromium(crawled: tuple[Mirror, Path], tmp_path: Path) -> None:
    m, archive = crawled
    out = tmp_path / "report.html"
    assert main(["report", "--archive", str(archive), "-o", str(out)]) == 0
    dom = chromium("--dump-dom", out.as_uri(), profile=tmp_path / "profile").stdout
    assert "chart error" not in dom.split("<script>\n(function")[0]
    for key in ["runs", *m.sources]:
        kinds = ["durations"] if key == "runs" else CHART_KINDS
        for kind in kinds:
            chart = dom.split(f'id="chart-{key}-{kind}"', 1)[1].split("</figure>", 1)[0]
            assert "<svg" in chart and 'class="mark-' in chart, (key, kind)  # vega-embed drew it
    shot = tmp_path / "shot.png"
    chromium("--window-size=1100,1600", f"--screenshot={shot}", out.as_uri(), profile=tmp_path / "profile")
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1100, 1600)
    assert len(set(pixels)) > 32  # not a blank page: text, axes and bars in several colours


def test_stats_table_and_json(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    capsys.readouterr()
    assert main(["stats", "--archive", str(archive)]) == 0
    out = capsys.readouterr().out
    for key in m.sources:
        line = next(line for line in out.splitlines() if f" {key} " in line)
        assert f" {len(m.article_ids(key))} " in line
    assert "runs: median" in out and "unreadable run file: 20990101T" in out
    assert main(["stats", "--archive", str(archive), "--json", "--days", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    configured = {s.key for s in load_sources(ROOT / "sources.yaml")}  # every configured source, crawled or not
    assert data["days"] == 3 and {s["key"] for s in data["sources"]} == configured
    assert {s["key"] for s in data["sources"] if s["articles"]} == set(m.sources)  # the others: none yet


def test_readers_work_beside_a_crawl_and_refuse_bad_input(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    _, archive = crawled
    with ArchiveLock(archive), Store(archive):  # a crawl holds the archive and its catalog is open
        assert main(["stats", "--archive", str(archive)]) == 0
        assert main(["report", "--archive", str(archive), "-o", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    assert main(["report", "--archive", str(archive), "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", "--archive", str(archive), "--days", "0"])
    assert exit_info.value.code == 2
    assert main(["stats", "--archive", str(tmp_path / "none")]) == 1
    assert "no such archive directory" in capsys.readouterr().err


def test_ages_in_the_table() -> None:
    from crawler.use.stats import _ago

    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    assert _ago((now + timedelta(milliseconds=400)).isoformat(), now) == "just now"  # `now` is to the second
    assert _ago((now - timedelta(minutes=5)).isoformat(), now) == "5 min ago"
    assert _ago((now - timedelta(hours=3)).isoformat(), now) == "3 h ago"
    assert _ago((now - timedelta(days=9)).isoformat(), now) == "9 days ago"


HOSTILE_KEYS = ['x"><img src=x onerror=alert(1)>', "a b'c", "</script><script>alert(2)</script>", "k&amp;#",
                "\u202eevil", "-->\n<!--"]


def _strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(name)
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("bad_number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_hostile_keys_and_bad_numbers_from_a_received_archive(tmp_path: Path, bad_number: str) -> None:
    from tests.test_search import row

    now = datetime.now(UTC)
    with Store(tmp_path) as store:
        store.commit([row(str(n), f"t{n}", None, ["x"], source=key, published=now.isoformat(timespec="seconds"))
                      for n, key in enumerate(HOSTILE_KEYS, 1)])
    runs = tmp_path / "runs"
    runs.mkdir()
    stamp = now.strftime("%Y%m%dT%H%M%S")
    good = {"started": now.isoformat(), "seconds": 12.5, "exit_code": 0,
            "sources": {key: {"new": 1, "changed": 0, "extraction_failures": 0, "failures": {}}
                        for key in HOSTILE_KEYS}}
    (runs / f"{stamp}000001Z.json").write_text(json.dumps(good), encoding="utf-8")
    bad = json.dumps(good).replace('"seconds": 12.5', f'"seconds": {bad_number}').replace('"new": 1', '"new": 1e999')
    (runs / f"{stamp}000002Z.json").write_text(bad, encoding="utf-8")
    out = tmp_path / "r.html"
    assert main(["report", "--archive", str(tmp_path), "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8").rsplit("</head><body>", 1)[1]  # after the vendored libraries
    ids = re.findall(r'\b(?:id|data-target)="([^"]*)"', page)
    assert ids and all(re.fullmatch(r"[A-Za-z0-9_.-]+", i) for i in ids), [i for i in ids if "<" in i or " " in i]
    assert len(set(re.findall(r'\bid="([^"]*)"', page))) == len(re.findall(r'\bid="([^"]*)"', page))  # unique
    hrefs = re.findall(r'href="#([^"]*)"', page)
    assert hrefs and all(f'id="{h}"' in page for h in hrefs)
    assert "<img" not in page and "alert(2)</script>" not in page
    assert page.count("</script>") == page.count("<script")
    specs = re.findall(r'<script type="application/json" class="spec"[^>]*>(.*?)</script>', page, re.DOTALL)
    assert len(specs) == 1 + len(HOSTILE_KEYS) * len(CHART_KINDS)  # configured sources without data: not listed
    parsed = [_strict_json(spec) for spec in specs]  # every chart's data is valid JSON: none is blanked
    durations = next(p for p in parsed if isinstance(p, dict) and "seconds" in json.dumps(p))
    assert len(durations["data"]["values"]) == 1  # type: ignore[index]  # the good run; the bad one is skipped
    assert "could not be read" in page and f"{stamp}000002Z.json" in page


# -- the report of a real demo archive: summary, wording, paths, templates over publication time, layout --


@pytest.fixture(scope="module")
def demo_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two demo runs on one archive (the second on a grown mirror): an archive with history."""
    from crawler.cli.demo import run_demo

    archive = tmp_path_factory.mktemp("demo-report") / "archive" / "demo"
    for articles in (6, 9):
        assert run_demo(archive=archive, sources_path=None, articles=articles, seed=1) == 0
    return archive


def _report(archive: Path, out: Path, *args: str) -> str:
    assert main(["report", "--archive", str(archive), "-o", str(out), *args]) == 0
    return out.read_text(encoding="utf-8").rsplit("</head><body>", 1)[1]


def _summary_rows(page: str) -> dict[str, list[str]]:
    table = page.split('<section id="summary">', 1)[1].split("</table>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table)[1:]:
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        rows[cells[0]] = cells[1:]
    return rows


def test_demo_report_summary_on_top(demo_archive: Path, tmp_path: Path) -> None:
    page = _report(demo_archive, tmp_path / "r.html")
    assert page.index('id="summary"') < page.index('id="runs"') < page.index('class="source"')
    names = {s.key: s.name for s in load_sources(ROOT / "sources.yaml")}
    mirror = Mirror(articles=9, seed=1, families=True)
    rows = _summary_rows(page)
    assert set(rows) == {html.escape(names[key]) for key in mirror.sources}  # only the demo's papers
    for key in mirror.sources:
        articles, failed, retry, published, captured, templates = rows[html.escape(names[key])]
        assert int(articles) == len(mirror.article_ids(key)) and (failed, retry) == ("0", "0")
        newest = max(mirror.article(key, i).published for i in mirror.article_ids(key))
        assert published == newest.strftime("%Y-%m-%d %H:%M")
        assert re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d", captured) and templates.endswith("%")
    total = page.split('<tr class="total">', 1)[1].split("</tr>", 1)[0]
    assert f"{len(mirror.sources)} papers" in total
    assert f">{sum(len(mirror.article_ids(k)) for k in mirror.sources)}<" in total


def test_demo_report_wording_and_no_scratch_path(demo_archive: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    page = _report(demo_archive, tmp_path / "r.html")
    assert not re.search(r"[a-z]\(s\)", page) and "2 runs in the window" in page and "30 days from" in page
    assert str(demo_archive.parent) not in page and str(tmp_path) not in page  # no scratch path
    assert "Archive <code>demo</code>" in page  # outside the current directory: its name only
    monkeypatch.chdir(demo_archive.parent.parent)
    page = _report(Path("archive/demo"), tmp_path / "r2.html")
    assert "Archive <code>archive/demo</code>" in page and str(demo_archive) not in page
    page = _report(demo_archive, tmp_path / "r3.html", "--days", "1")
    assert "charts cover 1 day from" in page


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_plural(count: int) -> None:
    from crawler.use.report import plural

    assert plural(count, "run") == (f"{count} run" if count == 1 else f"{count} runs")
    assert plural(count, "paper", "papers") == f"{count} paper{'' if count == 1 else 's'}"


def test_demo_report_templates_by_publication_month(demo_archive: Path, tmp_path: Path) -> None:
    """Huế's old articles in its old layouts are told apart from a redesign: the chart by publication month
    shows each era's template in its own months (VDOC 2022, anchors 2023-2024, DotNetNuke 2025-)."""
    page = _report(demo_archive, tmp_path / "r.html")
    section = page.split('id="source-hue"', 1)[1].split("</section>", 1)[0]
    spec = json.loads(section.split('data-target="chart-hue-published">', 1)[1].split("</script>", 1)[0])
    by_template: dict[str, set[str]] = {}
    for row in spec["data"]["values"]:
        by_template.setdefault(row["template"], set()).add(row["month"])
    assert set(by_template) == {"vdoc", "anchors", "dnn"}
    # The old layouts only in their eras' months; the newest months only DotNetNuke's.  (huengaynay.vn also
    # answers for old articles at their DotNetNuke path, and the home page links the oldest one there: a crawl
    # that meets that link first reads it in the dnn template, as on the real site.)
    assert all(m.startswith("2022") for m in by_template["vdoc"])
    assert all(m[:4] in ("2023", "2024") for m in by_template["anchors"])
    newest = max(by_template["dnn"])
    assert newest >= "2025" and newest > max(by_template["vdoc"] | by_template["anchors"])
    assert {m for m in by_template["dnn"] if m >= "2025"} and not any(
        m >= "2025" for t in ("vdoc", "anchors") for m in by_template[t])
    assert "by publication month" in section and "not a redesign" in section
    assert "dnn to anchors" not in page  # the old caption that took old articles for a redesign
    hue = _summary_rows(page)[next(k for k in _summary_rows(page) if "Huế" in k)]
    assert re.fullmatch(r"dnn \d+%, vdoc \d+%, anchors \d+%", hue[-1]), hue[-1]
    for key in ("baocantho", "baotayninh"):  # one template each
        s = page.split(f'id="source-{key}"', 1)[1]
        values = json.loads(s.split(f'data-target="chart-{key}-published">', 1)[1].split("</script>", 1)[0])
        assert len({v["template"] for v in values["data"]["values"]}) == 1


PROBE = """<script>var probe = setInterval(function () {
  var charts = Array.from(document.querySelectorAll(".chart")), d = document.documentElement;
  if (!charts.every(function (c) { return c.querySelector("svg") || /chart error/.test(c.textContent); })) return;
  if (d.scrollHeight !== window.lastHeight) { window.lastHeight = d.scrollHeight; window.stable = 0; return; }
  if (++window.stable < 5) return;
  clearInterval(probe);
  var cut = [];
  document.querySelectorAll("body *").forEach(function (el) {
    if (el.getBoundingClientRect().right > d.clientWidth + 1) cut.push(el.tagName + "#" + el.id);
  });
  document.body.setAttribute("data-measure", JSON.stringify({height: d.scrollHeight, width: d.scrollWidth,
    client: d.clientWidth, charts: charts.length, drawn: document.querySelectorAll(".chart svg").length,
    errors: charts.filter(function (c) { return /chart error/.test(c.textContent); }).length, cut: cut}));
}, 200);</script>"""


def measure(page: Path, width: int, profile: Path) -> dict[str, Any]:
    """Lay the page out in headless Chromium at ``width`` once every chart is drawn: its size, and the elements
    whose right edge is past the window (a horizontal cut-off)."""
    head, tail = page.read_text(encoding="utf-8").rsplit("</body>", 1)
    probe = page.with_name("probe-" + page.name)
    probe.write_text(head + PROBE + "</body>" + tail, encoding="utf-8")
    dom = chromium(f"--window-size={width},900", "--dump-dom", probe.as_uri(), profile=profile).stdout
    found = re.search(r'data-measure="([^"]*)"', dom)
    assert found, dom[-500:]
    result: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return result


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1100, 900])
def test_demo_report_renders_without_a_horizontal_cut(demo_archive: Path, tmp_path: Path, width: int) -> None:
    out = tmp_path / "report.html"
    _report(demo_archive, out)
    figures = measure(out, width, tmp_path / "profile")
    assert figures["errors"] == 0 and figures["drawn"] == figures["charts"] > 6 * len(CHART_KINDS)
    assert figures["width"] <= figures["client"] and figures["cut"] == [], figures
    assert figures["height"] > 5000  # six papers' sections, laid out
