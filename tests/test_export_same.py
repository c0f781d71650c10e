"""The export's fast paths give exactly what the plain code they replaced gave (issue 22): the same Parquet bytes,
the same rows for JSONL and CSV, the same errors, on many generated archives and values.

The reference below is the export as it was before (the catalog's metadata parsed after SQLite removed its body,
the text column made by Arrow's builder, every time parsed by Arrow's cast), kept here as plain code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.archive import outputs
from crawler.archive.catalog import Store
from crawler.archive.outputs import read_inside
from crawler.archive.reading import Selection
from crawler.archive.snapshots import SnapshotRow
from crawler.errors import ArchiveError
from crawler.use import export as ex
from crawler.use import export_columns as fast

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

# -- the reference: the export before issue 22's third round ------------------------------------------------------

OLD_ROW_COLUMNS = ("rowid, source, article_id, version, url, published, title, text_path, meta_path, sha256, "
                   "warc_file, warc_offset, fetched_at, extractor_version, "
                   "CAST(CASE WHEN json_valid(meta) THEN json_remove(meta, '$.body') ELSE meta END AS BLOB)")


def old_rows(store: Store, text_bytes: bool) -> Iterator[dict[str, Any]]:
    root = str(store.archive)
    where, args = Selection(all_versions=True).where("s")  # as the tests below call the export
    keys = [r[0] for r in store.db.execute(f"SELECT s.rowid FROM snapshots s WHERE {where} ORDER BY s.source, "
                                           f"s.published, length(s.article_id), s.article_id, s.version", args)]
    for rowid in keys:
        values = store.db.execute(f"SELECT {OLD_ROW_COLUMNS} FROM snapshots WHERE rowid = ?", (rowid,)).fetchone()
        (_, source, article_id, version, url, published, title, text_path, meta_path, sha256, warc_file,
         warc_offset, fetched_at, extractor_version, meta_json) = values
        name = f"{source}/{article_id} v{version}"
        try:
            if meta_json:
                meta = orjson.loads(meta_json)
            elif meta_path:
                meta = orjson.loads(read_inside(root, meta_path, "metadata file"))
            else:
                meta = {}
            data = read_inside(root, text_path, "snapshot file")
            text: str | bytes = data if text_bytes else data.decode("utf-8")
        except (OSError, ValueError) as err:
            raise ex._unreadable(name, err) from err
        if not isinstance(meta, dict):
            raise ArchiveError(f"{name}: its metadata is not a JSON object")
        rules = meta.get("rules") or {}
        yield {
            "source": source, "article_id": article_id, "version": version, "url": url,
            "canonical_url": meta.get("canonical_url"), "published": published, "fetched_at": fetched_at,
            "breadcrumb": meta.get("breadcrumb") or [], "category_slugs": meta.get("category_slugs") or [],
            "kicker": meta.get("kicker"), "title": title, "sapo": meta.get("sapo"), "text": text,
            "byline": meta.get("byline"),
            "images": [{"url": i.get("url"), "caption": i.get("caption")} for i in meta.get("images") or []],
            "template": meta.get("template", rules.get("template")), "rules": rules, "text_path": text_path,
            "warc_file": warc_file, "warc_offset": warc_offset, "sha256": sha256,
            "extractor_version": extractor_version,
        }


def old_timestamps(values: list[Any], kind: Any, zone: timezone) -> Any:
    try:
        return pa.array(values, pa.string()).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([ex._micros(v, zone) for v in values], pa.int64()).cast(kind)


def old_table(schema: Any, batch: list[dict[str, Any]]) -> Any:
    columns: dict[str, Any] = {name: [r[name] for r in batch] for name in schema.names}
    columns["rules"] = [sorted(r["rules"].items()) for r in batch]
    for name, zone in ex.TIME_ZONES.items():
        columns[name] = old_timestamps(columns[name], schema.field(name).type, zone)
    try:
        columns["text"] = pa.array(columns["text"], pa.string())
    except pa.ArrowInvalid:
        for r in batch:
            try:
                r["text"].decode("utf-8")
            except UnicodeDecodeError as err:
                raise ex._unreadable(f"{r['source']}/{r['article_id']} v{r['version']}", err) from err
        raise
    return pa.Table.from_pydict(columns, schema=schema)


def old_parquet(store: Store, path: Path) -> None:
    schema = ex.parquet_schema()
    with open(path, "wb") as out, pq.ParquetWriter(out, schema, compression="zstd",
                                                  use_dictionary=ex._DICTIONARY) as writer:
        batch: list[dict[str, Any]] = []
        size = rows = 0
        for row in old_rows(store, text_bytes=True):
            batch.append(row)
            rows += 1
            size += len(row["text"]) + len(row["sapo"] or "") + 512
            if len(batch) >= ex.PARQUET_ROWS or size >= ex.PARQUET_GROUP_BYTES:
                writer.write_table(old_table(schema, batch))
                batch.clear()
                size = 0
        if batch or not rows:
            writer.write_table(old_table(schema, batch))


def outcome(make: Any) -> Any:
    """What ``make()`` gives, or the error it raises (its type and message)."""
    try:
        return make()
    except (ArchiveError, pa.ArrowInvalid) as err:
        return type(err).__name__, str(err)


# -- the values: times ---------------------------------------------------------------------------------------------

offsets = st.integers(-(23 * 60 + 59), 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
# datetime.isoformat with an offset: the catalog's own form, every year, with and without microseconds
isoformats = st.builds(lambda moment, zone: moment.replace(tzinfo=zone).isoformat(), st.datetimes(), offsets)


@st.composite
def near_times(draw: st.DrawFn) -> str:
    """The catalog's shape with numbers on both sides of their limits (month 13, 30 February, hour 24, offset
    +24:00 or +07:60, a leap second), with or without a fraction, and the shapes around it."""
    year = draw(st.sampled_from([0, 1, 1969, 1970, 2000, 2023, 2024, 2100, 9999]))
    month, day = draw(st.integers(0, 13)), draw(st.integers(0, 32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 61)), draw(st.integers(0, 61))
    fraction = draw(st.sampled_from(["", ".000000", ".999999", ".123456", ".5", ".1234567", ".000"]))
    zone = draw(st.sampled_from(["+", "-"])) + f"{draw(st.integers(0, 25)):02d}:{draw(st.integers(0, 61)):02d}"
    zone = draw(st.sampled_from([zone, zone, zone, "Z", "", "+0700", "+07", "+07:00:30", " +07:00"]))
    sep = draw(st.sampled_from(["T", "T", "T", " ", "t"]))
    return f"{year:04d}-{month:02d}-{day:02d}{sep}{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


times = st.one_of(isoformats, near_times(), st.none(), st.sampled_from(["", "không rõ", "2024-05-02", "0"]))


@settings(max_examples=400, deadline=None)
@given(st.lists(times, max_size=6), st.sampled_from(list(ex.TIME_ZONES)))
def test_times_in_parquet_as_arrows_cast_read_them(values: list[str | None], name: str) -> None:
    kind = ex.parquet_schema().field(name).type
    zone = ex.TIME_ZONES[name]
    new, old = ex.timestamp_array(pa, values, kind, zone), old_timestamps(values, kind, zone)
    assert new.type == old.type and new.equals(old), values


@settings(max_examples=300, deadline=None)
@given(st.lists(isoformats, min_size=1, max_size=4))
def test_the_catalogs_form_is_read_in_python_and_agrees_with_arrow(values: list[str]) -> None:
    """Every isoformat with an offset takes the Python path, and Arrow's own parser gives the same instants."""
    micros = fast.catalog_micros(values)
    assert micros is not None, values
    for name in ex.TIME_ZONES:
        kind = ex.parquet_schema().field(name).type
        assert pa.array(micros, kind).equals(pa.array(values, pa.string()).cast(kind)), values


