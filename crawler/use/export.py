"""``crawler export``: the archive as a table (JSONL, CSV or Parquet), read from the catalog and the
snapshot files, without parsing anything again.

Where it sits: a reader of a finished archive (:func:`crawler.archive.reading.read_archive`).  Each row is a
catalog row (``snapshots``), its metadata (the JSON in ``snapshots.meta``, or the ``.json`` file of
an archive written before schema 2) and the text of its snapshot file.  Rows stream in batches of
:data:`BATCH` (memory stays flat however large the archive), in a stable order: source, published,
article id (by length, then by text: numerically for decimal ids and for the fixed-width hex ids of the
Java platform; ids are strings, never converted to numbers), version, so two exports of the same
archive are identical byte for byte.

The columns (:data:`COLUMNS`, documented in README.md "Exporting") are the fields of ``crawler
replay --jsonl`` plus what only the archive knows (``fetched_at``, ``text_path``, ``sha256``, ...).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from crawler.archive.catalog import Store
from crawler.archive.jsonlines import escape_bytes
from crawler.archive.outputs import read_inside, replacing
from crawler.archive.reading import Selection
from crawler.errors import ArchiveError, ConfigError
from crawler.use.export_columns import EPOCH, MICRO, catalog_micros, no_collection, text_array

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
SUFFIXES: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
BATCH = 500  # catalog rows read at a time
PARQUET_ROWS = 2000  # rows per Parquet row group, at most
PARQUET_GROUP_BYTES = 32 << 20  # text per Parquet row group, about: long articles make smaller groups

# (name, Parquet type, description) -- the order of the columns in every format.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("source", "string", "source key (sources.yaml)"),
    ("article_id", "string", "the article's id on its site"),
    ("version", "int32", "1, or 2, 3, ... for later changed texts (--all-versions)"),
    ("url", "string", "the URL it was fetched from"),
    ("canonical_url", "string", "the page's canonical URL"),
    ("published", "timestamp[us, tz=+07:00]", "ISO 8601 with its offset (+07:00); in Parquet a timestamp"),
    ("fetched_at", "timestamp[us, tz=UTC]", "ISO 8601, UTC; in Parquet a timestamp"),
    ("breadcrumb", "list<string>", "the page's breadcrumb, outermost first"),
    ("category_slugs", "list<string>", "the article's categories as URL slugs"),
    ("kicker", "string", "the line above the title, or null"),
    ("title", "string", ""),
    ("sapo", "string", "the lead paragraph, or null"),
    ("text", "string", "the snapshot (docs/FORMAT.md): every block, \\n\\n between blocks"),
    ("byline", "string", "or null"),
    ("images", "list<struct<url: string, caption: string>>", "body images; caption null when none"),
    ("template", "string", "the adapter's page template (vdoc, dnn, anchors), or null"),
    ("rules", "map<string, string>", "field -> the extraction rule that found it"),
    ("text_path", "string", "the snapshot file, relative to the archive"),
    ("warc_file", "string", "the WARC file (under warc/) holding the response"),
    ("warc_offset", "int64", "offset of the response record in that file"),
    ("sha256", "string", "of the snapshot file's bytes"),
    ("extractor_version", "string", "the crawler version that extracted it"),
)
NAMES = tuple(name for name, _, _ in COLUMNS)
# With --dedup, after the others (crawler.use.dedup): null for an original and for an article too short to judge.
DEDUP_COLUMN = ("duplicate_of", "string", "with --dedup: the URL of the earliest article this one nearly repeats")
DEDUP_NAMES = (*NAMES, DEDUP_COLUMN[0])
_NESTED = frozenset({"breadcrumb", "category_slugs", "images", "rules"})
# The metadata as UTF-8 bytes (BENCHMARKS.md §6), parsed as stored; where that fails, again without the body old rows
# have (unused: the text is the file's; malformed JSON kept whole for _row to name the article).
_ROW_COLUMNS = ("rowid, source, article_id, version, url, published, title, text_path, meta_path, sha256, "
                "warc_file, warc_offset, fetched_at, extractor_version, CAST(meta AS BLOB)")
_WITHOUT_BODY = ("SELECT CAST(CASE WHEN json_valid(meta) THEN json_remove(meta, '$.body') ELSE meta END AS BLOB) "
                 "FROM snapshots WHERE rowid = ?")


try:
    _orjson: Any = importlib.import_module("orjson")
    _loads: Callable[[str | bytes], Any] = _orjson.loads
except ImportError:  # pragma: no cover -- a dependency; the standard library gives the same rows
    _orjson = None
    _loads = json.loads


class ExportExtraMissing(ArchiveError):
    """``--format parquet`` without pyarrow installed."""


@dataclass(slots=True)
class ExportSummary:
    rows: int = 0
    articles: int = 0
    duplicates: int = 0  # rows marked with duplicate_of (--dedup)


def format_for(path: str, given: str | None) -> Format:
    """The format named by ``--format``, else by the output's suffix; :class:`ConfigError` when neither."""
    if given is not None:
        if given not in FORMATS:
            raise ConfigError(f"unknown format {given!r} (known: {', '.join(FORMATS)})")
        return given
    found = SUFFIXES.get(PurePosixPath(path).suffix.lower()) if path != "-" else None
    if found is None:
        raise ConfigError(f"give --format {'|'.join(FORMATS)} (the output {path!r} does not say which)")
    return found


