"""``crawler export`` end to end on an archive crawled from the offline mirror."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main
from crawler.mirror import Mirror
from crawler.use.export import NAMES
from tests.conftest import origin_args


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, Path]]:
    archive = tmp_path_factory.mktemp("export") / "archive"
    with Mirror(articles=8, seed=5) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
        yield m, archive


def export(archive: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["export", "--archive", str(archive), *args])
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_has_every_article_with_its_snapshot(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    code, _, err = export(archive, capsys, "-o", str(tmp_path / "a.jsonl"))
    assert code == 0, err
    rows = jsonl((tmp_path / "a.jsonl").read_text(encoding="utf-8"))
    expected = {(s, a) for s in m.sources for a in m.article_ids(s)}
    assert {(r["source"], r["article_id"]) for r in rows} == expected and len(rows) == len(expected)
    assert f"export: {len(rows)} articles" in err
    for r in rows:
        assert list(r) == list(NAMES)
        source, article_id = str(r["source"]), str(r["article_id"])
        assert r["text"] == m.expected_snapshot(source, article_id)
        assert r["published"] == m.article(source, article_id).published.isoformat()
        assert str(r["published"]).endswith("+07:00")
        assert r["text"] == (archive / str(r["text_path"])).read_text(encoding="utf-8")
        assert r["template"] in ("vdoc", "dnn", "anchors") and isinstance(r["rules"], dict)
        assert isinstance(r["images"], list) and all(set(i) == {"url", "caption"} for i in r["images"])
        assert isinstance(r["warc_offset"], int) and len(str(r["sha256"])) == 64
    keys = [(r["source"], r["published"], int(str(r["article_id"]))) for r in rows]
    assert keys == sorted(keys)  # source, published, id (numerically)


def test_exports_are_identical_and_stdout_is_the_same(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _, archive = crawled
    for fmt in ("jsonl", "csv", "parquet"):
        assert export(archive, capsys, "-o", str(tmp_path / f"1.{fmt}"))[0] == 0
        assert export(archive, capsys, "-o", str(tmp_path / "2.out"), "--format", fmt)[0] == 0
        assert (tmp_path / f"1.{fmt}").read_bytes() == (tmp_path / "2.out").read_bytes(), fmt
    code, out, _ = export(archive, capsys, "-o", "-", "--format", "jsonl")
    assert code == 0 and out == (tmp_path / "1.jsonl").read_text(encoding="utf-8")


def test_csv_is_rfc_4180_with_the_same_rows(crawled: tuple[Mirror, Path], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, archive = crawled
    assert export(archive, capsys, "-o", str(tmp_path / "a.jsonl"))[0] == 0
    code, out, _ = export(archive, capsys, "-o", "-", "--format", "csv")
    assert code == 0
    assert export(archive, capsys, "-o", str(tmp_path / "a.csv"))[0] == 0
    data = (tmp_path / "a.csv").read_bytes()
    assert data.decode("utf-8") == out
    assert data.count(b"\r\n") >= len(jsonl((tmp_path / "a.jsonl").read_text(encoding="utf-8"))) + 1
    records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert tuple(records[0]) == NAMES
    for record, row in zip(records[1:], jsonl((tmp_path / "a.jsonl").read_text(encoding="utf-8")), strict=True):
        for name, value in zip(NAMES, record, strict=True):
            if name in ("breadcrumb", "category_slugs", "images", "rules"):
                assert json.loads(value) == row[name]
            elif row[name] is None:
                assert value == ""
            else:
                assert value == str(row[name]), name


def test_parquet_has_the_documented_schema_and_the_same_rows(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    _, archive = crawled
    assert export(archive, capsys, "-o", str(tmp_path / "a.jsonl"))[0] == 0
    assert export(archive, capsys, "-o", str(tmp_path / "a.parquet"))[0] == 0
    table = pq.read_table(tmp_path / "a.parquet")
    assert tuple(table.schema.names) == NAMES
    assert str(table.schema.field("images").type) == "list<element: struct<url: string, caption: string>>"
    assert str(table.schema.field("published").type) == "timestamp[us, tz=+07:00]"
    assert str(table.schema.field("fetched_at").type) == "timestamp[us, tz=UTC]"
    rows = table.to_pylist()
    for got, row in zip(rows, jsonl((tmp_path / "a.jsonl").read_text(encoding="utf-8")), strict=True):
        got["rules"] = dict(got["rules"])
        for name in ("published", "fetched_at"):  # the same instant, shown in the column's zone
            assert got[name] == datetime.fromisoformat(str(row[name])), name
            assert got[name].utcoffset() == datetime.fromisoformat(str(row[name])).utcoffset(), name
            got[name] = row[name]
        assert got == row


def test_parquet_times_agree_with_the_catalog(crawled: tuple[Mirror, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Every row's timestamps are the catalog's ISO 8601 texts, to the microsecond (the mirror's +07:00 dates)."""
    pq = pytest.importorskip("pyarrow.parquet")
    m, archive = crawled
    assert export(archive, capsys, "-o", str(tmp_path / "a.parquet"), "--all-versions")[0] == 0
    table = pq.read_table(tmp_path / "a.parquet", columns=["source", "article_id", "version", "published",
                                                          "fetched_at"])
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        catalog = {(s, a, v): (p, f) for s, a, v, p, f in db.execute(
            "SELECT source, article_id, version, published, fetched_at FROM snapshots")}
    assert len(catalog) == table.num_rows > 0
    for row in table.to_pylist():
        published, fetched_at = catalog[(row["source"], row["article_id"], row["version"])]
        assert published.endswith("+07:00") and row["published"] == datetime.fromisoformat(published)
        assert row["published"] == m.article(row["source"], row["article_id"]).published
        assert row["published"].isoformat() == published  # shown in Vietnamese time, as archived
        assert row["fetched_at"] == datetime.fromisoformat(fetched_at) and row["fetched_at"].utcoffset() == timedelta(0)


