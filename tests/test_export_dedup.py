"""``crawler export --dedup`` and ``crawler stats``: near-duplicate articles across papers, on an archive crawled
from the offline mirror with reprints and edits planted beside the crawled articles."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.archive.snapshots import SnapshotRow
from crawler.cli import main
from crawler.mirror import Mirror
from crawler.mirror.snapshot import clean
from crawler.use import dedup, stats
from crawler.use.export import DEDUP_NAMES, NAMES
from tests.conftest import origin_args

HOSTS = {"baocantho": "baocantho.com.vn", "baoangiang": "baoangiang.com.vn", "hue": "huengaynay.vn"}
SHARE = "Chia sẻ bài viết"
# Agency boilerplate two different articles both carry: must not make them duplicates.
KICKER = "Chào mừng Đại hội Đảng bộ tỉnh lần thứ XV, nhiệm kỳ 2025 - 2030"
CLOSING = ("Đây là hoạt động thiết thực nhằm chào mừng các ngày lễ lớn của đất nước, góp phần nâng cao đời sống "
           "vật chất và tinh thần cho nhân dân trên địa bàn tỉnh, phát huy truyền thống cách mạng của quê hương.")


@dataclass
class Planted:
    archive: Path
    expected: dict[tuple[str, str], str]  # (source, id) -> the URL of its original; every other row is null
    edited: tuple[tuple[str, str], tuple[str, str]]  # (reprint, original)
    boilerplate: tuple[tuple[str, str], tuple[str, str]]


def content_of(mirror: Mirror, source: str, article_id: str) -> list[str]:
    """The article's blocks of a mirror snapshot, without the paper's (breadcrumb, date line, byline, share label):
    what another paper would reprint."""
    blocks = mirror.expected_snapshot(source, article_id).split("\n\n")
    start = next(i for i, b in enumerate(blocks) if dedup._DATE_LINE.fullmatch(b)) + 1
    byline = sum(1 for line in mirror.article(source, article_id).byline if clean(line))
    return blocks[start:len(blocks) - 1 - byline]


def plant(archive: Path, source: str, article_id: str, blocks: list[str], published: datetime,
          fetched: datetime | None = None, byline: str = "PV") -> str:
    """Add an article to the archive as a crawl of ``source`` would have written it; its URL."""
    text = "\n\n".join(["Thời sự", published.strftime("%d/%m/%Y - %H:%M"), *blocks, byline, SHARE])
    rel = f"text/{source}/{published:%Y}/{published:%m}/{article_id}.txt"
    (archive / rel).parent.mkdir(parents=True, exist_ok=True)
    (archive / rel).write_text(text, encoding="utf-8")
    url = f"https://{HOSTS[source]}/planted-{article_id}.html"
    fetched = fetched or published + timedelta(days=30)
    meta = {"breadcrumb": ["Thời sự"], "byline": byline, "sapo": None, "template": "vdoc", "rules": {}}
    with Store(archive) as store:
        store.commit([SnapshotRow(source, article_id, 1, url, published.isoformat(), blocks[0], rel,
                                  hashlib.sha256(text.encode()).hexdigest(), "w.warc.gz", 0,
                                  fetched.astimezone().isoformat(), "1", json.dumps(meta, ensure_ascii=False))])
    return url


def jaccard(a: str, b: str) -> float:
    x, y = dedup.shingles(dedup.words(a)), dedup.shingles(dedup.words(b))
    return len(x & y) / len(x | y)


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planted]:
    archive = tmp_path_factory.mktemp("dedup") / "archive"
    with Mirror(articles=8, seed=5) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    other = Mirror(articles=12, seed=77)  # texts that are not in the archive (never served)
    expected: dict[tuple[str, str], str] = {}

    # 1. An exact reprint, one day later in another paper: a duplicate of the crawled article.
    a_id = m.article_ids("baocantho")[-1]
    a = m.article("baocantho", a_id)
    a_blocks = content_of(m, "baocantho", a_id)
    plant(archive, "baoangiang", "900001", a_blocks, a.published + timedelta(days=1))
    expected[("baoangiang", "900001")] = a.url

    # 2. A reprint with a new title and lead and three body sentences edited, in a third paper.
    edited = list(a_blocks)
    edited[0] = "Tổng kết công tác xây dựng chính quyền số: nhiều kết quả nổi bật"
    edited[1] = "Ngày 2-9, lãnh đạo tỉnh dự hội nghị tổng kết và trao giấy khen cho các tập thể."
    foreign = [s for s in content_of(other, "hue", other.article_ids("hue")[-1]) if ". " in s]
    bodies = [i for i, b in enumerate(edited) if i > 1 and ". " in b][:3]
    assert len(bodies) == 3
    for i, n in zip(bodies, range(3), strict=True):
        head = edited[i].rsplit(". ", 1)[0]
        edited[i] = head + ". " + foreign[n].split(". ")[0] + "."
    plant(archive, "hue", "900002", edited, a.published + timedelta(hours=5))
    expected[("hue", "900002")] = a.url

    # 3. Earliest published wins: a reprint published a day *before* a crawled article makes the crawled one
    #    the duplicate.
    b_id = m.article_ids("hue")[-2]
    b = m.article("hue", b_id)
    early = plant(archive, "baocantho", "900003", content_of(m, "hue", b_id),
                  b.published - timedelta(days=1))
    expected[("hue", b_id)] = early

    # 4. Same publication time: the first captured is the original.
    c_blocks = content_of(other, "baoangiang", other.article_ids("baoangiang")[-1])
    when = datetime.fromisoformat("2025-10-01T08:00:00+07:00")
    first = plant(archive, "hue", "900004", c_blocks, when, fetched=when + timedelta(hours=1))
    plant(archive, "baocantho", "900005", c_blocks, when, fetched=when + timedelta(hours=2))
    expected[("baocantho", "900005")] = first

    # 5. Two different articles on the same topic (one category) sharing the agency's kicker, lead prefix and
    #    closing paragraph: neither is a duplicate.
    source = "baocantho"
    crawled = {m.article(source, i).url for i in m.article_ids(source)}  # the seed article is in every mirror
    ids = [i for i in other.article_ids(source) if other.article(source, i).url not in crawled]
    category = {i: other.article(source, i).category.path.split("/")[1] for i in ids}  # the section
    x_id, y_id = next((x, y) for x in ids for y in ids if x < y and category[x] == category[y])
    boiler = []
    for n, article_id in enumerate((x_id, y_id)):
        blocks = content_of(other, source, article_id)
        blocks = [KICKER, blocks[0], "(TTXVN) - " + blocks[1], *blocks[2:], CLOSING]
        boiler.append(blocks)
        plant(archive, ("hue", "baoangiang")[n], f"90001{n}", blocks, when + timedelta(days=n + 1))
    assert 0 < jaccard("\n".join(boiler[0]), "\n".join(boiler[1])) < dedup.THRESHOLD

    # 6. Short articles: a 25-word notice reprinted whole matches; another notice with the same opening and
    #    closing does not; a notice under MIN_WORDS words is never judged.
    notice = ["Thông báo lịch tiếp công dân",
              "Ban Tiếp công dân tỉnh thông báo lịch tiếp công dân định kỳ của Chủ tịch UBND tỉnh vào sáng thứ "
              "Năm tuần này tại trụ sở, đề nghị người dân mang theo giấy tờ tùy thân."]
    notice_url = plant(archive, "hue", "900020", notice, when + timedelta(days=5))
    plant(archive, "baoangiang", "900021", notice, when + timedelta(days=6))
    expected[("baoangiang", "900021")] = notice_url
    plant(archive, "baocantho", "900022", [
        "Thông báo lịch cắt điện",
        "Điện lực thành phố thông báo lịch cắt điện định kỳ của các phường vào sáng thứ Bảy tuần này để bảo "
        "trì đường dây, đề nghị người dân chủ động sắp xếp công việc."], when + timedelta(days=7))
    tiny = ["Lịch cắt điện", "Sáng mai cắt điện phường An Khánh."]
    assert len(dedup.words("\n".join(tiny))) < dedup.MIN_WORDS
    plant(archive, "hue", "900023", tiny, when + timedelta(days=8))
    plant(archive, "baoangiang", "900024", tiny, when + timedelta(days=9))

    # The edit is a real one: the reprint is well below identical, still above the threshold.
    assert dedup.THRESHOLD + 0.05 < jaccard("\n".join(a_blocks), "\n".join(edited)) < 0.9
    yield Planted(archive, expected, (("hue", "900002"), ("baocantho", a_id)),
                  (("hue", "900010"), ("baoangiang", "900011")))


def export(archive: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["export", "--archive", str(archive), *args])
    out, err = capsys.readouterr()
    return code, out, err


def marks(rows: list[dict[str, object]]) -> dict[tuple[str, str], object]:
    return {(str(r["source"]), str(r["article_id"])): r["duplicate_of"] for r in rows}


def test_planted_reprints_are_marked_and_nothing_else(planted: Planted, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert all(tuple(r) == DEDUP_NAMES for r in rows)
    got = marks(rows)
    assert {k: v for k, v in got.items() if v is not None} == planted.expected
    assert len(rows) > 30 and f"{len(planted.expected)} marked duplicate_of (threshold 0.5)" in err
    urls = {str(r["url"]) for r in rows}
    assert set(planted.expected.values()) <= urls  # every original is a row, and itself unmarked
    assert all(got[k] is None for k in planted.boilerplate)


def test_every_format_has_the_column(planted: Planted, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    for fmt in ("jsonl", "csv", "parquet"):
        assert export(planted.archive, capsys, "-o", str(tmp_path / f"a.{fmt}"), "--dedup")[0] == 0
    jsonl = marks([json.loads(line) for line in (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()])
    records = list(csv.DictReader(io.StringIO((tmp_path / "a.csv").read_text(encoding="utf-8"), newline="")))
    assert tuple(records[0]) == DEDUP_NAMES
    assert {k: v or None for k, v in marks(records).items()} == jsonl  # CSV: null is an empty cell
    table = pq.read_table(tmp_path / "a.parquet")
    assert tuple(table.schema.names) == DEDUP_NAMES and str(table.schema.field("duplicate_of").type) == "string"
    assert marks(table.to_pylist()) == jsonl
    # Without --dedup, no column (null would mean "not a duplicate", which nobody computed).
    assert export(planted.archive, capsys, "-o", str(tmp_path / "b.parquet"))[0] == 0
    assert tuple(pq.read_table(tmp_path / "b.parquet").schema.names) == NAMES


def test_the_answer_does_not_depend_on_the_cache_the_run_or_the_selection(
        planted: Planted, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = planted.archive / dedup.CACHE
    cache.unlink(missing_ok=True)
    outputs = []
    for n in range(3):  # cold, warm, warm
        assert export(planted.archive, capsys, "-o", str(tmp_path / f"{n}.jsonl"), "--dedup")[0] == 0
        outputs.append((tmp_path / f"{n}.jsonl").read_bytes())
    assert cache.is_file() and outputs[0] == outputs[1] == outputs[2]
    with Store(planted.archive, readonly=True) as store:
        cold, warm = dedup.find(store, cache=False), dedup.find(store)
    assert cold.of == warm.of == planted.expected and warm.hashed == 0 and warm.cached == warm.articles
    # One source: the same marks for its rows (an original in another paper is still named).
    code, out, _ = export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup", "--source", "hue")
    hue = marks([json.loads(line) for line in out.splitlines()])
    assert code == 0 and hue == {k: planted.expected.get(k) for k in hue} and set(hue) >= {("hue", "900002")}


def test_a_damaged_cache_is_not_trusted(planted: Planted, capsys: pytest.CaptureFixture[str]) -> None:
    cache = planted.archive / dedup.CACHE
    assert export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup")[0] == 0
    cache.write_bytes(b"not a database")
    code, out, err = export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup")
    assert code == 0, err
    assert {k: v for k, v in marks([json.loads(x) for x in out.splitlines()]).items() if v} == planted.expected
    cache.unlink()


def test_threshold(planted: Planted, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup-threshold", "1")
    assert code == 0, err
    got = {k: v for k, v in marks([json.loads(x) for x in out.splitlines()]).items() if v}
    reprint, _ = planted.edited
    assert got == {k: v for k, v in planted.expected.items() if k != reprint}  # the edited one is below 1
    assert "(threshold 1.0)" in err
    low = {k: v for k, v in marks([json.loads(x) for x in export(
        planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup-threshold", "0.05")[1].splitlines()]).items()
        if v}
    assert set(low) > set(planted.expected)  # a low threshold marks more (the shared boilerplate pair, ...)


@pytest.mark.parametrize("value", ["0", "-0.2", "1.5", "nan", "inf", "x", ""])
def test_a_bad_threshold(planted: Planted, tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        export(planted.archive, capsys, "-o", str(tmp_path / "a.csv"), "--dedup-threshold", value)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and "error: argument --dedup-threshold" in err.splitlines()[-1]
    assert "Traceback" not in err and out == ""
    assert not list(tmp_path.iterdir())


def test_stats_counts_near_duplicates_per_source(planted: Planted, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["stats", "--archive", str(planted.archive), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    expected: dict[str, int] = {}
    for source, _ in planted.expected:
        expected[source] = expected.get(source, 0) + 1
    assert data["near_duplicates"] == expected
    assert main(["stats", "--archive", str(planted.archive)]) == 0
    assert "near-dup." in capsys.readouterr().out


def test_words_keep_diacritics_and_content_drops_the_papers_blocks() -> None:
    assert dedup.words("Đà Nẵng đã nâng") == ["đà", "nẵng", "đã", "nâng"]
    assert dedup.words("Cần Thơ") != dedup.words("can tho")
    assert dedup.words("Hoa\u0300") == dedup.words("Hoà")  # NFD and NFC are one word
    text = "\n\n".join(["Thời sự Kinh tế", "01/09/2025 - 11:16", "Tiêu đề", "Thân bài.", "Tin: AN", SHARE])
    assert dedup.content(text, ["Thời sự", "Kinh tế"], "Tin: AN") == "Tiêu đề\nThân bài."
    assert dedup.shingles([]) == set() and dedup.shingles(["a", "b"]) == {b"a b"}


@pytest.mark.parametrize("meta", ['{"breadcrumb": "Thời sự", "byline": 7}', "not json", "", '{"breadcrumb": [1, null]}',
                                  '["a"]'])
def test_odd_metadata_is_not_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], meta: str) -> None:
    """The metadata only helps to drop the paper's blocks: odd metadata still gives an answer."""
    archive = tmp_path / "a"
    text = "\n\n".join(["Thời sự", "01/05/2024 - 10:00", "Tiêu đề", CLOSING, SHARE])
    for n, source in enumerate(("hue", "baocantho"), 1):
        rel = f"text/{source}/2024/05/{n}.txt"
        (archive / rel).parent.mkdir(parents=True, exist_ok=True)
        (archive / rel).write_text(text, encoding="utf-8")
        with Store(archive) as store:
            store.commit([SnapshotRow(source, str(n), 1, f"https://{HOSTS[source]}/a-{n}.html",
                                      f"2024-05-0{n}T10:00:00+07:00", "Tiêu đề", rel, "0" * 64, "w.warc.gz", 0,
                                      "2024-05-02T03:00:00+00:00", "1", meta)])
    with Store(archive, readonly=True) as store:  # (the export itself refuses metadata that is not an object)
        assert dedup.find(store).of == {("baocantho", "2"): "https://huengaynay.vn/a-1.html"}
    if meta.startswith("{") or not meta:
        code, out, err = export(archive, capsys, "-o", "-", "--format", "jsonl", "--dedup")
        assert code == 0, err
        assert marks([json.loads(x) for x in out.splitlines()]) == {
            ("hue", "1"): None, ("baocantho", "2"): "https://huengaynay.vn/a-1.html"}


