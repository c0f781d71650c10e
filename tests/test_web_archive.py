"""The archive as a web archive: the CDXJ index (kept current, rebuilt, verified, as cdxj-indexer writes it)
and the WACZ package (``wacz validate``, pages with text, slices)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import shutil
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.archive.cdxj import check_index, index_warc, read_index
from crawler.archive.recovery import recover_warcs
from crawler.archive.surt_keys import surt
from crawler.archive.verify import verify
from crawler.archive.warc import WarcWriter
from crawler.cli import main
from tests.conftest import origin_args
from tests.warc_samples import fetch_result

cdxj_indexer = pytest.importorskip("cdxj_indexer")
surt_package = pytest.importorskip("surt")

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def crawl(m: object, archive: Path, *extra: str) -> int:
    return main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--no-progress",  # type: ignore[arg-type]
                 "--quiet", *extra])


def index_key(line: str) -> tuple[str, str, str, str, str]:
    key, stamp, data = line.split(" ", 2)
    fields = json.loads(data)
    return key, stamp, fields["filename"], fields["offset"], fields["length"]


def their_index(paths: list[Path]) -> list[str]:
    """What ``cdxj-indexer`` writes for these WARC files (run as its command)."""
    out = subprocess.run([sys.executable, "-m", "cdxj_indexer.main", *map(str, paths)], capture_output=True,
                         text=True, check=True).stdout
    return [line for line in out.splitlines() if line.strip()]


def our_index(archive: Path) -> list[str]:
    return [line for path in sorted((archive / "indexes").glob("*.cdxj")) for line in read_index(path)]


def wacz_index_of(archive: Path) -> list[str]:
    """What a WACZ of the whole archive indexes: our lines, and each 304 revisit with its original's status."""
    lines = our_index(archive)
    for line in their_index(warcs(archive)):
        if '"status": "304"' in line:
            lines.append(line.replace('"status": "304"', '"status": "200"'))
    return sorted(lines)


def read_wacz_index(package: zipfile.ZipFile) -> list[str]:
    names = package.namelist()
    data = package.read("indexes/index.cdx") if "indexes/index.cdx" in names else \
        gzip.decompress(package.read("indexes/index.cdx.gz"))
    # Without the URL aliases' lines (decision 0015: tested on their own).
    return [line for line in data.decode("utf-8").splitlines() if '"filename": "aliases.warc.gz"' not in line]


