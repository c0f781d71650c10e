"""Full-text search (``crawler search``, ``crawler index``) and its index in the catalog.

Rows are committed through the real :meth:`Store.commit` (and journal recovery); the end-to-end
tests search an archive crawled from the offline mirror.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crawler.archive.catalog import Store
from crawler.archive.catalog_schema import SCHEMA_VERSION
from crawler.archive.lock import ArchiveLock
from crawler.archive.reading import Selection, read_archive
from crawler.archive.recovery import replay_journals
from crawler.archive.snapshots import JOURNAL_DIR, SnapshotRow
from crawler.cli import main
from crawler.mirror import Mirror
from crawler.use.folding import fold
from crawler.use.query import MAX_QUERY_TERMS, prepare_query
from crawler.use.search import search
from tests.conftest import origin_args


def row(article_id: str, title: str, sapo: str | None, body: list[str], *, source: str = "baocantho",
        version: int = 1, published: str = "2024-05-01T08:00:00+07:00") -> SnapshotRow:
    suffix = "" if version == 1 else f".v{version}"
    text_path = f"text/{source}/{published[:4]}/{published[5:7]}/{article_id}{suffix}.txt"
    meta = {"source": source, "article_id": article_id, "version": version, "title": title, "sapo": sapo,
            "body": body, "published": published, "text_path": text_path}
    return SnapshotRow(source, article_id, version, f"https://example.vn/a{article_id}.html", published, title,
                       text_path, "0" * 64, "x.warc.gz", 0, "2024-05-01T02:00:00+00:00", "1",
                       json.dumps(meta, ensure_ascii=False))


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path) as s:
        s.commit([
            row("1", "Tin tức thời sự Cần Thơ", "Đà Nẵng đón khách", ["Nội dung một.", "Đoạn hai về COVID-19."]),
            row("2", "Giá lúa tăng", None, ["Nông dân An Giang phấn khởi, giá lúa tăng mạnh."],
                source="baoangiang", published="2023-01-15T10:00:00+07:00"),
            row("3", "Ðầu tư hạ tầng", "Dự án mới", ["Thành phố đầu tư đường sá."]),  # U+00D0, as baocantho writes
            row("4", "Bản cũ", None, ["phiên bản thứ nhất chuyện lạ"], published="2024-06-01T08:00:00+07:00"),
            row("4", "Bản mới", None, ["phiên bản thứ hai chuyện lạ"], version=2,
                published="2024-06-01T08:00:00+07:00"),
        ])
        yield s


def ids(hits: list[object]) -> list[tuple[str, int]]:
    return [(h.article_id, h.version) for h in hits]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("query", "expected"), [
    ("tin tuc", [("1", 1)]),  # diacritics folded
    ("TIN TỨC", [("1", 1)]),
    ("da nang", [("1", 1)]),  # đ is not a diacritic for unicode61: folded by us
    ("dau tu", [("3", 1)]),  # Ð (U+00D0) in the title, đ in the body
    ('"gia lua tang"', [("2", 1)]),  # a phrase
    ('"lua gia"', []),  # a phrase is ordered
    ("phan*", [("2", 1)]),  # prefix: phấn
    ("covid-19", [("1", 1)]),  # punctuation: quoted for the user
    ("lua NOT nong", []),
    ("title:tin", [("1", 1)]),
    ("title:nong", []),  # in the body only
])
def test_queries(store: Store, query: str, expected: list[tuple[str, int]]) -> None:
    assert ids(search(store, query)) == expected


def test_ranking_puts_the_title_first(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        s.commit([row("10", "Chuyện thường", None, ["mưa lớn ở miền Tây, mưa kéo dài"]),
                  row("11", "Mưa lớn", None, ["chuyện thường ngày"])])
        assert ids(search(s, "mua")) == [("11", 1), ("10", 1)]


def test_filters_and_versions(store: Store) -> None:
    assert ids(search(store, "chuyen la")) == [("4", 2)]  # the latest version only
    assert sorted(ids(search(store, "chuyen la", Selection(all_versions=True)))) == [("4", 1), ("4", 2)]
    assert ids(search(store, "lua OR tuc", Selection(sources=("baoangiang",)))) == [("2", 1)]
    from datetime import datetime

    from crawler.parse.normalize import VN_TZ

    since = datetime(2024, 1, 1, tzinfo=VN_TZ)
    assert ids(search(store, "lua OR tuc", Selection(since=since))) == [("1", 1)]
    assert ids(search(store, "lua OR tuc", Selection(until=since))) == [("2", 1)]
    assert len(search(store, "lua OR tuc OR dau", limit=2)) == 2


def test_snippet_marks_the_matches_in_the_best_block(store: Store) -> None:
    (hit,) = search(store, "nong dan")
    assert hit.snippet.startswith("«Nông» «dân» An Giang")
    (hit,) = search(store, "phan*")
    assert "«phấn»" in hit.snippet
    assert hit.text_path == "text/baoangiang/2023/01/2.txt" and hit.url.endswith("a2.html")


def test_prepare_query_keeps_fts_syntax() -> None:
    assert prepare_query('"tin tức" OR (lúa AND gạo*)') == '"tin tức" OR (lúa AND gạo*)'
    assert prepare_query("COVID-19* đà") == '"COVID-19"* dà'
    assert prepare_query("title:Huế") == "title:Huế"
    assert fold("Ðà Nẵng Huế") == "da nang hue"


def test_rows_are_indexed_as_they_are_committed_and_by_recovery(tmp_path: Path) -> None:
    archive = tmp_path / "a"
    with Store(archive) as s:
        s.commit([row("1", "Một", None, ["sóng lớn"])])
        assert ids(search(s, "song")) == [("1", 1)]
        s.commit([row("1", "Một", None, ["sóng lớn"])])  # a row already there: no second index entry
        assert ids(search(s, "song")) == [("1", 1)]
    # A crash left a journalled row whose file and WARC record exist: recovery commits and indexes it.
    journalled = row("5", "Năm", None, ["bão số năm"])
    (archive / JOURNAL_DIR).mkdir()
    (archive / JOURNAL_DIR / "w1.jsonl").write_text(journalled.as_json() + "\n", encoding="utf-8")
    text = archive / journalled.text_path
    text.parent.mkdir(parents=True)
    snapshot = "01/05/2024 - 08:00\n\nNăm\n\nbão số năm\n\nChia sẻ bài viết".encode()  # the body: in the file only
    text.write_bytes(snapshot)
    (archive / "warc").mkdir()
    (archive / "warc" / "x.warc.gz").write_bytes(b"record")
    import hashlib

    fixed = SnapshotRow(*[*json.loads(journalled.as_json())[:7], hashlib.sha256(snapshot).hexdigest(),
                          *json.loads(journalled.as_json())[8:]])
    (archive / JOURNAL_DIR / "w1.jsonl").write_text(fixed.as_json() + "\n", encoding="utf-8")
    with Store(archive) as s:
        assert len(replay_journals(s)) == 1
        assert ids(search(s, "bao so nam")) == [("5", 1)]


def test_malformed_metadata_does_not_fail_the_commit(tmp_path: Path) -> None:
    bad = row("7", "Tiêu đề lạ", None, [])
    bad = SnapshotRow(*[*json.loads(bad.as_json())[:12], "{not json"])
    with Store(tmp_path) as s:
        s.commit([bad])
        assert ids(search(s, "tieu de")) == [("7", 1)]  # the title is indexed all the same


def make_schema_2(archive: Path) -> None:
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        db.executescript("DROP TABLE search; DROP TABLE search_exact; PRAGMA user_version = 2;")


def test_an_archive_of_schema_3_gets_its_exact_index(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(tmp_path) as s:
        s.commit([row("1", "Cần Thơ", None, ["mưa"]), row("2", "Cán thổ", None, ["mưa"])])
    with contextlib.closing(sqlite3.connect(tmp_path / "catalog.sqlite")) as db:
        db.executescript("DROP TABLE search_exact; PRAGMA user_version = 3;")
    assert main(["search", "Cần", "--archive", str(tmp_path)]) == 1  # read-only: cannot build it
    assert "crawler index" in capsys.readouterr().err
    with Store(tmp_path) as s:
        assert s.upgraded_from == 3
        assert ids(search(s, "Cần")) == [("1", 1)]
        assert sorted(ids(search(s, "can"))) == [("1", 1), ("2", 1)]


def test_an_archive_of_schema_2_gets_its_index_when_opened_for_writing(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with Store(tmp_path) as s:
        s.commit([row("1", "Tin tức", None, ["mưa"])])
    make_schema_2(tmp_path)
    assert main(["search", "mua", "--archive", str(tmp_path)]) == 1  # read-only: cannot build it
    assert "crawler index" in capsys.readouterr().err
    with Store(tmp_path) as s:
        assert s.upgraded_from == 2
        assert ids(search(s, "mua")) == [("1", 1)]
    with contextlib.closing(sqlite3.connect(tmp_path / "catalog.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # A row added afterwards is indexed by the writer.
    with Store(tmp_path) as s:
        s.commit([row("2", "Hai", None, ["mưa nữa"])])
        assert sorted(ids(search(s, "mua"))) == [("1", 1), ("2", 1)]


def test_upgrading_schema_2_leaves_unlisted_snapshot_files_alone(tmp_path: Path) -> None:
    """The once-only scan that adopts or sets aside snapshot files without a row is for archives written
    before journals (schema 1); a schema-2 archive's upgrade to 3 must not run it."""
    from crawler.config import load_sources
    from crawler.crawl.archiver import Archive
    from tests.conftest import ROOT

    with Store(tmp_path) as s:
        s.commit([row("1", "Tin tức", None, ["mưa"])])
    make_schema_2(tmp_path)
    stray = tmp_path / "text" / "hue" / "2024" / "05" / "77.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("a file without a row", encoding="utf-8")
    with Archive(tmp_path, load_sources(ROOT / "sources.yaml")) as archive:
        assert archive.store.upgraded_from == 2
        assert archive.recovered == []
    assert stray.is_file() and not (tmp_path / "orphans").exists()