def test_stats_still_shows_with_a_missing_snapshot(planted: Planted, capsys: pytest.CaptureFixture[str]) -> None:
    path = planted.archive / "text/hue/2025/10/900004.txt"
    moved = path.with_suffix(".away")
    path.rename(moved)
    (planted.archive / dedup.CACHE).unlink(missing_ok=True)  # (a warm cache answers without reading it)
    try:
        capsys.readouterr()
        assert main(["stats", "--archive", str(planted.archive), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["near_duplicates"] is None
        code, _, err = export(planted.archive, capsys, "-o", "-", "--format", "jsonl", "--dedup")
        assert code == 1 and "hue/900004" in err and err.count("\n") == 1
    finally:
        moved.rename(path)


def test_every_pair_whose_signatures_agree_enough_is_found(tmp_path: Path) -> None:
    """LSH only proposes candidates: every pair whose MinHash signatures agree on at least the threshold's share of
    the permutations must be proposed and marked.  Pairs at 0.5-0.65 Jaccard: with datasketch's own bands for 0.5
    (25 x 5, which propose 55 % of the pairs at 0.5) some of them were never compared."""
    archive = tmp_path / "a"
    expected = {}
    rows = []
    for pair in range(60):
        base = [f"từ{pair}x{n}" for n in range(200)]
        variant = list(base)
        for n in range(9 + pair % 4):  # words apart by more than a shingle: 5 shingles each
            variant[3 + 16 * n + pair % 7] = f"khác{pair}x{n}"
        assert 0.45 < jaccard(" ".join(base), " ".join(variant)) < 0.66
        agree = (dedup.signature(dedup.words(" ".join(base))) == dedup.signature(dedup.words(" ".join(variant))))
        for n, (source, words) in enumerate((("hue", base), ("baocantho", variant))):
            article_id = f"{pair}{n}"
            rel = f"text/{source}/2024/05/{article_id}.txt"
            (archive / rel).parent.mkdir(parents=True, exist_ok=True)
            (archive / rel).write_text(" ".join(words), encoding="utf-8")
            url = f"https://{HOSTS[source]}/a-{article_id}.html"
            rows.append(SnapshotRow(source, article_id, 1, url, f"2024-05-{n + 1:02d}T10:00:00+07:00", "T", rel,
                                    "0" * 64, "w.warc.gz", 0, "2024-05-02T03:00:00+00:00", "1", "{}"))
            if n and agree.sum() / dedup.PERMUTATIONS >= dedup.THRESHOLD:
                expected[(source, article_id)] = f"https://{HOSTS['hue']}/a-{pair}0.html"
    assert 10 < len(expected) < 60  # pairs on both sides of the threshold
    with Store(archive) as store:
        store.commit(rows)
    with Store(archive, readonly=True) as store:
        assert dedup.find(store, cache=False).of == expected


# -- the cache: a warm `crawler stats` reads the catalog and the cache only ---------------------------------------


def per_source(expected: dict[tuple[str, str], str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for source, _ in expected:
        counts[source] = counts.get(source, 0) + 1
    return counts


def stats_json(archive: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert main(["stats", "--archive", str(archive), "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def copy(planted: Planted, tmp_path: Path) -> Path:
    """The planted archive, to change, without its cache."""
    archive = tmp_path / "archive"
    shutil.copytree(planted.archive, archive)
    (archive / dedup.CACHE).unlink(missing_ok=True)
    return archive


@pytest.mark.parametrize("warm_with", [["export", "-o", "-", "--format", "jsonl", "--dedup"], ["stats"]])
def test_a_warm_stats_reads_no_snapshot(planted: Planted, copy: Path, capsys: pytest.CaptureFixture[str],
                                        warm_with: list[str]) -> None:
    assert main([warm_with[0], "--archive", str(copy), *warm_with[1:]]) == 0
    (copy / "text").rename(copy / "text.away")  # every snapshot unreadable: the count must come from the cache
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    with Store(copy, readonly=True) as store:
        found = dedup.find(store)
    assert found.answered and found.hashed == 0 and found.of == planted.expected


def test_new_and_changed_articles_are_the_only_ones_read(planted: Planted, copy: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    reprint, original = planted.edited
    with Store(copy, readonly=True) as store:
        text_path = store.latest(*original)
        assert text_path is not None
    blocks = (copy / text_path[2]).read_text(encoding="utf-8").split("\n\n")[2:-2]
    (copy / "text").rename(copy / "text.away")
    shutil.copytree(copy / "text.away", copy / "text", ignore=lambda _, names: [n for n in names if n.endswith(".txt")])
    plant(copy, "baoangiang", "990001", blocks, datetime(2026, 1, 2, 8, 0))  # a new reprint, all else unread
    with Store(copy, readonly=True) as store:
        found = dedup.find(store)
    assert not found.answered and found.hashed == 1 and found.cached == found.articles - 1
    assert found.of == {**planted.expected, ("baoangiang", "990001"): url_of(copy, original)}
    # A new version of the reprint that no longer repeats anything: read (it is new), and unmarked.
    (copy / "text.away").rename(copy / "text.back")
    with Store(copy) as store:
        version = store.latest(*reprint)
        assert version is not None
        text = " ".join(f"khác{n}" for n in range(40))
        rel = f"text/{reprint[0]}/new-{reprint[1]}.txt"
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        (copy / rel).write_text(text, encoding="utf-8")
        store.commit([SnapshotRow(reprint[0], reprint[1], version[0] + 1, f"https://{HOSTS[reprint[0]]}/v2.html",
                                  "2025-12-01T10:00:00+07:00", "T", rel, hashlib.sha256(text.encode()).hexdigest(),
                                  "w.warc.gz", 0, "2025-12-02T03:00:00+00:00", "1", "{}")])
    with Store(copy, readonly=True) as store:
        again = dedup.find(store)
    assert again.hashed == 1 and reprint not in again.of and reprint in found.of


@pytest.mark.parametrize("published", [datetime(2027, 1, 1, 8, 0), datetime(2020, 1, 1, 8, 0)])
def test_new_articles_extend_the_last_answer_as_a_recount_would(planted: Planted, copy: Path, published: datetime,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Articles newer than all the others extend the cached answer (checked against its originals only); older
    ones make it count again; either way the answer is the one counted from scratch."""
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    reprint, original = planted.edited
    blocks = {}
    for key in (reprint, original, *planted.boilerplate):
        with Store(copy, readonly=True) as store:
            latest = store.latest(*key)
        assert latest is not None
        blocks[key] = (copy / latest[2]).read_text(encoding="utf-8").split("\n\n")[2:-2]
    fresh_text = [" ".join(f"tiếng{n * 7 % 101}x{n}" for n in range(60))]
    plants = [("baoangiang", "990001", blocks[original]),  # a reprint of an original
              ("hue", "990002", blocks[reprint]),  # of a reprint (names its original)
              ("baocantho", "990003", fresh_text),  # a new original ...
              ("hue", "990004", [*fresh_text, "Một câu thêm vào cuối bài."]),  # ... and its reprint
              ("baoangiang", "990005", ["Tin ngắn."])]  # too short to judge
    for n, (source, article_id, text) in enumerate(plants):
        plant(copy, source, article_id, text, published + timedelta(hours=n))
    with Store(copy, readonly=True) as store:
        found, scratch = dedup.find(store), dedup.find(store, cache=False)
    assert found.of == scratch.of and found.originals == scratch.originals
    assert found.hashed == len(plants) and not found.answered
    assert found.of[("hue", "990004")] == url_of(copy, ("baocantho", "990003"))
    if published.year > 2026:
        assert found.of[("baoangiang", "990001")] == found.of[("hue", "990002")] == url_of(copy, original)
    else:  # the earliest now, so the original of the others
        assert found.of[original] == found.of[("hue", "990002")] == url_of(copy, ("baoangiang", "990001"))
    assert (found.extended == len(plants) - 1) == (published.year > 2026)  # (the short one is not clustered)
    with Store(copy, readonly=True) as store:
        assert dedup.find(store).answered


def url_of(archive: Path, key: tuple[str, str]) -> str:
    with Store(archive, readonly=True) as store:
        row = store.db.execute("SELECT url FROM snapshots WHERE source = ? AND article_id = ?", key).fetchone()
    return str(row[0])


def test_stats_leaves_many_unhashed_articles_pending(planted: Planted, copy: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "HASH_BUDGET", 5)
    started = time.monotonic()
    data = stats_json(copy, capsys)
    with Store(copy, readonly=True) as store:
        articles = dedup.find(store, cache=False).articles
    assert data["near_duplicates"] is None and data["near_duplicates_pending"] == articles > 5
    capsys.readouterr()
    assert main(["stats", "--archive", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "near-dup." not in out and f"{articles} articles not hashed yet" in out and "crawler stats --dedup" in out
    assert time.monotonic() - started < 10
    # --dedup counts them (and caches them): the next plain stats counts too.
    assert stats_json(copy, capsys, "--dedup")["near_duplicates"] == per_source(planted.expected)
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)


def test_the_budget_is_said_in_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["stats", "--help"])
    assert f"more than {stats.HASH_BUDGET:,} articles" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("damage", ["junk", "truncated", "directory", "bad answer", "bad signature", "earlier layout"])
def test_a_damaged_cache_never_fails_stats(planted: Planted, copy: Path, capsys: pytest.CaptureFixture[str],
                                           damage: str) -> None:
    cache = copy / dedup.CACHE
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    if damage == "junk":
        cache.write_bytes(b"not a database" * 100)
    elif damage == "truncated":
        cache.write_bytes(cache.read_bytes()[:1500])
    elif damage == "directory":
        cache.unlink()
        cache.mkdir()
    elif damage == "earlier layout":  # as the first releases of --dedup left it
        cache.unlink()
        with sqlite3.connect(cache) as db:
            db.execute("CREATE TABLE signatures (key BLOB PRIMARY KEY, hashes BLOB NOT NULL) WITHOUT ROWID")
            db.execute("INSERT INTO signatures VALUES (x'00', x'01')")
            db.execute("CREATE TABLE answers (threshold REAL PRIMARY KEY, inputs BLOB NOT NULL, answer BLOB NOT NULL)")
        db.close()
    else:
        with sqlite3.connect(cache) as db:
            if damage == "bad answer":
                db.execute("UPDATE answers SET answer = x'00ff'")
            else:
                db.execute("DELETE FROM answers")
                db.execute("UPDATE snapshot_signatures SET hashes = x'0102'")
        db.close()
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    if damage != "directory":  # replaced by a working cache, which answers the next run
        with Store(copy, readonly=True) as store:
            assert dedup.find(store).answered


def test_a_locked_cache_is_skipped_not_waited_for(planted: Planted, copy: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
    holder = sqlite3.connect(copy / dedup.CACHE, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        assert stats_json(copy, capsys)["near_duplicates"] == per_source(planted.expected)
        assert time.monotonic() - started < 8
    finally:
        holder.close()


@pytest.fixture
def readonly_mount(planted: Planted, tmp_path: Path) -> Iterator[Path]:
    """A read-only tmpfs for a copy of the archive (root only; skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount)], check=False).returncode:
        pytest.skip("mount -t tmpfs is not permitted here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.parametrize("cached", [True, False])
def test_a_read_only_archive_never_fails_stats(planted: Planted, readonly_mount: Path, cached: bool,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    archive = readonly_mount / "archive"
    shutil.copytree(planted.archive, archive)
    (archive / ".crawler.lock").unlink(missing_ok=True)
    (archive / dedup.CACHE).unlink(missing_ok=True)
    if cached:
        assert stats_json(archive, capsys)["near_duplicates"] == per_source(planted.expected)
    subprocess.run(["mount", "-o", "remount,ro", str(readonly_mount)], check=True)
    assert stats_json(archive, capsys)["near_duplicates"] == per_source(planted.expected)
    monkeypatch.setattr(stats, "HASH_BUDGET", 5)  # read from the cache, or pending without one
    data = stats_json(archive, capsys)
    if cached:
        assert data["near_duplicates"] == per_source(planted.expected)
    else:
        assert data["near_duplicates"] is None and isinstance(data["near_duplicates_pending"], int)
