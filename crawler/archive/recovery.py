"""Start-up recovery after a crash: close left-over ``.open`` WARCs, roll the catalog forward.

A run killed with ``kill -9`` can leave (in the order the archive workers write):

1. a ``.open`` WARC whose last gzip member (record) is cut short: the file is
   truncated to its last complete record, renamed to its final name, and its CDXJ index
   (:mod:`crawler.archive.cdxj`) written, which its writer would have done on closing it (so is the
   index of a closed file that has none: a crash or a full disk between the close and the index);
2. journal lines (``journal/*.jsonl``, see :mod:`crawler.archive.snapshots`) of snapshots whose
   catalog row was not committed yet: when the snapshot file is complete (its sha256
   matches) and its WARC record exists, the row is added (roll forward); a file cut short
   is removed (the article is fetched again); the journal is then deleted;
3. from archives written before journals (schema 1, one ``.json`` per snapshot), once, when
   the catalog is upgraded: snapshot files without a row are rolled forward from their
   ``.json`` or moved to ``orphans/``, and temporary ``.*.tmp`` files are removed;
4. temporary files of any writer (:mod:`crawler.archive.outputs`): those of dead processes are removed
   at every open (:func:`sweep_archive`).

Nothing already archived is deleted: only bytes after the last complete record of a
``.open`` file (a record that was never acknowledged) are cut.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path

from crawler.archive.catalog import Store
from crawler.archive.cdxj import INDEX_DIR, index_warc, write_index
from crawler.archive.outputs import inside_archive, sweep_temporaries, warc_relpath
from crawler.archive.snapshots import JOURNAL_DIR, SnapshotRow
from crawler.errors import ArchiveError, StorageError

# What a catalog row is made of (besides version and warc_offset, integers), as the metadata holds it.
_ROW_TEXT_FIELDS = ("source", "article_id", "url", "published", "title", "text_path", "sha256", "warc_file",
                    "fetched_at", "extractor_version")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)\r\n", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Recovered:
    """What recovery did to one file or row; ``what`` is a sentence for the operator."""

    path: Path
    what: str


def complete_prefix(path: Path, *, chunk: int = 1 << 20) -> tuple[int, int]:
    """(bytes, records): the length of the longest prefix made of complete gzip members, each one
    complete WARC record, and how many records that is."""
    good_end = 0
    records = 0
    offset = 0  # file position of the start of the current member
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    produced = bytearray()
    consumed = 0  # bytes of the file fed to the current member's decompressor
    with open(path, "rb") as handle:
        pending = b""
        while True:
            data = pending or handle.read(chunk)
            pending = b""
            if not data:
                return good_end, records
            try:
                produced += decompressor.decompress(data)
            except zlib.error:
                return good_end, records
            consumed += len(data) - len(decompressor.unused_data)
            if not decompressor.eof:
                continue
            if not _is_complete_record(bytes(produced)):
                return good_end, records
            offset += consumed
            good_end = offset
            records += 1
            pending = decompressor.unused_data
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            produced.clear()
            consumed = 0


def _is_complete_record(record: bytes) -> bool:
    if not record.startswith(b"WARC/"):
        return False
    head_end = record.find(b"\r\n\r\n")
    match = _CONTENT_LENGTH.search(record, 0, head_end + 2 if head_end >= 0 else len(record))
    if head_end < 0 or match is None:
        return False
    return len(record) >= head_end + 4 + int(match.group(1))


def recover_warcs(directory: Path) -> list[Recovered]:
    """Truncate every ``*.open`` WARC in ``directory`` to its complete records and close it."""
    done: list[Recovered] = []
    if not directory.is_dir():
        return done
    done += _index_unindexed(directory)
    for path in sorted(directory.glob("*.warc.gz.open")):
        if path.is_symlink() or not path.is_file():  # never truncate through a link, never block on a FIFO
            done.append(Recovered(path, f"left-over {path.name} is not a regular file; left alone"))
            continue
        size = path.stat().st_size
        keep, records = complete_prefix(path)
        final = path.with_name(path.name.removesuffix(".open"))
        if records == 0:
            # Not even the warcinfo record is complete: nothing was ever acknowledged from it.
            path.rename(path.with_name(path.name + ".empty"))
            done.append(Recovered(path, f"left-over {path.name} held no complete record ({size} bytes); "
                                        f"set aside as {path.name}.empty"))
            continue
        with os.fdopen(os.open(path, os.O_RDWR | os.O_NOFOLLOW), "r+b") as handle:
            handle.truncate(keep)
            handle.flush()
            os.fsync(handle.fileno())
        if final.exists():
            final = final.with_name(final.name.replace(".warc.gz", "-recovered.warc.gz"))
        os.link(path, final)
        os.unlink(path)
        cut = f", cut {size - keep} bytes of an incomplete record" if size > keep else ""
        done.append(Recovered(final, f"closed left-over {path.name}: kept {records} complete records{cut}"
                                     f"{_index_recovered(final)}"))
    return done


def _index_unindexed(directory: Path) -> list[Recovered]:
    """Index closed WARC files that have no index: a crash (or a full disk) came between a file's close and its
    index."""
    indexes = directory.parent / INDEX_DIR
    if not indexes.is_dir():  # an archive from before indexes: `crawler index` builds them (it reads every file)
        return []
    have = set(os.listdir(indexes))
    done = []
    for warc in sorted(directory.glob("*.warc.gz")):
        if warc.name + ".cdxj" not in have and warc.is_file() and not warc.is_symlink():
            done.append(Recovered(warc, "wrote the index its writer did not" + _index_recovered(warc)))
    return done


def _index_recovered(warc: Path) -> str:
    """Write the CDXJ index of a recovered WARC file (its writer died before it could); what went wrong."""
    try:
        write_index(warc.parent.parent / INDEX_DIR, warc.name, index_warc(warc))
    except ArchiveError as err:  # not expected: the file holds complete records only
        return f"; its index was not written ({err}; `crawler index` rebuilds it)"
    return ""


def replay_journals(store: Store, *, keep: tuple[Path, ...] = ()) -> list[Recovered]:
    """Commit the rows journalled by writers that are gone (see the module docstring); delete their journals.

    ``keep``: journals of writers still running (not touched).
    """
    directory = store.archive / JOURNAL_DIR
    done: list[Recovered] = []
    if not directory.is_dir():
        return done
    for journal in sorted(directory.glob("*.jsonl")):
        if journal in keep:
            continue
        rows: list[SnapshotRow] = []
        try:
            # "\n" only: splitlines() would also cut at U+2028 and U+0085 (raw in older journals).
            lines = journal.read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError as err:
            raise StorageError.from_os(err, "read", journal) from err
        for line in lines:
            try:
                row = SnapshotRow.from_json(line)
            except (ValueError, TypeError):
                continue  # a line cut short by the crash: its snapshot file was never written
            if store.has_article_version(row.source, row.article_id, row.version):
                continue
            try:  # a path outside the archive is neither read nor removed
                text = inside_archive(store.archive, row.text_path, "snapshot file")
                inside_archive(store.archive, warc_relpath(row.warc_file), "WARC file")
            except ArchiveError as err:
                done.append(Recovered(journal, f"ignored a journal line: {err}"))
                continue
            problem = _check_journalled(store.archive, row, text)
            if problem is None:
                rows.append(row)
                done.append(Recovered(text, "added the catalog row a crash left out"))
            elif text.is_file() and not text.is_symlink():
                text.unlink()
                done.append(Recovered(text, f"removed a snapshot a crash cut short ({problem}); "
                                            f"its article is fetched again"))
        store.commit(rows, settled=[(r.source, r.article_id) for r in rows])
        journal.unlink()
    return done


def _check_journalled(archive: Path, row: SnapshotRow, text: Path) -> str | None:
    if text.is_symlink():
        return "a link"
    try:
        data = text.read_bytes()
    except OSError:
        return "no file"
    if hashlib.sha256(data).hexdigest() != row.sha256:
        return "incomplete file"
    warc = archive / "warc" / row.warc_file
    if not warc.is_file() or row.warc_offset >= warc.stat().st_size:
        return "its WARC record is missing"
    return None


def sweep_archive(archive: Path) -> list[Recovered]:
    """Remove the temporary files that killed processes (``kill -9``) left in the archive: those of a
    live process (another user's ``crawler index``...) are kept (:func:`crawler.archive.outputs.sweep_temporaries`)."""
    done = [Recovered(path, "removed the temporary file of an interrupted write")
            for path in sweep_temporaries(archive)]
    # Not text/ (walking it costs with every run): snapshots are created in place (O_EXCL), not renamed.
    for name in ("warc", "indexes", "runs", "journal"):
        if (archive / name).is_dir():
            done += [Recovered(path, "removed the temporary file of an interrupted write")
                     for path in sweep_temporaries(archive / name)]
    return done


def reconcile(store: Store) -> list[Recovered]:
    """Make the catalog agree with the snapshot files after a crash (see the module docstring)."""
    archive = store.archive
    done: list[Recovered] = []
    text_root = archive / "text"
    if not text_root.is_dir():
        return done
    for tmp in text_root.rglob(".*.tmp"):
        tmp.unlink()
        done.append(Recovered(tmp, "removed the temporary file of an interrupted write"))
    known = store.known_text_paths()
    for text in sorted(text_root.rglob("*.txt")):
        rel = text.relative_to(archive).as_posix()
        if rel in known:
            continue
        meta_path = text.with_suffix(".json")
        reason = _roll_forward(store, text, meta_path)
        if reason is None:
            done.append(Recovered(text, "added the catalog row a crash left out"))
            continue
        target = _free_name(archive / "orphans" / text.relative_to(text_root))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(text), target)
        if meta_path.exists():
            shutil.move(str(meta_path), target.with_suffix(".json"))
        done.append(Recovered(target, f"moved a snapshot without a catalog row to orphans/ ({reason})"))
    return done


