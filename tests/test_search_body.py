"""The search index holds every snapshot's body, whatever writes the row (issue: body words were never found).

The catalog's metadata has no ``body`` (removed for the crawl's speed): the body is read from the snapshot file.
These tests use the REAL writers only — a crawl of the mirror, ``crawler fetch``, ``crawler demo``, the
snapshot writer + journal recovery — never a synthetic row with a ``body`` in its metadata.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from crawler.archive.catalog import Store
from crawler.archive.catalog_schema import SCHEMA_VERSION
from crawler.archive.recovery import replay_journals
from crawler.archive.snapshots import SnapshotWriter
from crawler.cli import main
from crawler.mirror import Mirror
from crawler.models import Article, WarcLocation
from crawler.parse.normalize import VN_TZ, render_snapshot
from crawler.use.folding import fold
from crawler.use.search import search
from tests.conftest import origin_args


@dataclass(frozen=True)
class Archived:
    """An article as archived: its source, id, title, sapo and snapshot text (the mirror's oracle)."""

    source: str
    article_id: str
    title: str
    sapo: str | None
    text: str


def archived(m: Mirror, source: str, article_id: str) -> Archived:
    spec = m.article(source, article_id)
    def clean(text: str | None) -> str | None:
        return None if text is None else " ".join(text.split())

    text = m.expected_snapshot(source, article_id)
    return Archived(source, article_id, str(clean(spec.title)), clean(spec.sapo), text)


def body_phrase(article: Archived, words: int = 3) -> str | None:
    """A run of ``words`` words of the body that no other block (title, sapo, kicker, byline...) holds, folded."""
    blocks = article.text.split("\n\n")
    start = blocks.index(article.title) + 1
    if start < len(blocks) and blocks[start] == article.sapo:
        start += 1
    body, rest = blocks[start:-3], blocks[:start] + blocks[-3:]  # the last ones: byline lines, share label
    others = fold(" ".join(rest))
    for block in sorted(body, key=len, reverse=True):
        tokens = block.split()
        for first in range(len(tokens) - words + 1):
            run = tokens[first:first + words]
            phrase = " ".join(run)
            if all(t.isalpha() for t in run) and fold(phrase) not in others:
                return phrase
    return None


def cli_hits(capsys: pytest.CaptureFixture[str], archive: Path, query: str, *extra: str) -> list[dict[str, object]]:
    capsys.readouterr()
    code = main(["search", query, "--archive", str(archive), "--json", "--limit", "100", *extra])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    return list(json.loads(out)["hits"]) if code == 0 else []


def assert_body_found(capsys: pytest.CaptureFixture[str], archive: Path, article: Archived) -> None:
    phrase = body_phrase(article)
    assert phrase is not None
    for query in (f'"{phrase}"', f'"{fold(phrase)}"', f'body:"{fold(phrase)}"'):  # exact, folded, the column
        hits = cli_hits(capsys, archive, query, "--source", article.source)
        hit = next((h for h in hits if h["article_id"] == article.article_id), None)
        assert hit is not None, (query, article.article_id)
        snippet = str(hit["snippet"])
        # The snippet is cut from the body (the words are nowhere else) and marks them.
        assert "«" in snippet and fold(snippet.replace("«", "").replace("»", "")).find(fold(phrase)) >= 0, snippet


# -- a crawl of the mirror (the crawl's batch commit) ---------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mirror, Path]]:
    archive = tmp_path_factory.mktemp("body") / "archive"
    with Mirror(articles=6, seed=11) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
        yield m, archive


def test_a_crawl_indexes_the_body(crawled: tuple[Mirror, Path], capsys: pytest.CaptureFixture[str]) -> None:
    m, archive = crawled
    checked = 0
    for source in m.sources:
        for article_id in m.article_ids(source)[:3]:
            article = archived(m, source, article_id)
            if body_phrase(article) is None:
                continue
            assert_body_found(capsys, archive, article)
            checked += 1
    assert checked >= 2 * len(m.sources)


def test_the_catalog_keeps_no_body(crawled: tuple[Mirror, Path]) -> None:
    _, archive = crawled
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        metas = [json.loads(m) for (m,) in db.execute("SELECT meta FROM snapshots")]
        assert metas and all("body" not in meta for meta in metas)
        # and the index has body terms for every row (not only titles and sapos)
        assert db.execute("SELECT count(*) FROM search WHERE search MATCH 'body:a* OR body:t* OR body:n*'"
                          ).fetchone()[0] == len(metas)


# -- crawler fetch ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["baocantho", "hue", "baoangiang"])
def test_fetch_indexes_the_body(tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str) -> None:
    with Mirror(articles=3, seed=5) as m:
        article_id = m.article_ids(source)[-1]
        assert main(["fetch", m.article(source, article_id).url, "--archive", str(tmp_path), *origin_args(m)]) == 0
        assert_body_found(capsys, tmp_path, archived(m, source, article_id))


# -- the snapshot writer, journal recovery; đ / Đ / ð folding ------------------------------------------------


def article(article_id: str, title: str, body: tuple[str, ...], *, sapo: str | None = None,
            byline: str | None = "Tin, ảnh: MỸ THANH") -> Article:
    return Article("baocantho", article_id, f"https://baocantho.com.vn/a-a{article_id}.html",
                   f"https://baocantho.com.vn/a-a{article_id}.html", ("Thời sự",), ("thoi-su",),
                   datetime(2024, 5, 1, 8, 0, tzinfo=VN_TZ), None, title, sapo, body, byline)


def write(archive: Path, items: list[Article], name: str = "w1") -> list[object]:
    writer = SnapshotWriter(archive, name)
    try:
        return [writer.write(a, render_snapshot(a), WarcLocation("x.warc.gz", 0), datetime(2024, 5, 1, tzinfo=UTC),
                             None).row for a in items]
    finally:
        writer.close()


BODIES = [
    article("1", "Tin tức", ("Ông Chung Khánh Nghị phát biểu.", "Đoạn hai về ĐẬP thủy lợi."), sapo="Mở đầu"),
    article("2", "Giá lúa", ("Nông dân ðầu tư máy gặt.", "Ðường về Cần Thơ."), byline=None),  # eth for đ
    article("3", "Bản tin", ("Trận đấu ở sân Cần Thơ.",), byline="NGUYỄN VĂN ĐÔNG\nẢnh: TƯ LIỆU"),
]


@pytest.mark.parametrize(("query", "expected"), [
    ("chung khanh", {"1"}),
    ('"Chung Khánh Nghị"', {"1"}),  # exact: with its diacritics
    ("dap thuy loi", {"1"}),  # Đ folded
    ("Đập", {"1"}),  # typed with diacritics: the exact index (ĐẬP in the text)
    ("dau tu", {"2"}),  # ð (U+00F0) folded to d
    ("đầu tư", {"2"}),  # and written as đ in the exact index
    ("duong ve", {"2"}),  # Ð (U+00D0)
    ("Đường", {"2"}),
    ("can tho", {"2", "3"}),
    ("Cần Thơ", {"2", "3"}),
    ("cán thổ", set()),  # diacritics typed are respected in the body too
    ("tran dau", {"3"}),
    ("body:tin", set()),  # the title is not the body
    ("my thanh", set()),  # nor the byline
    ("dong", set()),
    ("mo dau", {"1"}),  # the sapo is
    ("sapo:mo", {"1"}),
    ("thoi su", set()),  # nor the breadcrumb
])
def test_writer_rows_are_indexed_with_their_body(tmp_path: Path, query: str, expected: set[str]) -> None:
    with Store(tmp_path) as store:
        store.commit(write(tmp_path, BODIES))  # type: ignore[arg-type]
        assert {h.article_id for h in search(store, query)} == expected


def test_snippets_come_from_the_body(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.commit(write(tmp_path, BODIES))  # type: ignore[arg-type]
        [hit] = search(store, "thuy loi")
        assert hit.snippet == "Đoạn hai về ĐẬP «thủy» «lợi»."
        [hit] = search(store, "dau tu")
        assert hit.snippet == "Nông dân «ðầu» «tư» máy gặt."


def test_journal_recovery_indexes_the_body(tmp_path: Path) -> None:
    write(tmp_path, BODIES[:2], "crashed")  # files and journal written, the crash came before the commit
    (tmp_path / "warc").mkdir()
    (tmp_path / "warc" / "x.warc.gz").write_bytes(b"record")  # the WARC record was written too
    with Store(tmp_path) as store:
        assert search(store, "chung") == []
        assert [r.what for r in replay_journals(store)] == ["added the catalog row a crash left out"] * 2
        assert [h.article_id for h in search(store, "chung khanh")] == ["1"]
        assert [h.article_id for h in search(store, "dau tu")] == ["2"]


def test_a_row_committed_twice_is_indexed_once(tmp_path: Path) -> None:
    rows = write(tmp_path, BODIES[:1])
    with Store(tmp_path) as store:
        store.commit(rows)  # type: ignore[arg-type]
        store.commit(rows)  # type: ignore[arg-type]
        store.commit(rows + write(tmp_path, BODIES[1:2], "w2"))  # type: ignore[arg-type]
        assert store.db.execute("SELECT count(*) FROM search_exact WHERE search_exact MATCH 'Chung'"
                                ).fetchone()[0] == 1
        assert [h.article_id for h in search(store, "chung")] == ["1"]
        assert [h.article_id for h in search(store, "dau tu")] == ["2"]


def test_a_missing_snapshot_file_does_not_fail_the_commit(tmp_path: Path) -> None:
    rows = write(tmp_path, BODIES[:1])
    (tmp_path / rows[0].text_path).unlink()  # type: ignore[attr-defined]
    with Store(tmp_path) as store:
        store.commit(rows)  # type: ignore[arg-type]
        assert [h.article_id for h in search(store, "tin tuc")] == ["1"]  # its title all the same
        assert search(store, "chung") == []


# -- an archive written before the fix --------------------------------------------------------------------------


def make_schema_4(archive: Path) -> None:
    """The catalog as the code before the fix left it: the body column empty, the triggers, user_version 4."""
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        fold_sql = "replace(replace(replace(replace({}, 'đ', 'd'), 'Đ', 'D'), 'ð', 'd'), 'Ð', 'D')"
        eth_sql = "replace(replace({}, 'ð', 'đ'), 'Ð', 'Đ')"
        for table, f in (("search", fold_sql), ("search_exact", eth_sql)):
            db.execute(f"INSERT INTO {table} ({table}) VALUES ('delete-all')")
            db.execute(f"INSERT INTO {table} (rowid, title, sapo, body) SELECT rowid, {f.format('title')}, "
                       f"{f.format('json_extract(meta, ' + chr(39) + '$.sapo' + chr(39) + ')')}, NULL FROM snapshots")
            db.execute(f"CREATE TRIGGER IF NOT EXISTS snapshots_{table} AFTER INSERT ON snapshots BEGIN "
                       f"INSERT INTO {table} (rowid, title) VALUES (new.rowid, new.title); END")
        db.execute("PRAGMA user_version = 4")
        db.commit()


def test_an_archive_crawled_before_the_fix_becomes_searchable(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    m, original = crawled
    archive = tmp_path / "old"
    shutil.copytree(original, archive)
    make_schema_4(archive)
    source = m.sources[0]
    article = next(archived(m, source, a) for a in m.article_ids(source) if body_phrase(archived(m, source, a)))
    phrase = fold(str(body_phrase(article)))
    assert not any(h["article_id"] == article.article_id for h in cli_hits(capsys, archive, f'"{phrase}"'))
    # Read-only, the search cannot rebuild the index: it says what to run.
    assert main(["search", phrase, "--archive", str(archive)]) == 0
    assert f"`crawler index --archive {archive}`" in capsys.readouterr().err
    with Store(archive) as store:  # opened for writing (a crawl, fetch, `crawler index`): upgraded
        assert store.upgraded_from == 4
        assert store.db.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger' AND "
                                "name LIKE 'snapshots_search%'").fetchone()[0] == 0  # schema 4's, dropped
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert_body_found(capsys, archive, article)


def test_crawler_index_rebuilds_the_body_index(crawled: tuple[Mirror, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    m, original = crawled
    archive = tmp_path / "again"
    shutil.copytree(original, archive)
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        db.execute("INSERT INTO search (search) VALUES ('delete-all')")
        db.execute("INSERT INTO search_exact (search_exact) VALUES ('delete-all')")
        db.commit()
    assert main(["index", "--archive", str(archive)]) == 0
    source = m.sources[-1]
    for article_id in m.article_ids(source)[:2]:
        assert_body_found(capsys, archive, archived(m, source, article_id))


# -- crawler demo ------------------------------------------------------------------------------------------------


def test_the_demo_archive_finds_body_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "d"
    assert main(["demo", "--archive", str(archive), "--articles", "2"]) == 0
    hits = cli_hits(capsys, archive, "Chung Khánh")  # the Cần Thơ seed article: in its body only
    assert "text/baocantho/2021/03/136049.txt" in {h["text_path"] for h in hits}
    hit = next(h for h in hits if h["text_path"] == "text/baocantho/2021/03/136049.txt")
    assert "«Chung» «Khánh»" in str(hit["snippet"])
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        assert db.execute("SELECT count(*) FROM search WHERE search MATCH 'body:thanh'").fetchone()[0] > 0


def test_crawler_index_upgrades_an_archive_crawled_before_the_fix(crawled: tuple[Mirror, Path], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    m, original = crawled
    archive = tmp_path / "old"
    shutil.copytree(original, archive)
    make_schema_4(archive)
    capsys.readouterr()
    assert main(["index", "--archive", str(archive), "--search"]) == 0
    with contextlib.closing(sqlite3.connect(archive / "catalog.sqlite")) as db:
        rows = db.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert f"search: {rows} rows" in capsys.readouterr().err
    source = m.sources[1]
    article = archived(m, source, m.article_ids(source)[0])
    assert_body_found(capsys, archive, article)
    main(["search", "a", "--archive", str(archive)])
    assert "crawler index" not in capsys.readouterr().err  # no note once rebuilt


@pytest.mark.parametrize("hostile", ["link", "outside", "fifo", "directory", "not utf-8"])
def test_a_hostile_snapshot_path_is_neither_followed_nor_fatal(tmp_path: Path, hostile: str) -> None:
    """The index reads the file the row names, as every reader does (read_inside): never through a link, never
    outside the archive, never a FIFO (no blocking); a commit never fails for it."""
    import dataclasses
    import os

    archive = tmp_path / "a"
    secret = tmp_path / "secret.txt"
    secret.write_text("Tin tức\n\nmật khẩu bí mật\n\nChia sẻ bài viết", encoding="utf-8")
    [row] = write(archive, BODIES[:1])
    path = archive / row.text_path  # type: ignore[attr-defined]
    path.unlink()
    if hostile == "link":
        path.symlink_to(secret)
    elif hostile == "outside":
        row = dataclasses.replace(row, text_path="../secret.txt")  # type: ignore[type-var]
    elif hostile == "fifo":
        os.mkfifo(path)
    elif hostile == "directory":
        path.mkdir()
    else:
        path.write_bytes("Tin tức\n\nÔng Chung ".encode() + b"\xff\xfe" + " Khánh".encode() + b"\n\nChia s\xe1")
    with Store(archive) as store:
        store.commit([row])  # type: ignore[list-item]
        assert search(store, "mat khau") == []  # nothing read from outside the archive
        assert [h.article_id for h in search(store, "tin tuc")] == ["1"]  # the title is indexed all the same
        found = [h.article_id for h in search(store, "khanh")]
        assert found == (["1"] if hostile == "not utf-8" else [])


# -- latency with bodies indexed: the same answers, cheaper -------------------------------------------------------


def test_the_writings_looked_up_are_the_vocabulary_s(crawled: tuple[Mirror, Path]) -> None:
    """The exact index's words folding to a typed word, looked up one writing at a time, are those a scan of the
    whole vocabulary finds (Vietnamese letters, at most one tone mark), in the same order."""
    import unicodedata

    from crawler.use.search import _variants

    _, archive = crawled
    tones = set("\u0300\u0301\u0303\u0309\u0323")
    with Store(archive, readonly=True) as store:
        db = store.db
        db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_exact_vocab USING fts5vocab(main, "
                   "'search_exact', 'row')")
        vocabulary = [(int(d), str(t)) for t, d in db.execute("SELECT term, doc FROM temp.search_exact_vocab")]
        words = sorted({fold(t) for _, t in vocabulary})
        assert len(words) > 300
        for word in words:
            expected = sorted(((d, t) for d, t in vocabulary if fold(t) == word and
                               sum(any(m in tones for m in unicodedata.normalize("NFD", c)) for c in t) <= 1),
                              reverse=True)
            assert _variants(db, word, 1000) == [t for _, t in expected], word


@pytest.mark.parametrize("window", [1, 3, 7, 40])
def test_ranking_in_the_window_gives_the_scores_of_ranking_everything(crawled: tuple[Mirror, Path],
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      window: int) -> None:
    """bm25 is computed for the window's matches only: the scores (and so the order) are those of the whole
    ranking restricted to the window."""
    import crawler.use.search

    _, archive = crawled
    with Store(archive, readonly=True) as store:
        for query in ("tinh", "kinh te", '"chuyen doi so"', "nong*", "Cần Thơ", "(lua OR gao) AND xuat"):
            everything = {(h.source, h.article_id): h.score for h in search(store, query, limit=1000,
                                                                             rank_all=True)}
            monkeypatch.setattr(crawler.use.search, "RANK_WINDOW", window)
            windowed = search(store, query, limit=1000)
            monkeypatch.undo()
            assert windowed.total == len(everything)
            for hit in windowed:
                assert hit.score == pytest.approx(everything[(hit.source, hit.article_id)], rel=1e-12), query


# -- the body cut out of a snapshot's text ------------------------------------------------------------------------

_LINE = st.text(alphabet="aăđ Cần Thơ:-", min_size=1, max_size=12).map(lambda s: " ".join(s.split())).filter(bool)


@given(breadcrumb=st.lists(_LINE, max_size=2), kicker=st.none() | _LINE, title=_LINE, sapo=st.none() | _LINE,
       body=st.lists(st.sampled_from(["Chia sẻ bài viết"]) | _LINE, max_size=6),
       byline=st.none() | st.lists(_LINE, min_size=1, max_size=2).map("\n".join))
# a breadcrumb that reads like the title (it was taken for the title)
@example(breadcrumb=["::"], kicker=None, title="::", sapo=":", body=[], byline=None)
@example(breadcrumb=["Thơ"], kicker="Thơ", title="Thơ", sapo=None, body=["Thơ"], byline=None)
@settings(max_examples=300, deadline=None)
def test_body_blocks_are_the_rendered_body(breadcrumb: list[str], kicker: str | None, title: str, sapo: str | None,
                                           body: list[str], byline: str | None) -> None:
    """Whatever the fields (equal ones included), the body read back is blocks of the rendered text in order;
    when the fields are all different, it is exactly the article's body as rendered."""
    from crawler.archive.snapshot_body import body_blocks

    a = dataclasses.replace(article("9", title, tuple(body), sapo=sapo, byline=byline),
                            breadcrumb=tuple(breadcrumb), kicker=kicker)
    text = render_snapshot(a)
    got = body_blocks(text, title, sapo, byline)
    blocks = text.split("\n\n")
    it = iter(blocks)
    assert all(block in it for block in got)  # a subsequence of the rendered blocks
    assert "Chia sẻ bài viết" not in got
    others = {" ".join(breadcrumb), kicker, title, sapo, *(byline or "").split("\n"), "Chia sẻ bài viết"}
    if len(others) == 4 + len((byline or "").split("\n")) and not others & set(body) and len(set(body)) == len(body):
        assert got == body