def test_index_command_rebuilds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Store(tmp_path) as s:
        s.commit([row("1", "Tin tức", None, ["mưa"]), row("2", "Hai", None, ["nắng"])])
        s.db.execute("INSERT INTO search (search) VALUES ('delete-all')")
        s.db.commit()
        assert search(s, "mua") == []
    assert main(["index", "--archive", str(tmp_path)]) == 0
    assert "search: 2 rows" in capsys.readouterr().err
    with Store(tmp_path) as s:
        assert ids(search(s, "mua")) == [("1", 1)]
    with ArchiveLock(tmp_path):  # a crawl writes the archive
        assert main(["index", "--archive", str(tmp_path)]) == 75
        assert "try again or use --wait" in capsys.readouterr().err


@pytest.mark.parametrize("query", ["tin tuc AND", '"unterminated', "(", "NEAR(a b", "title:", "   ", "*"])
def test_bad_query_is_one_line_exit_2(store: Store, query: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", query, "--archive", str(store.archive)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crawler: ") and err.count("\n") == 1 and "Traceback" not in err


# -- end to end on a crawled mirror archive -----------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, Path]]:
    archive = tmp_path_factory.mktemp("search") / "archive"
    with Mirror(articles=8, seed=7) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
        yield m, archive


def test_search_a_crawled_archive(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    capsys.readouterr()
    for source in m.sources:
        for article_id in m.article_ids(source)[:3]:
            article = m.article(source, article_id)
            words = " ".join(fold(article.title).split()[:6])  # typed without diacritics
            assert main(["search", f'"{words}"', "--archive", str(archive), "--source", source, "--json",
                         "--limit", "50"]) == 0
            hits = json.loads(capsys.readouterr().out)["hits"]
            assert (source, article_id) in {(h["source"], h["article_id"]) for h in hits}, words
            hit = next(h for h in hits if h["article_id"] == article_id)
            assert (archive / hit["text_path"]).is_file()
            assert hit["title"].split() == article.title.split()


def test_search_output_and_unknown_source(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    source = m.sources[0]
    article = m.article(source, m.article_ids(source)[0])
    assert main(["search", fold(article.title), "--archive", str(archive), "--limit", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. ")
    assert article.url in out or source == "hue"  # hue: the crawl may archive another URL of the same id
    assert "«" in out  # matches marked off a terminal
    assert main(["search", "x", "--archive", str(archive), "--source", "nosuch"]) == 2
    assert "unknown source 'nosuch'" in capsys.readouterr().err
    assert main(["search", "zzzzqqq", "--archive", str(archive)]) == 0
    assert "no match" in capsys.readouterr().err
    assert main(["search", "x", "--archive", str(archive.parent / "missing")]) == 1
    assert "no such archive directory" in capsys.readouterr().err


def test_search_beside_a_running_crawl(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """A crawl holds the archive's lock: search reads a snapshot of the catalog beside it."""
    m, archive = crawled
    source = m.sources[0]
    article = m.article(source, m.article_ids(source)[0])
    with ArchiveLock(archive), Store(archive) as writer:
        writer.commit([row("999999", "Bài mới trong lúc crawl", None, ["đang ghi"], source=source)])
        capsys.readouterr()
        assert main(["search", fold(article.title), "--archive", str(archive), "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["hits"]
        with read_archive(archive) as reader:
            assert ids(search(reader, "dang ghi")) == [("999999", 1)]
        writer.db.execute("DELETE FROM snapshots WHERE article_id='999999'")
        writer.db.commit()


def test_a_common_query_ranks_the_most_recent_matches_unless_rank_all(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.use.search

    monkeypatch.setattr(crawler.use.search, "RANK_WINDOW", 3)
    with Store(tmp_path) as s:
        # Oldest first: the best match (the word in the title) is the oldest row.
        s.commit([row("1", "Lúa gạo", None, ["lúa"])] +
                 [row(str(n), "Tin khác", None, ["lúa"], source="baoangiang") for n in range(2, 8)])
        windowed = search(s, "lua", limit=2)
        assert windowed.window == 3 and ("1", 1) not in ids(windowed)
        everything = search(s, "lua", limit=2, rank_all=True)
        assert everything.window is None and ids(everything)[0] == ("1", 1)
        # The recent matches do not pass the filter: every match is ranked instead.
        only = search(s, "lua", Selection(sources=("baocantho",)), limit=2)
        assert ids(only) == [("1", 1)] and only.window is None
        assert len(search(s, "lua", limit=5)) == 5


# -- the query's own cost is bounded ----------------------------------------------------------------

LONG_TOKENS = [
    ")" * 100_000 + "a",  # the old token regex backtracked over the closing parentheses: 24 s
    "(" * 50_000 + "x" + ")" * 50_000 + "-",
    "*" * 100_000 + "a)",
    "title:" + "a-" * 50_000,
    '"' + "a " * 50_000,
    "x" * 100_000,
]


@pytest.mark.parametrize("query", [
    *LONG_TOKENS,
    " ".join(f"a{i}*" for i in range(2_000)),  # 2,000 prefix terms: 71-104 s on 4,502 articles
    " OR ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 1)),
    " ".join(["tin"] * (MAX_QUERY_TERMS + 1)),
    "NEAR(" + " ".join(f"a{i}" for i in range(100)) + ")",
])
def test_a_query_too_long_or_with_too_many_terms_is_refused_at_once(
        store: Store, query: str, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    assert main(["search", query, "--archive", str(store.archive)]) == 2
    assert time.perf_counter() - started < 1
    err = capsys.readouterr().err
    assert err.startswith("crawler: ") and err.count("\n") == 1 and "Traceback" not in err and len(err) < 300


@pytest.mark.parametrize("shape", [lambda n: ")" * n + "a", lambda n: "(" * n + "a-" + ")" * n,
                                   lambda n: "*" * n + "-", lambda n: "^title:" + ")" * n + "x"])
def test_rewriting_a_query_is_linear(shape: Callable[[int], str]) -> None:
    from crawler.use import query as query_module

    def per_call(query: str) -> float:
        calls, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < 0.02 or calls == 0:
            query_module._token_parts(query)
            calls += 1
        return elapsed / calls

    small, big = shape(50_000), shape(200_000)
    ratio = min(per_call(big) for _ in range(3)) / min(per_call(small) for _ in range(3))
    assert ratio < 10, f"4x the token took {ratio:.1f}x the time (quadratic: 16x)"


def test_queries_at_the_limits_still_run(store: Store) -> None:
    assert ids(search(store, " OR ".join(["tin"] * MAX_QUERY_TERMS))) == [("1", 1)]
    assert ids(search(store, "((((title:tin*))))")) == [("1", 1)]


# -- Vietnamese words: what was typed is respected ------------------------------------------------------------


@pytest.fixture()
def words(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "w") as s:
        s.commit([
            row("c1", "Thành phố Cần Thơ mở rộng đường", None, ["Người dân Cần Thơ phấn khởi."]),
            row("c2", "Cán bộ thơ ca", None, ["Cán bộ viết thơ, chăm chỉ."]),  # cán and thơ, no cần
            row("c3", "Cần thêm thơ", None, ["cần thơ mới"]),  # cần thơ, lower case, as a phrase
            row("d1", "Đà Nẵng đón khách", None, ["Du lịch Đà Nẵng tăng."]),
            row("d2", "Giá lúa", None, ["Nông dân đã nâng chất lượng lúa."]),  # đã nâng: folds to da nang
            row("d3", "Cầu Rồng", None, ["Cầu ở thành phố Đà Nẵng."]),
            row("h1", "Thanh Hoá mưa lớn", None, ["Tỉnh Thanh Hoá."]),  # old tone placement
            row("h2", "Thanh Hóa nắng", None, ["Tỉnh Thanh Hóa."]),  # new tone placement
            row("q1", "Quý khách", None, ["quý"]),
        ])
        yield s


@pytest.mark.parametrize(("query", "expected"), [
    ("Cần Thơ", {"c1", "c3"}),  # diacritics typed: those diacritics (not cán ... thơ)
    ("cần thơ", {"c1", "c3"}),  # case does not matter
    ('"Cần Thơ"', {"c1", "c3"}),  # a phrase typed with diacritics
    ("can tho", {"c1", "c2", "c3"}),  # without: every writing
    ('"can tho"', {"c1", "c3"}),  # a phrase without diacritics: every writing of the phrase
    ("title:cần", {"c1", "c3"}),  # not "Cán bộ"
    ("title:can", {"c1", "c2", "c3"}),
    ("cán", {"c2"}),
    ("Thanh Hóa", {"h1", "h2"}),  # either tone placement of oa/oe/uy is the same word
    ("Thanh Hoá", {"h1", "h2"}),
    ("-thơ", {"d1", "d2", "d3", "h1", "h2", "q1"}),  # unary NOT, alone
    ("NOT tho", {"d1", "d2", "d3", "h1", "h2", "q1"}),
    ("can NOT Cần", {"c2"}),
    ("can -thơ", set()),
    ("(Đà OR cán) -khách", {"c2", "d3"}),
])
def test_typed_diacritics_are_respected(words: Store, query: str, expected: set[str]) -> None:
    hits = search(words, query, limit=50)
    assert {h.article_id for h in hits} == expected
    assert hits.total == len(expected)


@pytest.mark.parametrize(("query", "first"), [
    ("can tho", {"c1", "c3"}),  # the phrase before the words apart
    ("Cần Thơ", {"c1", "c3"}),
    ("da nang", {"d1", "d3"}),  # Đà Nẵng (the archive's common writing) before đã nâng
    ("thanh pho can tho", {"c1"}),
])
def test_words_typed_together_rank_as_a_phrase(words: Store, query: str, first: set[str]) -> None:
    hits = search(words, query, limit=50)
    assert {h.article_id for h in hits[:len(first)]} == first, [h.article_id for h in hits]


def test_da_nang_says_which_writing_it_put_first(words: Store) -> None:
    hits = search(words, "da nang")
    assert [h.article_id for h in hits][-1] == "d2"
    assert hits.readings == (("da nang", "đà nẵng"),)
    assert search(words, "Đà Nẵng").readings == ()  # typed with diacritics: nothing to choose


def test_total_and_offset_page_through_every_match(words: Store) -> None:
    everything = [h.article_id for h in search(words, "can OR nang OR thanh", limit=50)]
    assert len(everything) == 8
    pages = [search(words, "can OR nang OR thanh", limit=3, offset=n) for n in (0, 3, 6, 9)]
    assert [h.article_id for page in pages for h in page] == everything
    assert {page.total for page in pages} == {8} and len(pages[-1]) == 0


@pytest.mark.parametrize("query", ["tin tuc AND", "OR lua", "(lua", "lua)", '"unterminated', "-", "title:"])
def test_bad_queries_name_the_problem(words: Store, query: str) -> None:
    from crawler.use.query import SearchQueryError

    with pytest.raises(SearchQueryError, match="bad search query"):
        search(words, query)


def test_the_cli_prints_the_count_and_the_next_offset(words: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "can OR nang", "--archive", str(words.archive), "--limit", "2"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("1. ") and "\n2. " in out
    assert "1-2 of 7 matches (--offset 2 for the next)" in err  # Cần, Cán, Nẵng, nâng, nắng
    assert main(["search", "can OR nang", "--archive", str(words.archive), "--limit", "2", "--offset", "4"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("5. ") and "5-6 of 7 matches (--offset 6 for the next)" in err
    assert main(["search", "da nang", "--archive", str(words.archive), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 3 and data["readings"] == {"da nang": "đà nẵng"}


def test_a_closed_pipe_ends_quietly_with_exit_0(words: Store) -> None:
    import os
    import subprocess
    import sys

    with Store(words.archive) as s:  # many hits: more output than a pipe holds
        s.commit([row(str(n), f"Cần Thơ {n}", None, ["Cần Thơ " * 50]) for n in range(400)])
    crawler = Path(sys.executable).with_name("crawler")
    for argv in (["search", "can tho", "--limit", "400"], ["search", "can tho", "--limit", "400", "--json"], ["stats"],
                 ["failed"]):
        read, write = os.pipe()
        with subprocess.Popen([str(crawler), *argv, "--archive", str(words.archive)], stdout=write,
                              stderr=subprocess.PIPE) as proc:
            os.close(write)
            os.read(read, 10)
            os.close(read)  # the reader goes away (`| head -c 10`)
            _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (argv, err)
        assert b"Traceback" not in err and b"Broken pipe" not in err, err