def warcs(archive: Path) -> list[Path]:
    return sorted((archive / "warc").glob("*.warc.gz"))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive after a crawl, a second crawl (304s) and a --refresh crawl (identical-payload revisits)."""
    from crawler.mirror import Mirror

    archive = tmp_path_factory.mktemp("crawled") / "archive"
    with Mirror(articles=6, seed=3) as m:
        assert crawl(m, archive) == 0
        assert crawl(m, archive) == 0
        assert crawl(m, archive, "--refresh") == 0
    return archive


# -- SURT ------------------------------------------------------------------------------------------

URLS = [
    "https://baocantho.com.vn/thoi-su/?p=2", "https://WWW.baocantho.com.vn/", "https://www2.a.vn:443/x/",
    "http://a.vn:80/A/./b/../C.html?b=2&a=1&a#frag", "https://huengaynay.vn/amp.aspx?newid=100343",
    "https://báo.vn/tin-tức?q=đ&A=%E1%BB%87", "https://a.vn/%2525/%7e", "http://3232235777/", "http://0x7f.1/",
    "https://[::1]:8080/x", "https://user:pw@a.vn:8443/x", "https://a.vn/x?", "https://a.vn",
    "https://a.vn/?jsessionid=0123456789abcdef0123456789abcdef&x=1", "https://a.vn//b///c/", "dns:a.vn",
    "https://a.vn/a b", "https://a.vn/..", "http://http://a.vn/x", "https://a.vn/(0123456789abcdef01234567)/x.aspx",
]


@pytest.mark.parametrize("url", URLS)
def test_surt_keys_are_those_of_the_surt_package(url: str) -> None:
    try:
        expected = surt_package.surt(url)
    except Exception:
        expected = url
    assert surt(url) == expected


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["https://a.vn", "https://WWW.b.com", "http://c.d.vn:8080", "https://e.vn:443"]),
       st.text(alphabet="aZ09/.?&=%#:;@+ -_~!$'()*,[]éđệ\t", max_size=30))
def test_surt_agrees_on_generated_urls(host: str, rest: str) -> None:
    url = host + "/" + rest
    try:
        expected = surt_package.surt(url)
    except Exception:
        expected = url
    assert surt(url) == expected


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["http", "https"]),
       st.sampled_from(["a.vn", "www.b.com", "www2.c.vn", "c.d.vn:8080", "e.vn:443", "f.vn:80", "1.2.3.4", "0x7f.1",
                        "g-h.vn:0443", "i.vn:99999", "j.vn:00", "k.vn:", "l.vn:8080:9"]),
       st.text(alphabet="abcXYZ019/.-_~!$&'*+,;=:@?", max_size=25),
       st.sampled_from(["", "?p=2", "?b=2&a=1&a", "?Q=A&q=a", "?jsessionid=0123456789abcdef0123456789abcdef",
                        "?sid=0123456789abcdef0123456789abcdef&b=1", "?x==1&&y"]))
def test_surt_agrees_on_plain_urls(scheme: str, host: str, path: str, query: str) -> None:
    # The fast path (URLs without escapes, dot segments or session ids) and its borders.
    url = f"{scheme}://{host}/{path}{query}"
    try:
        expected = surt_package.surt(url)
    except Exception:
        expected = url
    assert surt(url) == expected


# -- the index ------------------------------------------------------------------------------------


def test_index_of_a_crawl_agrees_with_cdxj_indexer(crawled: Path) -> None:
    files = warcs(crawled)
    assert len(list((crawled / "indexes").glob("*.cdxj"))) == len(files)  # one per WARC, written on close
    theirs = their_index(files)
    ours = our_index(crawled)
    # The 304s (server-not-modified revisits) are the one difference, on purpose (decision 0010).
    not_modified = {index_key(line) for line in theirs if '"status": "304"' in line}
    assert not_modified, "the second crawl got 304s"
    assert {index_key(line) for line in ours} == {index_key(line) for line in theirs} - not_modified
    assert sorted(ours) == sorted(line for line in theirs if index_key(line) not in not_modified)  # JSON too
    # The --refresh run's identical-payload revisits are indexed (replay tools resolve them).
    assert any('"mime": "warc/revisit", "status": "200"' in line for line in ours)
    for path in sorted((crawled / "indexes").glob("*.cdxj")):  # each file sorted, as pywb needs
        lines = read_index(path)
        assert lines == sorted(lines)
    assert verify(crawled).ok


def test_server_not_modified_revisits_keep_the_original_digest(crawled: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    digests: dict[str, set[str]] = {}
    revisits = []
    for path in warcs(crawled):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                url = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and record.http_headers.get_statuscode() == "200":
                    digests.setdefault(url, set()).add(record.rec_headers.get_header("WARC-Payload-Digest"))
                elif record.rec_type == "revisit" and record.rec_headers.get_header("WARC-Profile") == NOT_MODIFIED:
                    assert record.http_headers.get_statuscode() == "304"  # the WARC says what happened
                    revisits.append((url, record.rec_headers.get_header("WARC-Payload-Digest")))
    assert revisits
    # WARC 1.1: the payload of a server-not-modified revisit is the original's.
    assert all(digest in digests[url] for url, digest in revisits)


def test_index_is_written_when_a_killed_run_is_recovered(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "warc", "s", index_dir=tmp_path / "indexes")
    writer.write_exchange(fetch_result(url="https://a.vn/x-a1.html"))
    writer.write_exchange(fetch_result(url="https://a.vn/y-a2.html", content=b"<html>two</html>"))
    assert writer.current_path is not None and writer._file is not None
    writer._file.close()  # the process dies: the file stays .open, no index
    with open(writer.current_path, "ab") as handle:  # the writer is "killed" in the middle of a record
        handle.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n")[:30])
    assert not (tmp_path / "indexes").exists()
    (done,) = recover_warcs(tmp_path / "warc")
    index = tmp_path / "indexes" / (done.path.name + ".cdxj")
    assert [json.loads(line.split(" ", 2)[2])["url"] for line in read_index(index)] == [
        "https://a.vn/x-a1.html", "https://a.vn/y-a2.html"]
    assert check_index(done.path, index) == []


def test_writer_index_equals_a_reading_of_the_file(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "warc", "s", index_dir=tmp_path / "indexes")
    first = fetch_result(url="https://a.vn/p?b=1&a=2")
    writer.write_exchange(first)
    writer.write_exchange(fetch_result(url="https://a.vn/moved", status=301, reason="Moved", content=b""))
    writer.write_revisit(first, refers_to_uri=first.url, refers_to_date="2026-01-01T00:00:00Z",
                         profile="identical-payload-digest")
    writer.write_revisit(fetch_result(url=first.url, status=304, reason="Not Modified", content=b""),
                         refers_to_uri=first.url, refers_to_date="2026-01-01T00:00:00Z", profile="server-not-modified")
    writer.close()
    (path,) = writer.closed_paths
    index = tmp_path / "indexes" / (path.name + ".cdxj")
    lines = read_index(index)
    assert len(lines) == 3  # two responses and one identical-payload revisit; the 304 has no line
    assert check_index(path, index) == []
    assert sorted(lines) == sorted(line for line in their_index([path]) if '"status": "304"' not in line)
    offsets = sorted(int(json.loads(line.split(" ", 2)[2])["offset"]) for line in lines)
    assert [e.offset for e in index_warc(path)] == offsets


def test_a_file_s_index_costs_little_memory_while_written_and_closed(tmp_path: Path) -> None:
    """A WARC file's index is held in memory until the file closes: ~300 bytes a record (its line, UTF-8; a
    tuple of its fields took ~560), and the close writes the lines one by one (joining and encoding them at once
    held the index ~3.4x over).  The index written is every record's line, sorted, agreeing with a reading of
    the file."""
    writer = WarcWriter(tmp_path / "warc", "s", index_dir=tmp_path / "indexes")
    writer.write_exchange(fetch_result(url="https://b.vn/first.html"))  # the file is open: what follows is per record
    tracemalloc.start()
    try:
        for n in range(1, 4000):
            writer.write_exchange(fetch_result(url=f"https://b{n % 13}.vn/tin/{n:05d}-mot-bai-bao.html?x={n % 5}",
                                               status=301 if n % 7 == 0 else 200, content=b"x" * (n % 50)))
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        writer.close()
        close_peak = tracemalloc.get_traced_memory()[1] - held
    finally:
        tracemalloc.stop()
    (path,) = writer.closed_paths
    index = tmp_path / "indexes" / (path.name + ".cdxj")
    written = index.read_bytes()
    lines = written.splitlines()
    assert len(lines) == 4000 and lines == sorted(lines) and check_index(path, index) == []
    assert held / 4000 < 1.4 * len(written) / 4000, (held, len(written))  # the lines, and some room
    assert close_peak < (1 << 20) + 200_000, close_peak  # a write buffer of 1 MiB


def test_crawler_index_rebuilds_and_verify_checks(crawled: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    before = {p.name: p.read_text(encoding="utf-8") for p in (archive / "indexes").glob("*.cdxj")}
    first, second = sorted((archive / "indexes").glob("*.cdxj"))[:2]
    first.unlink()  # lost
    lines = second.read_text(encoding="utf-8").splitlines()
    second.write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")  # one line short
    (archive / "indexes" / "gone-20200101000000000000-00000.warc.gz.cdxj").write_text("x\n", encoding="utf-8")
    problems = verify(archive).problems
    assert any(first.name in p and "no index file" in p for p in problems)
    assert any(second.name in p and "1 line missing" in p for p in problems)
    assert any("gone-" in p and "index of no WARC file" in p for p in problems)
    assert main(["verify", "--archive", str(archive), "--quick"]) == 1
    capsys.readouterr()
    assert main(["index", "--archive", str(archive)]) == 0
    assert "cdxj:" in capsys.readouterr().err
    assert {p.name: p.read_text(encoding="utf-8") for p in (archive / "indexes").glob("*.cdxj")} == before
    assert verify(archive).ok


def test_crawler_index_refuses_what_is_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "--archive", str(tmp_path / "none")]) == 1
    assert "no such archive directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["index", "--archive", str(tmp_path / "empty")]) == 1
    assert "not an archive" in capsys.readouterr().err


def test_crawler_index_reports_a_damaged_file(crawled: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    victim = warcs(archive)[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    assert main(["index", "--archive", str(archive)]) == 1
    assert victim.name in capsys.readouterr().out


# -- WACZ ------------------------------------------------------------------------------------------


def wacz_validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from wacz.main import main; sys.exit(main())",
                           "validate", "-f", str(path)], capture_output=True, text=True)


def test_wacz_is_valid_and_holds_every_article_with_its_text(crawled: Path, tmp_path: Path) -> None:
    pytest.importorskip("wacz")
    out = tmp_path / "archive.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    result = wacz_validate(out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Validation succeeded" in result.stdout
    with zipfile.ZipFile(out) as package:
        names = package.namelist()
        stored = sorted(n for n in names if n.startswith("archive/"))
        # The archive's WARC files, and the URL aliases made for the package (decision 0015).
        assert stored == sorted([*(f"archive/{p.name}" for p in warcs(crawled)), "archive/aliases.warc.gz"])
        assert all(package.getinfo(n).compress_type == zipfile.ZIP_STORED for n in names if n.startswith("archive/"))
        datapackage = json.loads(package.read("datapackage.json"))
        assert datapackage["wacz_version"] == "1.1.1"
        for resource in datapackage["resources"]:
            data = package.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(package.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(package.read("datapackage.json")).hexdigest()
        index = read_wacz_index(package)
        assert index == wacz_index_of(crawled)  # without the aliases' lines (read_wacz_index)
        header, *pages = [json.loads(line) for line in package.read("pages/pages.jsonl").decode("utf-8").splitlines()]
    assert header["format"] == "json-pages-1.0" and header["hasText"] is True
    import sqlite3

    with sqlite3.connect(crawled / "catalog.sqlite") as db:
        rows = db.execute("SELECT source, article_id, url, title, text_path, MAX(version) FROM snapshots "
                          "GROUP BY source, article_id").fetchall()
    assert len(pages) == len(rows)
    by_url = {page["url"]: page for page in pages}
    for _source, _id, url, title, text_path, _v in rows:
        page = by_url[url]
        assert page["title"] == title
        assert page["text"] == (crawled / text_path).read_text(encoding="utf-8")
        # The page's time names a capture in the index (ReplayWeb.page looks it up there).
        stamp = page["ts"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
        assert any(line.split(" ")[1] == stamp and json.dumps(url) in line for line in index)


def test_wacz_slices(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hue.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out), "--source", "hue"]) == 0
    with zipfile.ZipFile(out) as package:
        files = [n for n in package.namelist() if n.startswith("archive/")]
        pages = package.read("pages/pages.jsonl").decode("utf-8").splitlines()[1:]
    assert files and all(name.startswith(("archive/hue-", "archive/aliases.warc.gz")) for name in files)
    assert pages and all("huengaynay.vn" in line or "baothuathienhue.vn" in line for line in pages)
    assert main(["wacz", "--archive", str(crawled), "-o", str(tmp_path / "old.wacz"), "--until", "2000-01-01"]) == 1
    assert "no WARC file in the slice" in capsys.readouterr().err
    assert not (tmp_path / "old.wacz").exists()
    assert main(["wacz", "--archive", str(crawled), "-o", str(tmp_path / "new.wacz"), "--since", "2000-01-01",
                 "--until", "2999-12-31"]) == 0


def test_wacz_since_until_mean_publication_as_export_does(crawled: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """--since/--until: the publication date, as in export and search (issue 21: it was the capture date, and
    the README's `--since 2026-01-01` packed articles of 2022); the capture date is --captured-since/-until."""
    from crawler.archive.catalog import Store

    with Store(crawled, readonly=True) as store:
        published = sorted(str(r[0])[:10] for r in store.db.execute("SELECT published FROM snapshots"))
    assert published[0][:4] != published[-1][:4]  # articles of several years
    middle = published[len(published) // 2]
    for argv, keep in ((["--since", middle], lambda day: day >= middle),
                       (["--until", middle], lambda day: day <= middle),
                       (["--since", middle, "--until", middle], lambda day: day == middle)):
        out = tmp_path / "slice.wacz"
        assert main(["wacz", "--archive", str(crawled), "-o", str(out), *argv]) == 0
        capsys.readouterr()
        with zipfile.ZipFile(out) as package:
            pages = [json.loads(line) for line in package.read("pages/pages.jsonl").decode().splitlines()[1:]]
        with Store(crawled, readonly=True) as store:
            days = {f"{r[0]}-{r[1]}": str(r[2])[:10] for r in store.db.execute(
                "SELECT source, article_id, published FROM snapshots")}
        assert pages and all(keep(days[page["id"]]) for page in pages), argv
        assert len(pages) == sum(1 for day in days.values() if keep(day)), argv
    # Capture time: every article of this archive was captured today, whatever its publication date.
    assert main(["wacz", "--archive", str(crawled), "-o", str(tmp_path / "c.wacz"), "--captured-since",
                 "2000-01-01", "--captured-until", "2999-12-31"]) == 0
    assert main(["wacz", "--archive", str(crawled), "-o", str(tmp_path / "c.wacz"), "--captured-until",
                 "2000-01-01"]) == 1
    assert "no WARC file in the slice" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["-o", "x.zip"], "a .wacz file name"),
    (["-o", "x.wacz", "--captured-until", "yesterday"], "not a date"),
    (["-o", "x.wacz", "--captured-since", "2026-02-01", "--captured-until", "2026-01-01"], "before --captured-since"),
    (["-o", "x.wacz", "--until", "yesterday"], "not a date"),
    (["-o", "x.wacz", "--since", "2026-02-01", "--until", "2026-01-01"], "before --since"),
    (["-o", "x.wacz", "--source", "nosuch"], "no source named"),
])
def test_wacz_usage_errors(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                           message: str) -> None:
    args = [str(tmp_path / a) if a.startswith("x.") else a for a in args]
    with pytest.raises(SystemExit) as exit_info:
        code = main(["wacz", "--archive", str(crawled), *args])
        raise SystemExit(code)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_wacz_of_no_archive_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["wacz", "--archive", str(tmp_path), "-o", str(tmp_path / "x.wacz")]) == 1
    assert "not an archive" in capsys.readouterr().err