def _free_name(target: Path) -> Path:
    """``target``, or ``<stem>.orphanN<suffix>`` when an earlier orphan (or its metadata) has that name."""
    candidate, n = target, 1
    while candidate.exists() or candidate.is_symlink() or candidate.with_suffix(".json").exists():
        candidate = target.with_name(f"{target.stem}.orphan{n}{target.suffix}")
        n += 1
    return candidate


def _roll_forward(store: Store, text: Path, meta_path: Path) -> str | None:
    for path in (text, meta_path):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            return f"{path.name} is not a regular file"  # reading a FIFO would block the run
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = text.read_bytes()
    except (OSError, ValueError) as err:
        return f"metadata unreadable: {err}"
    if not isinstance(meta, dict) or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
        return "text does not match its metadata"
    if any(not isinstance(meta.get(key), str) for key in _ROW_TEXT_FIELDS) or not all(
            isinstance(meta.get(key), int) and not isinstance(meta.get(key), bool) for key in ("version",
                                                                                             "warc_offset")):
        return "its metadata is incomplete"
    warc = store.archive / "warc" / str(meta.get("warc_file", ""))
    offset = meta.get("warc_offset")
    if not warc.is_file() or not isinstance(offset, int) or offset >= warc.stat().st_size:
        return "its WARC record is missing"
    store.add_row_from_metadata(meta)
    return None