# (catalog text, the instant in Parquet: None for null).  A text without an offset is in the column's zone.
ODD_TIMES = [
    ("2024-05-02T10:00:00+07:00", datetime(2024, 5, 2, 3, tzinfo=UTC)),
    ("2024-05-02T10:00:00.123456+07:00", datetime(2024, 5, 2, 3, 0, 0, 123456, tzinfo=UTC)),
    ("2024-05-02T23:30:00+07:00", datetime(2024, 5, 2, 16, 30, tzinfo=UTC)),  # the day before in UTC
    ("2024-05-02T03:00:00+00:00", datetime(2024, 5, 2, 3, tzinfo=UTC)),
    ("2024-05-02T03:00:00Z", datetime(2024, 5, 2, 3, tzinfo=UTC)),
    ("2024-05-02T10:00:00+09:30", datetime(2024, 5, 2, 0, 30, tzinfo=UTC)),
    ("2024-05-02T10:00:00", None),  # naive: the zone of the column, see below
    ("", None), ("không rõ", None), ("2024-13-40T99:00:00+07:00", None), ("0", None),
]


@pytest.mark.parametrize("group_rows", [1, 3, 2000])
def test_parquet_times_with_offsets_and_unknown_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch, group_rows: int) -> None:
    """Odd and unknown dates: other offsets keep their instant, unreadable ones are null, whether a row group
    holds only good dates (Arrow's parser) or a mix (the fallback), and JSONL keeps the catalog's text."""
    pq = pytest.importorskip("pyarrow.parquet")
    import crawler.use.export

    monkeypatch.setattr(crawler.use.export, "PARQUET_ROWS", group_rows)
    archive = tmp_path / "a"
    rows = []
    for n, (text, _) in enumerate(ODD_TIMES, 1):
        rel = f"text/hue/2024/05/{n}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(f"bài {n}", encoding="utf-8")
        fetched = ODD_TIMES[-n][0]  # the same texts in the other column, in another order
        rows.append(SnapshotRow("hue", str(n), 1, f"https://huengaynay.vn/a-{n}.html", text, "T", rel, "0" * 64,
                                "w.warc.gz", n, fetched, "1", "{}"))
    with Store(archive) as s:
        s.commit(rows)
    out = tmp_path / "a.parquet"
    code, _, err = export(archive, capsys, "-o", str(out))
    assert code == 0, err
    got = {r["article_id"]: r for r in pq.read_table(out).to_pylist()}
    assert len(got) == len(ODD_TIMES)
    zones = {"published": timezone(timedelta(hours=7)), "fetched_at": UTC}
    for row in rows:
        for name in ("published", "fetched_at"):
            text = getattr(row, name)
            expected = dict(ODD_TIMES)[text]
            if text == "2024-05-02T10:00:00":
                expected = datetime(2024, 5, 2, 10, tzinfo=zones[name])
            assert got[row.article_id][name] == expected, (name, text)
    by_id = {r["article_id"]: r for r in jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl")[1])}
    assert [by_id[r.article_id]["published"] for r in rows] == [t for t, _ in ODD_TIMES]


def test_filters(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    source = m.sources[1]
    rows = jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl", "--source", source)[1])
    assert {r["source"] for r in rows} == {source} and len(rows) == len(m.article_ids(source))
    every = jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl")[1])
    dates = sorted(str(r["published"])[:10] for r in every)
    middle = dates[len(dates) // 2]
    since = jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl", "--since", middle)[1])
    until = jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl", "--until", middle)[1])
    assert all(str(r["published"])[:10] >= middle for r in since)
    assert all(str(r["published"])[:10] <= middle for r in until)  # the whole day of --until
    on_the_day = sum(1 for d in dates if d == middle)
    assert len(since) + len(until) == len(every) + on_the_day


def test_all_versions_and_a_legacy_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "a"

    def add(article_id: str, version: int, text: str, meta: dict[str, object] | None) -> None:
        suffix = "" if version == 1 else f".v{version}"
        rel = f"text/hue/2024/05/{article_id}{suffix}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(text, encoding="utf-8")
        with Store(archive) as s:
            s.commit([SnapshotRow("hue", article_id, version, f"https://huengaynay.vn/a-{article_id}.html",
                                  "2024-05-02T10:00:00+07:00", "Tiêu đề", rel, "0" * 64, "w.warc.gz", version,
                                  "2024-05-02T03:00:00+00:00", "1", json.dumps(meta) if meta else "")])

    add("9", 1, "bản một", {"sapo": "s1", "template": "dnn", "rules": {"title": "css:h1"}})
    add("9", 2, "bản hai", {"sapo": "s2", "template": "dnn", "rules": {"title": "css:h1"}})
    add("10", 1, "cũ", None)  # schema 1: the metadata in a .json file beside the text
    with Store(archive) as s:
        s.db.execute("UPDATE snapshots SET meta=NULL, meta_path='text/hue/2024/05/10.json' WHERE article_id='10'")
        s.db.commit()
    (archive / "text/hue/2024/05/10.json").write_text(json.dumps({"sapo": "từ tệp", "byline": "B"}), encoding="utf-8")
    rows = jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl")[1])
    assert [(r["article_id"], r["version"], r["text"], r["sapo"]) for r in rows] == [
        ("9", 2, "bản hai", "s2"), ("10", 1, "cũ", "từ tệp")]  # 9 before 10: ids sort as numbers
    code, out, err = export(archive, capsys, "-o", "-", "--format", "jsonl", "--all-versions")
    assert code == 0
    assert [(r["article_id"], r["version"]) for r in jsonl(out)] == [("9", 1), ("9", 2), ("10", 1)]
    assert "2 articles (3 versions)" in err


def test_errors_leave_no_partial_output(crawled: tuple[Mirror, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, archive = crawled
    out = tmp_path / "a.jsonl"
    out.write_text("old export\n", encoding="utf-8")
    with sqlite3.connect(archive / "catalog.sqlite") as db:
        (text_path,) = db.execute("SELECT text_path FROM snapshots ORDER BY source DESC LIMIT 1").fetchone()
    moved = archive / (str(text_path) + ".away")
    (archive / str(text_path)).rename(moved)
    try:
        code, _, err = export(archive, capsys, "-o", str(out))
    finally:
        moved.rename(archive / str(text_path))
    assert code == 1 and err.startswith("crawler: ") and err.count("\n") == 1 and "crawler verify" in err
    assert out.read_text(encoding="utf-8") == "old export\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.jsonl"]  # no temporary left


@pytest.mark.parametrize(("args", "message"), [
    (["-o", "x.txt"], "give --format"),
    (["-o", "-"], "give --format"),
    (["-o", "-", "--format", "parquet"], "cannot stream"),
    (["-o", "{tmp}", "--format", "csv"], "is a directory"),
    (["-o", "{tmp}/a.csv", "--source", "nosuch"], "unknown source 'nosuch'"),
    (["-o", "{tmp}/a.csv", "--since", "2025-02-01", "--until", "2025-01-01"], "nothing to select"),
])
def test_usage_errors(crawled: tuple[Mirror, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      args: list[str], message: str) -> None:
    _, archive = crawled
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, out, err = export(archive, capsys, *args)
    assert code == 2 and message in err and out == "" and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_parquet_without_pyarrow(crawled: tuple[Mirror, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _, archive = crawled
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    code, _, err = export(archive, capsys, "-o", str(tmp_path / "a.parquet"))
    assert code == 1 and "needs pyarrow" in err and "pip install pyarrow" in err and err.count("\n") == 1
    assert not list(tmp_path.iterdir())


def test_a_missing_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = export(tmp_path / "nothing", capsys, "-o", str(tmp_path / "a.csv"))
    assert code == 1 and "no such archive directory" in err


def test_export_agrees_with_replay(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The catalog's rows and a re-parse of the WARCs give the same article fields."""
    _, archive = crawled
    exported = {(r["source"], r["article_id"]): r
                for r in jsonl(export(archive, capsys, "-o", "-", "--format", "jsonl")[1])}
    assert main(["replay", "--archive", str(archive), "--jsonl", "-", "--processes", "1"]) == 0
    replayed = jsonl(capsys.readouterr().out)
    assert len(replayed) == len(exported)
    for r in replayed:
        row = exported[(r["source"], r["article_id"])]
        for key in ("url", "published", "title", "text", "canonical_url", "breadcrumb", "category_slugs",
                    "kicker", "sapo", "byline", "images", "rules", "warc_file", "warc_offset", "version"):
            assert row[key] == r[key], key


@pytest.mark.parametrize("text_path", ["../outside.txt", "/etc/hostname", "text/../../outside.txt"])
def test_a_catalog_path_outside_the_archive_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       text_path: str) -> None:
    archive = tmp_path / "a"
    (tmp_path / "outside.txt").write_text("secret", encoding="utf-8")
    with Store(archive) as s:
        s.commit([SnapshotRow("hue", "1", 1, "https://huengaynay.vn/a-1.html", "2024-05-02T10:00:00+07:00", "T",
                              text_path, "0" * 64, "w.warc.gz", 0, "2024-05-02T03:00:00+00:00", "1", "{}")])
    code, out, err = export(archive, capsys, "-o", "-", "--format", "jsonl")
    assert code == 1 and "outside the archive" in err and "secret" not in out


def test_an_output_directory_that_does_not_exist(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _, archive = crawled
    code, _, err = export(archive, capsys, "-o", str(tmp_path / "no" / "such" / "a.jsonl"))
    assert code == 1 and err.startswith("crawler: cannot write ") and "No such file or directory" in err


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
@pytest.mark.parametrize("group_rows", [1, 2000])
def test_a_snapshot_that_is_not_utf8_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch, fmt: str, group_rows: int) -> None:
    """Parquet takes the texts as bytes (Arrow checks the UTF-8): a bad file still names its article, with
    earlier row groups already handed to the writer's thread, and leaves no output."""
    import crawler.use.export

    monkeypatch.setattr(crawler.use.export, "PARQUET_ROWS", group_rows)
    archive = tmp_path / "a"
    rows = []
    for n in range(1, 6):
        rel = f"text/hue/2024/05/{n}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_bytes("bài viết".encode() if n != 4 else b"b\xe0i vi\xe9t")  # Latin-1 in n=4
        rows.append(SnapshotRow("hue", str(n), 1, f"https://huengaynay.vn/a-{n}.html", f"2024-05-0{n}T10:00:00+07:00",
                                "T", rel, "0" * 64, "w.warc.gz", n, "2024-05-02T03:00:00+00:00", "1", "{}"))
    with Store(archive) as s:
        s.commit(rows)
    out = tmp_path / "out" / f"a.{fmt}"
    out.parent.mkdir()
    code, _, err = export(archive, capsys, "-o", str(out))
    assert code == 1 and "hue/4 v1" in err and "utf-8" in err and err.count("\n") == 1 and "Traceback" not in err
    assert not list(out.parent.iterdir())