# -- the values: texts ---------------------------------------------------------------------------------------------

texts = st.one_of(st.text().map(lambda t: t.encode("utf-8", "surrogatepass")), st.binary(max_size=12),
                  st.sampled_from([b"", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xef\xbb\xbf",
                                   "chữ Việt".encode(), b"a\x00b", "😀".encode()]))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(texts, texts, st.text()), max_size=6))
def test_the_text_column_as_arrows_builder_made_it(values: list[bytes | str]) -> None:
    """Bytes that are UTF-8 give the same strings, the others the same ArrowInvalid; str as before."""
    def new() -> Any:
        return fast.text_array(pa, values)

    def old() -> Any:
        return pa.array(values, pa.string())

    got, expected = outcome(new), outcome(old)
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and got[0] == expected[0], (values, got, expected)
    else:
        assert not isinstance(got, tuple), (values, got)
        got.validate(full=True)
        assert got.type == expected.type and got.equals(expected), values


def test_the_text_column_past_2_gib_of_offsets_goes_through_the_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offsets that do not fit 32 bits are left to Arrow's builder (it makes a chunked array)."""
    calls: list[Any] = []

    def builder(values: Any, kind: Any = None) -> Any:
        calls.append(values)
        return "built"

    class Fake:
        array = staticmethod(builder)
        string = staticmethod(lambda: "string")

    monkeypatch.setattr(fast, "accumulate", lambda lengths, initial=0: iter([0, 1 << 31]))
    assert fast.text_array(Fake, [b"x"]) == "built" and calls == [[b"x"]]


