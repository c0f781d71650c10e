"""``crawler index``: rebuild an archive's derived indexes from what it holds, one step after another.

The archive keeps its indexes current as it is written (a WARC file's CDXJ index is written
when the file is closed, :mod:`crawler.archive.cdxj`); ``crawler index`` rebuilds them from scratch,
for an archive written before they existed, after a crash between a file's close and its
index, or after files were copied in.  Each index is a :class:`Step` in :data:`STEPS`, run in
order under the archive's exclusive lock (no crawl writes meanwhile), after the same
recovery of a killed run's ``.open`` WARC files as a crawl does.  Another index (full-text
search, say) is one more step: a function ``(archive, report) -> None`` passed to
:func:`register_step`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crawler.archive.catalog import CATALOG, NOT_AN_ARCHIVE, Store
from crawler.archive.cdxj import INDEX_DIR, INDEX_SUFFIX, CdxEntry, index_warc, write_index
from crawler.archive.lock import ArchiveLock
from crawler.archive.outputs import write_atomic
from crawler.archive.recovery import recover_warcs, sweep_archive
from crawler.archive.wacz_index import not_modified_aliases
from crawler.errors import ArchiveError, StorageError

NOT_MODIFIED_INDEX = "not-modified.cdx"  # in indexes/: the 304 revisits resolved (decision 0014)


@dataclass(slots=True)
class IndexReport:
    """What a rebuild did: figures per step (``{"cdxj": {"files": 3, "lines": 120}}``) and problems."""

    figures: dict[str, dict[str, int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)

    def add(self, step: str, name: str, value: int) -> None:
        figures = self.figures.setdefault(step, {})
        figures[name] = figures.get(name, 0) + value


Step = Callable[[Path, IndexReport], None]


@dataclass(frozen=True, slots=True)
class NamedStep:
    name: str
    run: Step
    describe: str


STEPS: list[NamedStep] = []


def register_step(name: str, run: Step, describe: str) -> None:
    """Add (or replace) a rebuild step; steps run in the order they were first registered."""
    for n, step in enumerate(STEPS):
        if step.name == name:
            STEPS[n] = NamedStep(name, run, describe)
            return
    STEPS.append(NamedStep(name, run, describe))


def warc_files(archive: Path) -> list[Path]:
    """The archive's closed WARC files, by name."""
    directory = archive / "warc"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.name.endswith((".warc.gz", ".warc")) and p.is_file() and not p.is_symlink())


def _not_modified(entry: CdxEntry) -> bool:
    return entry.mime == "warc/revisit" and entry.status == "304"


def rebuild_cdxj(archive: Path, report: IndexReport) -> None:
    """One ``indexes/<WARC name>.cdxj`` per WARC file; index files of WARCs that are gone are removed.

    Then ``indexes/not-modified.cdx``: for each ``server-not-modified`` revisit (a 304, which the per-file
    indexes leave out: decision 0010) whose original is in the archive, the original's line at the revisit's
    time, so that pywb pointed at ``indexes/`` shows at a 304's time the version it confirmed, by the rule
    of a WACZ's ``aliases.cdx.gz`` (decision 0014).  The WARC files are read once for both.
    """
    directory = archive / INDEX_DIR
    wanted: set[str] = set()
    with tempfile.TemporaryDirectory(prefix=".index-", dir=archive) as scratch:
        full: list[Path] = []
        for warc in warc_files(archive):
            try:
                entries = index_warc(warc, not_modified=True)
            except ArchiveError as err:
                report.problems.append(f"{warc.name}: not indexed: {err}")
                continue
            kept = [entry for entry in entries if not _not_modified(entry)]
            write_index(directory, warc.name, kept)
            if len(kept) < len(entries):
                full.append(write_index(Path(scratch), warc.name, entries))
            wanted.add(warc.name + INDEX_SUFFIX)
            report.add("cdxj", "files", 1)
            report.add("cdxj", "lines", len(kept))
        # The originals of the 304s may be in any file: every file's lines take part, 304s only where they are.
        sources = [Path(scratch) / name if (Path(scratch) / name).exists() else directory / name
                   for name in sorted(wanted)]
        aliases = list(not_modified_aliases(sources)) if full else []
    path = directory / NOT_MODIFIED_INDEX
    try:
        if aliases:
            write_atomic(path, "".join(aliases).encode("utf-8"), durable=False, wrap=False)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise StorageError.from_os(exc, "write the index", path) from exc
    report.add("not-modified", "lines", len(aliases))
    if directory.is_dir():
        for stale in directory.iterdir():
            if stale.name.endswith(INDEX_SUFFIX) and stale.name not in wanted and stale.is_file() \
                    and not (archive / "warc" / stale.name.removesuffix(INDEX_SUFFIX)).exists():
                stale.unlink()
                report.add("cdxj", "removed", 1)


register_step("cdxj", rebuild_cdxj, "CDXJ index per WARC file (pywb, ReplayWeb.page, WACZ), and the 304 revisits "
              "resolved for pywb (indexes/not-modified.cdx)")


def rebuild_search(archive: Path, report: IndexReport) -> None:
    """The catalog's full-text search index (``crawler search``), from every snapshot row."""
    if not (archive / CATALOG).is_file():
        return
    with Store(archive) as store:
        report.add("search", "rows", store.rebuild_search_index())


register_step("search", rebuild_search, "full-text search index of the snapshots (crawler search)")


def rebuild(archive: Path, *, wait: bool = False, only: list[str] | None = None) -> IndexReport:
    """Run the rebuild steps (all, or those named in ``only``) under the archive's exclusive lock.

    Raises :class:`~crawler.archive.lock.ArchiveBusy` while a crawl writes the archive (unless ``wait``),
    :class:`~crawler.errors.ArchiveError` when ``archive`` is no archive or an unknown step is named.
    """
    try:
        os.listdir(archive)
    except FileNotFoundError:
        raise ArchiveError(f"{archive}: no such archive directory") from None
    except OSError as err:
        raise ArchiveError(f"cannot read archive {archive}: {err.strerror}") from err
    if not (archive / CATALOG).is_file() and not (archive / "warc").is_dir():
        raise ArchiveError(f"{archive}: neither {CATALOG} nor warc/: {NOT_AN_ARCHIVE}")
    known = [step.name for step in STEPS]
    for name in only or []:
        if name not in known:
            raise ArchiveError(f"no index step named {name!r} (known: {', '.join(known)})")
    report = IndexReport()
    with ArchiveLock(archive, wait=wait):
        report.recovered = [f"{item.path}: {item.what}"
                            for item in sweep_archive(archive) + recover_warcs(archive / "warc")]
        for step in STEPS:
            if only and step.name not in only:
                continue
            step.run(archive, report)
    return report