def iter_rows(store: Store, selection: Selection, *, batch: int = BATCH,
              text_bytes: bool = False) -> Iterator[dict[str, Any]]:
    """Every selected snapshot as an export row, in export order (see the module docstring).

    ``text_bytes``: the snapshot's text as its UTF-8 bytes, not decoded (Parquet: Arrow checks the UTF-8 itself,
    and a str would be encoded back to UTF-8 for it -- a third of the Parquet export's time)."""
    where, args = selection.where("s")
    root = os.path.abspath(store.archive)  # once: read_inside makes a relative one absolute at every file
    # Sorting keys only (SQLite's sorter spills to a temporary file past its memory), then the rows
    # batch by batch: neither the metadata nor the texts of the whole archive are ever held at once.
    keys = store.db.execute(f"SELECT s.rowid FROM snapshots s WHERE {where} ORDER BY s.source, s.published, "
                            f"length(s.article_id), s.article_id, s.version", args)
    while True:
        chunk = [int(r[0]) for r in keys.fetchmany(batch)]
        if not chunk:
            return
        found = {r[0]: r for r in store.db.execute(
            f"SELECT {_ROW_COLUMNS} FROM snapshots WHERE rowid IN ({','.join('?' * len(chunk))})", chunk)}
        for rowid in chunk:
            yield _row(root, found[rowid], text_bytes, store)


def _row(archive: str, values: tuple[Any, ...], text_bytes: bool = False,
         store: Store | None = None) -> dict[str, Any]:
    (rowid, source, article_id, version, url, published, title, text_path, meta_path, sha256, warc_file,
     warc_offset, fetched_at, extractor_version, meta_json) = values
    name = f"{source}/{article_id} v{version}"
    try:
        if meta_json:
            try:
                meta = _loads(meta_json)
            except ValueError:
                if store is None:
                    raise
                meta = _loads(store.db.execute(_WITHOUT_BODY, (rowid,)).fetchone()[0])
        elif meta_path:  # an archive of schema 1 whose .json could not be read when the catalog was upgraded
            meta = _loads(read_inside(archive, meta_path, "metadata file"))
        else:
            meta = {}
        data = read_inside(archive, text_path, "snapshot file")
        text: str | bytes = data if text_bytes else data.decode("utf-8")
    except (OSError, ValueError) as err:
        raise _unreadable(name, err) from err
    if not isinstance(meta, dict):
        raise ArchiveError(f"{name}: its metadata is not a JSON object")
    rules = meta.get("rules") or {}
    return {
        "source": source, "article_id": article_id, "version": version, "url": url,
        "canonical_url": meta.get("canonical_url"), "published": published, "fetched_at": fetched_at,
        "breadcrumb": meta.get("breadcrumb") or [], "category_slugs": meta.get("category_slugs") or [],
        "kicker": meta.get("kicker"), "title": title, "sapo": meta.get("sapo"), "text": text,
        "byline": meta.get("byline"),
        "images": [{"url": i.get("url"), "caption": i.get("caption")} for i in meta.get("images") or []],
        "template": meta.get("template", rules.get("template")), "rules": rules, "text_path": text_path,
        "warc_file": warc_file, "warc_offset": warc_offset, "sha256": sha256, "extractor_version": extractor_version,
    }