# -- whole archives ------------------------------------------------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers(-10, 10) | st.text(max_size=6),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                      max_size=3), max_leaves=8)
strings = st.none() | st.text(max_size=8)
metas = st.fixed_dictionaries({}, optional={
    "canonical_url": strings, "breadcrumb": st.none() | st.lists(st.text(max_size=5), max_size=3),
    "category_slugs": st.none() | st.lists(st.text(max_size=5), max_size=3), "kicker": strings,
    "sapo": strings, "byline": strings, "template": strings, "family": strings, "title": strings,
    "images": st.none() | st.lists(st.fixed_dictionaries({}, optional={"url": strings, "caption": strings,
                                                                        "alt": strings}), max_size=2),
    "rules": st.none() | st.dictionaries(st.sampled_from(["body", "title", "template", "sapo", "date"]),
                                         st.text(max_size=6), max_size=4),
    "body": st.lists(st.text(max_size=8), max_size=3) | json_values,
    "extra": json_values})


@st.composite
def meta_texts(draw: st.DrawFn) -> str | None:
    """The metadata as the catalog may hold it: the writers' JSON (orjson, json with and without ASCII escapes,
    spaced), with a body or not, and what older or damaged archives hold: a body with a lone surrogate (which
    orjson refuses: SQLite's removal of the body saved such rows), the same in another field, not an object,
    not JSON, empty, NULL."""
    meta = draw(metas)
    text = draw(st.sampled_from([
        orjson.dumps(meta).decode(), json.dumps(meta), json.dumps(meta, ensure_ascii=False),
        json.dumps(meta, indent=1)]))
    return draw(st.sampled_from([
        text, text, text, text,
        text[:-1] + ', "body": ["a\\ud800b"]}' if text != "{}" else '{"body": "\\udfff"}',
        '{"sapo": "x\\ud800", "body": []}', '{"rules": {"body": "\\ud800"}}',
        '{"body": "\\ud800", "body": 1, "sapo": "s"}', '[1, 2]', '"chuỗi"', '{"sapo": ', "", None]))


@st.composite
def archives(draw: st.DrawFn) -> list[tuple[SnapshotRow, str | None, bytes]]:
    count = draw(st.integers(1, 6))
    rows = []
    for n in range(1, count + 1):
        version = draw(st.integers(1, 2))
        rel = f"text/hue/2024/05/{n}{'' if version == 1 else f'.v{version}'}.txt"
        body = draw(st.one_of(st.text(max_size=20).map(str.encode), st.sampled_from([b"", b"b\xe0i"])))
        rows.append((SnapshotRow("hue", str(draw(st.sampled_from([n, n * 10]))), version, f"https://h.vn/{n}",
                                 draw(st.one_of(isoformats, times.filter(lambda t: t is not None))), "T", rel,
                                 "0" * 64, "w.warc.gz", n, draw(st.one_of(isoformats, near_times())), "1", "{}"),
                     draw(meta_texts()), body))
    return rows


