"""``crawler verify``: does the archive hold what it says it holds?

Checks, and reports every disagreement:

- every WARC file is readable to its end, its block and payload digests are right,
  and no record is cut short; a left-over ``.open`` file is reported;
- every WARC file has its CDXJ index (``indexes/<name>.cdxj``, :mod:`crawler.archive.cdxj`) and the
  index says what the file holds, line for line; no index names a file that is not there;
- every catalog row has its snapshot and metadata files, the text's sha256 matches,
  the metadata agrees with the row, and a response record for the row's URL starts
  at the WARC offset it names;
- every snapshot file has a catalog row, and every snapshot is in the FORMAT.md
  canonical form (ends with ``Chia sẻ bài viết``, no empty or repeated blocks).

It only reads: the catalog is opened read-only (an archive on read-only media, or
another user's, can be verified), and it holds the archive's lock in shared mode, so it
never looks at an archive a run is writing (:class:`~crawler.archive.lock.ArchiveBusy`, or
``wait=True`` to wait for the run to end).  Recovery is left to the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from crawler.archive.catalog import CATALOG, NOT_AN_ARCHIVE, Store
from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX, check_index
from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import inside_archive, read_inside, warc_relpath
from crawler.archive.search_index import superseded_problem
from crawler.archive.warc_reading import check_file, read_response_at
from crawler.errors import ArchiveError
from crawler.parse.normalize import SHARE_LABEL, canonical_blocks


@dataclass(slots=True)
class Report:
    warcs: int = 0
    snapshots: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(archive: Path, *, check_digests: bool = True, wait: bool = False) -> Report:
    """Check ``archive``; raises :class:`~crawler.archive.lock.ArchiveBusy` while a run writes it (unless ``wait``),
    :class:`ArchiveError` when it cannot be read at all."""
    report = Report()
    try:
        os.listdir(archive)
    except FileNotFoundError:
        report.problems.append(f"{archive}: no such archive directory")
        return report
    except OSError as err:
        raise ArchiveError(f"cannot read archive {archive}: {err.strerror}") from err
    if not (archive / CATALOG).is_file():
        report.problems.append(f"{archive}: no {CATALOG}: {NOT_AN_ARCHIVE}")
        return report
    with ArchiveLock(archive, shared=True, wait=wait):
        _verify_locked(archive, report, check_digests=check_digests)
    return report


def _listing(directory: Path, pattern: str, report: Report) -> list[Path]:
    """``directory.glob(pattern)`` sorted, with an unreadable directory reported (glob would hide it)."""
    try:
        os.listdir(directory)
    except FileNotFoundError:
        return []
    except OSError as err:
        report.problems.append(f"{directory}: cannot read the directory: {err.strerror}")
        return []
    return sorted(directory.glob(pattern))


def _verify_locked(archive: Path, report: Report, *, check_digests: bool) -> None:
    warc_dir = archive / "warc"
    warcs = _listing(warc_dir, "*.warc.gz", report) + _listing(warc_dir, "*.warc", report)
    for leftover in _listing(warc_dir, "*.open", report):
        report.problems.append(f"{leftover}: left-over .open WARC of a killed run (the next run will recover it)")
    for path in warcs:
        report.warcs += 1
        if check_digests:
            report.problems.extend(f"{path.name}: {problem}" for problem in check_file(path))
        index = archive / INDEX_DIR / (path.name + INDEX_SUFFIX)
        if check_digests:  # reads the file again; --quick only looks for the index
            report.problems.extend(check_index(path, index))
        elif not index.is_file():
            report.problems.append(f"{path.name}: no index file {INDEX_DIR}/{index.name} (`crawler index` writes it)")
    names = {path.name + INDEX_SUFFIX for path in warcs}
    for index in _listing(archive / INDEX_DIR, "*" + INDEX_SUFFIX, report):
        leftover = warc_dir / (index.name.removesuffix(INDEX_SUFFIX) + ".open")
        if index.name not in names and not leftover.exists():  # a left-over .open file is reported above
            report.problems.append(f"{INDEX_DIR}/{index.name}: index of no WARC file of the archive")
    with Store(archive, readonly=True) as store:
        rows = store.rows()
        if (problem := superseded_problem(store.db)) is not None:
            report.problems.append(f"{CATALOG}: {problem}")
    known: set[str] = set()
    for row in rows:
        report.snapshots += 1
        known.add(str(row["text_path"]))
        report.problems.extend(_check_row(archive, row))
    text_root = archive / "text"

    def unreadable(err: OSError) -> None:
        if not isinstance(err, FileNotFoundError):  # no text/ yet (an archive of no article) is fine
            report.problems.append(f"{err.filename}: cannot read the directory: {err.strerror}")

    for directory, _dirs, files in sorted(os.walk(text_root, onerror=unreadable)):
        for name in sorted(files):
            if name.endswith(".txt"):
                rel = (Path(directory) / name).relative_to(archive).as_posix()
                if rel not in known:
                    report.problems.append(f"{rel}: snapshot file without a catalog row (left by an interrupted "
                                           f"run? the next run adds the row or sets the file aside)")


def _check_row(archive: Path, row: dict[str, object]) -> list[str]:
    name = f"{row['source']}/{row['article_id']} v{row['version']}"
    problems: list[str] = []
    try:
        data = read_inside(archive, str(row["text_path"]), "snapshot file")
    except ArchiveError as err:
        return [f"{name}: {err}"]
    except OSError as err:
        return [f"{name}: snapshot {row['text_path']} unreadable: {err.strerror or err}"]
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        problems.append(f"{name}: {row['text_path']} does not match the sha256 in the catalog")
    text = data.decode("utf-8", "replace")
    blocks = text.split("\n\n")
    if canonical_blocks(text) != blocks or blocks[-1] != SHARE_LABEL:
        problems.append(f"{name}: {row['text_path']} is not in the canonical snapshot format")
    try:  # in the catalog; archives of schema 1 kept it in a .json file beside the text
        meta = json.loads(str(row["meta"])) if row.get("meta") else \
            json.loads(read_inside(archive, str(row["meta_path"]), "metadata file"))
    except ArchiveError as err:
        problems.append(f"{name}: {err}")
        meta = {}
    except (OSError, ValueError) as err:
        problems.append(f"{name}: metadata {row['meta_path'] or '(catalog)'} unreadable: {err}")
        meta = {}
    for key in ("sha256", "warc_file", "warc_offset", "text_path", "url"):
        if meta and meta.get(key) != row[key]:
            problems.append(f"{name}: metadata {key} {meta.get(key)!r} differs from the catalog's {row[key]!r}")
    try:
        warc = inside_archive(archive, warc_relpath(str(row["warc_file"])), "WARC file")
    except ArchiveError as err:
        problems.append(f"{name}: {err}")
        return problems
    if not warc.is_file() or warc.is_symlink():
        if not warc.with_name(warc.name + ".open").is_file():
            problems.append(f"{name}: WARC file {row['warc_file']} is missing")
            return problems
        warc = warc.with_name(warc.name + ".open")  # left by a killed run (reported once, above)
    try:
        response = read_response_at(warc, int(str(row["warc_offset"])))
    except ArchiveError as err:
        problems.append(f"{name}: no readable response record at {row['warc_file']}:{row['warc_offset']}: {err}")
        return problems
    if response.url != row["url"]:
        problems.append(f"{name}: the record at {row['warc_file']}:{row['warc_offset']} is for {response.url}, "
                        f"not {row['url']}")
    return problems