def _unreadable(name: str, err: Exception) -> ArchiveError:
    return ArchiveError(f"{name}: cannot read its snapshot or metadata: {err} (`crawler verify` checks the archive)")


# -- writers ----------------------------------------------------------------------------------------------


def _json_dumps() -> Callable[[Any], bytes]:
    """A fast JSON encoder to bytes: orjson (30x the standard library's on these rows, BENCHMARKS.md), or the
    standard library's with the same output when orjson is missing."""
    if _orjson is None:
        encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
        return lambda value: encoder.encode(value).encode("utf-8")
    dumps: Callable[[Any], bytes] = _orjson.dumps
    return dumps


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[bytes], summary: ExportSummary) -> None:
    dumps = _json_dumps()
    for row in rows:
        out.write(escape_bytes(dumps(row)) + b"\n")  # U+2028, U+2029, U+0085 escaped: one row per line
        _count(summary, row)


# OWASP "CSV injection": a cell a spreadsheet would read as a formula (after any leading blanks).
_FORMULA = re.compile(r"^[\s\x00-\x1f\x7f\u00a0\u2000-\u200b\u3000\ufeff]*[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20]")


def neutralise(value: str) -> str:
    """``value`` as a spreadsheet shows it but never runs it: a leading ``'`` before a would-be formula."""
    return "'" + value if _FORMULA.match(value) else value


def write_csv(rows: Iterator[dict[str, Any]], out: IO[bytes], summary: ExportSummary, *, raw: bool = False,
              names: tuple[str, ...] = NAMES) -> None:
    """RFC 4180: a header, CRLF line ends, every text field quoted (quotes doubled; line breaks kept inside
    the quotes), numbers bare; lists and mappings as JSON text, null as an empty field.

    A text field a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or
    a line break, also after leading blanks) gets a leading ``'`` (OWASP's advice), unless ``raw``.

    Written by hand: the csv module scans every character of every field to decide on quoting, which
    made CSV the slowest format (BENCHMARKS.md §6); quoting every text field needs no scan.
    """
    dumps = _json_dumps()
    out.write(",".join(names).encode("ascii") + b"\r\n")
    for row in rows:
        fields = []
        for name in names:
            value = row[name]
            if name in _NESTED:
                value = dumps(value).decode("utf-8")
            if value is None:
                fields.append("")
            elif isinstance(value, str):
                if not raw:
                    value = neutralise(value)
                fields.append('"' + value.replace('"', '""') + '"')
            else:
                fields.append(str(value))
        out.write((",".join(fields) + "\r\n").encode("utf-8"))
        _count(summary, row)