def build(archive: Path, rows: list[tuple[SnapshotRow, str | None, bytes]]) -> None:
    for row, _, body in rows:
        (archive / row.text_path).parent.mkdir(parents=True, exist_ok=True)
        (archive / row.text_path).write_bytes(body)
    with Store(archive) as store:
        store.commit(row for row, _, _ in rows)
        for row, meta, _ in rows:
            store.db.execute("UPDATE snapshots SET meta=? WHERE source=? AND article_id=? AND version=?",
                             (meta, row.source, row.article_id, row.version))
        store.db.commit()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(archives(), st.sampled_from([1, 2, 2000]))
def test_rows_and_parquet_bytes_as_before(rows: list[tuple[SnapshotRow, str | None, bytes]], group_rows: int) -> None:
    """Every generated archive gives the same rows (JSONL, CSV: as str; Parquet: as bytes) and the same Parquet
    file byte for byte as the reference, or the same error."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(ex, "PARQUET_ROWS", group_rows)
        archive = Path(tmp) / "a"
        build(archive, rows)
        with Store(archive, readonly=True) as store:
            for text_bytes in (False, True):
                new = outcome(partial(lambda b: list(ex.iter_rows(store, Selection(all_versions=True),
                                                                  text_bytes=b)), text_bytes))
                old = outcome(partial(lambda b: list(old_rows(store, b)), text_bytes))
                assert new == old
            new = outcome(lambda: ex.export(store, Selection(all_versions=True), "parquet", f"{tmp}/new.parquet"))
            old = outcome(lambda: old_parquet(store, Path(tmp, "old.parquet")))
            if isinstance(old, tuple):
                assert new == old and not os.path.exists(f"{tmp}/new.parquet")
            else:
                assert not isinstance(new, tuple), new
                assert Path(tmp, "new.parquet").read_bytes() == Path(tmp, "old.parquet").read_bytes()


def test_a_body_only_sqlite_could_remove_is_still_removed(tmp_path: Path) -> None:
    """A metadata whose body orjson refuses (a lone surrogate, written by an old json.dumps) exports as before,
    without the body; the same character in another field still names the article."""
    archive = tmp_path / "a"
    rows = [(SnapshotRow("hue", str(n), 1, f"https://h.vn/{n}", "2024-05-02T10:00:00+07:00", "T",
                         f"text/hue/2024/05/{n}.txt", "0" * 64, "w.warc.gz", n, "2024-05-02T03:00:00+00:00", "1",
                         "{}"), meta, b"x") for n, meta in enumerate([
                             '{"sapo": "s", "body": ["a\\ud800"], "rules": {"body": "css:div"}}', "{}"], 1)]
    build(archive, rows)
    with Store(archive, readonly=True) as store:
        got = list(ex.iter_rows(store, Selection()))
        assert [(r["sapo"], r["rules"]) for r in got] == [("s", {"body": "css:div"}), (None, {})]
    with Store(archive) as store:
        store.db.execute("UPDATE snapshots SET meta=? WHERE article_id='2'", ('{"sapo": "\\ud800", "body": []}',))
        store.db.commit()
    with Store(archive, readonly=True) as store, pytest.raises(ArchiveError, match=r"hue/2 v1: cannot read its "
                                                                                  r"snapshot or metadata"):
            list(ex.iter_rows(store, Selection()))


# -- reading a file the catalog names ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 65537, (1 << 20) + 3])
def test_read_inside_reads_every_byte(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.txt").write_bytes(data)
    assert read_inside(tmp_path, "text/a.txt") == data


@pytest.mark.parametrize("told", [0, 1, 100])
def test_read_inside_reads_past_what_the_size_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, told: int) -> None:
    """A file longer than fstat said (it grew meanwhile, or a file system that does not know): read to its end."""
    data = os.urandom(200_000)
    (tmp_path / "a.txt").write_bytes(data)
    real = os.fstat

    def fstat(fd: int) -> Any:
        info = real(fd)
        return os.stat_result((info.st_mode, *info[1:6], told, *info[7:]))

    monkeypatch.setattr(outputs.os, "fstat", fstat)
    assert read_inside(tmp_path, "a.txt") == data


def test_read_inside_closes_what_it_opens(tmp_path: Path) -> None:
    """No descriptor left open, whether the file is read or refused (a FIFO, a directory)."""
    (tmp_path / "a.txt").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        assert read_inside(tmp_path, "a.txt") == b"x"
        for name in ("fifo", "dir"):
            with pytest.raises(ArchiveError, match="not a regular file"):
                read_inside(tmp_path, name)
    assert len(os.listdir("/proc/self/fd")) == before


def test_the_export_leaves_the_cycle_collector_as_it_found_it(tmp_path: Path) -> None:
    import gc

    archive = tmp_path / "a"
    build(archive, [(SnapshotRow("hue", "1", 1, "https://h.vn/1", "2024-05-02T10:00:00+07:00", "T",
                                 "text/hue/2024/05/1.txt", "0" * 64, "w.warc.gz", 1, "2024-05-02T03:00:00+00:00",
                                 "1", "{}"), "{}", b"x")])
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            with Store(archive, readonly=True) as store:
                ex.export(store, Selection(), "jsonl", str(tmp_path / "a.jsonl"))
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_a_relative_archive_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "a"
    build(archive, [(SnapshotRow("hue", "1", 1, "https://h.vn/1", "2024-05-02T10:00:00+07:00", "T",
                                 "text/hue/2024/05/1.txt", "0" * 64, "w.warc.gz", 1, "2024-05-02T03:00:00+00:00",
                                 "1", "{}"), "{}", "chữ".encode())])
    monkeypatch.chdir(tmp_path)
    with Store(Path("a"), readonly=True) as store:
        assert [r["text"] for r in ex.iter_rows(store, Selection())] == ["chữ"]


def test_an_isoformat_with_an_offset_is_the_catalogs_form() -> None:
    zone = timezone(timedelta(hours=7))
    for moment in (datetime(2024, 5, 2, 10, tzinfo=zone), datetime(1, 1, 1, tzinfo=zone),
                   datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-23, minutes=-59)))):
        assert fast.CATALOG_TIME.fullmatch(moment.isoformat())


# -- pyarrow without numpy in the command's own process ------------------------------------------------------------


def _archive_of_two(archive: Path) -> None:
    build(archive, [(SnapshotRow("hue", str(n), 1, f"https://h.vn/{n}", "2024-05-02T10:00:00+07:00", "T",
                                 f"text/hue/2024/05/{n}.txt", "0" * 64, "w.warc.gz", n, "2024-05-02T03:00:00+00:00",
                                 "1", json.dumps({"sapo": "tóm tắt", "images": [{"url": "u", "caption": None}],
                                                  "rules": {"b": "2", "a": "1"}})), "{}", "chữ".encode())
                    for n in (1, 2)])


def _python(code: str, *args: str, pool: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if pool is not None:
        env["ARROW_DEFAULT_MEMORY_POOL"] = pool
    return subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parent.parent, env=env)


@pytest.mark.parametrize("extra", [[], ["--dedup"], ["--all-versions", "--dedup-threshold", "0.5"]])
def test_the_command_exports_parquet_without_numpy_and_the_same_bytes(tmp_path: Path, extra: list[str]) -> None:
    """`crawler export` (its own process) imports pyarrow without numpy and with the system allocator as Arrow's
    pool; the file is the one an export in a process with numpy and pyarrow's usual pool writes (the library
    call), and numpy still works after (--dedup, which needs it).  A pool the environment chose stands."""
    archive = tmp_path / "a"
    _archive_of_two(archive)
    command = ("import sys; from crawler.cli import main; sys.argv = ['crawler', *sys.argv[1:]]; code = main(); "
               "import pyarrow.lib; print(code, pyarrow.lib.np is None, 'numpy' in sys.modules, "
               "pyarrow.default_memory_pool().backend_name)")
    alone = _python(command, "export", "--archive", str(archive), "-o", str(tmp_path / "alone.parquet"), *extra)
    assert alone.stdout.split() == ["0", "True", str(bool(extra)), "system"], alone.stderr[-2000:]
    imported = [line.split("|")[-1].strip() for line in alone.stderr.splitlines() if line.startswith("import time")]
    assert ("numpy" in imported) == bool(extra) and "pyarrow.lib" in imported and "pandas" not in imported
    chosen = _python(command, "export", "--archive", str(archive), "-o", str(tmp_path / "chosen.parquet"), *extra,
                     pool="jemalloc")
    values = chosen.stdout.split()  # (--dedup answered from its cache now: numpy is not needed)
    assert values[:2] == ["0", "True"] and values[3:] == ["jemalloc"], chosen.stderr[-2000:]
    library = ("import sys, numpy; from crawler.cli import main; code = main(sys.argv[1:]); "
               "import pyarrow.lib; print(code, pyarrow.lib.np is None, pyarrow.default_memory_pool().backend_name)")
    usual = _python(library, "export", "--archive", str(archive), "-o", str(tmp_path / "usual.parquet"), *extra)
    assert usual.stdout.split()[:2] == ["0", "False"], usual.stderr[-2000:]
    assert usual.stdout.split()[2] != "system"
    for name in ("alone", "chosen"):
        assert (tmp_path / f"{name}.parquet").read_bytes() == (tmp_path / "usual.parquet").read_bytes()


def test_a_library_call_imports_pyarrow_as_usual(tmp_path: Path) -> None:
    """main([...]) (a caller's process, as in these tests) leaves pyarrow's numpy support alone, and no
    ``numpy`` entry is left behind in sys.modules by a command that imported pyarrow without it."""
    archive = tmp_path / "a"
    _archive_of_two(archive)
    code = ("import sys; from crawler.cli import main; code = main(sys.argv[1:]); import pyarrow.lib; "
            "print(code, pyarrow.lib.np is None, sys.modules.get('numpy', 'absent') is None)")
    run = _python(code, "export", "--archive", str(archive), "-o", str(tmp_path / "a.parquet"))
    assert run.stdout.split() == ["0", "False", "False"], run.stderr[-2000:]
    code = ("import sys; from crawler.use.export import pyarrow_modules; pyarrow_modules(whole_process=True); "
            "print('numpy' in sys.modules); import numpy; print(numpy.zeros(2).sum())")
    run = _python(code)
    assert run.stdout.split() == ["False", "0.0"], run.stderr[-2000:]


def test_a_crawled_archive_exports_as_before(tmp_path: Path) -> None:
    """The mirror's pages crawled by the real adapters (their metadata, rules naming a "body", images, times):
    the same rows and the same Parquet bytes as the reference, in groups of 3 rows and in one group."""
    from crawler.cli import main
    from crawler.mirror import Mirror
    from tests.conftest import origin_args

    archive = tmp_path / "archive"
    with Mirror(articles=12, seed=11) as m:
        assert main(["crawl", "--archive", str(archive), *origin_args(m), "--delay", "0", "--quiet",
                     "--no-progress"]) == 0
    with Store(archive, readonly=True) as store, pytest.MonkeyPatch.context() as patch:
        assert b'"body"' in store.db.execute("SELECT CAST(meta AS BLOB) FROM snapshots LIMIT 1").fetchone()[0]
        for text_bytes in (False, True):
            new = list(ex.iter_rows(store, Selection(all_versions=True), text_bytes=text_bytes))
            assert new == list(old_rows(store, text_bytes)) and len(new) > 12
        for group_rows in (3, 2000):
            patch.setattr(ex, "PARQUET_ROWS", group_rows)
            ex.export(store, Selection(all_versions=True), "parquet", str(tmp_path / "new.parquet"))
            old_parquet(store, tmp_path / "old.parquet")
            assert (tmp_path / "new.parquet").read_bytes() == (tmp_path / "old.parquet").read_bytes()


def test_a_pyarrow_that_needs_numpy_is_imported_with_it(tmp_path: Path) -> None:
    """pyarrow before 16 imports numpy unconditionally: the command's process then imports both as usual, not
    "pyarrow is missing"."""
    (tmp_path / "pyarrow").mkdir()
    (tmp_path / "pyarrow" / "__init__.py").write_text("import numpy\nNEEDS = numpy.__name__\n", encoding="utf-8")
    (tmp_path / "pyarrow" / "parquet.py").write_text("", encoding="utf-8")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from crawler.use.export import pyarrow_modules; "
            "pa, pq = pyarrow_modules(whole_process=True); print(pa.NEEDS, pa.__file__ == sys.argv[2], "
            "sys.modules['numpy'] is not None)")
    run = _python(code, str(tmp_path), str(tmp_path / "pyarrow" / "__init__.py"))
    assert run.stdout.split() == ["numpy", "True", "True"], run.stderr[-2000:]