def test_rotation_writes_the_closed_files_index(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "warc", "s", max_size=1, index_dir=tmp_path / "indexes")
    for n in range(3):
        writer.write_exchange(fetch_result(url=f"https://a.vn/x-a{n}.html"))
    assert len(writer.closed_paths) == 2  # rotated before the second and the third exchange
    for path in writer.closed_paths:
        assert check_index(path, tmp_path / "indexes" / (path.name + ".cdxj")) == []
    writer.close()
    assert len(list((tmp_path / "indexes").glob("*.cdxj"))) == 3


def test_index_rebuild_steps_can_be_added(crawled: Path, tmp_path: Path) -> None:
    from crawler.archive import indexing

    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    seen: list[Path] = []

    def probe(root: Path, report: indexing.IndexReport) -> None:
        seen.append(root)
        report.add("probe", "runs", 1)

    indexing.register_step("probe", probe, "a test step")
    try:
        report = indexing.rebuild(archive, only=["probe"])
        assert seen == [archive] and report.figures == {"probe": {"runs": 1}}
        with pytest.raises(Exception, match="no index step named"):
            indexing.rebuild(archive, only=["nosuch"])
    finally:
        indexing.STEPS[:] = [step for step in indexing.STEPS if step.name != "probe"]


def test_wacz_defaults_to_the_demo_archive(crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(crawled, tmp_path / "archive" / "demo")
    monkeypatch.chdir(tmp_path)
    assert main(["wacz", "-o", "demo.wacz"]) == 0
    assert "archive/demo" in capsys.readouterr().err
    assert zipfile.is_zipfile(tmp_path / "demo.wacz")


def test_an_archive_from_before_indexes(crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No indexes/ at all: a crawl's start does not read every WARC file (that is `crawler index`'s job),
    `crawler wacz` indexes what it packs without writing into the archive, verify says what to run."""
    from crawler.archive.recovery import recover_warcs

    archive = tmp_path / "old"
    shutil.copytree(crawled, archive)
    shutil.rmtree(archive / "indexes")
    assert recover_warcs(archive / "warc") == []
    assert not (archive / "indexes").exists()
    assert main(["wacz", "--archive", str(archive), "-o", str(tmp_path / "old.wacz")]) == 0
    assert "had no index yet" in capsys.readouterr().err
    assert not (archive / "indexes").exists()
    with zipfile.ZipFile(tmp_path / "old.wacz") as package:
        assert read_wacz_index(package) == wacz_index_of(crawled)
    assert any("crawler index" in p for p in verify(archive).problems)
    assert main(["index", "--archive", str(archive)]) == 0
    assert verify(archive).ok


def test_a_crash_between_close_and_index_is_repaired_at_the_next_start(crawled: Path, tmp_path: Path) -> None:
    from crawler.archive.recovery import recover_warcs

    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    lost = sorted((archive / "indexes").glob("*.cdxj"))[0]
    lost.unlink()
    (done,) = recover_warcs(archive / "warc")
    assert "wrote the index" in done.what and lost.is_file()
    assert verify(archive).ok


# -- 304 revisits in replay (docs/decisions/0014-not-modified-in-replay.md) ----------------------------


def wacz_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def lines_of(data: bytes) -> list[tuple[str, str, dict[str, str]]]:
    out = []
    for line in data.decode("utf-8").splitlines():
        key, stamp, fields = line.split(" ", 2)
        out.append((key, stamp, json.loads(fields)))
    return out


def test_wacz_resolves_every_304_for_both_tools(crawled: Path, tmp_path: Path) -> None:
    """Every 304 revisit: a revisit line with the original's status (ReplayWeb.page resolves it) and an alias,
    the original's line at the revisit's time (pywb, which replays a 304 revisit as an empty page)."""
    out = tmp_path / "a.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    files = wacz_files(out)
    with zipfile.ZipFile(out) as package:
        index = lines_of("\n".join(read_wacz_index(package)).encode("utf-8"))
    aliases = lines_of(gzip.decompress(files["indexes/aliases.cdx.gz"]))
    not_modified = [index_key(line) for line in their_index(warcs(crawled)) if '"status": "304"' in line]
    assert not_modified
    by_place = {(k, s, f["filename"], f["offset"], f["length"]): f for k, s, f in index}
    alias_at = {(k, s): f for k, s, f in aliases}
    assert len(aliases) == len(not_modified)
    assert all(f.get("status") != "304" for _, _, f in index)
    for place in not_modified:
        line = by_place[place]
        assert line["mime"] == "warc/revisit" and line["status"] == "200"
        original = alias_at[place[:2]]
        assert original["mime"] == "text/html" or original["mime"].startswith("application/")
        assert original["digest"] == line["digest"] and original["url"] == line["url"]
        # The alias is a line of the index: a capture before the revisit, same URL, same payload.
        (orig_stamp,) = [s for k, s, f in index if k == place[0] and f == original]
        assert orig_stamp <= place[1]  # (a quick test crawl: often the same second)
        # pywb takes the first of two lines at one time: the alias sorts before the revisit line.
        assert f"{place[0]} {place[1]} {json.dumps(original)}" < f"{place[0]} {place[1]} {json.dumps(line)}"


def test_crawler_index_resolves_every_304_as_the_wacz_does(crawled: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """pywb pointed at the archive's ``indexes/`` must show at a 304's time what the WACZ shows: ``crawler index``
    writes ``indexes/not-modified.cdx``, the original's line at each 304's time (the WACZ's aliases.cdx.gz, the
    same rule: decision 0014); the per-file indexes stay what the WARC files hold (verify checks them)."""
    archive = tmp_path / "copy"
    shutil.copytree(crawled, archive)
    (archive / "indexes" / "not-modified.cdx").unlink(missing_ok=True)
    assert main(["index", "--archive", str(archive)]) == 0
    assert "not-modified" in capsys.readouterr().err
    written = lines_of((archive / "indexes" / "not-modified.cdx").read_bytes())
    out = tmp_path / "a.wacz"
    assert main(["wacz", "--archive", str(archive), "-o", str(out)]) == 0
    assert written == lines_of(gzip.decompress(wacz_files(out)["indexes/aliases.cdx.gz"]))
    not_modified = {index_key(line)[:2] for line in their_index(warcs(archive)) if '"status": "304"' in line}
    assert {(k, s) for k, s, _ in written} == not_modified
    assert [f"{k} {s} {json.dumps(f)}" for k, s, f in written] == sorted(f"{k} {s} {json.dumps(f)}"
                                                                        for k, s, f in written)
    ours = {(k, f["filename"], f["offset"]): (s, f) for k, s, f in lines_of("\n".join(our_index(archive)).encode())}
    for key, stamp, fields in written:  # each points at a 200 capture of the URL before, with the 304's payload
        orig_stamp, original = ours[(key, fields["filename"], fields["offset"])]
        assert original == fields and original["status"] == "200" and orig_stamp <= stamp
    assert verify(archive).ok
    # Rebuilt again: the same file.
    assert main(["index", "--archive", str(archive)]) == 0
    assert lines_of((archive / "indexes" / "not-modified.cdx").read_bytes()) == written


def test_revisits_refer_to_whole_seconds(crawled: Path) -> None:
    """ReplayWeb.page looks a revisit's original up as the first capture at or after WARC-Refers-To-Date:
    with a fraction of a second it would skip the original (indexed at the whole second) for a later version."""
    from warcio.archiveiterator import ArchiveIterator

    dates: dict[str, set[str]] = {}
    refers = []
    for path in warcs(crawled):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                url = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response":
                    dates.setdefault(url, set()).add(record.rec_headers.get_header("WARC-Date").split(".")[0])
                elif record.rec_type == "revisit":
                    refers.append((url, record.rec_headers.get_header("WARC-Refers-To-Date")))
    assert refers
    for url, date in refers:
        assert "." not in date and date.endswith("Z")
        assert date[:-1] in dates[url]


@pytest.mark.parametrize("group, kept, aliased", [
    # a 304 whose original is the capture before it
    (["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} warc/revisit 304 A 2"],
     ["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} warc/revisit 200 A 2"],
     ["k 20260102000000 {url} text/html 200 A 1"]),
    # the page changed after the 304: the alias is still the confirmed version, not the next one
    (["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} warc/revisit 304 A 2",
      "k 20260103000000 {url} text/html 200 B 3"],
     ["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} warc/revisit 200 A 2",
      "k 20260103000000 {url} text/html 200 B 3"],
     ["k 20260102000000 {url} text/html 200 A 1"]),
    # two versions before: the one with the revisit's digest
    (["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} text/html 200 B 2",
      "k 20260103000000 {url} warc/revisit 304 A 3"],
     ["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} text/html 200 B 2",
      "k 20260103000000 {url} warc/revisit 200 A 3"],
     ["k 20260103000000 {url} text/html 200 A 1"]),
    # the original is not in the package (a slice): no line, as before
    (["k 20260102000000 {url} warc/revisit 304 A 2", "k 20260103000000 {url} text/html 200 B 3"],
     ["k 20260103000000 {url} text/html 200 B 3"], []),
    # an archive from before 304s carried the digest: the latest 200 before it
    (["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} text/html 200 B 2",
      "k 20260103000000 {url} warc/revisit 304 - 3"],
     ["k 20260101000000 {url} text/html 200 A 1", "k 20260102000000 {url} text/html 200 B 2",
      "k 20260103000000 {url} warc/revisit 200 B 3"],
     ["k 20260103000000 {url} text/html 200 B 2"]),
    # an identical-payload revisit and a 404 are not originals; a feed's 304
    (["k 20260101000000 {url} application/rss+xml 200 A 1", "k 20260102000000 {url} warc/revisit 200 A 2",
      "k 20260103000000 {url} text/html 404 C 3", "k 20260104000000 {url} warc/revisit 304 A 4"],
     ["k 20260101000000 {url} application/rss+xml 200 A 1", "k 20260102000000 {url} warc/revisit 200 A 2",
      "k 20260103000000 {url} text/html 404 C 3", "k 20260104000000 {url} warc/revisit 200 A 4"],
     ["k 20260104000000 {url} application/rss+xml 200 A 1"]),
])
def test_not_modified_lines_are_resolved_within_one_url(group: list[str], kept: list[str], aliased: list[str]) -> None:
    from crawler.archive.wacz_index import resolve_not_modified

    def line(short: str) -> str:
        key, stamp, _url, mime, status, digest, offset = short.split(" ")
        fields = {"url": "https://a.vn/", "mime": mime, "status": status}
        if digest != "-":
            fields["digest"] = "sha1:" + digest
        fields |= {"length": "10", "offset": offset, "filename": "f.warc.gz"}
        return f"{key} {stamp} {json.dumps(fields)}\n"

    got_kept, got_aliases = resolve_not_modified([line(s) for s in group])
    assert got_kept == sorted(line(s) for s in kept)
    assert got_aliases == sorted(line(s) for s in aliased)


# -- index names and the block index (pywb's importer, py-wacz, Browsertrix) ----------------------------

PYWB_IMPORTS = r".+\.cdx(\.gz)?$"  # pywb 2.10 manager.py: the index files `wb-manager add --unpack-wacz` takes


@pytest.mark.parametrize("threshold", [10**9, 2_000, 1])
def test_wacz_index_is_named_for_every_tool_and_block_indexed_when_large(
        crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: int) -> None:
    import re

    import crawler.archive.wacz_index

    monkeypatch.setattr(crawler.archive.wacz_index, "BLOCK_INDEX_AFTER", threshold)
    monkeypatch.setattr(crawler.archive.wacz_index, "BLOCK_LINES", 7)
    out = tmp_path / "a.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    files = wacz_files(out)
    indexes = sorted(n for n in files if n.startswith("indexes/"))
    whole = files.get("indexes/index.cdx") or gzip.decompress(files["indexes/index.cdx.gz"])
    url_aliases = [line for line in whole.decode("utf-8").splitlines() if '"filename": "aliases.warc.gz"' in line]
    expected = sorted(wacz_index_of(crawled) + url_aliases)  # the aliases' lines (0015) merged in key order
    if threshold > 10**6:
        assert indexes == ["indexes/aliases.cdx.gz", "indexes/index.cdx"]
        assert files["indexes/index.cdx"].decode("utf-8").splitlines() == expected
    else:
        assert indexes == ["indexes/aliases.cdx.gz", "indexes/index.cdx.gz", "indexes/index.idx"]
        data = files["indexes/index.cdx.gz"]
        assert gzip.decompress(data).decode("utf-8").splitlines() == expected  # pywb's importer reads it whole
        meta, *blocks = files["indexes/index.idx"].decode("utf-8").splitlines()
        assert meta.startswith("!meta 0 ") and json.loads(meta[8:])["format"] == "cdxj-gzip-1.0"
        assert len(blocks) == -(-len(expected) // 7)
        offset = 0
        for number, block in enumerate(blocks):
            prefix, _, info = block.partition(" {")
            fields = json.loads("{" + info)
            assert fields["offset"] == offset and fields["filename"] == "index.cdx.gz"
            member = data[offset:offset + fields["length"]]
            assert fields["digest"] == "sha256:" + hashlib.sha256(member).hexdigest()
            lines = gzip.decompress(member).decode("utf-8").splitlines()  # one member, read by its range
            assert lines == expected[number * 7:(number + 1) * 7]
            assert prefix == " ".join(lines[0].split(" ", 2)[:2])
            offset += fields["length"]
        assert offset == len(data)
        with zipfile.ZipFile(out) as package:  # stored: a reader fetches a member by its byte range
            assert package.getinfo("indexes/index.cdx.gz").compress_type == zipfile.ZIP_STORED
    # pywb's importer takes the index and the aliases; ReplayWeb.page reads .cdx/.cdxj/.idx, not aliases.cdx.gz
    assert {n for n in indexes if re.match(PYWB_IMPORTS, n)} >= {"indexes/aliases.cdx.gz"}
    assert any(re.match(PYWB_IMPORTS, n) and "index.cdx" in n for n in indexes)
    assert not any(n.endswith((".cdx", ".cdxj", ".idx")) and "aliases" in n for n in indexes)
    if importlib.util.find_spec("wacz") is not None:
        result = wacz_validate(out)
        assert result.returncode == 0, result.stdout + result.stderr


def test_wacz_lists_listing_pages_with_their_titles(crawled: Path, tmp_path: Path) -> None:
    out = tmp_path / "a.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    files = wacz_files(out)
    articles = [json.loads(line) for line in files["pages/pages.jsonl"].decode("utf-8").splitlines()[1:]]
    header, *extra = [json.loads(line) for line in files["pages/extraPages.jsonl"].decode("utf-8").splitlines()]
    assert header["format"] == "json-pages-1.0" and header["hasText"] is False
    import sqlite3

    with sqlite3.connect(crawled / "catalog.sqlite") as db:
        article_urls = {row[0] for row in db.execute("SELECT url FROM snapshots")}
    urls = {page["url"] for page in extra}
    assert not urls & article_urls and not {p["url"] for p in articles} & urls
    # every home page of the mirror's sources, and section pages with their pagination
    assert {"https://baoangiang.com.vn/", "https://huengaynay.vn/"} <= urls
    assert any("?p=2" in url or "/page/2" in url or "trang-2" in url for url in urls), sorted(urls)[:20]
    with zipfile.ZipFile(out) as package:
        index = "\n".join(read_wacz_index(package))
    for page in extra:
        assert page["title"] and page["title"] != page["url"], page
        assert "text" not in page
        stamp = page["ts"].replace("-", "").replace(":", "").replace("T", "").rstrip("Z")
        assert f' {stamp} {{"url": {json.dumps(page["url"])}, "mime": "text/html", "status": "200"' in index


def test_wacz_resolves_every_linked_url_shape_of_an_archived_article(crawled: Path, tmp_path: Path) -> None:
    """Decision 0015: a URL of an archived article that an archived page links, or its path on the source's
    other host, gets an alias revisit record (in archive/aliases.warc.gz) referring to the article's capture."""
    from warcio.archiveiterator import ArchiveIterator

    from crawler.config import load_sources

    out = tmp_path / "archive.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as package:
        names = package.namelist()
        index = package.read("indexes/index.cdx.gz") if "indexes/index.cdx.gz" in names else None
        text = gzip.decompress(index).decode() if index is not None else package.read("indexes/index.cdx").decode()
        aliases = package.read("archive/aliases.warc.gz")
    lines = [json.loads(line.split(" ", 2)[2]) for line in text.splitlines() if line.strip()]
    captured = {f["url"] for f in lines if f["filename"] != "aliases.warc.gz"}
    alias_lines = [f for f in lines if f["filename"] == "aliases.warc.gz"]
    assert alias_lines
    sources = load_sources(None)
    records = list(ArchiveIterator(io.BytesIO(aliases)))
    assert records[0].rec_type == "warcinfo"
    for record in records[1:]:
        assert record.rec_type == "revisit"
        alias = record.rec_headers.get_header("WARC-Target-URI")
        target = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
        assert alias not in captured and target in captured
        source = sources.for_url(alias)
        assert source.article_id(alias) == source.article_id(target) is not None  # one article, two shapes
        assert "identical-payload" not in record.rec_headers.get_header("WARC-Profile")
    shapes = {f["url"] for f in alias_lines}
    assert any("amp.aspx?newid=" in u for u in shapes)  # the AMP copies the article pages link
    assert any(u.startswith("https://huengaynay.vn/") and "-a" not in u.rsplit("/", 1)[-1] for u in shapes) or \
        any(u.startswith("https://baothuathienhue.vn/") for u in shapes)  # the other host / era


def test_alias_records_describe_the_payload_they_stand_for(crawled: Path, tmp_path: Path) -> None:
    """pywb serves an alias with the alias record's own HTTP headers and the capture's payload: without the
    capture's Content-Encoding a gzip-encoded page was served as raw gzip bytes (seen by bench/interop.py)."""
    from warcio.archiveiterator import ArchiveIterator

    from crawler.archive.warc_reading import read_response_at

    out = tmp_path / "archive.wacz"
    assert main(["wacz", "--archive", str(crawled), "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as package:
        records = list(ArchiveIterator(io.BytesIO(package.read("archive/aliases.warc.gz"))))[1:]
    captures = {}
    for line in our_index(crawled):
        _key, stamp, data = line.split(" ", 2)
        fields = json.loads(data)
        if fields.get("status") == "200" and fields["mime"] != "warc/revisit":
            captures[(fields["url"], stamp)] = fields
    encodings = set()
    assert records
    for record in records:
        stamp = record.rec_headers.get_header("WARC-Refers-To-Date").replace("-", "").replace(":", "")[:15]
        fields = captures[(record.rec_headers.get_header("WARC-Refers-To-Target-URI"), stamp.replace("T", ""))]
        original = read_response_at(crawled / "warc" / fields["filename"], int(fields["offset"]))
        for name in ("Content-Type", "Content-Encoding"):
            assert record.http_headers.get_header(name) == original.header(name), name
        encodings.add(original.header("Content-Encoding"))
    assert "gzip" in encodings  # the case that mattered is among them