def pyarrow_modules(whole_process: bool = False) -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet.  ``whole_process`` (a process that runs nothing else: the command line): one
    not imported yet is imported without numpy if it can (only numpy arrays need it; importing it was a tenth of
    the export's CPU; numpy stays importable for --dedup) and with the C allocator as Arrow's pool (unless the
    environment chose one): mimalloc gave each row group's memory back and took it again as new huge pages;
    zeroing those was up to a quarter of the CPU (3.8 MB articles: peak RSS 383 -> 240 MB)."""
    if whole_process and "pyarrow" not in sys.modules and "numpy" not in sys.modules:
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # read by Arrow when it starts
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` raises ImportError meanwhile
        try:
            with suppress(ImportError):  # a pyarrow before 16 needs numpy (or there is none): imported as usual below
                return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
        finally:
            if sys.modules.get("numpy", ...) is None:
                del sys.modules["numpy"]
    try:
        return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")
    except ImportError:
        raise ExportExtraMissing("--format parquet needs pyarrow, a dependency of crawler that is missing here: "
                                 "pip install pyarrow (or reinstall crawler)") from None


# The time columns in Parquet: microseconds (a Python datetime's precision), the instant kept exactly.  The
# catalog writes `published` with the page's offset (+07:00, Vietnamese time) and `fetched_at` in UTC; a value
# written without an offset is taken in that zone; a value that is not ISO 8601 at all becomes null.
TIME_ZONES: dict[str, timezone] = {"published": timezone(timedelta(hours=7)), "fetched_at": UTC}


def _micros(value: object, zone: timezone) -> int | None:
    """``value`` (ISO 8601 text) as microseconds since 1970 UTC; naive in ``zone``; None when not a date."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return (moment - EPOCH) // MICRO


def timestamp_array(pa: Any, values: list[Any], kind: Any, zone: timezone) -> Any:
    """An Arrow timestamp array of ISO 8601 texts: the catalog's own form read in Python (:func:`catalog_micros`),
    others by Arrow's parser (C++), and each value by :func:`_micros` when one of them is not what Arrow reads
    (no offset, empty, not a date)."""
    micros = catalog_micros(values)
    if micros is None:
        try:
            return pa.array(values, pa.string()).cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            micros = [_micros(v, zone) for v in values]
    return pa.array(micros, kind)


def parquet_schema(dedup: bool = False) -> Any:
    pa, _ = pyarrow_modules()
    text = pa.string()
    types = {"string": text, "int32": pa.int32(), "int64": pa.int64(), "list<string>": pa.list_(text),
             "list<struct<url: string, caption: string>>": pa.list_(pa.struct([("url", text), ("caption", text)])),
             "map<string, string>": pa.map_(text, text),
             "timestamp[us, tz=+07:00]": pa.timestamp("us", tz="+07:00"), "timestamp[us, tz=UTC]": pa.timestamp(
                 "us", tz="UTC")}
    columns = (*COLUMNS, DEDUP_COLUMN) if dedup else COLUMNS
    return pa.schema([pa.field(name, types[kind], nullable=True) for name, kind, _ in columns])


# Dictionary encoding where values repeat; the texts, URLs and ids are unique per row and a dictionary for them
# is built and then dropped by the writer (half of the write time, BENCHMARKS.md).
_DICTIONARY = ["source", "breadcrumb", "category_slugs", "kicker", "byline", "template", "rules", "warc_file",
               "extractor_version"]


def _arrow_table(pa: Any, schema: Any, batch: list[dict[str, Any]]) -> Any:
    columns: dict[str, Any] = {name: [r[name] for r in batch] for name in schema.names}
    columns["rules"] = [sorted(r["rules"].items()) for r in batch]
    for name, zone in TIME_ZONES.items():
        columns[name] = timestamp_array(pa, columns[name], schema.field(name).type, zone)
    try:
        columns["text"] = text_array(pa, columns["text"])  # UTF-8 bytes, checked by Arrow
    except pa.ArrowInvalid:
        for r in batch:  # name the article, as the other formats do
            try:
                r["text"].decode("utf-8") if isinstance(r["text"], bytes) else r["text"]
            except UnicodeDecodeError as err:
                raise _unreadable(f"{r['source']}/{r['article_id']} v{r['version']}", err) from err
        raise
    return pa.Table.from_pydict(columns, schema=schema)


class _Background:
    """Writes each row group in a thread (Arrow's encoding and zstd run without the GIL) while the next one is
    read: one table in the writer and one batch being built, at most -- memory stays bounded.  A group of long
    articles (half of :data:`PARQUET_GROUP_BYTES` or more) is written before the next is read: overlapping those
    would hold a third group's worth of text for little gain (issue 17's 3.8 MB articles)."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def _write(self, table: Any) -> None:
        try:
            self.writer.write_table(table)
        except BaseException as err:  # raised in the reading thread by wait()
            self.error = err

    def wait(self) -> None:
        self.stop()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.thread = None

    def write(self, table: Any) -> None:
        self.wait()
        self.thread = threading.Thread(target=self._write, args=(table,), name="parquet-writer", daemon=True)
        self.thread.start()


def write_parquet(rows: Iterator[dict[str, Any]], out: IO[bytes], summary: ExportSummary, *,
                  names: tuple[str, ...] = NAMES) -> None:
    """Parquet (zstd), a row group per :data:`PARQUET_ROWS` rows or :data:`PARQUET_GROUP_BYTES` of text, whichever
    comes first: memory stays flat however long the articles.  ``rows`` may carry the text as UTF-8 bytes."""
    pa, pq = pyarrow_modules()
    schema = parquet_schema(dedup=names == DEDUP_NAMES)
    with pq.ParquetWriter(out, schema, compression="zstd", use_dictionary=_DICTIONARY) as writer:
        background = _Background(writer)
        batch: list[dict[str, Any]] = []
        size = 0

        def flush() -> None:
            table = _arrow_table(pa, schema, batch)
            batch.clear()
            background.write(table)
            if size >= PARQUET_GROUP_BYTES // 2:
                background.wait()

        try:
            for row in rows:
                batch.append(row)
                size += len(row["text"]) + len(row["sapo"] or "") + 512
                _count(summary, row)
                if len(batch) >= PARQUET_ROWS or size >= PARQUET_GROUP_BYTES:
                    flush()
                    size = 0
            if batch or not summary.rows:
                flush()
        except BaseException:
            background.stop()  # the first error stands; the writer is closed after its thread ends
            raise
        background.wait()


WRITERS: dict[Format, Callable[..., None]] = {  # (rows, out, summary, *, names=..., raw=...)
    "jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


def _count(summary: ExportSummary, row: dict[str, Any]) -> None:
    summary.rows += 1
    if row.get("duplicate_of") is not None:
        summary.duplicates += 1


def export(store: Store, selection: Selection, fmt: Format, output: str, *, csv_raw: bool = False,
           dedup: float | None = None, whole_process: bool = False) -> ExportSummary:
    """Write the selected rows of ``store`` to ``output`` (a file, written whole then renamed; or ``-``).

    ``csv_raw``: CSV cells exactly as archived (no ``'`` before a would-be formula, :func:`write_csv`).
    ``dedup``: a threshold; adds the ``duplicate_of`` column (:mod:`crawler.use.dedup`, over the whole archive).
    ``whole_process``: the caller's process does nothing else (the command line; :func:`pyarrow_modules`)."""
    if fmt == "parquet":
        pyarrow_modules(whole_process)  # the message before any work
    summary = ExportSummary()
    writer = WRITERS[fmt]
    if fmt == "csv" and csv_raw:
        writer = partial(write_csv, raw=True)
    rows = iter_rows(store, selection, text_bytes=fmt == "parquet")
    if dedup is not None:
        from crawler.use.dedup import find

        if fmt != "jsonl":
            writer = partial(writer, names=DEDUP_NAMES)
        rows = _marked(rows, find(store, dedup).of)
    if output == "-":
        if fmt == "parquet":
            raise ConfigError("Parquet cannot stream to standard output (its index is written last): give -o FILE")
        stdout = sys.stdout.buffer
        with no_collection():
            writer(rows, stdout, summary)
        stdout.flush()
    else:
        with replacing(Path(output)) as handle, no_collection():
            writer(rows, handle, summary)
    if selection.all_versions:
        summary.articles = _distinct_articles(store, selection)
    else:
        summary.articles = summary.rows
    return summary


def _marked(rows: Iterator[dict[str, Any]], of: dict[tuple[str, str], str]) -> Iterator[dict[str, Any]]:
    for row in rows:
        row["duplicate_of"] = of.get((row["source"], row["article_id"]))
        yield row


def _distinct_articles(store: Store, selection: Selection) -> int:
    where, args = selection.where("s")
    return int(store.db.execute(f"SELECT count(*) FROM (SELECT DISTINCT s.source, s.article_id FROM snapshots s "
                                f"WHERE {where})", args).fetchone()[0])
